// libFuzzer target: text data as a worker reads it — bytes (gzip or plain) through
// data::MaybeGunzip and data::LineReader (a small line limit, so long lines are exercised),
// each line parsed as LibSVM, as CSV (the first line its header), as Criteo, and as a
// click-through model's CSV through a feature schema made from that header (each column but the
// label a field: multi-valued categorical, bucketized numeric, numeric, categorical in a hash
// space, in turn). Input: [format selector, 1 byte][the file's bytes].
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ringtrain/data/decompress.h"
#include "ringtrain/data/feature_schema.h"
#include "ringtrain/data/line_reader.h"
#include "ringtrain/data/text_records.h"

namespace {

class MemoryStream final : public ringtrain::storage::ByteStream {
 public:
  MemoryStream(const uint8_t* data, size_t size, size_t step)
      : data_(data), size_(size), step_(step) {}
  ringtrain::StatusOr<size_t> Read(std::span<char> out) override {
    const size_t n = std::min({out.size(), step_, size_ - pos_});
    std::memcpy(out.data(), data_ + pos_, n);
    pos_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t step_;
  size_t pos_ = 0;
  std::string name_ = "fuzz://input";
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringtrain::data;
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  auto stream = MaybeGunzip(std::make_unique<MemoryStream>(data + 1, size - 1, 1 + selector % 7));
  if (!stream.ok()) return 0;
  LineReader lines(std::move(*stream), 4096);
  const LibsvmParser libsvm(selector & 1, (selector & 2) != 0 ? 64 : 0);
  const CriteoParser criteo;
  std::optional<CsvParser> csv;
  std::optional<SparseCsvParser> sparse_csv;
  SparseBatch rows;
  TextRecord record;
  std::string_view line;
  for (int n = 0; n < 10000; ++n) {
    auto more = lines.Next(&line);
    if (!more.ok() || !*more) break;
    (void)libsvm.Parse(line, &record);
    (void)criteo.Parse(line, &record);
    if (!csv.has_value()) {
      auto schema = ParseCsvHeader(line, (selector & 4) != 0 ? "#1" : "label");
      if (!schema.ok()) continue;
      std::vector<FeatureField> fields;
      for (size_t c = 0; c < schema->names.size() && fields.size() < kMaxFeatureFields; ++c) {
        if (static_cast<int>(c) == schema->label_column) continue;
        FeatureField f{.column = schema->names[c]};
        switch (fields.size() % 4) {
          case 0:
            f.separator = "|";
            f.combiner = (selector & 8) != 0 ? FeatureCombiner::kSum : FeatureCombiner::kMean;
            break;
          case 1:
            f.kind = FeatureKind::kNumeric;
            f.buckets = {-1.0, 0.0, 18.0, 18.0, 1e9};
            break;
          case 2:
            f.kind = FeatureKind::kNumeric;
            break;
          default:
            f.hash_space = 1 + selector;
            break;
        }
        fields.push_back(std::move(f));
      }
      auto parser = SparseCsvParser::Make(fields, line, (selector & 4) != 0 ? "#1" : "label");
      if (parser.ok()) sparse_csv.emplace(std::move(*parser));
      csv.emplace(std::move(*schema));
    } else {
      (void)csv->Parse(line, &record);
      if (sparse_csv.has_value()) {
        if (rows.rows() > 1000) rows.Clear();
        (void)sparse_csv->Parse(line, &rows);
      }
    }
  }
  return 0;
}

#include "ringtrain/data/text_shard.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>

#include "ringtrain/data/decompress.h"
#include "ringtrain/data/line_reader.h"
#include "ringtrain/data/text_records.h"

namespace ringtrain::data {
namespace {

constexpr size_t kMaxSkippedExamples = 10;

// Whether the object starts with the gzip magic (its first two bytes).
StatusOr<bool> IsGzip(storage::Storage& storage, const storage::ObjectInfo& object) {
  if (object.size < 2) return false;
  RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> s, storage.Open(object, 0, 2));
  RT_ASSIGN_OR_RETURN(const std::string head, storage::ReadAll(*s, 2));
  return head.size() == 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
         static_cast<unsigned char>(head[1]) == 0x8b;
}

// The number of newlines in [0, offset) of a plain object: the line number of the line that
// starts at `offset` is this + 1. Read only when a message needs it.
StatusOr<int64_t> LinesBefore(storage::Storage& storage, const storage::ObjectInfo& object,
                              int64_t offset) {
  RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> s, storage.Open(object, 0, offset));
  std::vector<char> buf(1 << 20);
  int64_t lines = 0;
  while (true) {
    RT_ASSIGN_OR_RETURN(const size_t n, s->Read(std::span<char>(buf)));
    if (n == 0) return lines;
    lines += std::count(buf.data(), buf.data() + n, '\n');
  }
}

// A parsed record's label as a class index, or an error.
Status ClassOf(float label, int classes, int32_t* out) {
  if (classes == 2 && (label == -1.0f || label == 1.0f)) {
    *out = label > 0 ? 1 : 0;
    return Status::Ok();
  }
  if (label != std::floor(label) || label < 0 || label >= static_cast<float>(classes)) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", static_cast<double>(label));
    return InvalidArgument("the label " + std::string(text) + " is not a class (0 to " +
                           std::to_string(classes - 1) + (classes == 2 ? ", or -1 and +1" : "") +
                           ")");
  }
  *out = static_cast<int32_t>(label);
  return Status::Ok();
}

class ShardReader {
 public:
  ShardReader(storage::Storage& storage, const TextShardOptions& options)
      : storage_(storage),
        options_(options),
        libsvm_(options.index_base, static_cast<uint64_t>(options.features)) {}

  Status Read(const Piece& piece) {
    std::optional<CsvParser> csv;
    // A piece that starts inside the object is read from the byte before it: the line there
    // (possibly just that byte's newline) is the previous piece's.
    const bool from_start = piece.whole || piece.begin == 0;
    const int64_t start = from_start ? 0 : piece.begin - 1;
    RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> raw,
                        storage_.Open(piece.object, start, piece.object.size - start));
    std::unique_ptr<storage::ByteStream> bytes = std::move(raw);
    if (piece.whole) {
      RT_ASSIGN_OR_RETURN(bytes, MaybeGunzip(std::move(bytes)));
    }
    LineReader lines(std::move(bytes), options_.max_line_bytes);
    std::string_view line;
    if (options_.format == TextFormat::kCsv && !from_start) {
      RT_ASSIGN_OR_RETURN(csv, HeaderOf(piece.object));
    }
    if (!from_start) {
      // The partial record before the piece's first whole one: the previous piece's.
      RT_ASSIGN_OR_RETURN(const bool any, lines.Next(&line));
      if (!any) return Status::Ok();
    }
    std::optional<int64_t> lines_before;  // newlines in [0, start): counted on the first error
    while (true) {
      const int64_t line_start = start + lines.bytes_consumed();
      if (!piece.whole && line_start >= piece.end) return Status::Ok();
      StatusOr<bool> more = lines.Next(&line);
      if (!more.ok()) return Located(piece, more.status(), from_start, start, lines);
      if (!*more) return Status::Ok();
      if (options_.format == TextFormat::kCsv && !csv.has_value()) {
        StatusOr<CsvSchema> schema = ParseCsvHeader(line, options_.label_column);
        if (!schema.ok()) {
          return LineError(piece, schema.status(), from_start, start, &lines_before, lines);
        }
        RT_RETURN_IF_ERROR(CheckSchema(piece.object, *schema));
        csv.emplace(std::move(*schema));
        continue;
      }
      Status s = Parse(line, csv.has_value() ? &*csv : nullptr);
      if (s.ok() || s.code() == StatusCode::kCancelled) continue;  // a record, or none
      Status located = LineError(piece, s, from_start, start, &lines_before, lines);
      if (!options_.skip_bad_records) return located;
      ++skipped_;
      if (skipped_examples_.size() < kMaxSkippedExamples) {
        skipped_examples_.push_back(located.message());
      }
    }
  }

  Dataset Take() {
    Dataset d;
    const int64_t rows = static_cast<int64_t>(labels_.size());
    d.features = RowMatrixXf(rows, options_.features);
    if (rows > 0) std::memcpy(d.features.data(), values_.data(), values_.size() * sizeof(float));
    d.labels = std::move(labels_);
    d.num_classes = options_.classes;
    values_ = {};
    return d;
  }

  int64_t skipped() const { return skipped_; }
  std::vector<std::string>& skipped_examples() { return skipped_examples_; }

 private:
  // Cancelled: the line holds no record (empty, or a LibSVM comment).
  Status Parse(std::string_view line, const CsvParser* csv) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return Cancelled("");
    if (csv == nullptr) {
      const size_t first = line.find_first_not_of(" \t");
      if (line[first] == '#') return Cancelled("");
      RT_RETURN_IF_ERROR(libsvm_.Parse(line, &record_));
    } else {
      RT_RETURN_IF_ERROR(csv->Parse(line, &record_));
    }
    int32_t label = 0;
    RT_RETURN_IF_ERROR(ClassOf(record_.label, options_.classes, &label));
    const size_t row = labels_.size();
    values_.resize((row + 1) * static_cast<size_t>(options_.features), 0.0f);
    float* out = values_.data() + row * static_cast<size_t>(options_.features);
    if (csv == nullptr) {
      for (size_t k = 0; k < record_.indices.size(); ++k)
        out[record_.indices[k]] = record_.values[k];
    } else {
      std::copy(record_.dense.begin(), record_.dense.end(), out);
    }
    labels_.push_back(label);
    return Status::Ok();
  }

  StatusOr<CsvParser> HeaderOf(const storage::ObjectInfo& object) {
    const int64_t n =
        std::min<int64_t>(object.size, static_cast<int64_t>(options_.max_line_bytes) + 2);
    RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> s, storage_.Open(object, 0, n));
    LineReader header(std::move(s), options_.max_line_bytes);
    std::string_view line;
    StatusOr<bool> any = header.Next(&line);
    if (!any.ok()) return any.status();
    if (!*any) return DataLoss(object.uri + ": no header line");
    StatusOr<CsvSchema> schema = ParseCsvHeader(line, options_.label_column);
    if (!schema.ok()) return schema.status().WithContext(object.uri + ":1");
    RT_RETURN_IF_ERROR(CheckSchema(object, *schema));
    return CsvParser(std::move(*schema));
  }

  Status CheckSchema(const storage::ObjectInfo& object, const CsvSchema& schema) const {
    if (schema.features() == options_.features) return Status::Ok();
    return InvalidArgument(object.uri + ":1: the header names " +
                           std::to_string(schema.features()) +
                           " feature columns besides the label, spec.dataset.features is " +
                           std::to_string(options_.features));
  }

  // The error of the line LineReader returned last, as "<uri>:<line>: <message>". In a piece
  // read from `start` > 0, LineReader's line k is the object's line (newlines before start) + k.
  Status LineError(const Piece& piece, const Status& s, bool from_start, int64_t start,
                   std::optional<int64_t>* lines_before, const LineReader& lines) {
    int64_t number = lines.line_number();
    if (!from_start) {
      if (!lines_before->has_value()) {
        StatusOr<int64_t> before = LinesBefore(storage_, piece.object, start);
        if (!before.ok()) return before.status();
        *lines_before = *before;
      }
      number += **lines_before;
    }
    return Status(s.code(), piece.object.uri + ":" + std::to_string(number) + ": " + s.message());
  }

  // LineReader's own errors carry the stream's name and its line count; in a piece that starts
  // inside the object, that count starts there, so the message is made again.
  Status Located(const Piece& piece, const Status& s, bool from_start, int64_t start,
                 const LineReader& lines) {
    const std::string prefix =
        piece.object.uri + ":" + std::to_string(lines.line_number() + 1) + ": ";
    if (from_start || s.message().rfind(prefix, 0) != 0) return s;
    StatusOr<int64_t> before = LinesBefore(storage_, piece.object, start);
    if (!before.ok()) return s;
    return Status(s.code(), piece.object.uri + ":" +
                                std::to_string(*before + lines.line_number() + 1) + ": " +
                                s.message().substr(prefix.size()));
  }

  storage::Storage& storage_;
  const TextShardOptions& options_;
  const LibsvmParser libsvm_;
  TextRecord record_;
  std::vector<float> values_;
  std::vector<int32_t> labels_;
  int64_t skipped_ = 0;
  std::vector<std::string> skipped_examples_;
};

}  // namespace

std::vector<Piece> ShardPieces(const std::vector<storage::ObjectInfo>& objects,
                               const std::vector<bool>& compressed, int workers, int index) {
  int64_t total = 0;
  for (const storage::ObjectInfo& o : objects) total += o.size;
  // [lo, hi) of the line of bytes: floor(total * k / workers), without overflowing.
  const auto share = [&](int k) { return total / workers * k + total % workers * k / workers; };
  const int64_t lo = share(index);
  const int64_t hi = share(index + 1);
  std::vector<Piece> pieces;
  int64_t offset = 0;
  for (size_t k = 0; k < objects.size(); ++k) {
    const storage::ObjectInfo& o = objects[k];
    const int64_t begin = offset;
    const int64_t end = offset + o.size;
    offset = end;
    if (compressed[k]) {
      // Whole, to the share holding its first byte (an empty object: nobody; it has no records).
      if (o.size > 0 && begin >= lo && begin < hi) pieces.push_back({o, 0, o.size, true});
      continue;
    }
    const int64_t from = std::max(begin, lo);
    const int64_t to = std::min(end, hi);
    if (from < to) pieces.push_back({o, from - begin, to - begin, false});
  }
  return pieces;
}

StatusOr<TextShard> LoadTextShard(storage::Storage& storage, const TextShardOptions& options) {
  if (options.features < 1 || options.classes < 2 || options.workers < 1 || options.index < 0 ||
      options.index >= options.workers) {
    return InvalidArgument("text data: features " + std::to_string(options.features) +
                           ", classes " + std::to_string(options.classes) + ", worker " +
                           std::to_string(options.index) + " of " +
                           std::to_string(options.workers));
  }
  RT_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, storage.List(options.uri));
  std::vector<bool> compressed;
  for (const storage::ObjectInfo& o : objects) {
    RT_ASSIGN_OR_RETURN(const bool gz, IsGzip(storage, o));
    compressed.push_back(gz);
  }
  TextShard shard;
  shard.pieces = ShardPieces(objects, compressed, options.workers, options.index);
  ShardReader reader(storage, options);
  for (const Piece& piece : shard.pieces) RT_RETURN_IF_ERROR(reader.Read(piece));
  shard.rows = reader.Take();
  shard.skipped = reader.skipped();
  shard.skipped_examples = std::move(reader.skipped_examples());
  return shard;
}

}  // namespace ringtrain::data

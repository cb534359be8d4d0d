// ShardReader (private to the data area): reads pieces of text objects (text_shard.h) record by
// record into a RowWriter, or counts the lines that may hold records. One definition of how a
// piece is read, for the in-memory shard (LoadTextShard), the streamed one (TextStream) and the
// counting pass before training (PlanTextShard).
//
// A piece that starts inside its object is read from the byte before it: the line there (maybe
// just that byte's newline) is the previous piece's. It ends with the record that starts before
// its end. Errors are "<uri>:<line>: <message>" with the object's line number (counted from
// the object's start on the first error of a piece that starts inside it).
//
// Thread-safety: one thread at a time; `storage` is used only from that thread's calls.
#ifndef RINGTRAIN_RUNTIME_SRC_DATA_SHARD_READER_H_
#define RINGTRAIN_RUNTIME_SRC_DATA_SHARD_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/line_reader.h"
#include "ringtrain/data/text_records.h"
#include "ringtrain/data/text_shard.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::data {

// Where parsed records go, one dense row each.
class RowWriter {
 public:
  virtual ~RowWriter() = default;
  // A row of `features` floats, all 0, for a record of class `label`, or nullptr when the reader
  // must stop (the consumer went away): Read then returns Cancelled.
  virtual float* Append(int32_t label) = 0;
};

class ShardReader {
 public:
  // REQUIRES: `storage` and `options` outlive the reader.
  ShardReader(storage::Storage& storage, const TextShardOptions& options);

  // Parses the records of `piece` into `out`. Bad records fail the read, or with
  // options.skip_bad_records are counted (skipped()) and their first messages kept.
  [[nodiscard]] Status Read(const Piece& piece, RowWriter* out);

  // The lines of `piece` that may hold a record: not blank, not a LibSVM comment, not a CSV
  // header. Bad records among them are counted too, so this bounds the records from above.
  // Stops once `limit` are counted.
  [[nodiscard]] StatusOr<int64_t> CountRecords(const Piece& piece, int64_t limit = INT64_MAX);

  int64_t skipped() const { return skipped_; }
  std::vector<std::string>& skipped_examples() { return skipped_examples_; }

 private:
  // Reads `piece`, calling OnLine for each line past the header; out == nullptr counts.
  Status Scan(const Piece& piece, RowWriter* out, int64_t* counted, int64_t limit);
  Status Parse(std::string_view line, const CsvParser* csv, RowWriter* out);
  StatusOr<CsvParser> HeaderOf(const storage::ObjectInfo& object);
  Status CheckSchema(const storage::ObjectInfo& object, const CsvSchema& schema) const;
  Status LineError(const Piece& piece, const Status& s, bool from_start, int64_t start,
                   std::optional<int64_t>* lines_before, const LineReader& lines);
  Status Located(const Piece& piece, const Status& s, bool from_start, int64_t start,
                 const LineReader& lines);

  storage::Storage& storage_;
  const TextShardOptions& options_;
  const LibsvmParser libsvm_;
  TextRecord record_;
  int64_t skipped_ = 0;
  std::vector<std::string> skipped_examples_;
};

// Whether the object starts with the gzip magic (reads its first two bytes).
StatusOr<bool> IsGzip(storage::Storage& storage, const storage::ObjectInfo& object);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_RUNTIME_SRC_DATA_SHARD_READER_H_

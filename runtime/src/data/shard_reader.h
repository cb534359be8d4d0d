// ShardReader (private to the data area): reads pieces of text objects (text_shard.h) line by
// line into a RecordSink, which parses them into rows (DenseRecords: the dense models' rows;
// sparse_records.h: rows of hashed keys), or counts the lines that may hold records. One
// definition of how a piece is read, for the in-memory shard (LoadTextShard), the streamed ones
// (TextStream, SparseStream), sparse data read whole (ReadSparseLibsvm...) and the counting pass
// before training (PlanTextShard).
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

// What a piece's lines become.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // An object's header (its first line), when the format has one (CSV), before any of its
  // records. An error is reported at "<uri>:1".
  virtual Status Header(std::string_view line) = 0;
  // One line past the header: Ok when it was a record (and went where the sink puts rows);
  // Cancelled with no message when it holds none (blank, a comment); Cancelled with a message
  // when the consumer went away (the read stops); any other error for a bad record (the reader
  // says where it is).
  virtual Status Record(std::string_view line) = 0;
};

// Where parsed dense records go, one row each.
class RowWriter {
 public:
  virtual ~RowWriter() = default;
  // A row of `features` floats, all 0, for a record of class `label`, or nullptr when the reader
  // must stop (the consumer went away): Read then returns Cancelled.
  virtual float* Append(int32_t label) = 0;
};

// Records as the dense models read them: LibSVM (indices below options.features) or CSV (the
// header's feature columns must number options.features), labels checked to be classes, each
// row the columns [column_begin, column_end) of the record.
class DenseRecords : public RecordSink {
 public:
  // REQUIRES: `options` and `out` outlive this.
  DenseRecords(const TextShardOptions& options, RowWriter* out);
  Status Header(std::string_view line) override;
  Status Record(std::string_view line) override;

 private:
  const TextShardOptions& options_;
  RowWriter* out_;
  const LibsvmParser libsvm_;
  std::optional<CsvParser> csv_;
  TextRecord record_;
};

// Whether a line holds no record in any text format: blank (spaces and tabs only).
bool IsBlank(std::string_view line);
// Whether a LibSVM line is a comment ('#' first after blanks).
bool IsLibsvmComment(std::string_view line);

class ShardReader {
 public:
  // REQUIRES: `storage` and `options` outlive the reader.
  ShardReader(storage::Storage& storage, const TextShardOptions& options);

  // Hands the lines of `piece` to `out` (a CSV object's header first, read from the object's
  // start when the piece begins inside it). Bad records fail the read, or with
  // options.skip_bad_records are counted (skipped()) and their first messages kept.
  [[nodiscard]] Status Read(const Piece& piece, RecordSink* out);

  // The lines of `piece` that may hold a record: not blank, not a LibSVM comment, not a CSV
  // header. Bad records among them are counted too, so this bounds the records from above.
  // Stops once `limit` are counted.
  [[nodiscard]] StatusOr<int64_t> CountRecords(const Piece& piece, int64_t limit = INT64_MAX);

  int64_t skipped() const { return skipped_; }
  std::vector<std::string>& skipped_examples() { return skipped_examples_; }

 private:
  // Reads `piece` into `out`; out == nullptr counts.
  Status Scan(const Piece& piece, RecordSink* out, int64_t* counted, int64_t limit);
  // Hands the first line of `object` to out->Header.
  Status HeaderOf(const storage::ObjectInfo& object, RecordSink* out);
  Status LineError(const Piece& piece, const Status& s, bool from_start, int64_t start,
                   std::optional<int64_t>* lines_before, const LineReader& lines);
  Status Located(const Piece& piece, const Status& s, bool from_start, int64_t start,
                 const LineReader& lines);

  storage::Storage& storage_;
  const TextShardOptions& options_;
  int64_t skipped_ = 0;
  std::vector<std::string> skipped_examples_;
};

// Whether the object starts with the gzip magic (reads its first two bytes).
StatusOr<bool> IsGzip(storage::Storage& storage, const storage::ObjectInfo& object);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_RUNTIME_SRC_DATA_SHARD_READER_H_

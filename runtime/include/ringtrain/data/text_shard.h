// A worker's share of a text dataset (LibSVM or CSV part files, gzip or plain, on any storage),
// and reading it into memory as dense rows.
//
// Sharding (row-wise, every record read by exactly one worker, for any number of workers and
// any file sizes): the listed objects, in order, are laid end to end on one line of bytes, and
// worker i of n owns [i*T/n, (i+1)*T/n) of its T bytes. A plain object is split at those
// offsets, each piece aligned to records: a piece starting inside the object begins after the
// first newline at or after its start, and a piece ends with the record that starts before its
// end (read past it if need be), as Hadoop's text input does. A gzip object cannot be entered
// in the middle: it goes whole to the worker whose share holds its first byte. So with fewer
// gzip files than workers some workers read nothing (they run no steps).
//
// Records: LibSVM (text_records.h; indices past `features` are errors) or CSV (each object's
// first line is its header, whose feature columns must number `features`; the label column as
// `label_column` says). Labels must be integers 0..classes-1 (LibSVM's -1/+1 with classes 2
// are 0/1). A bad record is an error "<uri>:<line>: column <k>: ..." (InvalidArgument), or,
// with skip_bad_records, skipped and counted (its message kept, up to 10). Lines that are
// empty or hold only a comment ('#' in LibSVM) are no records. Errors of the storage and of
// gzip (DataLoss, with the uri) are returned as they are.
//
// Thread-safety: pure functions of their arguments (PlanTextShard and LoadTextShard read
// through `storage`). Streaming the shard with bounded memory: text_stream.h.
#ifndef RINGTRAIN_DATA_TEXT_SHARD_H_
#define RINGTRAIN_DATA_TEXT_SHARD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/dataset.h"
#include "ringtrain/storage/storage.h"

namespace ringtrain::data {

// kCriteo: Criteo's tab-separated click logs, read only as sparse rows (sparse_stream.h).
enum class TextFormat { kLibsvm, kCsv, kCriteo };

// A byte range of one object: [begin, end). For a gzip object, the whole object (compressed
// bytes).
struct Piece {
  storage::ObjectInfo object;
  int64_t begin = 0;
  int64_t end = 0;
  bool whole = false;  // not split (gzip): read to its end whatever end says

  bool operator==(const Piece&) const = default;
};

// Worker `index`'s pieces of `objects` (in order), `compressed[k]` saying whether objects[k]
// may not be split. REQUIRES: objects.size() == compressed.size(), 0 <= index < workers
std::vector<Piece> ShardPieces(const std::vector<storage::ObjectInfo>& objects,
                               const std::vector<bool>& compressed, int workers, int index);

struct TextShardOptions {
  std::string uri;  // the dataset's location (storage/location.h)
  TextFormat format = TextFormat::kLibsvm;
  int features = 0;
  int classes = 2;
  int index_base = 1;                  // LibSVM
  std::string label_column = "label";  // CSV: a name or "#<k>"
  bool skip_bad_records = false;
  int workers = 1;
  int index = 0;
  size_t max_line_bytes = 1 << 20;
  // Feature-wise sharding: rows hold only the features [column_begin, column_end) (-1: to
  // `features`), each record still checked whole. REQUIRES: 0 <= begin < end <= features.
  int64_t column_begin = 0;
  int64_t column_end = -1;
  // Rows of hashed keys (sparse_stream.h): features, classes, index_base and the columns are
  // not used (and not checked).
  bool sparse_rows = false;

  // The floats of a row read with these options.
  int64_t row_width() const { return (column_end < 0 ? features : column_end) - column_begin; }
};

struct TextShard {
  Dataset rows;                               // features x rows, labels, num_classes
  std::vector<Piece> pieces;                  // what was read
  int64_t skipped = 0;                        // bad records skipped
  std::vector<std::string> skipped_examples;  // the first messages of those
};

// A worker's share before it is read: its pieces (listing the location once) and, when
// counted, the lines of them that may hold records (not blank, not a comment or a CSV header):
// the rows of an epoch when no record is bad, an upper bound otherwise. Counting reads the
// pieces once (gunzipping them), without parsing.
struct TextShardPlan {
  std::vector<Piece> pieces;
  int64_t objects = 0;   // listed at the location (every worker's)
  int64_t bytes = 0;     // the pieces' stored bytes (compressed for gzip)
  int64_t records = -1;  // -1: not counted
};

// `count_limit`: stop counting there (records is then at most that: "are there any?").
[[nodiscard]] StatusOr<TextShardPlan> PlanTextShard(storage::Storage& storage,
                                                    const TextShardOptions& options, bool count,
                                                    int64_t count_limit = INT64_MAX);

// Dynamic sharding's tasks (ps/data_queue.h): the objects at `options.uri` cut as ShardPieces
// cuts them among workers, into ceil(total bytes / task_bytes) tasks (plain objects split at
// record boundaries, gzip objects whole, so some tasks may be empty). Every worker that lists
// the same objects makes the same cut. options.workers and index are not used. task_bytes <= 0:
// TaskBytes(the objects' total).
[[nodiscard]] StatusOr<std::vector<std::vector<Piece>>> CutTasks(storage::Storage& storage,
                                                                 const TextShardOptions& options,
                                                                 int64_t task_bytes);

// The task size for `total` bytes of data: total / 64, at least 64 KiB and at most 16 MiB
// (about 64 tasks an epoch; more for data past 1 GiB).
int64_t TaskBytes(int64_t total);

// Lists `options.uri`, picks this worker's pieces and reads them into memory.
[[nodiscard]] StatusOr<TextShard> LoadTextShard(storage::Storage& storage,
                                                const TextShardOptions& options);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_TEXT_SHARD_H_

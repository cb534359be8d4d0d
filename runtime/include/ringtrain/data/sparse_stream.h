// SparseStream: a worker's share of click-through data (LibSVM of keys, CSV through a feature
// schema, or Criteo's logs; text_shard.h's row-wise byte-range sharding, gzip or plain, on any
// storage) read while it trains, with bounded memory, however large the data: the sparse
// counterpart of data::TextStream, with the same reading, order and determinism.
//
// A reader thread parses the share's pieces, one epoch at a time, into blocks of `block_rows`
// sparse rows and hands them over through a queue of at most `prefetch_blocks` blocks. The
// training thread draws its batches through a shuffle window of `window_rows` rows (tf.data's
// shuffle buffer: each row taken is a uniformly random one of the window, and the next row read
// takes its place; the window drains at the epoch's end). The pieces are read in a random order
// each epoch. Without shuffle: the pieces in order, rows in file order. Orders come from the
// job's seed, the epoch and the worker only (data/sparse_source.h's contract).
//
// Memory: at most window_rows + (prefetch_blocks + 2) * block_rows + batch_rows rows, each its
// entries (16 bytes each: key, field, value) and a label (a window row also a vector's 24
// bytes), besides the readers' buffers and the batches the caller holds.
//
// Errors: the reader's ("<uri>:<line>: column <k>: ..." for a bad record unless skipped; storage
// and gzip errors naming the object), returned by the Next() that reaches the point where they
// happened, prefixed with `field`; skipped bad records are counted per epoch (skipped()).
//
// Thread-safety: SparseSource's (one thread); the reader thread is internal and stopped by
// StartEpoch and the destructor. `storage` must outlive the stream.
#ifndef RINGTRAIN_DATA_SPARSE_STREAM_H_
#define RINGTRAIN_DATA_SPARSE_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringtrain/common/random.h"
#include "ringtrain/data/feature_schema.h"
#include "ringtrain/data/sparse_source.h"
#include "ringtrain/data/stream_options.h"
#include "ringtrain/data/text_shard.h"

namespace ringtrain::data {

struct SparseStreamOptions : StreamOptions {
  // format (kLibsvm, kCsv, kCriteo), label_column (CSV), skip_bad_records, max_line_bytes;
  // sparse_rows must be set.
  TextShardOptions shard;
  std::vector<FeatureField> fields;  // kCsv: the feature schema (ValidateFeatureSchema)
  std::vector<Piece> pieces;         // this worker's (PlanTextShard)
  int64_t steps_per_epoch = 0;       // >= 0: the share's records over batch_rows, rounded up
};

class SparseStream : public SparseSource {
 public:
  // REQUIRES: `storage` outlives the stream; options as documented above.
  SparseStream(storage::Storage* storage, SparseStreamOptions options);
  ~SparseStream() override;
  SparseStream(const SparseStream&) = delete;
  SparseStream& operator=(const SparseStream&) = delete;

  int64_t steps_per_epoch() const override { return options_.steps_per_epoch; }
  Status StartEpoch(int epoch, int64_t step) override;
  Status Next(SparseBatch* out) override;
  SkippedRecords skipped() const override;

 private:
  struct Entry {  // 16 bytes
    uint64_t key;
    uint32_t field;
    float value;
  };
  struct Row {  // a window slot
    std::vector<Entry> entries;
    float label = 0;
  };
  class BlockWriter;
  class Queue;  // block_queue.h's, of SparseBatch blocks

  void ReadEpoch(int64_t epoch);  // the reader thread
  void StopReader();
  // The next row read (row `*row` of `*block`), or false at the epoch's end.
  StatusOr<bool> NextRead(const SparseBatch** block, int64_t* row);
  // Appends the next row of the epoch's order to *out; false at the end.
  StatusOr<bool> NextRow(SparseBatch* out);

  storage::Storage* storage_;
  const SparseStreamOptions options_;
  std::unique_ptr<Queue> queue_;  // shared with the reader thread
  std::thread reader_;

  // The training thread's.
  std::unique_ptr<SparseBatch> current_;  // the block being taken from
  int64_t current_row_ = 0;
  bool read_end_ = false;  // every row of the epoch has been read
  std::vector<Row> window_;
  int64_t window_size_ = 0;
  SplitMix64 draw_{0};
  SparseBatch dropped_;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_SPARSE_STREAM_H_

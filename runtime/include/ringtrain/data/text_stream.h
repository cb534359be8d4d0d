// TextStream: a worker's text shard (text_shard.h) read while it trains, with bounded memory,
// however large the data.
//
// A reader thread parses the shard's pieces, one epoch at a time, into blocks of dense rows and
// hands them over through a queue of at most `prefetch_blocks` blocks (it waits while the
// queue is full, so it runs at most that far ahead of training). The training thread draws its
// batches through a shuffle window of `window_rows` rows, as tf.data's shuffle buffer does:
// the window fills with the first rows read, then each row taken is a uniformly random one of
// the window, and the next row read takes its place; at the epoch's end the window drains. With
// a window at least as large as the shard, an epoch's order is a uniform random permutation;
// with a smaller one, rows move at most about `window_rows` positions from where they are in
// the data, so the pieces (files, or byte ranges of a large file) are also read in a random
// order each epoch. Without shuffle: the pieces in order, rows in file order.
//
// Determinism (BatchSource's contract): the piece order and the window's draws come from
// SplitMix64 seeded with the job's seed, the epoch and the worker, and depend on nothing the
// reader thread's timing changes, so StartEpoch(e, s) reproduces the batches of a run that went
// through steps 0..s-1 of epoch e (it reads and drops those rows: at most one epoch's reading).
//
// Memory: rows are `features` floats each; at most window_rows + (prefetch_blocks + 2) *
// block_rows rows are held (memory_bytes()), besides the batch and the readers' buffers (a
// line reader holds about 1 MiB, gzip adds zlib's window).
//
// Errors: the reader's (text_shard.h: "<uri>:<line>: column <k>: ..." for bad records unless
// skipped, storage and gzip errors naming the object) are returned by the Next() that reaches
// the point where they happened; batches before it are delivered. Bad records skipped are
// counted per epoch (skipped()).
//
// Thread-safety: BatchSource's (one thread); the reader thread is internal and stopped by
// StartEpoch and the destructor. `storage` is used by the reader thread only while an epoch is
// being read, and must outlive the stream.
#ifndef RINGTRAIN_DATA_TEXT_STREAM_H_
#define RINGTRAIN_DATA_TEXT_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringtrain/common/random.h"
#include "ringtrain/data/batch_source.h"
#include "ringtrain/data/stream_options.h"
#include "ringtrain/data/text_shard.h"

namespace ringtrain::data {

struct TextStreamOptions : StreamOptions {
  TextShardOptions shard;     // format, features, classes, indexBase, labelColumn, skip
  std::vector<Piece> pieces;  // this worker's (PlanTextShard)
};

class TextStream : public BatchSource {
 public:
  // REQUIRES: `storage` outlives the stream; options as documented above.
  TextStream(storage::Storage* storage, TextStreamOptions options);
  ~TextStream() override;
  TextStream(const TextStream&) = delete;
  TextStream& operator=(const TextStream&) = delete;

  Status StartEpoch(int epoch, int64_t step) override;
  // Dynamic sharding: reads `pieces` (a task) instead, from its start, shuffled as epoch
  // `stream` of them would be (a number unique to the task: its epoch and position).
  Status StartPieces(std::vector<Piece> pieces, int64_t stream);
  Status Next(Batch* out) override;
  SkippedRecords skipped() const override;

  // The most bytes the stream's rows take (see Memory above).
  int64_t memory_bytes() const;

 private:
  struct Block {
    std::vector<float> values;  // rows x features
    std::vector<int32_t> labels;
    int64_t rows() const { return static_cast<int64_t>(labels.size()); }
  };
  class BlockWriter;
  class Queue;  // block_queue.h's, of Blocks

  void ReadEpoch(int64_t epoch);  // the reader thread
  void Start(int64_t epoch);
  void StopReader();
  // The next row read, or false at the epoch's end (or an error).
  StatusOr<bool> NextRead(const float** row, int32_t* label);
  // The next row of the epoch's order, copied to `row`; false at the end.
  StatusOr<bool> NextRow(float* row, int32_t* label);

  storage::Storage* storage_;
  const TextStreamOptions options_;
  std::vector<Piece> pieces_;  // options_.pieces, or the task's
  const int64_t features_;

  std::unique_ptr<Queue> queue_;  // shared with the reader thread
  std::thread reader_;

  // The training thread's.
  std::unique_ptr<Block> current_;  // the block being taken from
  int64_t current_row_ = 0;
  bool read_end_ = false;      // every row of the epoch has been read
  std::vector<float> window_;  // window_size_ rows, grown as it fills
  std::vector<int32_t> window_labels_;
  int64_t window_size_ = 0;
  SplitMix64 draw_{0};
  Batch dropped_;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_TEXT_STREAM_H_

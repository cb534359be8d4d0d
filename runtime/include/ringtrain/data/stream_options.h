// StreamOptions: how a worker's streamed share is drawn into batches, the same for dense rows
// (data::TextStream) and rows of keys (data::SparseStream): the order's seed and worker,
// whether to shuffle, the batch, the shuffle window, and how far the reader thread reads ahead.
//
// Thread-safety: a value.
#ifndef RINGTRAIN_DATA_STREAM_OPTIONS_H_
#define RINGTRAIN_DATA_STREAM_OPTIONS_H_

#include <cstdint>
#include <string>

namespace ringtrain::data {

struct StreamOptions {
  uint64_t seed = 42;
  bool shuffle = true;
  int worker = 0;               // of the order: each worker's is its own
  int64_t batch_rows = 32;      // >= 1
  int64_t window_rows = 65536;  // >= 1: the shuffle window
  int64_t block_rows = 1024;    // >= 1: rows the reader hands over at a time
  int prefetch_blocks = 8;      // >= 1: blocks it reads ahead at most
  std::string field;            // prefixes the reader's errors ("spec.dataset.train"), or ""
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_STREAM_OPTIONS_H_

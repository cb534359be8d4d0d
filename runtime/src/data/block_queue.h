// BlockQueue (private to the data area): the hand-over between a stream's reader thread, which
// parses rows into blocks, and its training thread, which takes them (TextStream's dense rows,
// SparseStream's rows of keys). One definition of the bounded queue, the recycling of blocks
// and how the reader's end, error and skipped records reach the training thread.
//
// The reader Acquire()s a block (a recycled one, not cleared, or a new one), fills it and
// Hand()s it over, waiting while `capacity` blocks are waiting to be taken; Hand returns false
// once Stop() was called (the reader then returns). Finish() says the reader is done, with its
// status. The training thread Take()s blocks in order, giving back the one it finished; Take
// returns null at the end, or the reader's error once every block before it was taken. Stop()
// then Reset() (after the reader thread was joined) make the queue ready for the next reading.
//
// Thread-safety: one reader thread and one training thread.
#ifndef RINGTRAIN_RUNTIME_SRC_DATA_BLOCK_QUEUE_H_
#define RINGTRAIN_RUNTIME_SRC_DATA_BLOCK_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "ringtrain/common/status.h"
#include "ringtrain/data/batch_source.h"
#include "ringtrain/data/text_shard.h"
#include "shard_reader.h"

namespace ringtrain::data {

template <typename Block>
class BlockQueue {
 public:
  // REQUIRES: capacity >= 1
  explicit BlockQueue(int capacity) : capacity_(capacity) {}

  // The reader's: a block to fill (its old contents left for the caller to clear).
  std::unique_ptr<Block> Acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return std::make_unique<Block>();
    std::unique_ptr<Block> b = std::move(free_.back());
    free_.pop_back();
    return b;
  }

  // The reader's: hands `block` over (dropped when null), with the records skipped so far.
  // False when stopping.
  bool Hand(std::unique_ptr<Block> block, int64_t skipped) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return stop_ || static_cast<int>(full_.size()) < capacity_; });
    if (stop_) return false;
    skipped_.count = skipped;
    if (block != nullptr) full_.push_back(std::move(block));
    changed_.notify_all();
    return true;
  }

  // The reader's last call.
  void Finish(Status status, SkippedRecords skipped) {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    status_ = std::move(status);
    skipped_ = std::move(skipped);
    changed_.notify_all();
  }

  // The training thread's: the next block (`finished`, the one it took last, goes back to be
  // filled again), null at the end, or the reader's error.
  StatusOr<std::unique_ptr<Block>> Take(std::unique_ptr<Block> finished) {
    std::unique_lock<std::mutex> lock(mu_);
    if (finished != nullptr) free_.push_back(std::move(finished));
    changed_.wait(lock, [this] { return !full_.empty() || done_; });
    if (full_.empty()) {
      if (!status_.ok()) return status_;
      return std::unique_ptr<Block>();
    }
    std::unique_ptr<Block> b = std::move(full_.front());
    full_.pop_front();
    changed_.notify_all();
    return b;
  }

  // Makes the reader's Hand return false (it stops).
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    changed_.notify_all();
  }

  // REQUIRES: the reader thread has returned. `current`: the training thread's block, if any.
  void Reset(std::unique_ptr<Block> current) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& b : full_) free_.push_back(std::move(b));
    full_.clear();
    if (current != nullptr) free_.push_back(std::move(current));
    stop_ = false;
    done_ = false;
    status_ = Status::Ok();
    skipped_ = {};
  }

  SkippedRecords skipped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return skipped_;
  }

  // The reader thread's whole epoch: reads `pieces` in `order` through `reader` into `records`
  // (whose rows go into blocks handed over as they fill), then `hand_last()` (hands over the
  // block being filled; false when stopping), then Finish with the status and the skipped
  // records. The rows read before an error are delivered first.
  template <typename HandLast>
  void ReadPieces(ShardReader& reader, RecordSink& records, const std::vector<Piece>& pieces,
                  const std::vector<size_t>& order, HandLast hand_last) {
    Status status;
    for (const size_t k : order) {
      status = reader.Read(pieces[k], &records);
      if (!status.ok()) break;
    }
    if (status.code() != StatusCode::kCancelled && !hand_last()) status = Cancelled("stopped");
    SkippedRecords skipped;
    skipped.count = reader.skipped();
    if (!reader.skipped_examples().empty()) skipped.first = reader.skipped_examples().front();
    Finish(std::move(status), std::move(skipped));
  }

 private:
  const int capacity_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Block>> full_;   // read, not yet taken
  std::vector<std::unique_ptr<Block>> free_;  // taken, for the reader to fill again
  bool stop_ = false;
  bool done_ = false;
  Status status_;
  SkippedRecords skipped_;
};

}  // namespace ringtrain::data

#endif  // RINGTRAIN_RUNTIME_SRC_DATA_BLOCK_QUEUE_H_

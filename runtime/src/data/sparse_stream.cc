#include "ringtrain/data/sparse_stream.h"

#include <utility>

#include "block_queue.h"
#include "shard_reader.h"
#include "sparse_records.h"
#include "stream_order.h"

namespace ringtrain::data {

class SparseStream::Queue : public BlockQueue<SparseBatch> {
 public:
  using BlockQueue::BlockQueue;
};

// Fills blocks on the reader thread and hands each over once it holds block_rows rows.
class SparseStream::BlockWriter : public SparseRowSink {
 public:
  BlockWriter(SparseStream* stream, const ShardReader* reader) : s_(stream), reader_(reader) {}

  SparseBatch* Rows() override {
    if (block_ != nullptr && block_->rows() >= s_->options_.block_rows && !Hand()) return nullptr;
    if (block_ == nullptr) {
      block_ = s_->queue_->Acquire();
      block_->Clear();
    }
    return block_.get();
  }

  // Hands over the block being filled (if any rows). False when the stream is stopping.
  bool Hand() {
    if (block_ != nullptr && block_->rows() == 0) block_.reset();
    return s_->queue_->Hand(std::move(block_), reader_->skipped());
  }

 private:
  SparseStream* s_;
  const ShardReader* reader_;
  std::unique_ptr<SparseBatch> block_;
};

SparseStream::SparseStream(storage::Storage* storage, SparseStreamOptions options)
    : storage_(storage),
      options_(std::move(options)),
      queue_(std::make_unique<Queue>(options_.prefetch_blocks)) {}

SparseStream::~SparseStream() { StopReader(); }

void SparseStream::ReadEpoch(int64_t epoch) {
  const std::vector<size_t> order =
      PieceOrder(options_.pieces.size(), options_.seed, epoch, options_.worker, options_.shuffle);
  ShardReader reader(*storage_, options_.shard);
  BlockWriter writer(this, &reader);
  SparseRecords records(options_.shard, options_.fields, &writer);
  queue_->ReadPieces(reader, records, options_.pieces, order, [&writer] { return writer.Hand(); });
}

void SparseStream::StopReader() {
  queue_->Stop();
  if (reader_.joinable()) reader_.join();
  queue_->Reset(std::move(current_));
}

SkippedRecords SparseStream::skipped() const { return queue_->skipped(); }

Status SparseStream::StartEpoch(int epoch, int64_t step) {
  StopReader();
  current_row_ = 0;
  read_end_ = false;
  window_size_ = 0;
  draw_ = SplitMix64(StreamSeed(options_.seed, epoch, options_.worker, kWindowSalt));
  reader_ = std::thread(&SparseStream::ReadEpoch, this, epoch);
  for (int64_t s = 0; s < step; ++s) {
    RT_RETURN_IF_ERROR(Next(&dropped_));
    if (dropped_.rows() == 0) break;
  }
  return Status::Ok();
}

StatusOr<bool> SparseStream::NextRead(const SparseBatch** block, int64_t* row) {
  if (current_ == nullptr || current_row_ == current_->rows()) {
    StatusOr<std::unique_ptr<SparseBatch>> next = queue_->Take(std::move(current_));
    if (!next.ok()) {
      return options_.field.empty() ? next.status() : next.status().WithContext(options_.field);
    }
    current_ = std::move(*next);
    current_row_ = 0;
    if (current_ == nullptr) return false;
  }
  *block = current_.get();
  *row = current_row_++;
  return true;
}

namespace {

void AppendRow(const SparseBatch& block, int64_t row, SparseBatch* out) {
  const auto r = static_cast<size_t>(row);
  for (int64_t e = block.offsets[r]; e < block.offsets[r + 1]; ++e) {
    const auto at = static_cast<size_t>(e);
    out->Add(block.fields[at], block.keys[at], block.values[at]);
  }
  out->EndRow(block.labels[r]);
}

}  // namespace

StatusOr<bool> SparseStream::NextRow(SparseBatch* out) {
  const SparseBatch* block = nullptr;
  int64_t row = 0;
  // A row read into a window slot.
  const auto put = [&](Row* slot) {
    const auto r = static_cast<size_t>(row);
    slot->entries.clear();
    for (int64_t e = block->offsets[r]; e < block->offsets[r + 1]; ++e) {
      const auto at = static_cast<size_t>(e);
      slot->entries.push_back({block->keys[at], block->fields[at], block->values[at]});
    }
    slot->label = block->labels[r];
  };
  if (!options_.shuffle) {
    if (read_end_) return false;
    RT_ASSIGN_OR_RETURN(const bool got, NextRead(&block, &row));
    if (!got) {
      read_end_ = true;
      return false;
    }
    AppendRow(*block, row, out);
    return true;
  }
  while (!read_end_ && window_size_ < options_.window_rows) {
    RT_ASSIGN_OR_RETURN(const bool got, NextRead(&block, &row));
    if (!got) {
      read_end_ = true;
      break;
    }
    if (window_.size() <= static_cast<size_t>(window_size_)) window_.emplace_back();
    put(&window_[static_cast<size_t>(window_size_)]);
    ++window_size_;
  }
  if (window_size_ == 0) return false;
  const size_t j = static_cast<size_t>(draw_.Below(static_cast<uint64_t>(window_size_)));
  Row& slot = window_[j];
  for (const Entry& e : slot.entries) out->Add(e.field, e.key, e.value);
  static_assert(sizeof(Entry) == 16);
  out->EndRow(slot.label);
  if (!read_end_) {
    RT_ASSIGN_OR_RETURN(const bool got, NextRead(&block, &row));
    if (got) {
      put(&slot);
      return true;
    }
    read_end_ = true;
  }
  // Draining: the last row of the window takes the slot.
  const size_t last = static_cast<size_t>(window_size_ - 1);
  if (j != last) std::swap(slot, window_[last]);
  --window_size_;
  return true;
}

Status SparseStream::Next(SparseBatch* out) {
  out->Clear();
  for (int64_t r = 0; r < options_.batch_rows; ++r) {
    RT_ASSIGN_OR_RETURN(const bool got, NextRow(out));
    if (!got) break;
  }
  return Status::Ok();
}

}  // namespace ringtrain::data

#include "ringtrain/data/text_stream.h"

#include <algorithm>
#include <utility>

#include "block_queue.h"
#include "ringtrain/transport/bulk_copy.h"
#include "shard_reader.h"
#include "stream_order.h"

namespace ringtrain::data {

class TextStream::Queue : public BlockQueue<Block> {
 public:
  using BlockQueue::BlockQueue;
};

// Fills blocks on the reader thread and hands them over when full (waiting while the queue
// holds prefetch_blocks of them).
class TextStream::BlockWriter : public RowWriter {
 public:
  BlockWriter(TextStream* stream, const ShardReader* reader) : s_(stream), reader_(reader) {}

  float* Append(int32_t label) override {
    if (block_ != nullptr && block_->rows() == s_->options_.block_rows && !Hand()) return nullptr;
    if (block_ == nullptr) {
      block_ = s_->queue_->Acquire();
      block_->values.clear();
      block_->labels.clear();
    }
    const size_t at = block_->values.size();
    block_->values.resize(at + static_cast<size_t>(s_->features_), 0.0f);
    block_->labels.push_back(label);
    return block_->values.data() + at;
  }

  // Hands over the block being filled (if any rows). False when the stream is stopping.
  bool Hand() {
    if (block_ != nullptr && block_->rows() == 0) block_.reset();
    return s_->queue_->Hand(std::move(block_), reader_->skipped());
  }

 private:
  TextStream* s_;
  const ShardReader* reader_;
  std::unique_ptr<Block> block_;
};

TextStream::TextStream(storage::Storage* storage, TextStreamOptions options)
    : storage_(storage),
      options_(std::move(options)),
      pieces_(options_.pieces),
      features_(options_.shard.row_width()),
      queue_(std::make_unique<Queue>(options_.prefetch_blocks)) {}

TextStream::~TextStream() { StopReader(); }

int64_t TextStream::memory_bytes() const {
  const int64_t rows = (options_.shuffle ? options_.window_rows : 0) +
                       (options_.prefetch_blocks + 2) * options_.block_rows + options_.batch_rows;
  return rows * (features_ * static_cast<int64_t>(sizeof(float)) + 4);
}

void TextStream::ReadEpoch(int64_t epoch) {
  const std::vector<size_t> order =
      PieceOrder(pieces_.size(), options_.seed, epoch, options_.worker, options_.shuffle);
  ShardReader reader(*storage_, options_.shard);
  BlockWriter writer(this, &reader);
  DenseRecords records(options_.shard, &writer);
  queue_->ReadPieces(reader, records, pieces_, order, [&writer] { return writer.Hand(); });
}

void TextStream::StopReader() {
  queue_->Stop();
  if (reader_.joinable()) reader_.join();
  queue_->Reset(std::move(current_));
}

SkippedRecords TextStream::skipped() const { return queue_->skipped(); }

void TextStream::Start(int64_t epoch) {
  StopReader();
  current_row_ = 0;
  read_end_ = false;
  window_size_ = 0;
  draw_ = SplitMix64(StreamSeed(options_.seed, epoch, options_.worker, kWindowSalt));
  reader_ = std::thread(&TextStream::ReadEpoch, this, epoch);
}

Status TextStream::StartPieces(std::vector<Piece> pieces, int64_t stream) {
  StopReader();
  pieces_ = std::move(pieces);
  Start(stream);
  return Status::Ok();
}

Status TextStream::StartEpoch(int epoch, int64_t step) {
  StopReader();
  pieces_ = options_.pieces;
  Start(epoch);
  for (int64_t s = 0; s < step; ++s) {
    RT_RETURN_IF_ERROR(Next(&dropped_));
    if (dropped_.rows == 0) break;
  }
  return Status::Ok();
}

StatusOr<bool> TextStream::NextRead(const float** row, int32_t* label) {
  if (current_ == nullptr || current_row_ == current_->rows()) {
    StatusOr<std::unique_ptr<Block>> next = queue_->Take(std::move(current_));
    if (!next.ok()) {
      return options_.field.empty() ? next.status() : next.status().WithContext(options_.field);
    }
    current_ = std::move(*next);
    current_row_ = 0;
    if (current_ == nullptr) return false;
  }
  *row = current_->values.data() + current_row_ * features_;
  *label = current_->labels[static_cast<size_t>(current_row_)];
  ++current_row_;
  return true;
}

StatusOr<bool> TextStream::NextRow(float* out, int32_t* label) {
  const size_t width = static_cast<size_t>(features_);
  const float* row = nullptr;
  int32_t read_label = 0;
  if (!options_.shuffle) {
    if (read_end_) return false;
    RT_ASSIGN_OR_RETURN(const bool got, NextRead(&row, &read_label));
    if (!got) {
      read_end_ = true;
      return false;
    }
    transport::CopyBulk(out, row, width * sizeof(float));
    *label = read_label;
    return true;
  }
  while (!read_end_ && window_size_ < options_.window_rows) {
    RT_ASSIGN_OR_RETURN(const bool got, NextRead(&row, &read_label));
    if (!got) {
      read_end_ = true;
      break;
    }
    const size_t at = static_cast<size_t>(window_size_) * width;
    if (window_.size() < at + width) {
      // Once, at its full size: growing by steps would hold the old buffer beside the new one,
      // past what memory_bytes() says (the window rows are capped at the share's rows).
      window_.resize(static_cast<size_t>(options_.window_rows) * width);
    }
    transport::CopyBulk(window_.data() + at, row, width * sizeof(float));
    if (window_labels_.size() <= static_cast<size_t>(window_size_)) {
      window_labels_.resize(static_cast<size_t>(window_size_) + 1);
    }
    window_labels_[static_cast<size_t>(window_size_)] = read_label;
    ++window_size_;
  }
  if (window_size_ == 0) return false;
  const size_t j = static_cast<size_t>(draw_.Below(static_cast<uint64_t>(window_size_)));
  float* slot = window_.data() + j * width;
  transport::CopyBulk(out, slot, width * sizeof(float));
  *label = window_labels_[j];
  if (!read_end_) {
    RT_ASSIGN_OR_RETURN(const bool got, NextRead(&row, &read_label));
    if (got) {
      transport::CopyBulk(slot, row, width * sizeof(float));
      window_labels_[j] = read_label;
      return true;
    }
    read_end_ = true;
  }
  // Draining: the last row of the window takes the slot.
  const size_t last = static_cast<size_t>(window_size_ - 1);
  if (j != last) {
    transport::CopyBulk(slot, window_.data() + last * width, width * sizeof(float));
    window_labels_[j] = window_labels_[last];
  }
  --window_size_;
  return true;
}

Status TextStream::Next(Batch* out) {
  const int64_t batch = options_.batch_rows;
  if (out->x.rows() < batch || out->x.cols() != features_) out->x.resize(batch, features_);
  if (static_cast<int64_t>(out->labels.size()) < batch) {
    out->labels.resize(static_cast<size_t>(batch));
  }
  out->rows = 0;
  for (int64_t r = 0; r < batch; ++r) {
    RT_ASSIGN_OR_RETURN(const bool got, NextRow(out->x.data() + r * features_,
                                                &out->labels[static_cast<size_t>(r)]));
    if (!got) break;
    out->rows = r + 1;
  }
  return Status::Ok();
}

}  // namespace ringtrain::data

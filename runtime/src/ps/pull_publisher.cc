#include "ringtrain/ps/pull_publisher.h"

#include <utility>

#include "ringtrain/transport/bulk_copy.h"

namespace ringtrain::ps {

namespace {

uint64_t AlignUp(uint64_t n) {
  return (n + transport::kSharedAlignment - 1) / transport::kSharedAlignment *
         transport::kSharedAlignment;
}

}  // namespace

PullPublisher::PullPublisher(std::shared_ptr<const ring::PartitionTable> table, int server,
                             std::function<void(const std::string&)> log)
    : table_(std::move(table)), server_(server), log_(std::move(log)) {}

bool PullPublisher::Ready() {
  if (segment_ != nullptr) return true;
  if (failed_) return false;
  slot_of_.assign(table_->partitions().size(), -1);
  uint64_t offset = transport::kSegmentDataOffset;
  for (uint32_t id : table_->partitions_of(server_)) {
    const auto elements = static_cast<uint64_t>(table_->partition(id).size);
    slot_of_[id] = static_cast<int>(slots_.size());
    slots_.push_back(Slot{offset, elements});
    offset = AlignUp(offset + elements * sizeof(float));
  }
  StatusOr<std::unique_ptr<transport::SharedSegment>> segment = transport::SharedSegment::Create(
      "ringtrain-ps-" + std::to_string(server_), offset - transport::kSegmentDataOffset);
  if (!segment.ok()) {
    failed_ = true;
    if (log_) {
      log_("no shared memory for the workers on this host (" + segment.status().ToString() +
           "): pull replies go through the socket");
    }
    return false;
  }
  segment_ = std::move(segment).value();
  return true;
}

void PullPublisher::Publish(uint64_t generation, Reply* reply) {
  proto::Header& h = reply->header;
  const bool asked = h.shared_ok();
  h.clear_shared_ok();
  if (!asked || h.kind() != proto::PULL_REPLY || h.codec() != proto::CODEC_NONE || !Ready()) {
    return;
  }
  const int n = h.partitions_size();
  // Which partitions go in the segment: those with a slot and a frame of the slot's size.
  std::vector<int>& slot_for = slot_for_;  // reused: no allocation per reply
  slot_for.assign(static_cast<size_t>(n), -1);
  bool any = false;
  bool writing = false;
  for (int i = 0; i < n; ++i) {
    const proto::PartitionSlice& slice = h.partitions(i);
    if (slice.id() >= slot_of_.size() || slot_of_[slice.id()] < 0) continue;
    const int s = slot_of_[slice.id()];
    Slot& slot = slots_[static_cast<size_t>(s)];
    const zmq::message_t& frame = reply->payloads[static_cast<size_t>(i)];
    if (frame.size() != slot.elements * sizeof(float)) continue;
    if (!slot.written || slot.generation != generation || slot.version != slice.version()) {
      if (!writing) segment_->BeginWrite();
      writing = true;
      transport::CopyBulk(segment_->base() + slot.offset, frame.data(), frame.size());
      bytes_written_ += frame.size();
      slot.written = true;
      slot.generation = generation;
      slot.version = slice.version();
    }
    slot_for[static_cast<size_t>(i)] = s;
    any = true;
  }
  if (writing) segment_->EndWrite();
  if (!any) return;
  // The frames left, compacted in place: unshared partitions, then sparse rows.
  size_t kept = 0;
  for (size_t i = 0; i < reply->payloads.size(); ++i) {
    if (i < slot_for.size() && slot_for[i] >= 0) {
      proto::PartitionSlice* slice = h.mutable_partitions(static_cast<int>(i));
      slice->set_shared(true);
      slice->set_shared_offset(slots_[static_cast<size_t>(slot_for[i])].offset);
      bytes_shared_ += reply->payloads[i].size();
      continue;
    }
    if (kept != i) reply->payloads[kept] = std::move(reply->payloads[i]);
    ++kept;
  }
  reply->payloads.resize(kept);
  transport::SetSegment(segment_->address(), segment_->sequence(), h.mutable_segment());
}

}  // namespace ringtrain::ps

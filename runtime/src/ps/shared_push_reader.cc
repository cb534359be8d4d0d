#include "ringtrain/ps/shared_push_reader.h"

#include <string>
#include <utility>

#include "ringtrain/transport/bulk_copy.h"

namespace ringtrain::ps {

SharedPushReader::SharedPushReader(int num_workers)
    : readers_(static_cast<size_t>(num_workers > 0 ? num_workers : 0)) {}

Status SharedPushReader::Resolve(transport::Message* msg) {
  proto::Header& h = msg->header;
  const std::string from = "PUSH from worker " + std::to_string(h.sender());
  if (h.sender() >= readers_.size()) {
    return InvalidArgument(from + ": not one of the job's " + std::to_string(readers_.size()) +
                           " workers");
  }
  const proto::SharedSegment& seg = h.segment();
  const transport::SegmentAddress address = transport::AddressOf(seg);
  std::unique_ptr<transport::SegmentReader>& reader = readers_[h.sender()];
  if (reader == nullptr || !(reader->address() == address)) {
    reader.reset();  // a replacement worker: its new process's segment
    StatusOr<std::unique_ptr<transport::SegmentReader>> opened =
        transport::SegmentReader::Open(address);
    if (!opened.ok()) return opened.status().WithContext(from + ": its shared memory");
    reader = std::move(opened).value();
    ++segments_opened_;
  }
  uint64_t copied = 0;
  for (int i = 0; i < h.partitions_size(); ++i) {
    proto::PartitionSlice& slice = *h.mutable_partitions(i);
    if (!slice.shared()) continue;
    const std::span<const std::byte> src =
        reader->Bytes(slice.shared_offset(), slice.payload_bytes());
    if (src.size() != slice.payload_bytes()) {  // DecodeMessage checked against the same size
      return DataLoss(from + ": partition " + std::to_string(slice.id()) +
                      " outside its shared memory");
    }
    zmq::message_t frame(src.size());
    transport::CopyBulk(frame.data(), src.data(), src.size());
    msg->payloads[static_cast<size_t>(i)] = std::move(frame);
    slice.set_shared(false);
    slice.clear_shared_offset();
    copied += src.size();
  }
  if (!reader->Unchanged(seg.seq())) {
    return DataLoss(from + " at clock " + std::to_string(h.clock()) +
                    ": its shared memory was written while it was read");
  }
  h.clear_segment();
  bytes_read_ += copied;
  return Status::Ok();
}

}  // namespace ringtrain::ps

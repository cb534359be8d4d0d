#include "ringtrain/transport/message.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "ringtrain/common/check.h"
#include "ringtrain/compress/validated_payload.h"
#include "ringtrain/transport/shared_segment.h"

namespace ringtrain::transport {
namespace {

void ReleaseFloatArray(void* data, void* /*hint*/) { delete[] static_cast<float*>(data); }

bool FloatAligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % alignof(float) == 0; }
bool KeyAligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % alignof(uint64_t) == 0; }

void ReleaseKeyArray(void* data, void* /*hint*/) { delete[] static_cast<uint64_t*>(data); }

// As AlignFloatFrame, for a frame of uint64 keys.
void AlignKeyFrame(zmq::message_t& frame) {
  if (KeyAligned(frame.data())) return;
  const size_t n = frame.size() / sizeof(uint64_t);
  uint64_t* copy = new uint64_t[n > 0 ? n : 1];
  std::memcpy(copy, frame.data(), n * sizeof(uint64_t));
  frame = zmq::message_t(copy, n * sizeof(uint64_t), &ReleaseKeyArray, nullptr);
}

// libzmq hands out received frames in place inside its receive buffers, at whatever offset
// the framing left them; reading floats there would be undefined behaviour. Misaligned
// frames (small ones, in practice) are copied once into their own aligned buffer.
void AlignFloatFrame(zmq::message_t& frame) {
  if (FloatAligned(frame.data())) return;
  const size_t n = frame.size() / sizeof(float);
  float* copy = new float[n > 0 ? n : 1];
  std::memcpy(copy, frame.data(), n * sizeof(float));
  frame = zmq::message_t(copy, n * sizeof(float), &ReleaseFloatArray, nullptr);
}

std::string Describe(const proto::Header& h) {
  return KindName(h.kind()) + " from sender " + std::to_string(h.sender());
}

}  // namespace

zmq::message_t CopyFrame(const float* data, size_t count) {
  return zmq::message_t(data, count * sizeof(float));
}

proto::Codec ToProto(compress::CodecType type) {
  switch (type) {
    case compress::CodecType::kNone:
      return proto::CODEC_NONE;
    case compress::CodecType::kFp16:
      return proto::CODEC_FP16;
    case compress::CodecType::kInt8:
      return proto::CODEC_INT8;
    case compress::CodecType::kOneBit:
      return proto::CODEC_ONEBIT;
    case compress::CodecType::kTopK:
      return proto::CODEC_TOPK;
  }
  return proto::CODEC_NONE;
}

StatusOr<compress::CodecSpec> CodecOf(const proto::Header& header) {
  // A proto3 enum field holds any int32 (an unknown value parses as itself).
  const auto unknown = [&] {
    return InvalidArgument(Describe(header) + ": unknown codec " +
                           std::to_string(static_cast<int>(header.codec())));
  };
  if (!proto::Codec_IsValid(header.codec())) return unknown();
  compress::CodecSpec spec;
  bool blocked = false;
  switch (header.codec()) {
    case proto::CODEC_NONE:
      spec.type = compress::CodecType::kNone;
      break;
    case proto::CODEC_FP16:
      spec.type = compress::CodecType::kFp16;
      break;
    case proto::CODEC_TOPK:
      spec.type = compress::CodecType::kTopK;
      break;
    case proto::CODEC_INT8:
      spec.type = compress::CodecType::kInt8;
      blocked = true;
      break;
    case proto::CODEC_ONEBIT:
      spec.type = compress::CodecType::kOneBit;
      blocked = true;
      break;
    case proto::Codec_INT_MIN_SENTINEL_DO_NOT_USE_:
    case proto::Codec_INT_MAX_SENTINEL_DO_NOT_USE_:
      return unknown();
  }
  if (blocked) {
    if (header.codec_block() < 1 || header.codec_block() > compress::kMaxBlock) {
      return InvalidArgument(Describe(header) + ": codec " + proto::Codec_Name(header.codec()) +
                             " with block " + std::to_string(header.codec_block()) +
                             ", expected 1.." + std::to_string(compress::kMaxBlock));
    }
    spec.block = static_cast<int>(header.codec_block());
  }
  return spec;
}

void SetCodec(const compress::CodecSpec& spec, proto::Header* header) {
  header->set_codec(ToProto(spec.type));
  header->set_codec_block(static_cast<uint32_t>(spec.block));
}

Status CheckPayloadSize(const compress::CodecSpec& codec, uint64_t num_elements,
                        uint64_t payload_bytes) {
  if (num_elements > kMaxPartitionElements) {
    return InvalidArgument("partition of " + std::to_string(num_elements) +
                           " elements exceeds the limit of " +
                           std::to_string(kMaxPartitionElements));
  }
  if (codec.type == compress::CodecType::kTopK) {
    const uint64_t pair = compress::TopKPairBytes(static_cast<size_t>(num_elements));
    const uint64_t pairs = payload_bytes / pair;
    if (payload_bytes % pair != 0 || pairs > num_elements || (num_elements > 0 && pairs == 0)) {
      return InvalidArgument("a topk payload for " + std::to_string(num_elements) +
                             " elements is " + std::to_string(pair) + ".." + std::to_string(pair) +
                             "*" + std::to_string(num_elements) + " bytes in steps of " +
                             std::to_string(pair) + ", not " + std::to_string(payload_bytes));
    }
    return Status::Ok();
  }
  // The fixed-size codecs' sizes depend on the type, the block and n only (not the ratio).
  const compress::CodecOptions options{codec.type, /*ratio=*/1.0, codec.block};
  const uint64_t expected = compress::EncodedSize(options, static_cast<size_t>(num_elements));
  if (payload_bytes != expected) {
    return InvalidArgument(std::string("a ") + compress::CodecName(codec.type) + " payload for " +
                           std::to_string(num_elements) + " elements is " +
                           std::to_string(expected) + " bytes, not " +
                           std::to_string(payload_bytes));
  }
  return Status::Ok();
}

std::span<const float> Message::Floats(size_t i) const {
  const zmq::message_t& m = payloads[i];
  RT_CHECK(FloatAligned(m.data()));
  return {static_cast<const float*>(m.data()), m.size() / sizeof(float)};
}

std::span<const uint8_t> Message::Bytes(size_t i) const {
  const zmq::message_t& m = payloads[i];
  return {static_cast<const uint8_t*>(m.data()), m.size()};
}

std::span<const uint64_t> Message::SparseKeys(size_t i) const {
  const int per = SparseFramesPerSlice(header.kind());
  RT_CHECK(header.kind() != proto::PULL_REPLY && per > 0);
  const zmq::message_t& m = sparse[i * static_cast<size_t>(per)];
  RT_CHECK(KeyAligned(m.data()));
  return {static_cast<const uint64_t*>(m.data()), m.size() / sizeof(uint64_t)};
}

std::span<const float> Message::SparseValues(size_t i) const {
  const int per = SparseFramesPerSlice(header.kind());
  RT_CHECK(header.kind() != proto::PULL && per > 0);
  RT_CHECK(header.sparse(static_cast<int>(i)).value_codec() == proto::CODEC_NONE);
  const zmq::message_t& m = sparse[i * static_cast<size_t>(per) + static_cast<size_t>(per - 1)];
  RT_CHECK(FloatAligned(m.data()));
  return {static_cast<const float*>(m.data()), m.size() / sizeof(float)};
}

namespace {

// How sparse slice `s`'s values are encoded: CODEC_NONE, or in a PUSH CODEC_FP16 or CODEC_INT8
// (with a block in 1..kMaxBlock).
StatusOr<compress::CodecSpec> SparseValueCodec(const proto::Header& h, const proto::SparseSlice& s,
                                               const std::string& what) {
  compress::CodecSpec spec;
  if (s.value_codec() == proto::CODEC_NONE) return spec;
  const bool push = h.kind() == proto::PUSH;
  if (!push || (s.value_codec() != proto::CODEC_FP16 && s.value_codec() != proto::CODEC_INT8)) {
    const std::string name = proto::Codec_IsValid(s.value_codec())
                                 ? proto::Codec_Name(s.value_codec())
                                 : std::to_string(static_cast<int>(s.value_codec()));
    return InvalidArgument(what + ": values encoded as " + name +
                           " (a PUSH's sparse values travel as CODEC_NONE, CODEC_FP16 or "
                           "CODEC_INT8, other kinds' as CODEC_NONE)");
  }
  if (s.value_codec() == proto::CODEC_FP16) {
    spec.type = compress::CodecType::kFp16;
    return spec;
  }
  if (s.value_codec_block() < 1 || s.value_codec_block() > compress::kMaxBlock) {
    return InvalidArgument(what + ": values encoded as CODEC_INT8 with block " +
                           std::to_string(s.value_codec_block()) + ", expected 1.." +
                           std::to_string(compress::kMaxBlock));
  }
  spec.type = compress::CodecType::kInt8;
  spec.block = static_cast<int>(s.value_codec_block());
  return spec;
}

// Checks the sparse slices' frames (the last frames.size() - first of them) against what the
// header says, before anything reads them; *codecs receives each slice's value codec.
Status CheckSparseFrames(const proto::Header& h, std::span<const zmq::message_t> frames,
                         size_t first, std::vector<compress::CodecSpec>* codecs) {
  const size_t per = static_cast<size_t>(SparseFramesPerSlice(h.kind()));
  for (int i = 0; i < h.sparse_size(); ++i) {
    const proto::SparseSlice& s = h.sparse(i);
    const std::string what = Describe(h) + ": sparse slice " + std::to_string(i) + " (table " +
                             std::to_string(s.table()) + ")";
    if (s.num_keys() < 1 || s.num_keys() > kMaxSparseKeys || s.dim() < 1 ||
        s.num_keys() * s.dim() > kMaxSparseValues) {
      return InvalidArgument(what + ": " + std::to_string(s.num_keys()) + " keys of dim " +
                             std::to_string(s.dim()) + " (must be 1 to 2^25 keys, dim >= 1, at " +
                             "most 2^28 floats)");
    }
    RT_ASSIGN_OR_RETURN(const compress::CodecSpec codec, SparseValueCodec(h, s, what));
    codecs->push_back(codec);
    const size_t base = first + static_cast<size_t>(i) * per;
    const bool keys_first = h.kind() != proto::PULL_REPLY;
    const size_t values = static_cast<size_t>(s.num_keys() * s.dim());
    for (size_t f = 0; f < per; ++f) {
      const bool keys = keys_first && f == 0;
      const uint64_t expected =
          keys ? s.num_keys() * sizeof(uint64_t)
               : compress::EncodedSize({codec.type, /*ratio=*/1.0, codec.block}, values);
      if (frames[base + f].size() != expected) {
        return InvalidArgument(what + ": " + (keys ? "keys" : "values") + " frame of " +
                               std::to_string(frames[base + f].size()) + " bytes, expected " +
                               std::to_string(expected));
      }
    }
  }
  return Status::Ok();
}

// Partitions in shared memory (PartitionSlice.shared) only in a PULL_REPLY of parameters or a
// PUSH of gradients, CODEC_NONE, that says where the segment is, of a size a reader would map.
Status CheckShared(const proto::Header& h, size_t partitions, size_t* shared) {
  *shared = 0;
  for (size_t i = 0; i < partitions; ++i) *shared += h.partitions(static_cast<int>(i)).shared();
  const bool any = *shared > 0;
  if (!any && !h.has_segment()) return Status::Ok();
  if ((h.kind() != proto::PULL_REPLY && h.kind() != proto::PUSH) ||
      h.codec() != proto::CODEC_NONE) {
    return InvalidArgument(Describe(h) + ": shared memory on a message that carries none");
  }
  if (any && !h.has_segment()) {
    return InvalidArgument(Describe(h) + ": partitions in shared memory, but no segment");
  }
  const proto::SharedSegment& seg = h.segment();
  if (seg.bytes() <= kSegmentDataOffset || seg.bytes() > kMaxSegmentBytes || seg.fd() < 0 ||
      seg.pid() == 0 || seg.seq() % 2 != 0) {
    return InvalidArgument(Describe(h) + ": shared segment " + seg.ShortDebugString() +
                           " is not a possible one");
  }
  return Status::Ok();
}

}  // namespace

bool HasSharedPartitions(const proto::Header& header) {
  return std::any_of(header.partitions().begin(), header.partitions().end(),
                     [](const proto::PartitionSlice& s) { return s.shared(); });
}

void SetSegment(const SegmentAddress& address, uint64_t seq, proto::SharedSegment* out) {
  out->set_pid(address.pid);
  out->set_fd(address.fd);
  out->set_id(address.id);
  out->set_bytes(address.bytes);
  out->set_seq(seq);
}

SegmentAddress AddressOf(const proto::SharedSegment& segment) {
  return {segment.pid(), segment.fd(), segment.id(), segment.bytes()};
}

StatusOr<Message> DecodeMessage(std::vector<zmq::message_t> frames) {
  Message msg;
  RT_RETURN_IF_ERROR(DecodeMessage(std::span(frames), &msg));
  return msg;
}

Status DecodeMessage(std::span<zmq::message_t> frames, Message* out) {
  if (frames.empty()) return DataLoss("empty message");
  if (frames[0].size() > kMaxHeaderBytes) {
    return DataLoss("header frame of " + std::to_string(frames[0].size()) +
                    " bytes exceeds the limit of " + std::to_string(kMaxHeaderBytes));
  }
  Message& msg = *out;
  msg.payloads.clear();
  msg.sparse.clear();
  // Parsing clears the header first, keeping its storage (strings, repeated fields).
  if (!msg.header.ParseFromArray(frames[0].data(), static_cast<int>(frames[0].size()))) {
    return DataLoss("header frame of " + std::to_string(frames[0].size()) +
                    " bytes is not a valid ringtrain.proto.Header");
  }
  const proto::Header& h = msg.header;
  if (h.wire_version() != proto::WIRE_VERSION_1) {
    return InvalidArgument("unsupported wire version " + std::to_string(h.wire_version()));
  }
  if (!proto::MessageKind_IsValid(h.kind()) || h.kind() == proto::KIND_UNSPECIFIED) {
    return InvalidArgument("unknown message kind " + std::to_string(h.kind()));
  }
  StatusOr<compress::CodecSpec> codec = CodecOf(h);
  if (!codec.ok()) return codec.status();
  msg.codec = *codec;
  if (h.kind() == proto::PULL_REPLY && msg.codec.type != compress::CodecType::kNone) {
    return InvalidArgument(Describe(h) + ": parameters travel as CODEC_NONE, not " +
                           proto::Codec_Name(h.codec()));
  }
  const size_t n = CarriesPayload(h.kind()) ? static_cast<size_t>(h.partitions_size()) : 0;
  size_t shared = 0;
  RT_RETURN_IF_ERROR(CheckShared(h, n, &shared));
  size_t expected =
      CarriesShardState(h.kind()) ? ShardStateFrames(h.replica().state()) : n - shared;
  if (CarriesMargins(h.kind())) {
    const uint64_t floats = uint64_t{h.margin_rows()} * h.margin_cols();
    if (floats == 0 || floats > kMaxMarginFloats || msg.codec.type != compress::CodecType::kNone) {
      return InvalidArgument(Describe(h) + ": margins of " + std::to_string(h.margin_rows()) +
                             " x " + std::to_string(h.margin_cols()) +
                             " (must be 1 to 2^24 float32, CODEC_NONE)");
    }
    expected = 1;
    if (frames.size() == 2 && frames[1].size() != floats * sizeof(float)) {
      return InvalidArgument(Describe(h) + ": margins of " + std::to_string(h.margin_rows()) +
                             " x " + std::to_string(h.margin_cols()) + " float32 in a frame of " +
                             std::to_string(frames[1].size()) + " bytes");
    }
  }
  const size_t sparse_per = static_cast<size_t>(SparseFramesPerSlice(h.kind()));
  if (h.sparse_size() > 0 && sparse_per == 0) {
    return InvalidArgument(Describe(h) + ": sparse slices on a kind that carries none");
  }
  const size_t sparse_frames = sparse_per * static_cast<size_t>(h.sparse_size());
  if (frames.size() - 1 != expected + sparse_frames) {
    return InvalidArgument(Describe(h) + ": expected " + std::to_string(expected + sparse_frames) +
                           " payload frames, got " + std::to_string(frames.size() - 1));
  }
  std::vector<compress::CodecSpec> value_codecs;
  RT_RETURN_IF_ERROR(CheckSparseFrames(h, frames, 1 + expected, &value_codecs));
  for (size_t i = 0, frame = 1; i < n; ++i) {
    const proto::PartitionSlice& p = h.partitions(static_cast<int>(i));
    if (Status s = CheckPayloadSize(msg.codec, p.num_elements(), p.payload_bytes()); !s.ok()) {
      return InvalidArgument(Describe(h) + ": partition " + std::to_string(p.id()) + ": " +
                             s.message());
    }
    if (p.shared()) {
      const uint64_t bytes = h.segment().bytes();
      if (p.shared_offset() % kSharedAlignment != 0 || p.shared_offset() < kSegmentDataOffset ||
          p.shared_offset() > bytes || p.payload_bytes() > bytes - p.shared_offset()) {
        return InvalidArgument(Describe(h) + ": partition " + std::to_string(p.id()) + ": " +
                               std::to_string(p.payload_bytes()) + " bytes at offset " +
                               std::to_string(p.shared_offset()) + " of a shared segment of " +
                               std::to_string(bytes) + " bytes");
      }
      continue;
    }
    if (frames[frame].size() != p.payload_bytes()) {
      return InvalidArgument(Describe(h) + ": partition " + std::to_string(p.id()) +
                             ": header says " + std::to_string(p.payload_bytes()) +
                             " payload bytes, frame has " + std::to_string(frames[frame].size()));
    }
    ++frame;
  }
  // payloads[i] stays partition i's: an empty frame stands for one in shared memory (CheckShared:
  // only partitions' frames can be).
  msg.payloads.reserve(expected + shared);
  for (size_t frame = 1; frame <= expected; ++frame) {
    while (msg.payloads.size() < n &&
           h.partitions(static_cast<int>(msg.payloads.size())).shared()) {
      msg.payloads.emplace_back();
    }
    // A PULL_REPLY's partitions are copied out as bytes by the one receiver, never read in
    // place (Message::Floats): no aligned copy of them first.
    if (msg.codec.type == compress::CodecType::kNone && h.kind() != proto::PULL_REPLY) {
      AlignFloatFrame(frames[frame]);
    }
    msg.payloads.push_back(std::move(frames[frame]));
  }
  while (msg.payloads.size() < n) msg.payloads.emplace_back();  // shared ones after the last frame
  msg.sparse.reserve(sparse_frames);
  for (size_t i = 0; i < sparse_frames; ++i) {
    zmq::message_t& frame = frames[1 + expected + i];
    const bool keys = h.kind() != proto::PULL_REPLY && i % sparse_per == 0;
    if (keys) {
      AlignKeyFrame(frame);
    } else if (value_codecs[i / sparse_per].type == compress::CodecType::kNone) {
      AlignFloatFrame(frame);
    }
    msg.sparse.push_back(std::move(frame));
  }
  return Status::Ok();
}

Status DecodeSparseValues(Message* msg) {
  const size_t per = static_cast<size_t>(SparseFramesPerSlice(msg->header.kind()));
  for (int i = 0; i < msg->header.sparse_size(); ++i) {
    proto::SparseSlice* slice = msg->header.mutable_sparse(i);
    if (slice->value_codec() == proto::CODEC_NONE) continue;
    const std::string what = Describe(msg->header) + ": sparse slice " + std::to_string(i) +
                             " (table " + std::to_string(slice->table()) + ")";
    RT_ASSIGN_OR_RETURN(const compress::CodecSpec codec,
                        SparseValueCodec(msg->header, *slice, what));
    zmq::message_t& frame = msg->sparse[static_cast<size_t>(i) * per + per - 1];
    const size_t values = static_cast<size_t>(slice->num_keys() * slice->dim());
    StatusOr<compress::ValidatedPayload> payload = compress::ValidatePayload(
        codec, {static_cast<const uint8_t*>(frame.data()), frame.size()}, values);
    if (!payload.ok()) return InvalidArgument(what + ": values: " + payload.status().message());
    float* floats = new float[values];
    compress::Decode(*payload, {floats, values});
    frame = zmq::message_t(floats, values * sizeof(float), &ReleaseFloatArray, nullptr);
    slice->set_value_codec(proto::CODEC_NONE);
    slice->set_value_codec_block(0);
  }
  return Status::Ok();
}

Status SendMessage(zmq::socket_t& socket, const std::string* identity, proto::Header header,
                   std::vector<zmq::message_t> payloads, uint64_t* bytes_sent) {
  return SendMessage(socket, identity, &header, std::span(payloads), bytes_sent);
}

Status SendMessage(zmq::socket_t& socket, const std::string* identity, proto::Header* header,
                   std::span<zmq::message_t> payloads, uint64_t* bytes_sent) {
  header->set_wire_version(proto::WIRE_VERSION_1);
  uint64_t total = 0;
  try {
    // Serialized in place into the frame: no string in between, no copy.
    zmq::message_t head(header->ByteSizeLong());
    header->SerializeWithCachedSizesToArray(static_cast<uint8_t*>(head.data()));
    total = head.size();
    const auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
    if (identity != nullptr) {
      zmq::message_t id(identity->data(), identity->size());
      if (!socket.send(id, more)) return Unavailable("send queue full");
    }
    if (!socket.send(head, payloads.empty() ? zmq::send_flags::dontwait : more)) {
      return Unavailable("send queue full");
    }
    for (size_t i = 0; i < payloads.size(); ++i) {
      total += payloads[i].size();
      const bool last = i + 1 == payloads.size();
      if (!socket.send(payloads[i], last ? zmq::send_flags::dontwait : more)) {
        return Unavailable("send queue full");
      }
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return Unavailable("peer is not connected");
    return Unavailable(std::string("send failed: ") + e.what());
  }
  if (bytes_sent != nullptr) *bytes_sent += total;
  return Status::Ok();
}

Status SendMessage(StreamLink& link, proto::Header* header,
                   std::span<const zmq::message_t> payloads, uint64_t* bytes_sent) {
  header->set_wire_version(proto::WIRE_VERSION_1);
  const std::string encoded = header->SerializeAsString();
  constexpr size_t kInline = 16;  // a step's messages: no allocation for the list of frames
  std::array<std::span<const std::byte>, kInline + 1> inline_frames;
  std::vector<std::span<const std::byte>> many;
  std::span<std::span<const std::byte>> frames;
  if (payloads.size() <= kInline) {
    frames = std::span(inline_frames.data(), payloads.size() + 1);
  } else {
    many.resize(payloads.size() + 1);
    frames = many;
  }
  frames[0] = std::as_bytes(std::span(encoded));
  uint64_t total = encoded.size();
  for (size_t i = 0; i < payloads.size(); ++i) {
    frames[i + 1] = {static_cast<const std::byte*>(payloads[i].data()), payloads[i].size()};
    total += payloads[i].size();
  }
  RT_RETURN_IF_ERROR(link.Send(frames));
  if (bytes_sent != nullptr) *bytes_sent += total;
  return Status::Ok();
}

Status ReceiveMultipart(zmq::socket_t& socket, std::vector<zmq::message_t>* frames, bool* received,
                        bool wait) {
  frames->clear();
  *received = false;
  try {
    while (true) {
      zmq::message_t part;
      // A message's frames come together: only the first may have to be waited for.
      const auto got = socket.recv(
          part, frames->empty() && !wait ? zmq::recv_flags::dontwait : zmq::recv_flags::none);
      if (!got) return Status::Ok();  // nothing queued (or nothing came in time)
      const bool more = part.more();
      frames->push_back(std::move(part));
      if (!more) break;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR && frames->empty()) return Status::Ok();  // a signal ended the wait
    return Unavailable(std::string("receive failed: ") + e.what());
  }
  *received = true;
  return Status::Ok();
}

}  // namespace ringtrain::transport

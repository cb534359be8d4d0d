#include "ringtrain/transport/message.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "ringtrain/common/check.h"

namespace ringtrain::transport {
namespace {

void ReleaseSharedFloats(void* /*data*/, void* hint) { delete static_cast<SharedFloats*>(hint); }

void ReleaseFloatArray(void* data, void* /*hint*/) { delete[] static_cast<float*>(data); }

void ReleaseByteVector(void* /*data*/, void* hint) {
  delete static_cast<std::vector<uint8_t>*>(hint);
}

bool FloatAligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % alignof(float) == 0; }

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
  return std::string(proto::MessageKind_Name(h.kind())) + " from sender " +
         std::to_string(h.sender());
}

}  // namespace

zmq::message_t ZeroCopyFrame(SharedFloats owner, const float* data, size_t count) {
  auto* hint = new SharedFloats(std::move(owner));
  // libzmq never writes through the pointer of a message it sends.
  return zmq::message_t(const_cast<float*>(data), count * sizeof(float), &ReleaseSharedFloats,
                        hint);
}

zmq::message_t OwnedBytesFrame(std::unique_ptr<std::vector<uint8_t>> bytes) {
  std::vector<uint8_t>* v = bytes.release();
  return zmq::message_t(v->data(), v->size(), &ReleaseByteVector, v);
}

zmq::message_t CopyFrame(const float* data, size_t count) {
  return zmq::message_t(data, count * sizeof(float));
}

bool CarriesPayload(proto::MessageKind kind) {
  return kind == proto::PUSH || kind == proto::PULL_REPLY;
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

StatusOr<compress::CodecOptions> CodecOf(const proto::Header& header) {
  compress::CodecOptions o;
  switch (header.codec()) {
    case proto::CODEC_NONE:
      o.type = compress::CodecType::kNone;
      return o;
    case proto::CODEC_FP16:
      o.type = compress::CodecType::kFp16;
      return o;
    case proto::CODEC_TOPK:
      o.type = compress::CodecType::kTopK;
      return o;
    case proto::CODEC_INT8:
    case proto::CODEC_ONEBIT:
      o.type = header.codec() == proto::CODEC_INT8 ? compress::CodecType::kInt8
                                                   : compress::CodecType::kOneBit;
      if (header.codec_block() < 1 || header.codec_block() > compress::kMaxBlock) {
        return InvalidArgument(Describe(header) + ": codec " + proto::Codec_Name(header.codec()) +
                               " with block " + std::to_string(header.codec_block()) +
                               ", expected 1.." + std::to_string(compress::kMaxBlock));
      }
      o.block = static_cast<int>(header.codec_block());
      return o;
    default:
      return InvalidArgument(Describe(header) + ": unknown codec " +
                             std::to_string(static_cast<int>(header.codec())));
  }
}

Status CheckPayloadSize(const compress::CodecOptions& codec, uint64_t num_elements,
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
  const uint64_t expected = compress::EncodedSize(codec, static_cast<size_t>(num_elements));
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

StatusOr<Message> DecodeMessage(std::vector<zmq::message_t> frames) {
  if (frames.empty()) return DataLoss("empty message");
  if (frames[0].size() > kMaxHeaderBytes) {
    return DataLoss("header frame of " + std::to_string(frames[0].size()) +
                    " bytes exceeds the limit of " + std::to_string(kMaxHeaderBytes));
  }
  Message msg;
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
  StatusOr<compress::CodecOptions> codec = CodecOf(h);
  if (!codec.ok()) return codec.status();
  if (h.kind() == proto::PULL_REPLY && h.codec() != proto::CODEC_NONE) {
    return InvalidArgument(Describe(h) + ": parameters travel as CODEC_NONE, not " +
                           proto::Codec_Name(h.codec()));
  }
  const size_t n = CarriesPayload(h.kind()) ? static_cast<size_t>(h.partitions_size()) : 0;
  if (frames.size() - 1 != n) {
    return InvalidArgument(Describe(h) + ": expected " + std::to_string(n) +
                           " payload frames, got " + std::to_string(frames.size() - 1));
  }
  for (size_t i = 0; i < n; ++i) {
    const proto::PartitionSlice& p = h.partitions(static_cast<int>(i));
    if (Status s = CheckPayloadSize(*codec, p.num_elements(), p.payload_bytes()); !s.ok()) {
      return InvalidArgument(Describe(h) + ": partition " + std::to_string(p.id()) + ": " +
                             s.message());
    }
    if (frames[i + 1].size() != p.payload_bytes()) {
      return InvalidArgument(Describe(h) + ": partition " + std::to_string(p.id()) +
                             ": header says " + std::to_string(p.payload_bytes()) +
                             " payload bytes, frame has " + std::to_string(frames[i + 1].size()));
    }
  }
  msg.payloads.reserve(n);
  for (size_t i = 1; i < frames.size(); ++i) {
    if (h.codec() == proto::CODEC_NONE) AlignFloatFrame(frames[i]);
    msg.payloads.push_back(std::move(frames[i]));
  }
  return msg;
}

Status SendMessage(zmq::socket_t& socket, const std::string* identity, proto::Header header,
                   std::vector<zmq::message_t> payloads, uint64_t* bytes_sent) {
  header.set_wire_version(proto::WIRE_VERSION_1);
  std::string encoded = header.SerializeAsString();
  uint64_t total = encoded.size();
  try {
    const auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
    if (identity != nullptr) {
      zmq::message_t id(identity->data(), identity->size());
      if (!socket.send(id, more)) return Unavailable("send queue full");
    }
    zmq::message_t head(encoded.data(), encoded.size());
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

Status ReceiveMultipart(zmq::socket_t& socket, std::vector<zmq::message_t>* frames,
                        bool* received) {
  frames->clear();
  *received = false;
  try {
    while (true) {
      zmq::message_t part;
      const auto got =
          socket.recv(part, frames->empty() ? zmq::recv_flags::dontwait : zmq::recv_flags::none);
      if (!got) return Status::Ok();  // nothing queued
      const bool more = part.more();
      frames->push_back(std::move(part));
      if (!more) break;
    }
  } catch (const zmq::error_t& e) {
    return Unavailable(std::string("receive failed: ") + e.what());
  }
  *received = true;
  return Status::Ok();
}

}  // namespace ringtrain::transport

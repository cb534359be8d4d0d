// libFuzzer target: what a server or worker does with the frames of one received message
// (transport::DecodeMessage, then the payload checks every receiver applies before decoding,
// the sparse slices' encoded values checked and decoded (transport::DecodeSparseValues), and
// their keys and values read in place).
// Input: frames separated by the byte sequence "\xff\xfe\xfd" (so that mutations can add,
// drop and resize frames); the first frame is the Protobuf header.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/compress/validated_payload.h"
#include "ringtrain/transport/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr std::string_view kSeparator("\xff\xfe\xfd", 3);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<zmq::message_t> frames;
  size_t start = 0;
  while (frames.size() < 64) {
    const size_t end = input.find(kSeparator, start);
    const std::string_view frame =
        input.substr(start, end == std::string_view::npos ? end : end - start);
    frames.emplace_back(frame.data(), frame.size());
    if (end == std::string_view::npos) break;
    start = end + kSeparator.size();
  }
  ringtrain::StatusOr<ringtrain::transport::Message> message =
      ringtrain::transport::DecodeMessage(std::move(frames));
  if (!message.ok()) return 0;
  if (!ringtrain::transport::DecodeSparseValues(&*message).ok()) return 0;
  // What a server does next with each partition's payload: validate, then decode.
  const auto& header = message->header;
  for (int i = 0; i < header.partitions_size() && i < static_cast<int>(message->payloads.size());
       ++i) {
    const uint64_t n = header.partitions(i).num_elements();
    if (n > (uint64_t{1} << 20)) continue;  // the fuzzer's memory, not the decoder's limit
    ringtrain::StatusOr<ringtrain::compress::ValidatedPayload> payload =
        ringtrain::compress::ValidatePayload(message->codec, message->Bytes(i), n);
    if (!payload.ok()) continue;
    std::vector<float> out(n);
    ringtrain::compress::Decode(*payload, out);
    // Read in place as floats by every receiver but a PULL_REPLY's, which copies its bytes out.
    if (header.codec() == ringtrain::proto::CODEC_NONE) {
      if (header.kind() == ringtrain::proto::PULL_REPLY) {
        const std::span<const uint8_t> bytes = message->Bytes(i);
        std::vector<unsigned char> copy(bytes.begin(), bytes.end());
        if (copy.size() != n * sizeof(float)) __builtin_trap();
      } else {
        (void)message->Floats(i);
      }
    }
  }
  // What a server or worker reads of each sparse slice: its keys and values, in place.
  const ringtrain::proto::MessageKind kind = header.kind();
  for (int i = 0; i < header.sparse_size(); ++i) {
    float sum = 0;
    if (kind == ringtrain::proto::PUSH || kind == ringtrain::proto::PULL) {
      for (const uint64_t key : message->SparseKeys(static_cast<size_t>(i))) sum += key & 1;
    }
    if (kind == ringtrain::proto::PUSH || kind == ringtrain::proto::PULL_REPLY) {
      for (const float v : message->SparseValues(static_cast<size_t>(i))) sum += v;
    }
    (void)sum;
  }
  return 0;
}

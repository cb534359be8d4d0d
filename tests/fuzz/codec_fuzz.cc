// libFuzzer target: the gradient codecs' decoders on bytes from a peer (compress::ValidatePayload,
// then Decode and DecodeAdd, as servers use them).
// Input: [codec type][block, 3 bytes][element count, 3 bytes][encoded payload...].
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ringtrain/compress/validated_payload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 7) return 0;
  ringtrain::compress::CodecSpec spec;
  spec.type = static_cast<ringtrain::compress::CodecType>(data[0] % 5);
  spec.block = static_cast<int>((uint32_t{data[1]} << 16) | (uint32_t{data[2]} << 8) | data[3]);
  if (spec.type != ringtrain::compress::CodecType::kInt8 &&
      spec.type != ringtrain::compress::CodecType::kOneBit) {
    spec.block = 0;
  }
  // At most 65536 elements: decoding costs time in proportion, and larger counts only repeat.
  const size_t n = ((size_t{data[4]} << 16) | (size_t{data[5]} << 8) | data[6]) % 65537;
  const std::span<const uint8_t> bytes(data + 7, size - 7);
  ringtrain::StatusOr<ringtrain::compress::ValidatedPayload> payload =
      ringtrain::compress::ValidatePayload(spec, bytes, n);
  if (!payload.ok()) return 0;
  std::vector<float> out(n);
  ringtrain::compress::Decode(*payload, out);
  ringtrain::compress::DecodeAdd(*payload, out, 0.5f);
  return 0;
}

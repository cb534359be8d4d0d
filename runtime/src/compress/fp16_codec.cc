// kFp16: IEEE binary16 per element (conversion rules in ringtrain/compress/half.h).
#include <cstddef>
#include <cstdint>
#include <span>

#include "bytes.h"
#include "codec_impl.h"
#include "ringtrain/compress/half.h"

namespace ringtrain::compress::internal {
namespace {

size_t Size(const CodecOptions& /*options*/, size_t n) { return 2 * n; }

void Encode(const CodecOptions& /*options*/, std::span<const float> v, uint8_t* out) {
  for (size_t i = 0; i < v.size(); ++i) StoreU16(out + 2 * i, FloatToHalf(v[i]));
}

// Every 16-bit pattern is a half (inf and NaN included), so only the size can be wrong.
Status Validate(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n) {
  if (bytes.size() != Size(options, n)) {
    return SizeMismatch("fp16", bytes.size(), n, Size(options, n), "2 bytes per element");
  }
  return Status::Ok();
}

void Decode(const CodecOptions& /*options*/, std::span<const uint8_t> bytes, std::span<float> out) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = HalfToFloat(LoadU16(bytes.data() + 2 * i));
}

void DecodeAdd(const CodecOptions& /*options*/, std::span<const uint8_t> bytes,
               std::span<float> accumulate, float weight) {
  for (size_t i = 0; i < accumulate.size(); ++i) {
    accumulate[i] += weight * HalfToFloat(LoadU16(bytes.data() + 2 * i));
  }
}

}  // namespace

const CodecImpl kFp16Impl = {Size, Encode, Validate, Decode, DecodeAdd, /*finite_only=*/false};

}  // namespace ringtrain::compress::internal

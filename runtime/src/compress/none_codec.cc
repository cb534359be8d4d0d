// kNone: the gradient as little-endian float32, 4 bytes per element.
#include <cstddef>
#include <cstdint>
#include <span>

#include "bytes.h"
#include "codec_impl.h"

namespace ringtrain::compress::internal {
namespace {

size_t Size(const CodecOptions& /*options*/, size_t n) { return 4 * n; }

void Encode(const CodecOptions& /*options*/, std::span<const float> v, uint8_t* out) {
  for (size_t i = 0; i < v.size(); ++i) StoreF32(out + 4 * i, v[i]);
}

Status Validate(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n) {
  if (bytes.size() != Size(options, n)) {
    return SizeMismatch("none", bytes.size(), n, Size(options, n), "4 bytes per element");
  }
  return Status::Ok();
}

void Decode(const CodecOptions& /*options*/, std::span<const uint8_t> bytes, std::span<float> out) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = LoadF32(bytes.data() + 4 * i);
}

void DecodeAdd(const CodecOptions& /*options*/, std::span<const uint8_t> bytes,
               std::span<float> accumulate, float weight) {
  for (size_t i = 0; i < accumulate.size(); ++i) {
    accumulate[i] += weight * LoadF32(bytes.data() + 4 * i);
  }
}

}  // namespace

const CodecImpl kNoneImpl = {Size, Encode, Validate, Decode, DecodeAdd, /*finite_only=*/false};

}  // namespace ringtrain::compress::internal

// kInt8: per-block scale max|x| / 127 and one signed byte per element.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "bytes.h"
#include "codec_impl.h"

namespace ringtrain::compress::internal {
namespace {

size_t Size(const CodecOptions& options, size_t n) { return 4 * NumBlocks(n, options.block) + n; }

void Encode(const CodecOptions& options, std::span<const float> v, uint8_t* out) {
  const size_t n = v.size();
  const auto block = static_cast<size_t>(options.block);
  const size_t nb = NumBlocks(n, options.block);
  uint8_t* values = out + 4 * nb;
  for (size_t b = 0; b < nb; ++b) {
    const size_t lo = b * block;
    const size_t hi = std::min(n, lo + block);
    float max_abs = 0.0f;
    for (size_t i = lo; i < hi; ++i) max_abs = std::max(max_abs, std::fabs(v[i]));
    // Capped so that every valid encoding decodes to finite values: max|x| = FLT_MAX would
    // give 127 * (FLT_MAX / 127) = inf.
    const float scale = std::min(max_abs / 127.0f, kInt8MaxScale);
    StoreF32(out + 4 * b, scale);
    if (scale == 0.0f) {  // an all-zero block (or one so small that its scale underflows)
      std::fill(values + lo, values + hi, uint8_t{0});
      continue;
    }
    // The quotient is taken in double so that q rounds from the exact ratio: q >= 1 then
    // implies |v| >= scale / 2, which keeps v - q * scale exact for error feedback.
    // Rounding half away from zero without a libm call per element: after the clamp, adding
    // +-0.5 is exact (|x| <= 127) and the conversion truncates towards zero, which is
    // std::round(x); clamping first gives the same q as rounding first.
    const double s = scale;
    for (size_t i = lo; i < hi; ++i) {
      const double x = std::clamp(static_cast<double>(v[i]) / s, -127.0, 127.0);
      const auto q = static_cast<int>(x + (x < 0.0 ? -0.5 : 0.5));
      values[i] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  }
}

Status Validate(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n) {
  const size_t nb = NumBlocks(n, options.block);
  if (bytes.size() != Size(options, n)) {
    return SizeMismatch("int8", bytes.size(), n, Size(options, n),
                        std::to_string(nb) + " float32 scales for blocks of " +
                            std::to_string(options.block) + ", then 1 byte per element");
  }
  RT_RETURN_IF_ERROR(CheckScales("int8", bytes, nb, kInt8MaxScale));
  const uint8_t* values = bytes.data() + 4 * nb;
  for (size_t i = 0; i < n; ++i) {
    if (values[i] == 0x80) {
      return DataLoss("int8: element " + std::to_string(i) +
                      " is -128, outside the encoder's range [-127, 127]");
    }
  }
  return Status::Ok();
}

// Calls op(i, decoded_i) for every element, block by block.
template <typename Op>
void ForEachDecoded(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n, Op op) {
  const auto block = static_cast<size_t>(options.block);
  const size_t nb = NumBlocks(n, options.block);
  const uint8_t* values = bytes.data() + 4 * nb;
  for (size_t b = 0; b < nb; ++b) {
    const float scale = LoadF32(bytes.data() + 4 * b);
    const size_t hi = std::min(n, (b + 1) * block);
    for (size_t i = b * block; i < hi; ++i) {
      op(i, static_cast<float>(static_cast<int8_t>(values[i])) * scale);
    }
  }
}

void Decode(const CodecOptions& options, std::span<const uint8_t> bytes, std::span<float> out) {
  ForEachDecoded(options, bytes, out.size(), [out](size_t i, float d) { out[i] = d; });
}

void DecodeAdd(const CodecOptions& options, std::span<const uint8_t> bytes,
               std::span<float> accumulate, float weight) {
  ForEachDecoded(options, bytes, accumulate.size(),
                 [accumulate, weight](size_t i, float d) { accumulate[i] += weight * d; });
}

}  // namespace

const CodecImpl kInt8Impl = {Size, Encode, Validate, Decode, DecodeAdd, /*finite_only=*/true};

}  // namespace ringtrain::compress::internal

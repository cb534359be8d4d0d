// kOneBit: 1-bit SGD (Seide et al. 2014): per-block scale mean|x| and one sign bit per element.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "bytes.h"
#include "codec_impl.h"

namespace ringtrain::compress::internal {
namespace {

size_t SignBytes(size_t n) { return n / 8 + (n % 8 != 0 ? 1 : 0); }

size_t Size(const CodecOptions& options, size_t n) {
  return 4 * NumBlocks(n, options.block) + SignBytes(n);
}

void Encode(const CodecOptions& options, std::span<const float> v, uint8_t* out) {
  const size_t n = v.size();
  const auto block = static_cast<size_t>(options.block);
  const size_t nb = NumBlocks(n, options.block);
  uint8_t* signs = out + 4 * nb;
  std::fill(signs, signs + SignBytes(n), uint8_t{0});  // also keeps the padding bits 0
  for (size_t b = 0; b < nb; ++b) {
    const size_t lo = b * block;
    const size_t hi = std::min(n, lo + block);
    // Summed in double: a float sum of finite values could overflow or lose small ones. The
    // mean is at most max|x|, so it is a finite float again.
    double sum = 0.0;
    for (size_t i = lo; i < hi; ++i) sum += std::fabs(static_cast<double>(v[i]));
    StoreF32(out + 4 * b, static_cast<float>(sum / static_cast<double>(hi - lo)));
    for (size_t i = lo; i < hi; ++i) {
      if (v[i] < 0.0f) signs[i / 8] = static_cast<uint8_t>(signs[i / 8] | (1u << (i % 8)));
    }
  }
}

Status Validate(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n) {
  const size_t nb = NumBlocks(n, options.block);
  if (bytes.size() != Size(options, n)) {
    return SizeMismatch("onebit", bytes.size(), n, Size(options, n),
                        std::to_string(nb) + " float32 scales for blocks of " +
                            std::to_string(options.block) + ", then " +
                            std::to_string(SignBytes(n)) + " bytes of sign bits");
  }
  RT_RETURN_IF_ERROR(CheckScales("onebit", bytes, nb, std::numeric_limits<float>::max()));
  if (n % 8 != 0 && (bytes.back() >> (n % 8)) != 0) {
    return DataLoss("onebit: padding bits after element " + std::to_string(n - 1) +
                    " in the last sign byte are not zero");
  }
  return Status::Ok();
}

// Calls op(i, decoded_i) for every element, block by block.
template <typename Op>
void ForEachDecoded(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n, Op op) {
  const auto block = static_cast<size_t>(options.block);
  const size_t nb = NumBlocks(n, options.block);
  const uint8_t* signs = bytes.data() + 4 * nb;
  for (size_t b = 0; b < nb; ++b) {
    const float scale = LoadF32(bytes.data() + 4 * b);
    const size_t hi = std::min(n, (b + 1) * block);
    for (size_t i = b * block; i < hi; ++i) {
      op(i, ((signs[i / 8] >> (i % 8)) & 1u) != 0 ? -scale : scale);
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

const CodecImpl kOneBitImpl = {Size, Encode, Validate, Decode, DecodeAdd, /*finite_only=*/true};

}  // namespace ringtrain::compress::internal

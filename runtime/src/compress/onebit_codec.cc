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
  // Sign bits 8 at a time, without branches (the signs of a gradient are close to random).
  const size_t whole = n / 8;
  for (size_t j = 0; j < whole; ++j) {
    const float* x = v.data() + 8 * j;
    unsigned byte = 0;
    for (unsigned k = 0; k < 8; ++k) byte |= static_cast<unsigned>(x[k] < 0.0f) << k;
    signs[j] = static_cast<uint8_t>(byte);
  }
  if (n % 8 != 0) {  // the padding bits stay 0
    unsigned byte = 0;
    for (size_t i = 8 * whole; i < n; ++i) byte |= static_cast<unsigned>(v[i] < 0.0f) << (i % 8);
    signs[whole] = static_cast<uint8_t>(byte);
  }
  for (size_t b = 0; b < nb; ++b) {
    const size_t lo = b * block;
    const size_t hi = std::min(n, lo + block);
    // Summed in double: a float sum of finite values could overflow or lose small ones. The
    // mean is at most max|x|, so it is a finite float again.
    double sum = 0.0;
    for (size_t i = lo; i < hi; ++i) sum += std::fabs(static_cast<double>(v[i]));
    StoreF32(out + 4 * b, static_cast<float>(sum / static_cast<double>(hi - lo)));
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

// For each sign byte, the 8 factors +1 / -1 it stands for (bit k set: element k is -1).
struct SignTable {
  float factor[256][8];
  constexpr SignTable() : factor() {
    for (int byte = 0; byte < 256; ++byte) {
      for (int k = 0; k < 8; ++k) factor[byte][k] = ((byte >> k) & 1) != 0 ? -1.0f : 1.0f;
    }
  }
};
constexpr SignTable kSigns;

// Calls op(i, decoded_i) for elements one at a time, and op8(i, scale, factors) for runs of 8
// that start on a sign byte (decoded_{i+k} = scale * factors[k]), block by block.
template <typename Op, typename Op8>
void ForEachDecoded(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n, Op op,
                    Op8 op8) {
  const auto block = static_cast<size_t>(options.block);
  const size_t nb = NumBlocks(n, options.block);
  const uint8_t* signs = bytes.data() + 4 * nb;
  for (size_t b = 0; b < nb; ++b) {
    const float scale = LoadF32(bytes.data() + 4 * b);
    const size_t hi = std::min(n, (b + 1) * block);
    size_t i = b * block;
    for (; i < hi && i % 8 != 0; ++i) op(i, ((signs[i / 8] >> (i % 8)) & 1u) != 0 ? -scale : scale);
    for (; i + 8 <= hi; i += 8) op8(i, scale, kSigns.factor[signs[i / 8]]);
    for (; i < hi; ++i) op(i, ((signs[i / 8] >> (i % 8)) & 1u) != 0 ? -scale : scale);
  }
}

void Decode(const CodecOptions& options, std::span<const uint8_t> bytes, std::span<float> out) {
  float* o = out.data();
  ForEachDecoded(
      options, bytes, out.size(), [o](size_t i, float d) { o[i] = d; },
      [o](size_t i, float scale, const float* f) {
        for (int k = 0; k < 8; ++k) o[i + k] = scale * f[k];
      });
}

void DecodeAdd(const CodecOptions& options, std::span<const uint8_t> bytes,
               std::span<float> accumulate, float weight) {
  float* a = accumulate.data();
  ForEachDecoded(
      options, bytes, accumulate.size(), [a, weight](size_t i, float d) { a[i] += weight * d; },
      [a, weight](size_t i, float scale, const float* f) {
        for (int k = 0; k < 8; ++k) a[i + k] += weight * (scale * f[k]);
      });
}

}  // namespace

const CodecImpl kOneBitImpl = {Size, Encode, Validate, Decode, DecodeAdd, /*finite_only=*/true};

}  // namespace ringtrain::compress::internal

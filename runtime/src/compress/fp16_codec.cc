// kFp16: IEEE binary16 per element (conversion rules in ringtrain/compress/half.h).
//
// Encoding runs 8 elements at a time with the F16C instruction (VCVTPS2PH, round to nearest
// even) where the CPU has it, after saturating finite values to +-65504 as FloatToHalf does;
// the result is the same bit for bit (tests/unit/compress/half_test.cc compares them).
#include <cstddef>
#include <cstdint>
#include <span>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define RINGTRAIN_F16C_ENCODER 1
#endif

#include "bytes.h"
#include "codec_impl.h"
#include "ringtrain/compress/half.h"

namespace ringtrain::compress::internal {
namespace {

size_t Size(const CodecOptions& /*options*/, size_t n) { return 2 * n; }

#ifdef RINGTRAIN_F16C_ENCODER
// The CPU's features do not change while the process runs. CPUID leaf 1 (clang 14's
// __builtin_cpu_supports does not know "f16c"); AVX also needs the OS to save the YMM state.
bool HasF16c() {
  static const bool has = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
    const bool osxsave_avx = (c & bit_OSXSAVE) != 0 && (c & bit_AVX) != 0;
    if (!osxsave_avx || (c & bit_F16C) == 0) return false;
    unsigned lo = 0, hi = 0;  // XCR0 (xgetbv without needing the xsave target)
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0x6) == 0x6;
  }();
  return has;
}

// Encodes the first n - n % 8 elements; returns how many it did.
__attribute__((target("avx,f16c"))) size_t EncodeF16c(const float* v, size_t n, uint8_t* out) {
  const __m256 max = _mm256_set1_ps(65504.0f);
  const __m256 min = _mm256_set1_ps(-65504.0f);
  const __m256 inf = _mm256_set1_ps(__builtin_inff());
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    // Infinities and NaNs convert as they are; finite values saturate instead of overflowing.
    const __m256 special = _mm256_cmp_ps(_mm256_and_ps(x, abs_mask), inf, _CMP_NLT_UQ);
    const __m256 clamped = _mm256_max_ps(_mm256_min_ps(x, max), min);
    const __m256 y = _mm256_blendv_ps(clamped, x, special);
    const __m128i h = _mm256_cvtps_ph(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), h);
  }
  return i;
}
#endif

void Encode(const CodecOptions& /*options*/, std::span<const float> v, uint8_t* out) {
  size_t i = 0;
#ifdef RINGTRAIN_F16C_ENCODER
  if (HasF16c()) i = EncodeF16c(v.data(), v.size(), out);
#endif
  for (; i < v.size(); ++i) StoreU16(out + 2 * i, FloatToHalf(v[i]));
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

// kTopK: the k elements of largest magnitude as (index, float32 value) pairs; the index is a
// uint16 when n <= 65536 and a uint32 otherwise (TopKPairBytes).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "bytes.h"
#include "codec_impl.h"

namespace ringtrain::compress::internal {
namespace {

size_t IndexBytes(size_t n) { return TopKPairBytes(n) - 4; }

void StoreIndex(uint8_t* p, size_t n, uint32_t index) {
  if (IndexBytes(n) == 2) {
    p[0] = static_cast<uint8_t>(index);
    p[1] = static_cast<uint8_t>(index >> 8);
  } else {
    StoreU32(p, index);
  }
}

uint32_t LoadIndex(const uint8_t* p, size_t n) {
  if (IndexBytes(n) == 2) return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8;
  return LoadU32(p);
}

size_t Size(const CodecOptions& options, size_t n) {
  return TopKPairBytes(n) * TopKCount(options.ratio, n);
}

// |x| as its bit pattern: for finite (and infinite) floats, unsigned order is numeric order.
uint32_t MagnitudeBits(float x) { return std::bit_cast<uint32_t>(x) & 0x7FFFFFFFu; }

void Encode(const CodecOptions& options, std::span<const float> v, uint8_t* out) {
  const size_t n = v.size();
  const size_t k = TopKCount(options.ratio, n);
  if (k == 0) return;
  // The k-th largest magnitude t: every element above t is sent, and of those equal to t the
  // ones of lowest index until k are reached. One pass in index order then writes the pairs
  // already sorted, without sorting the k indices.
  uint32_t threshold = 0;
  size_t ties_to_send = n;
  if (k < n) {
    std::vector<uint32_t> magnitudes(n);
    for (size_t i = 0; i < n; ++i) magnitudes[i] = MagnitudeBits(v[i]);
    const auto kth = magnitudes.begin() + static_cast<std::ptrdiff_t>(k - 1);
    std::nth_element(magnitudes.begin(), kth, magnitudes.end(), std::greater<>());
    threshold = *kth;
    const auto above = static_cast<size_t>(
        std::count_if(magnitudes.begin(), kth, [threshold](uint32_t m) { return m > threshold; }));
    ties_to_send = k - above;
  }
  const size_t pair = TopKPairBytes(n);
  size_t written = 0;
  for (size_t i = 0; i < n && written < k; ++i) {
    const uint32_t m = MagnitudeBits(v[i]);
    if (m > threshold || (m == threshold && ties_to_send > 0)) {
      if (m == threshold) --ties_to_send;
      StoreIndex(out + pair * written, n, static_cast<uint32_t>(i));
      StoreF32(out + pair * written + IndexBytes(n), v[i]);
      ++written;
    }
  }
}

Status Validate(const CodecOptions& /*options*/, std::span<const uint8_t> bytes, size_t n) {
  const size_t pair = TopKPairBytes(n);
  if (bytes.size() % pair != 0) {
    return DataLoss("topk: " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
                    std::to_string(pair) + "-byte (index, float32 value) pairs");
  }
  const size_t count = bytes.size() / pair;
  if (count > n) {
    return DataLoss("topk: " + std::to_string(count) + " pairs for " + std::to_string(n) +
                    " elements (at most one pair per element)");
  }
  for (size_t j = 0; j < count; ++j) {
    const uint32_t index = LoadIndex(bytes.data() + pair * j, n);
    if (index >= n) {
      return DataLoss("topk: pair " + std::to_string(j) + " has index " + std::to_string(index) +
                      ", not below the " + std::to_string(n) + " elements");
    }
    if (j > 0) {
      const uint32_t previous = LoadIndex(bytes.data() + pair * (j - 1), n);
      if (index <= previous) {
        return DataLoss("topk: pair " + std::to_string(j) + " has index " + std::to_string(index) +
                        ", not above the previous index " + std::to_string(previous) +
                        " (indices must be strictly increasing)");
      }
    }
    const float value = LoadF32(bytes.data() + pair * j + IndexBytes(n));
    if (!std::isfinite(value)) {
      return DataLoss("topk: pair " + std::to_string(j) + " (index " + std::to_string(index) +
                      ") has a non-finite value (" + FloatString(value) + ")");
    }
  }
  return Status::Ok();
}

void Decode(const CodecOptions& /*options*/, std::span<const uint8_t> bytes, std::span<float> out) {
  std::fill(out.begin(), out.end(), 0.0f);
  const size_t n = out.size();
  const size_t pair = TopKPairBytes(n);
  for (size_t j = 0; j < bytes.size() / pair; ++j) {
    const uint8_t* p = bytes.data() + pair * j;
    out[LoadIndex(p, n)] = LoadF32(p + IndexBytes(n));
  }
}

void DecodeAdd(const CodecOptions& /*options*/, std::span<const uint8_t> bytes,
               std::span<float> accumulate, float weight) {
  const size_t n = accumulate.size();
  const size_t pair = TopKPairBytes(n);
  for (size_t j = 0; j < bytes.size() / pair; ++j) {
    const uint8_t* p = bytes.data() + pair * j;
    accumulate[LoadIndex(p, n)] += weight * LoadF32(p + IndexBytes(n));
  }
}

}  // namespace

const CodecImpl kTopKImpl = {Size, Encode, Validate, Decode, DecodeAdd, /*finite_only=*/true};

}  // namespace ringtrain::compress::internal

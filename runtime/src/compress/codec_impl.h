// Internal to the compress library: the operations every codec implements, one table per codec
// (one .cc file each), dispatched by codec.cc.
//
// codec.cc validates the options, n and the caller's buffers, and handles error feedback;
// validated_payload.cc runs validate once per payload; the operations below see only checked
// arguments:
//   size        the encoded size for n elements
//   encode      writes exactly size(options, v.size()) bytes to out; v is finite when
//               finite_only is set
//   validate    OK, or DataLoss naming what is wrong; must not read outside bytes
//   decode      writes every element of out, for bytes that passed validate
//   decode_add  accumulate[i] += weight * decoded[i], for bytes that passed validate, with
//               exactly the float operations of decode followed by that loop
#ifndef RINGTRAIN_SRC_COMPRESS_CODEC_IMPL_H_
#define RINGTRAIN_SRC_COMPRESS_CODEC_IMPL_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/compress/codec.h"

namespace ringtrain::compress::internal {

struct CodecImpl {
  size_t (*size)(const CodecOptions& options, size_t n);
  void (*encode)(const CodecOptions& options, std::span<const float> v, uint8_t* out);
  Status (*validate)(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n);
  void (*decode)(const CodecOptions& options, std::span<const uint8_t> bytes, std::span<float> out);
  void (*decode_add)(const CodecOptions& options, std::span<const uint8_t> bytes,
                     std::span<float> accumulate, float weight);
  bool finite_only;  // encode needs finite input (its scales must be finite)
};

extern const CodecImpl kNoneImpl;
extern const CodecImpl kFp16Impl;
extern const CodecImpl kInt8Impl;
extern const CodecImpl kOneBitImpl;
extern const CodecImpl kTopKImpl;

// The table of a codec. REQUIRES: type is an enumerator (options or spec validated).
const CodecImpl& ImplFor(CodecType type);

// InvalidArgument for a tensor of more than kMaxElements elements.
Status CheckElements(size_t n);

// Blocks of `block` elements covering n elements: ceil(n / block).
inline size_t NumBlocks(size_t n, int block) {
  const auto b = static_cast<size_t>(block);
  return n / b + (n % b != 0 ? 1 : 0);
}

// A float for error messages, with enough digits to tell values apart ("nan", "-inf", "0.1").
std::string FloatString(double v);

// DataLoss("<codec>: <bytes> bytes for <n> elements; expected <expected> (<layout>)").
Status SizeMismatch(const char* codec, size_t bytes, size_t n, size_t expected,
                    const std::string& layout);

// Checks the nb float32 scales at the start of bytes (REQUIRES: bytes holds them): finite, in
// [0, max_scale], else DataLoss("<codec>: scale of block <b> is <what> (<value>)").
Status CheckScales(const char* codec, std::span<const uint8_t> bytes, size_t nb, float max_scale);

}  // namespace ringtrain::compress::internal

#endif  // RINGTRAIN_SRC_COMPRESS_CODEC_IMPL_H_

// Gradient codecs: lossy encodings of a float32 gradient of n elements, with optional error
// feedback, and a validating decoder for bytes that come from the network.
//
// Pure functions over caller-owned buffers: no sockets, no hidden state, no global state. The
// transport carries the codec and n in the message header (metadata apart from data); the
// encoded bytes below are the payload frame and carry neither.
//
// Codecs and byte layouts (all little-endian; nb = ceil(n / block), no padding between parts):
//
//   kNone    n x float32                                      4n bytes
//   kFp16    n x IEEE binary16, round-to-nearest-even          2n bytes
//            Finite values beyond the half range saturate to +-65504; +-inf stay +-inf; NaN
//            stays NaN (sign and the top 9 payload bits kept, always quiet). Values of magnitude
//            <= 2^-25 (float denormals included) flush to a zero of the same sign.
//   kInt8    nb x float32 scale, then n x int8 q                4nb + n bytes
//            Block b covers elements [b*block, min((b+1)*block, n)); scale_b = max|x| / 127
//            in float (capped at kInt8MaxScale so that 127 * scale stays finite),
//            q_i = round(x_i / scale_b) (ties away from zero, clamped to [-127, 127]; 0 when
//            scale_b == 0); decodes to q_i * scale_b. Error per element <= scale_b / 2 (plus
//            float rounding). -128 never occurs. Blocks with max|x| below ~1e-43 get scale 0.
//   kOneBit  nb x float32 scale, then ceil(n/8) sign bytes      4nb + ceil(n/8) bytes
//            (1-bit SGD, Seide et al. 2014) scale_b = mean |x| over block b; bit i (bit i%8 of
//            sign byte i/8, least significant first) is 1 when x_i < 0; decodes to -scale_b for
//            a 1 bit and +scale_b for a 0 bit. Padding bits of the last byte are 0.
//   kTopK    k x (index, float32 value) pairs                  6k bytes (n <= 65536), else 8k
//            The index is a uint16 when n <= 65536 and a uint32 otherwise (TopKPairBytes).
//            The k = TopKCount(ratio, n) elements of largest |x| (ties: the lower index wins),
//            value exact, pairs sorted by strictly increasing index; every other element
//            decodes to 0. Decoding does not need the ratio: k is the byte size / pair size, so
//            the encoder may change the ratio from step to step (see sparsity_warmup.h).
//
// Error feedback (Seide et al. 2014; Lin et al. 2018): the caller keeps one float residual per
// element of each tensor (zero-initialised, checkpointable like any other state) and passes it
// to Encode, which encodes v = grad + residual (in float) and leaves residual = v - Decode(bytes)
// (in float). Over steps, the decoded gradients sum to the true gradients minus the final
// residual. decoded + residual == v bit for bit for kNone, kTopK (sent elements leave 0, the
// rest keep v), kInt8 (q is rounded in double, so d/2 <= |v| <= 2d and v - d is exact by
// Sterbenz' lemma) and kFp16 up to |v| = 131008; for kOneBit (and saturated fp16 beyond that)
// v - d can round when |v| is far from d, which is then the only loss. kNone and kFp16 send
// non-finite values of v as they are and leave a residual of 0 for them; kInt8, kOneBit and kTopK
// refuse them (InvalidArgument) because their scales must be finite.
//
// Thread-safety: every function is pure; concurrent calls on distinct output buffers are safe.
// Errors: options and caller buffers that do not fit give InvalidArgument; encoded bytes that
// do not fit the codec and n (they come from the network) give DataLoss naming what is wrong.
// No function reads outside the spans it is given.
#ifndef RINGTRAIN_COMPRESS_CODEC_H_
#define RINGTRAIN_COMPRESS_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ringtrain/common/status.h"

namespace ringtrain::compress {

// The enumerators run from 0 without gaps (ParseCodecName walks them); append new ones.
enum class CodecType { kNone, kFp16, kInt8, kOneBit, kTopK };

// Largest tensor a codec handles, in elements (topk indices are uint32; matches the transport's
// kMaxPartitionElements).
inline constexpr size_t kMaxElements = size_t{1} << 32;
// Largest block of kInt8 and kOneBit, in elements.
inline constexpr int kMaxBlock = 1 << 20;
// Largest kInt8 scale: the largest float s with 127 * s finite (just below FLT_MAX / 127).
inline constexpr float kInt8MaxScale = 0x1.020406p+121f;

struct CodecOptions {
  CodecType type = CodecType::kNone;
  double ratio = 0.01;  // kTopK: fraction of the elements sent, in (0, 1]
  int block = 256;      // kInt8, kOneBit: elements per scale, in [1, kMaxBlock]
};

// What a decoder needs to know of a codec, as the wire carries it (Header.codec and
// Header.codec_block): the type, and the block of kInt8 and kOneBit. The top-k ratio is the
// encoder's choice and is not needed to decode (k is the payload size / pair size).
struct CodecSpec {
  CodecType type = CodecType::kNone;
  int block = 0;  // kInt8, kOneBit: elements per scale, in [1, kMaxBlock]; 0 for the others

  friend bool operator==(const CodecSpec&, const CodecSpec&) = default;
};

// The spec of what Encode(options, ...) produces: {type, block for kInt8 and kOneBit, else 0}.
CodecSpec SpecOf(const CodecOptions& options);

// Returns "none", "fp16", "int8", "onebit" or "topk" ("unknown" for a value outside the enum).
const char* CodecName(CodecType type);

// The inverse of CodecName, or InvalidArgument("unknown codec \"x\" (expected one of ...)").
StatusOr<CodecType> ParseCodecName(std::string_view name);

// OK, or InvalidArgument naming the field: "ratio: must be in (0, 1] (got 0)". Fields that the
// codec does not use are not checked.
Status ValidateOptions(const CodecOptions& options);

// k = ceil(ratio * n), clamped to [min(1, n), n]; a product within 1e-9 (relative) above an
// integer counts as that integer, so TopKCount(0.07, 100) == 7 although 0.07 * 100 > 7 in
// double.
// REQUIRES: ratio in (0, 1], n <= kMaxElements.
size_t TopKCount(double ratio, size_t n);

// Bytes of one kTopK pair for n elements: 6 (uint16 index) when n <= 65536, else 8.
size_t TopKPairBytes(size_t n);

// The size of Encode's output for n elements; exact for every codec (for kTopK,
// TopKPairBytes(n) * TopKCount).
// REQUIRES: ValidateOptions(options).ok(), n <= kMaxElements.
size_t EncodedSize(const CodecOptions& options, size_t n);

// Encodes grad (n = grad.size()) into *out, which is resized to EncodedSize(options, n) (its
// capacity is reused). With a non-empty residual, encodes grad + residual and updates residual
// as described above; with an empty one, encodes grad and keeps no error.
// kTopK allocates 4n bytes of scratch; the other codecs allocate nothing beyond *out.
// Errors: InvalidArgument for invalid options, n > kMaxElements, a residual whose size is
// neither 0 nor n, or (kInt8, kOneBit, kTopK) a non-finite grad[i] (+ residual[i]), naming i.
// On error neither *out nor residual is modified.
// REQUIRES: out != nullptr; residual does not overlap grad.
Status Encode(const CodecOptions& options, std::span<const float> grad, std::span<float> residual,
              std::vector<uint8_t>* out);

// Encode into a caller-owned buffer (e.g. one slice of a buffer holding several tensors'
// encodings), which must have exactly EncodedSize(options, grad.size()) bytes. Errors as
// Encode, and InvalidArgument for an out of another size; on error neither out nor residual
// is modified.
// REQUIRES: residual and out overlap neither grad nor each other.
Status EncodeInto(const CodecOptions& options, std::span<const float> grad,
                  std::span<float> residual, std::span<uint8_t> out);

// The checks of bytes that come from the network (ValidatePayload in validated_payload.h,
// which the functions below call): the size the codec implies for n (kTopK: a whole number of
// pairs, at most n); for kInt8 scales in [0, kInt8MaxScale] and no q of -128; for kOneBit
// finite non-negative scales and zero padding bits; for kTopK indices < n and strictly
// increasing, and finite values. So kInt8, kOneBit and kTopK bytes that pass decode to finite
// values. kNone and kFp16 accept any bit pattern of the right size (NaN included).
// Errors: InvalidArgument for invalid options or n > kMaxElements; DataLoss otherwise, e.g.
// "topk: pair 3 has index 7, not above the previous index 9".
Status ValidateEncoded(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n);

// Validates bytes as ValidateEncoded(options, bytes, out.size()) does, once, then decodes them
// into out. kTopK writes zeros to the elements it does not carry. On error out is not modified.
// (Receivers that validate a payload before they decide to decode it use ValidatePayload and
// the Decode overload of validated_payload.h, which checks nothing again.)
Status Decode(const CodecOptions& options, std::span<const uint8_t> bytes, std::span<float> out);

// Validates bytes as ValidateEncoded(options, bytes, accumulate.size()) does, once, then
// accumulate[i] += weight * decoded[i] for every i (n = accumulate.size()), without a dense
// temporary: kTopK scatter-adds its k pairs, the others fuse decoding into the loop. The result
// equals Decode followed by that loop, element for element. On error accumulate is not
// modified.
Status DecodeAdd(const CodecOptions& options, std::span<const uint8_t> bytes,
                 std::span<float> accumulate, float weight);

}  // namespace ringtrain::compress

#endif  // RINGTRAIN_COMPRESS_CODEC_H_

#include "ringtrain/compress/codec.h"

#include <cmath>
#include <sstream>
#include <string>

#include "bytes.h"
#include "codec_impl.h"
#include "ringtrain/common/check.h"
#include "ringtrain/compress/validated_payload.h"

namespace ringtrain::compress {
namespace {

// True for the last codec type. A switch, so that -Wswitch names a new enumerator here and
// ParseCodecName, which walks the enumerators from 0 (they have no gaps) up to this one,
// knows it.
constexpr bool IsLastType(CodecType type) {
  switch (type) {
    case CodecType::kNone:
    case CodecType::kFp16:
    case CodecType::kInt8:
    case CodecType::kOneBit:
      return false;
    case CodecType::kTopK:
      return true;
  }
  return true;
}
}  // namespace

namespace internal {

const CodecImpl& ImplFor(CodecType type) {
  switch (type) {
    case CodecType::kNone:
      return kNoneImpl;
    case CodecType::kFp16:
      return kFp16Impl;
    case CodecType::kInt8:
      return kInt8Impl;
    case CodecType::kOneBit:
      return kOneBitImpl;
    case CodecType::kTopK:
      return kTopKImpl;
  }
  RT_CHECK(false && "unreachable: codec type validated");
  return kNoneImpl;
}

Status CheckElements(size_t n) {
  if (n > kMaxElements) {
    return InvalidArgument("tensor of " + std::to_string(n) + " elements exceeds the limit of " +
                           std::to_string(kMaxElements));
  }
  return Status::Ok();
}

std::string FloatString(double v) {
  std::ostringstream out;
  out.precision(9);
  out << v;
  return out.str();
}

Status SizeMismatch(const char* codec, size_t bytes, size_t n, size_t expected,
                    const std::string& layout) {
  return DataLoss(std::string(codec) + ": " + std::to_string(bytes) + " bytes for " +
                  std::to_string(n) + " elements; expected " + std::to_string(expected) + " (" +
                  layout + ")");
}

Status CheckScales(const char* codec, std::span<const uint8_t> bytes, size_t nb, float max_scale) {
  RT_CHECK(bytes.size() >= nb * 4);
  for (size_t b = 0; b < nb; ++b) {
    const float s = LoadF32(bytes.data() + 4 * b);
    if (!std::isfinite(s)) {
      return DataLoss(std::string(codec) + ": scale of block " + std::to_string(b) +
                      " is not finite (" + FloatString(s) + ")");
    }
    if (s < 0.0f) {
      return DataLoss(std::string(codec) + ": scale of block " + std::to_string(b) +
                      " is negative (" + FloatString(s) + ")");
    }
    if (s > max_scale) {
      return DataLoss(std::string(codec) + ": scale of block " + std::to_string(b) +
                      " is too large (" + FloatString(s) + " > " + FloatString(max_scale) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace internal

const char* CodecName(CodecType type) {
  switch (type) {
    case CodecType::kNone:
      return "none";
    case CodecType::kFp16:
      return "fp16";
    case CodecType::kInt8:
      return "int8";
    case CodecType::kOneBit:
      return "onebit";
    case CodecType::kTopK:
      return "topk";
  }
  return "unknown";
}

StatusOr<CodecType> ParseCodecName(std::string_view name) {
  std::string expected;
  for (int i = 0;; ++i) {
    const auto t = static_cast<CodecType>(i);
    if (name == CodecName(t)) return t;
    expected += expected.empty() ? "" : ", ";
    expected += CodecName(t);
    if (IsLastType(t)) break;
  }
  return InvalidArgument("unknown codec \"" + std::string(name) + "\" (expected one of " +
                         expected + ")");
}

Status ValidateOptions(const CodecOptions& options) {
  switch (options.type) {
    case CodecType::kNone:
    case CodecType::kFp16:
      return Status::Ok();
    case CodecType::kInt8:
    case CodecType::kOneBit:
      if (options.block < 1 || options.block > kMaxBlock) {
        return InvalidArgument("block: must be in [1, " + std::to_string(kMaxBlock) + "] (got " +
                               std::to_string(options.block) + ")");
      }
      return Status::Ok();
    case CodecType::kTopK:
      // Written so that NaN fails it.
      if (!(options.ratio > 0.0 && options.ratio <= 1.0)) {
        return InvalidArgument("ratio: must be in (0, 1] (got " +
                               internal::FloatString(options.ratio) + ")");
      }
      return Status::Ok();
  }
  return InvalidArgument("type: unknown codec type (got " +
                         std::to_string(static_cast<int>(options.type)) + ")");
}

size_t TopKPairBytes(size_t n) { return n <= 65536 ? 6 : 8; }

size_t TopKCount(double ratio, size_t n) {
  RT_CHECK(ratio > 0.0 && ratio <= 1.0);
  RT_CHECK(n <= kMaxElements);
  if (n == 0) return 0;
  const double x = ratio * static_cast<double>(n);
  // The tolerance absorbs the representation error of ratio (0.07 is slightly above 7/100).
  const double k = std::ceil(x - x * 1e-9);
  if (k < 1.0) return 1;
  if (k >= static_cast<double>(n)) return n;
  return static_cast<size_t>(k);
}

size_t EncodedSize(const CodecOptions& options, size_t n) {
  RT_CHECK(ValidateOptions(options).ok());
  RT_CHECK(n <= kMaxElements);
  return internal::ImplFor(options.type).size(options, n);
}

CodecSpec SpecOf(const CodecOptions& options) {
  switch (options.type) {
    case CodecType::kNone:
    case CodecType::kFp16:
    case CodecType::kTopK:
      return {options.type, 0};
    case CodecType::kInt8:
    case CodecType::kOneBit:
      return {options.type, options.block};
  }
  return {options.type, 0};  // not an enumerator: ValidateOptions refuses it
}

namespace {

// The checks Encode and EncodeInto share; neither output is touched.
Status CheckEncode(const CodecOptions& options, std::span<const float> grad,
                   std::span<const float> residual) {
  RT_RETURN_IF_ERROR(ValidateOptions(options));
  const size_t n = grad.size();
  RT_RETURN_IF_ERROR(internal::CheckElements(n));
  const bool feedback = !residual.empty();
  if (feedback && residual.size() != n) {
    return InvalidArgument("residual: has " + std::to_string(residual.size()) +
                           " elements; expected 0 (no error feedback) or " + std::to_string(n));
  }
  if (internal::ImplFor(options.type).finite_only) {
    for (size_t i = 0; i < n; ++i) {
      const float v = feedback ? grad[i] + residual[i] : grad[i];
      if (!std::isfinite(v)) {
        return InvalidArgument(std::string(CodecName(options.type)) + ": element " +
                               std::to_string(i) + " of the gradient" +
                               (feedback ? " plus residual" : "") + " is not finite (" +
                               internal::FloatString(v) + "); the codec needs finite values");
      }
    }
  }
  return Status::Ok();
}

// Encodes after CheckEncode passed; out has exactly the encoded size.
void EncodeChecked(const CodecOptions& options, std::span<const float> grad,
                   std::span<float> residual, std::span<uint8_t> out) {
  const internal::CodecImpl& impl = internal::ImplFor(options.type);
  if (residual.empty()) {
    impl.encode(options, grad, out.data());
    return;
  }
  // The residual buffer holds v = grad + residual while encoding, then v - decoded: adding the
  // decoded values with weight -1 is exactly the float subtraction v - d.
  bool non_finite = false;
  for (size_t i = 0; i < grad.size(); ++i) {
    residual[i] += grad[i];
    non_finite |= !std::isfinite(residual[i]);
  }
  impl.encode(options, residual, out.data());
  impl.decode_add(options, out, residual, -1.0f);
  if (non_finite) {  // only kNone and kFp16 get here: a sent inf or NaN leaves no error
    for (float& r : residual) {
      if (!std::isfinite(r)) r = 0.0f;
    }
  }
}

}  // namespace

Status Encode(const CodecOptions& options, std::span<const float> grad, std::span<float> residual,
              std::vector<uint8_t>* out) {
  RT_CHECK(out != nullptr);
  RT_RETURN_IF_ERROR(CheckEncode(options, grad, residual));
  out->resize(internal::ImplFor(options.type).size(options, grad.size()));
  EncodeChecked(options, grad, residual, *out);
  return Status::Ok();
}

Status EncodeInto(const CodecOptions& options, std::span<const float> grad,
                  std::span<float> residual, std::span<uint8_t> out) {
  RT_RETURN_IF_ERROR(CheckEncode(options, grad, residual));
  const size_t size = internal::ImplFor(options.type).size(options, grad.size());
  if (out.size() != size) {
    return InvalidArgument("out: has " + std::to_string(out.size()) + " bytes; the " +
                           CodecName(options.type) + " encoding of " + std::to_string(grad.size()) +
                           " elements takes " + std::to_string(size));
  }
  EncodeChecked(options, grad, residual, out);
  return Status::Ok();
}

Status ValidateEncoded(const CodecOptions& options, std::span<const uint8_t> bytes, size_t n) {
  RT_RETURN_IF_ERROR(ValidateOptions(options));
  return ValidatePayload(SpecOf(options), bytes, n).status();
}

Status Decode(const CodecOptions& options, std::span<const uint8_t> bytes, std::span<float> out) {
  RT_RETURN_IF_ERROR(ValidateOptions(options));
  RT_ASSIGN_OR_RETURN(const ValidatedPayload payload,
                      ValidatePayload(SpecOf(options), bytes, out.size()));
  Decode(payload, out);
  return Status::Ok();
}

Status DecodeAdd(const CodecOptions& options, std::span<const uint8_t> bytes,
                 std::span<float> accumulate, float weight) {
  RT_RETURN_IF_ERROR(ValidateOptions(options));
  RT_ASSIGN_OR_RETURN(const ValidatedPayload payload,
                      ValidatePayload(SpecOf(options), bytes, accumulate.size()));
  DecodeAdd(payload, accumulate, weight);
  return Status::Ok();
}

}  // namespace ringtrain::compress

#include "ringtrain/compress/validated_payload.h"

#include <string>

#include "codec_impl.h"
#include "ringtrain/common/check.h"

namespace ringtrain::compress {
namespace {

Status CheckSpec(const CodecSpec& spec) {
  switch (spec.type) {
    case CodecType::kNone:
    case CodecType::kFp16:
    case CodecType::kTopK:
      return Status::Ok();
    case CodecType::kInt8:
    case CodecType::kOneBit:
      if (spec.block < 1 || spec.block > kMaxBlock) {
        return InvalidArgument("block: must be in [1, " + std::to_string(kMaxBlock) + "] (got " +
                               std::to_string(spec.block) + ")");
      }
      return Status::Ok();
  }
  return InvalidArgument("type: unknown codec type (got " +
                         std::to_string(static_cast<int>(spec.type)) + ")");
}

// The options the codec tables take; decoding reads only the type and the block (the ratio is
// the encoder's).
CodecOptions ImplOptions(const CodecSpec& spec) { return {spec.type, 1.0, spec.block}; }

}  // namespace

StatusOr<ValidatedPayload> ValidatePayload(const CodecSpec& spec, std::span<const uint8_t> bytes,
                                           size_t n) {
  RT_RETURN_IF_ERROR(CheckSpec(spec));
  RT_RETURN_IF_ERROR(internal::CheckElements(n));
  RT_RETURN_IF_ERROR(internal::ImplFor(spec.type).validate(ImplOptions(spec), bytes, n));
  return ValidatedPayload(spec, bytes, n);
}

void Decode(const ValidatedPayload& payload, std::span<float> out) {
  RT_CHECK(out.size() == payload.num_elements());
  const CodecSpec& spec = payload.spec();
  internal::ImplFor(spec.type).decode(ImplOptions(spec), payload.bytes(), out);
}

void DecodeAdd(const ValidatedPayload& payload, std::span<float> accumulate, float weight) {
  RT_CHECK(accumulate.size() == payload.num_elements());
  const CodecSpec& spec = payload.spec();
  internal::ImplFor(spec.type).decode_add(ImplOptions(spec), payload.bytes(), accumulate, weight);
}

}  // namespace ringtrain::compress

// ValidatedPayload: encoded bytes that have passed the codec's checks, so decoding them checks
// nothing again.
//
// A receiver validates each payload it may decode exactly once, with ValidatePayload, and
// hands the result to Decode or DecodeAdd below. Only ValidatePayload creates a
// ValidatedPayload, so holding one proves the bytes it views are a well-formed encoding of
// num_elements() elements under spec() (every check listed at ValidateEncoded in codec.h:
// sizes, scales, padding bits, top-k indices in range and increasing, finite values). The
// checks that only the bytes can answer live here and nowhere else; the transport checks what
// the header alone can answer (frame counts and sizes) before that.
//
// A ValidatedPayload is a view: it neither owns nor copies the bytes, and stays valid while
// they are alive and unmodified (for a received message, while its frames are; libzmq may keep
// very small frames inside the message object itself, so views must not outlive a move of the
// frames either).
//
// Thread-safety: a value; the functions are pure (concurrent calls on distinct outputs are
// safe).
#ifndef RINGTRAIN_COMPRESS_VALIDATED_PAYLOAD_H_
#define RINGTRAIN_COMPRESS_VALIDATED_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "ringtrain/common/status.h"
#include "ringtrain/compress/codec.h"

namespace ringtrain::compress {

class ValidatedPayload;

// Checks that bytes are a well-formed encoding of n elements under spec (the checks of
// ValidateEncoded in codec.h) and returns a view of them that Decode and DecodeAdd accept.
// Errors: InvalidArgument for a spec that names no codec or a block outside [1, kMaxBlock] (for
// kInt8 and kOneBit), or n > kMaxElements; DataLoss naming the first problem in the bytes.
StatusOr<ValidatedPayload> ValidatePayload(const CodecSpec& spec, std::span<const uint8_t> bytes,
                                           size_t n);

class ValidatedPayload {
 public:
  const CodecSpec& spec() const { return spec_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  size_t num_elements() const { return n_; }

 private:
  friend StatusOr<ValidatedPayload> ValidatePayload(const CodecSpec& spec,
                                                    std::span<const uint8_t> bytes, size_t n);
  ValidatedPayload(const CodecSpec& spec, std::span<const uint8_t> bytes, size_t n)
      : spec_(spec), bytes_(bytes), n_(n) {}

  CodecSpec spec_;
  std::span<const uint8_t> bytes_;
  size_t n_;
};

// Decodes the payload into out. kTopK writes zeros to the elements it does not carry.
// REQUIRES: out.size() == payload.num_elements() (aborts otherwise: a caller's bug, not bad
// input).
void Decode(const ValidatedPayload& payload, std::span<float> out);

// accumulate[i] += weight * decoded[i] for every i, without a dense temporary (as DecodeAdd
// in codec.h, whose result it equals element for element).
// REQUIRES: accumulate.size() == payload.num_elements() (aborts otherwise).
void DecodeAdd(const ValidatedPayload& payload, std::span<float> accumulate, float weight);

}  // namespace ringtrain::compress

#endif  // RINGTRAIN_COMPRESS_VALIDATED_PAYLOAD_H_

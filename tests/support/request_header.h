// The header of a request as a worker sends it to a parameter server, for tests that drive a
// ServerCore directly: the caller adds what the kind carries (partitions, sparse slices).
#ifndef RINGTRAIN_TESTS_SUPPORT_REQUEST_HEADER_H_
#define RINGTRAIN_TESTS_SUPPORT_REQUEST_HEADER_H_

#include <cstdint>
#include <string>

#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::testing {

// Wire version 1, `kind`, `job`, sender `worker`, `request_id`, `clock` and the layout's
// `fingerprint`.
inline proto::Header RequestHeader(proto::MessageKind kind, const std::string& job, uint32_t worker,
                                   uint64_t request_id, int64_t clock, uint64_t fingerprint) {
  proto::Header h;
  h.set_wire_version(proto::WIRE_VERSION_1);
  h.set_kind(kind);
  h.set_job(job);
  h.set_sender(worker);
  h.set_request_id(request_id);
  h.set_clock(clock);
  h.set_layout_fingerprint(fingerprint);
  return h;
}

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_REQUEST_HEADER_H_

// Test support for direct links (transport/stream_link.h): waiting for the next message on a
// link, or for its peer to close it, as a test playing the other end does.
//
// Thread-safety: as StreamLink (one thread owns a link).
#ifndef RINGTRAIN_TESTS_SUPPORT_LINK_MESSAGES_H_
#define RINGTRAIN_TESTS_SUPPORT_LINK_MESSAGES_H_

#include <chrono>
#include <optional>

#include "ringtrain/transport/message.h"
#include "ringtrain/transport/stream_link.h"

namespace ringtrain::testing {

// The next message on `link`, decoded, within `wait`; nullopt when none came, the link failed,
// or the message did not decode.
std::optional<transport::Message> NextMessageOn(transport::StreamLink& link,
                                                std::chrono::milliseconds wait);

// True once `link` sees its peer close it (within `wait`); what comes before is read and
// dropped.
bool ClosedByPeer(transport::StreamLink& link, std::chrono::milliseconds wait);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_LINK_MESSAGES_H_

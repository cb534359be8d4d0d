// CURVE on a ZeroMQ socket: the options of a server and of a client, and who sent a message.
//
// A process holds its Credentials: its identity, its key pair and the job's public keys. Its
// listening sockets are CURVE servers with its key pair; libzmq asks the process's ZAP handler
// (zap_handler.h) about every client that completes the handshake, and the handler admits only
// the job's keys, naming the key's identity as the connection's User-Id. Its connecting
// sockets are CURVE clients that know the server's public key from the job's keys, so they
// talk only to the server they meant (a man in the middle cannot complete the handshake).
// Everything after the handshake is encrypted and authenticated per message (libsodium's
// crypto_box).
//
// Apply* must be called before the socket binds or connects. Errors: Internal when libzmq
// refuses an option (e.g. a libzmq built without CURVE), NotFound when the job's keys have no
// key for the server a client connects to.
//
// Thread-safety: free functions over one socket, used by its owning thread.
#ifndef RINGTRAIN_AUTH_CURVE_H_
#define RINGTRAIN_AUTH_CURVE_H_

#include <optional>
#include <string_view>

#include <zmq.hpp>

#include "ringtrain/auth/key_set.h"
#include "ringtrain/auth/keys.h"
#include "ringtrain/common/status.h"

namespace ringtrain::auth {

// The ZAP domain every ringtrain CURVE server announces.
inline constexpr char kZapDomain[] = "ringtrain";

struct Credentials {
  Identity self;
  KeyPair pair;
  KeySet keys;  // the job's public keys, self's included
};

// True when this libzmq supports CURVE (zmq_has("curve")).
bool CurveAvailable();

// Makes `socket` a CURVE server with `credentials.pair`.
[[nodiscard]] Status ApplyServer(zmq::socket_t& socket, const Credentials& credentials);

// Makes `socket` a CURVE client with `credentials.pair`, of `server`'s key in the job's keys.
[[nodiscard]] Status ApplyClient(zmq::socket_t& socket, const Credentials& credentials,
                                 const Identity& server);

// Makes `socket` a CURVE client with `own`, of the server whose public key is `server_key`
// (a supervisor that holds one job's keys at a time, as the operator does).
[[nodiscard]] Status ApplyClient(zmq::socket_t& socket, const KeyPair& own,
                                 std::string_view server_key);

// The identity the ZAP handler gave the connection `frame` arrived on, or nullopt when the
// connection was not authenticated (plaintext) or the frame was not received from a socket.
std::optional<Identity> SenderOf(const zmq::message_t& frame);

}  // namespace ringtrain::auth

#endif  // RINGTRAIN_AUTH_CURVE_H_

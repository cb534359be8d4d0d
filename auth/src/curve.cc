#include "ringtrain/auth/curve.h"

#include <string>

namespace ringtrain::auth {

bool CurveAvailable() { return zmq_has("curve") != 0; }

Status ApplyServer(zmq::socket_t& socket, const Credentials& credentials) {
  if (!CurveAvailable()) return Internal("this libzmq was built without CURVE");
  try {
    socket.set(zmq::sockopt::zap_domain, kZapDomain);
    socket.set(zmq::sockopt::curve_server, true);
    socket.set(zmq::sockopt::curve_secretkey, credentials.pair.secret_key);
  } catch (const zmq::error_t& e) {
    return Internal(std::string("making a CURVE server socket: ") + e.what());
  }
  return Status::Ok();
}

Status ApplyClient(zmq::socket_t& socket, const Credentials& credentials, const Identity& server) {
  const std::optional<std::string> server_key = credentials.keys.KeyOf(server);
  if (!server_key) return NotFound("the job's keys have no key for " + Name(server));
  return ApplyClient(socket, credentials.pair, *server_key);
}

Status ApplyClient(zmq::socket_t& socket, const KeyPair& own, std::string_view server_key) {
  if (!CurveAvailable()) return Internal("this libzmq was built without CURVE");
  RT_RETURN_IF_ERROR(CheckKeyText(server_key, "the server's public key"));
  try {
    socket.set(zmq::sockopt::curve_serverkey, server_key);
    socket.set(zmq::sockopt::curve_publickey, own.public_key);
    socket.set(zmq::sockopt::curve_secretkey, own.secret_key);
  } catch (const zmq::error_t& e) {
    return Internal(std::string("making a CURVE client socket: ") + e.what());
  }
  return Status::Ok();
}

std::optional<Identity> SenderOf(const zmq::message_t& frame) {
  // zmq_msg_gets takes a non-const message but does not change it.
  const char* user = zmq_msg_gets(const_cast<zmq_msg_t*>(frame.handle()), "User-Id");
  if (user == nullptr || *user == '\0') return std::nullopt;
  StatusOr<Identity> id = ParseIdentity(user);
  if (!id.ok()) return std::nullopt;
  return *id;
}

}  // namespace ringtrain::auth

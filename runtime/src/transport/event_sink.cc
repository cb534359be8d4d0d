#include "ringtrain/transport/event_sink.h"

#include <utility>

namespace ringtrain::transport {

StatusOr<std::unique_ptr<ZmqEventSink>> ZmqEventSink::Connect(
    zmq::context_t& context, const std::string& endpoint, const auth::Credentials* credentials) {
  try {
    zmq::socket_t s(context, zmq::socket_type::push);
    s.set(zmq::sockopt::linger, 1000);
    s.set(zmq::sockopt::sndhwm, 10000);
    if (credentials != nullptr) {
      RT_RETURN_IF_ERROR(auth::ApplyClient(s, *credentials, auth::Identity::Supervisor()));
    }
    s.connect(endpoint);
    return std::unique_ptr<ZmqEventSink>(new ZmqEventSink(std::move(s)));
  } catch (const zmq::error_t& e) {
    return InvalidArgument("cannot connect to control endpoint " + endpoint + ": " + e.what());
  }
}

void ZmqEventSink::Send(const proto::Event& event) {
  std::string bytes = event.SerializeAsString();
  try {
    // Dropped when the queue is full or no peer is connected: progress is best effort.
    (void)socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

StatusOr<std::unique_ptr<EventSink>> MakeEventSink(zmq::context_t& context,
                                                   const std::string& endpoint,
                                                   const auth::Credentials* credentials) {
  if (endpoint.empty()) return std::unique_ptr<EventSink>(new NullEventSink());
  RT_ASSIGN_OR_RETURN(std::unique_ptr<ZmqEventSink> sink,
                      ZmqEventSink::Connect(context, endpoint, credentials));
  return std::unique_ptr<EventSink>(std::move(sink));
}

}  // namespace ringtrain::transport

// EventSink: where a PS or worker reports readiness, progress and its end (proto::Event).
//
// Locally the launcher binds a PULL socket and every process pushes events to it; without a
// control endpoint (e.g. a pod whose progress is read another way) events go nowhere.
// Reporting is best effort: it never blocks training, and an event that cannot be queued is
// dropped.
//
// Thread-safety: not thread-safe; one thread owns a sink.
#ifndef RINGTRAIN_TRANSPORT_EVENT_SINK_H_
#define RINGTRAIN_TRANSPORT_EVENT_SINK_H_

#include <memory>
#include <string>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/common/status.h"
#include "ringtrain/proto/ringtrain.pb.h"

namespace ringtrain::transport {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Queues the event for delivery; never blocks.
  virtual void Send(const proto::Event& event) = 0;
};

// Discards every event.
class NullEventSink final : public EventSink {
 public:
  void Send(const proto::Event&) override {}
};

// Pushes events to a ZeroMQ PULL socket at `endpoint`. Events queued at close are flushed for
// up to one second. With `credentials`, the connection is a CURVE client of the supervisor's
// key (the launcher's control socket admits only the job's keys and knows from the key which
// process sent an event); null: plaintext.
class ZmqEventSink final : public EventSink {
 public:
  static StatusOr<std::unique_ptr<ZmqEventSink>> Connect(
      zmq::context_t& context, const std::string& endpoint,
      const auth::Credentials* credentials = nullptr);
  void Send(const proto::Event& event) override;

 private:
  explicit ZmqEventSink(zmq::socket_t socket) : socket_(std::move(socket)) {}
  zmq::socket_t socket_;
};

// A ZmqEventSink when `endpoint` is non-empty, else a NullEventSink.
StatusOr<std::unique_ptr<EventSink>> MakeEventSink(zmq::context_t& context,
                                                   const std::string& endpoint,
                                                   const auth::Credentials* credentials = nullptr);

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_EVENT_SINK_H_

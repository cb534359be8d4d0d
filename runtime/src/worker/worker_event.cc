#include "ringtrain/worker/worker_event.h"

#include <algorithm>

namespace ringtrain::worker {

proto::Event WorkerEvent(proto::EventType type, const WorkerStanding& s, const PsClient& client) {
  proto::Event e;
  e.set_type(type);
  e.set_role("worker");
  e.set_index(static_cast<uint32_t>(s.rank));
  e.set_step(s.step);
  e.set_start_step(s.start_step);
  e.set_total_steps(std::max(s.total_steps, s.step));
  e.set_epoch(s.epoch);
  e.set_loss(s.loss);
  e.set_samples(s.samples);
  e.set_learning_rate(s.learning_rate);
  e.set_bytes_pushed(client.bytes_pushed());
  e.set_bytes_pushed_dense(client.bytes_pushed_dense());
  e.set_bytes_pulled(client.bytes_pulled());
  e.set_bytes_pulled_shared(client.bytes_pulled_shared());
  e.set_bytes_pushed_shared(client.bytes_pushed_shared());
  e.set_bytes_pushed_chunked(client.bytes_pushed_chunked());
  return e;
}

}  // namespace ringtrain::worker

#include "events.h"

namespace ringtrain::testing {

proto::Event WorkerEvent(proto::EventType type, uint32_t index, int64_t step, int64_t total_steps,
                         int epoch) {
  proto::Event e;
  e.set_type(type);
  e.set_role("worker");
  e.set_index(index);
  e.set_step(step);
  e.set_total_steps(total_steps);
  e.set_epoch(epoch);
  return e;
}

proto::Event WorkerProgress(uint32_t index, int64_t step, int64_t total_steps, int epoch) {
  return WorkerEvent(proto::PROGRESS, index, step, total_steps, epoch);
}

proto::Event ServerReady(uint32_t index, const std::string& endpoint) {
  proto::Event e;
  e.set_type(proto::READY);
  e.set_role("ps");
  e.set_index(index);
  e.set_endpoint(endpoint);
  return e;
}

proto::Event ServerFinished(uint32_t index, uint32_t workers_done) {
  proto::Event e;
  e.set_type(proto::FINISHED);
  e.set_role("ps");
  e.set_index(index);
  e.mutable_server_stats()->set_workers_done(workers_done);
  return e;
}

proto::Event ServerCheckpoint(uint32_t index, int64_t step, const std::string& location,
                              bool final) {
  proto::Event e;
  e.set_type(proto::CHECKPOINT);
  e.set_role("ps");
  e.set_index(index);
  e.mutable_checkpoint()->set_step(step);
  e.mutable_checkpoint()->set_unix_ms(1764806400000);  // 2025-12-04T00:00:00Z
  e.mutable_checkpoint()->set_location(location);
  e.mutable_checkpoint()->set_final(final);
  return e;
}

proto::Event Failed(const std::string& role, uint32_t index, const std::string& message) {
  proto::Event e;
  e.set_type(proto::FAILED);
  e.set_role(role);
  e.set_index(index);
  e.set_message(message);
  return e;
}

}  // namespace ringtrain::testing

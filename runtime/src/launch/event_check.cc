#include "ringtrain/launch/event_check.h"

#include <string>

namespace ringtrain::launch {

namespace {

bool FromServer(proto::EventType type) {
  return type == proto::READY || type == proto::CHECKPOINT || type == proto::FINISHED ||
         type == proto::FAILED || type == proto::PROGRESS;
}

bool FromWorker(proto::EventType type) {
  return type == proto::PROGRESS || type == proto::EVAL || type == proto::FINISHED ||
         type == proto::FAILED;
}

}  // namespace

Status CheckEvent(const proto::Event& e, const EventBounds& b) {
  // proto3 enums are open: a number the schema does not name parses as itself.
  if (!proto::EventType_IsValid(e.type()) || e.type() == proto::EVENT_UNSPECIFIED) {
    return InvalidArgument("unknown event type " + std::to_string(e.type()));
  }
  const std::string what = proto::EventType_Name(e.type()) + " event";
  int replicas = 0;
  if (e.role() == "ps") {
    if (!FromServer(e.type())) return InvalidArgument(what + " from a parameter server");
    // A server's progress is its counters, nothing of a worker's.
    if (e.type() == proto::PROGRESS &&
        (!e.has_server_stats() || e.step() != 0 || e.total_steps() != 0 || e.samples() != 0)) {
      return InvalidArgument(what + " from a parameter server must carry its counters only");
    }
    replicas = b.num_ps;
  } else if (e.role() == "worker") {
    if (!FromWorker(e.type())) return InvalidArgument(what + " from a worker");
    replicas = b.num_workers;
  } else {
    return InvalidArgument(what + " from unknown role \"" + e.role().substr(0, 32) + "\"");
  }
  if (e.index() >= static_cast<uint32_t>(replicas)) {
    return InvalidArgument(what + " from " + e.role() + " " + std::to_string(e.index()) +
                           " of a job with " + std::to_string(replicas));
  }
  if (e.step() < 0 || e.step() > e.total_steps() || e.total_steps() > b.total_steps) {
    return InvalidArgument(what + ": step " + std::to_string(e.step()) + " of " +
                           std::to_string(e.total_steps()) + " in a job of " +
                           std::to_string(b.total_steps) + " steps per worker");
  }
  if (e.epoch() < 0 || e.epoch() > b.epochs) {
    return InvalidArgument(what + ": epoch " + std::to_string(e.epoch()) + " of " +
                           std::to_string(b.epochs));
  }
  if (e.samples_replayed() > e.samples()) {
    return InvalidArgument(what + ": " + std::to_string(e.samples_replayed()) +
                           " samples replayed of " + std::to_string(e.samples()));
  }
  // A worker's skipped records are lines of its share: fewer than 2^40 in any real data, and
  // summed over workers without overflowing.
  if (e.records_skipped() > (uint64_t{1} << 40) ||
      (e.records_skipped() != 0 && e.role() != "worker")) {
    return InvalidArgument(what + ": " + std::to_string(e.records_skipped()) +
                           " records skipped from " + e.role());
  }
  if (e.start_step() < 0 || e.start_step() > e.step()) {
    return InvalidArgument(what + ": started at step " + std::to_string(e.start_step()) +
                           ", now at step " + std::to_string(e.step()));
  }
  if (e.restored_step() < 0 || e.restored_step() > b.total_steps ||
      (e.restored_from().empty() && e.restored_step() != 0) || e.restored_from().size() > 4096) {
    return InvalidArgument(what + ": restored at step " + std::to_string(e.restored_step()) +
                           " of a job of " + std::to_string(b.total_steps) + " steps per worker");
  }
  if (e.type() == proto::READY && e.endpoint().empty()) {
    return InvalidArgument(what + " without an endpoint");
  }
  if (e.type() == proto::CHECKPOINT) {
    const proto::CheckpointInfo& c = e.checkpoint();
    if (!e.has_checkpoint() || c.location().empty() || c.location().size() > 4096) {
      return InvalidArgument(what + " without a location");
    }
    if (c.step() < 0 || c.step() > b.total_steps || c.unix_ms() < 0) {
      return InvalidArgument(what + ": step " + std::to_string(c.step()) + " in a job of " +
                             std::to_string(b.total_steps) + " steps per worker");
    }
  }
  if (e.role() == "ps" && e.has_server_stats() &&
      e.server_stats().workers_done() > static_cast<uint32_t>(b.num_workers)) {
    return InvalidArgument(what + ": " + std::to_string(e.server_stats().workers_done()) +
                           " workers done of " + std::to_string(b.num_workers));
  }
  if (!e.waiting_for().empty() && (e.role() != "ps" || e.type() != proto::PROGRESS)) {
    return InvalidArgument(what + " from a " + e.role() + " names workers it waits for");
  }
  if (e.waiting_for_size() > b.num_workers) {
    return InvalidArgument(what + ": waits for " + std::to_string(e.waiting_for_size()) +
                           " workers of " + std::to_string(b.num_workers));
  }
  for (const uint32_t w : e.waiting_for()) {
    if (w >= static_cast<uint32_t>(b.num_workers)) {
      return InvalidArgument(what + ": waits for worker " + std::to_string(w) + " of " +
                             std::to_string(b.num_workers));
    }
  }
  return Status::Ok();
}

}  // namespace ringtrain::launch

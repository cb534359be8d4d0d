#include "ringtrain/ps/replica_wire.h"

#include <cstring>
#include <string>
#include <utility>

#include "ringtrain/transport/message.h"

namespace ringtrain::ps {

namespace {

// A frame that owns `v`'s memory (freed when libzmq is done with it).
zmq::message_t OwnedFrame(std::vector<float> v) {
  if (v.empty()) return zmq::message_t();
  auto* held = new std::vector<float>(std::move(v));
  return zmq::message_t(
      held->data(), held->size() * sizeof(float),
      [](void*, void* hint) { delete static_cast<std::vector<float>*>(hint); }, held);
}

Status ReadFloats(const zmq::message_t& frame, uint64_t count, const std::string& what,
                  std::vector<float>* out) {
  if (count > transport::kMaxPartitionElements * 8) {
    return InvalidArgument(what + ": " + std::to_string(count) + " floats is beyond any partition");
  }
  if (frame.size() != count * sizeof(float)) {
    return InvalidArgument(what + ": the header says " + std::to_string(count) +
                           " floats, the frame has " + std::to_string(frame.size()) + " bytes");
  }
  out->resize(static_cast<size_t>(count));
  if (count > 0) std::memcpy(out->data(), frame.data(), frame.size());
  return Status::Ok();
}

}  // namespace

void EncodeShardState(ckpt::ShardState state, proto::ShardStateMeta* meta,
                      std::vector<zmq::message_t>* frames) {
  meta->Clear();
  for (ckpt::PartitionSnapshot& p : state.partitions) {
    proto::ShardStateMeta::Partition* m = meta->add_partitions();
    m->set_id(p.id);
    m->set_version(p.version);
    m->set_optimizer_steps(p.optimizer_steps);
    m->set_params(p.params.size());
    m->set_optimizer_state(p.optimizer_state.size());
    m->set_accum(p.accum.size());
    m->set_round_pushes(p.round_pushes);
    m->set_round_samples(p.round_samples);
    m->set_round_learning_rate(p.round_learning_rate);
    frames->push_back(OwnedFrame(std::move(p.params)));
    frames->push_back(OwnedFrame(std::move(p.optimizer_state)));
    frames->push_back(OwnedFrame(std::move(p.accum)));
  }
  for (const ckpt::WorkerClock& w : state.workers) {
    proto::ShardStateMeta::Worker* m = meta->add_workers();
    m->set_clock(w.clock);
    m->set_done(w.done);
    m->set_excluded(w.excluded);
  }
}

StatusOr<ckpt::ShardState> DecodeShardState(const proto::ShardStateMeta& meta,
                                            std::span<const zmq::message_t> frames) {
  const size_t n = static_cast<size_t>(meta.partitions_size());
  if (frames.size() != 3 * n) {
    return InvalidArgument("a shard of " + std::to_string(n) + " partitions needs " +
                           std::to_string(3 * n) + " frames, got " + std::to_string(frames.size()));
  }
  ckpt::ShardState state;
  state.partitions.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const proto::ShardStateMeta::Partition& m = meta.partitions(static_cast<int>(i));
    ckpt::PartitionSnapshot& p = state.partitions[i];
    const std::string what = "partition " + std::to_string(m.id());
    if (m.params() > transport::kMaxPartitionElements) {
      return InvalidArgument(what + ": " + std::to_string(m.params()) +
                             " parameters is beyond any partition");
    }
    p.id = m.id();
    p.version = m.version();
    p.optimizer_steps = m.optimizer_steps();
    p.round_pushes = m.round_pushes();
    p.round_samples = m.round_samples();
    p.round_learning_rate = m.round_learning_rate();
    RT_RETURN_IF_ERROR(ReadFloats(frames[3 * i], m.params(), what + " parameters", &p.params));
    RT_RETURN_IF_ERROR(ReadFloats(frames[3 * i + 1], m.optimizer_state(), what + " optimizer state",
                                  &p.optimizer_state));
    RT_RETURN_IF_ERROR(ReadFloats(frames[3 * i + 2], m.accum(), what + " accumulator", &p.accum));
  }
  state.workers.reserve(static_cast<size_t>(meta.workers_size()));
  for (const proto::ShardStateMeta::Worker& w : meta.workers()) {
    state.workers.push_back({w.clock(), w.done(), w.excluded()});
  }
  return state;
}

}  // namespace ringtrain::ps

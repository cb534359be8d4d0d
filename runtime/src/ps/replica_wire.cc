#include "ringtrain/ps/replica_wire.h"

#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "ringtrain/ring/sparse_placement.h"
#include "ringtrain/transport/message.h"
#include "ringtrain/transport/message_kind.h"

namespace ringtrain::ps {

namespace {

// A frame that owns `v`'s memory (freed when libzmq is done with it).
template <typename T>
zmq::message_t OwnedFrame(std::vector<T> v) {
  if (v.empty()) return zmq::message_t();
  auto* held = new std::vector<T>(std::move(v));
  return zmq::message_t(
      held->data(), held->size() * sizeof(T),
      [](void*, void* hint) { delete static_cast<std::vector<T>*>(hint); }, held);
}

template <typename T>
const char* UnitsOf() {
  if constexpr (std::is_same_v<T, float>) return " floats";
  if constexpr (sizeof(T) == 1) return " bytes";
  return sizeof(T) == 8 ? " 64-bit values" : " 32-bit values";
}

// Copies a frame of `count` values of T into *out, after checking its size is what the header
// says (the count is bounded first, so the product cannot overflow).
template <typename T>
Status ReadArray(const zmq::message_t& frame, uint64_t count, const std::string& what,
                 std::vector<T>* out) {
  if (count > transport::kMaxPartitionElements * 8) {
    return InvalidArgument(what + ": " + std::to_string(count) + " values is beyond any shard");
  }
  if (frame.size() != count * sizeof(T)) {
    return InvalidArgument(what + ": the header says " + std::to_string(count) + UnitsOf<T>() +
                           ", the frame has " + std::to_string(frame.size()) + " bytes");
  }
  out->resize(static_cast<size_t>(count));
  if (count > 0) std::memcpy(out->data(), frame.data(), frame.size());
  return Status::Ok();
}
Status ReadFloats(const zmq::message_t& frame, uint64_t count, const std::string& what,
                  std::vector<float>* out) {
  return ReadArray(frame, count, what, out);
}

// Frames per sparse table (transport::ShardStateFrames).
constexpr size_t kSparseTableFrames = 5;

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
    for (const uint32_t id : w.partial) m->add_partial(id);
  }
  if (!state.sparse.has_value()) return;
  ckpt::SparseState& sparse = *state.sparse;
  proto::ShardStateMeta::Sparse* m = meta->mutable_sparse();
  m->set_version(sparse.version);
  m->set_round_pushes(sparse.round_pushes);
  m->set_round_samples(sparse.round_samples);
  m->set_round_learning_rate(sparse.round_learning_rate);
  m->set_clock(sparse.clock);
  m->set_admission_bytes(sparse.admission.size());
  for (ckpt::SparseTableSnapshot& t : sparse.tables) {
    proto::ShardStateMeta::SparseTable* tm = m->add_tables();
    tm->set_dim(t.dim);
    tm->set_rows(t.keys.size());
    tm->set_row_floats(t.keys.empty() ? 0 : t.rows.size() / t.keys.size());
    tm->set_steps(!t.steps.empty());
    tm->set_round_keys(t.round_keys.size());
    frames->push_back(OwnedFrame(std::move(t.keys)));
    frames->push_back(OwnedFrame(std::move(t.rows)));
    frames->push_back(OwnedFrame(std::move(t.steps)));
    frames->push_back(OwnedFrame(std::move(t.round_keys)));
    frames->push_back(OwnedFrame(std::move(t.round_sums)));
  }
  frames->push_back(OwnedFrame(std::move(sparse.admission)));
}

StatusOr<ckpt::ShardState> DecodeShardState(const proto::ShardStateMeta& meta,
                                            std::span<const zmq::message_t> frames) {
  const size_t n = static_cast<size_t>(meta.partitions_size());
  const size_t expected = transport::ShardStateFrames(meta);
  if (frames.size() != expected) {
    return InvalidArgument(
        "a shard of " + std::to_string(n) + " partitions" +
        (meta.has_sparse()
             ? " and " + std::to_string(meta.sparse().tables_size()) + " sparse tables"
             : std::string()) +
        " needs " + std::to_string(expected) + " frames, got " + std::to_string(frames.size()));
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
    state.workers.push_back({w.clock(), w.done(), w.excluded(),
                             std::vector<uint32_t>(w.partial().begin(), w.partial().end())});
  }
  if (!meta.has_sparse()) return state;
  const proto::ShardStateMeta::Sparse& m = meta.sparse();
  ckpt::SparseState& sparse = state.sparse.emplace();
  sparse.version = m.version();
  sparse.round_pushes = m.round_pushes();
  sparse.round_samples = m.round_samples();
  sparse.round_learning_rate = m.round_learning_rate();
  sparse.clock = m.clock();
  sparse.tables.resize(static_cast<size_t>(m.tables_size()));
  size_t f = 3 * n;
  for (size_t i = 0; i < sparse.tables.size(); ++i) {
    const proto::ShardStateMeta::SparseTable& tm = m.tables(static_cast<int>(i));
    ckpt::SparseTableSnapshot& t = sparse.tables[i];
    const std::string what = "sparse table " + std::to_string(i);
    if (tm.dim() == 0 || tm.dim() > ring::kMaxSparseDim ||
        tm.row_floats() > uint64_t{17} * ring::kMaxSparseDim ||
        tm.rows() > transport::kMaxPartitionElements) {
      return InvalidArgument(what + ": dim " + std::to_string(tm.dim()) + ", " +
                             std::to_string(tm.rows()) + " rows of " +
                             std::to_string(tm.row_floats()) + " floats are beyond any table");
    }
    t.dim = tm.dim();
    RT_RETURN_IF_ERROR(ReadArray(frames[f], tm.rows(), what + " keys", &t.keys));
    RT_RETURN_IF_ERROR(
        ReadArray(frames[f + 1], tm.rows() * tm.row_floats(), what + " rows", &t.rows));
    RT_RETURN_IF_ERROR(
        ReadArray(frames[f + 2], tm.steps() ? tm.rows() : 0, what + " steps", &t.steps));
    RT_RETURN_IF_ERROR(
        ReadArray(frames[f + 3], tm.round_keys(), what + " round keys", &t.round_keys));
    RT_RETURN_IF_ERROR(
        ReadArray(frames[f + 4], tm.round_keys() * tm.dim(), what + " round sums", &t.round_sums));
    f += kSparseTableFrames;
  }
  RT_RETURN_IF_ERROR(
      ReadArray(frames[f], m.admission_bytes(), "the admission sketch", &sparse.admission));
  return state;
}

}  // namespace ringtrain::ps

#include "ringtrain/ckpt/shard_file.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "file_io.h"

namespace ringtrain::ckpt {

static_assert(std::endian::native == std::endian::little,
              "shard files hold floats as a little-endian host does");

namespace {

constexpr char kShardMagic[8] = {'R', 'T', 'C', 'K', 'S', 'H', 'R', 'D'};
constexpr char kWorkersMagic[8] = {'R', 'T', 'C', 'K', 'W', 'R', 'K', 'S'};
constexpr char kQueueMagic[8] = {'R', 'T', 'C', 'K', 'Q', 'U', 'E', 'U'};
constexpr char kSparseMagic[8] = {'R', 'T', 'C', 'K', 'S', 'P', 'R', 'S'};
// The sparse section's fixed part: magic, version, samples, pushes, rate, clock, flags, tables,
// sketch bytes; then per table: dim, 0, rows, round keys.
constexpr size_t kSparseBytes = 8 + 8 + 8 + 4 + 4 + 4 + 4 + 8 + 8;
constexpr size_t kSparseTableBytes = 4 + 4 + 8 + 8;
constexpr uint32_t kStepsFlag = 1;
// The queue's fixed part: magic, tasks, epochs, epoch, next, four counters, two list sizes.
constexpr uint64_t kQueueBytes = 8 + 10 * 8;
constexpr uint64_t kLeaseBytes = 3 * 8;
constexpr uint32_t kRoundFlag = 1;
constexpr uint64_t kDoneFlag = 1;
constexpr uint64_t kExcludedFlag = 2;
constexpr size_t kHeaderBytes = 32;
constexpr size_t kRecordBytes = 48;
constexpr size_t kWorkerBytes = 16;

// Little-endian encoding of fixed-size fields into a small buffer.
class Encoder {
 public:
  void Bytes(const char* p, size_t n) { out_.insert(out_.end(), p, p + n); }
  void U32(uint32_t v) { Bytes(reinterpret_cast<const char*>(&v), sizeof(v)); }
  void U64(uint64_t v) { Bytes(reinterpret_cast<const char*>(&v), sizeof(v)); }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F32(float v) { Bytes(reinterpret_cast<const char*>(&v), sizeof(v)); }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(const char* p) : p_(p) {}
  void Bytes(char* out, size_t n) {
    std::memcpy(out, p_, n);
    p_ += n;
  }
  uint32_t U32() { return Get<uint32_t>(); }
  uint64_t U64() { return Get<uint64_t>(); }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  float F32() { return Get<float>(); }

 private:
  template <typename T>
  T Get() {
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  const char* p_;
};

template <typename T>
Status WriteArray(internal::ChecksummedWriter& w, const std::vector<T>& v) {
  return w.Append(v.data(), v.size() * sizeof(T));
}
Status WriteFloats(internal::ChecksummedWriter& w, const std::vector<float>& v) {
  return WriteArray(w, v);
}

// Reads n values of T after checking they fit in the file (so a damaged size never allocates).
template <typename T>
Status ReadArray(internal::BoundedReader& r, uint64_t n, std::vector<T>* out,
                 const std::string& what) {
  if (n > r.remaining() / sizeof(T)) {
    return DataLoss(r.path() + ": " + what + " needs " + std::to_string(n) + " values of " +
                    std::to_string(sizeof(T)) + " bytes, the file has " +
                    std::to_string(r.remaining()) + " bytes left");
  }
  out->resize(static_cast<size_t>(n));
  return r.Read(out->data(), static_cast<size_t>(n) * sizeof(T));
}
Status ReadFloats(internal::BoundedReader& r, uint64_t n, std::vector<float>* out,
                  const std::string& what) {
  return ReadArray(r, n, out, what);
}

// Checks the sparse tables' sizes against the shard's dims and state slots.
Status CheckSparseFits(const SparseState& sparse, const ShardIdentity& id) {
  if (sparse.tables.size() != id.sparse_dims.size()) {
    return InvalidArgument("shard state has " + std::to_string(sparse.tables.size()) +
                           " sparse tables, the model " + std::to_string(id.sparse_dims.size()));
  }
  if (sparse.version < 0 || sparse.round_pushes > static_cast<uint32_t>(id.num_workers)) {
    return InvalidArgument("shard state's sparse tables: version " +
                           std::to_string(sparse.version) + " and " +
                           std::to_string(sparse.round_pushes) + " round pushes do not fit");
  }
  const size_t row = static_cast<size_t>(1 + id.state_slots);
  for (size_t i = 0; i < sparse.tables.size(); ++i) {
    const SparseTableSnapshot& t = sparse.tables[i];
    const size_t dim = id.sparse_dims[i];
    if (t.dim != dim || t.rows.size() != t.keys.size() * row * dim ||
        !(t.steps.empty() || t.steps.size() == t.keys.size()) ||
        t.round_sums.size() != t.round_keys.size() * dim) {
      return InvalidArgument("shard state's sparse table " + std::to_string(i) + ": dim " +
                             std::to_string(t.dim) + ", " + std::to_string(t.keys.size()) +
                             " keys, " + std::to_string(t.rows.size()) + " row floats, " +
                             std::to_string(t.steps.size()) + " steps, " +
                             std::to_string(t.round_keys.size()) + " round keys and " +
                             std::to_string(t.round_sums.size()) +
                             " round floats do not fit its dim " + std::to_string(dim));
    }
  }
  return Status::Ok();
}

Status WriteSparse(internal::ChecksummedWriter& w, const SparseState& sparse) {
  bool steps = false;
  for (const SparseTableSnapshot& t : sparse.tables) steps = steps || !t.steps.empty();
  Encoder head;
  head.Bytes(kSparseMagic, sizeof(kSparseMagic));
  head.I64(sparse.version);
  head.U64(sparse.round_samples);
  head.U32(sparse.round_pushes);
  head.F32(sparse.round_learning_rate);
  head.U32(sparse.clock);
  head.U32(steps ? kStepsFlag : 0);
  head.U64(sparse.tables.size());
  head.U64(sparse.admission.size());
  RT_RETURN_IF_ERROR(w.Append(head.bytes().data(), head.bytes().size()));
  for (const SparseTableSnapshot& t : sparse.tables) {
    Encoder rec;
    rec.U32(t.dim);
    rec.U32(0);
    rec.U64(t.keys.size());
    rec.U64(t.round_keys.size());
    RT_RETURN_IF_ERROR(w.Append(rec.bytes().data(), rec.bytes().size()));
    RT_RETURN_IF_ERROR(WriteArray(w, t.keys));
    RT_RETURN_IF_ERROR(WriteArray(w, t.rows));
    if (steps) {
      if (t.steps.empty()) {
        // Tables without steps in a state with some (not made by SparseShard): the rows count
        // as updated at the clock.
        RT_RETURN_IF_ERROR(WriteArray(w, std::vector<uint32_t>(t.keys.size(), sparse.clock)));
      } else {
        RT_RETURN_IF_ERROR(WriteArray(w, t.steps));
      }
    }
    RT_RETURN_IF_ERROR(WriteArray(w, t.round_keys));
    RT_RETURN_IF_ERROR(WriteArray(w, t.round_sums));
  }
  return WriteArray(w, sparse.admission);
}

// Reads the sparse section (the reader is at its magic), checking it against `expected`.
StatusOr<SparseState> ReadSparse(internal::BoundedReader* r, const std::string& path,
                                 const ShardIdentity& expected) {
  const auto bad = [&](const std::string& what) {
    return DataLoss(path + ": sparse tables: " + what);
  };
  if (r->remaining() < kSparseBytes) return bad("the section is cut short or missing");
  char fixed[kSparseBytes];
  RT_RETURN_IF_ERROR(r->Read(fixed, sizeof(fixed)));
  if (std::memcmp(fixed, kSparseMagic, sizeof(kSparseMagic)) != 0) {
    return bad("not where the worker clocks end (a checkpoint of a dense model?)");
  }
  Decoder d(fixed + sizeof(kSparseMagic));
  SparseState sparse;
  sparse.version = d.I64();
  sparse.round_samples = d.U64();
  sparse.round_pushes = d.U32();
  sparse.round_learning_rate = d.F32();
  sparse.clock = d.U32();
  const uint32_t flags = d.U32();
  const uint64_t tables = d.U64();
  const uint64_t sketch = d.U64();
  if ((flags & ~kStepsFlag) != 0) return bad("unknown flags " + std::to_string(flags));
  if (tables != expected.sparse_dims.size()) {
    return bad(std::to_string(tables) + " tables, the model has " +
               std::to_string(expected.sparse_dims.size()));
  }
  if (sparse.version < 0 || sparse.round_pushes > static_cast<uint32_t>(expected.num_workers) ||
      !std::isfinite(sparse.round_learning_rate) || sparse.round_learning_rate < 0) {
    return bad("the round state is inconsistent");
  }
  const uint64_t row = static_cast<uint64_t>(1 + expected.state_slots);
  sparse.tables.resize(static_cast<size_t>(tables));
  for (size_t i = 0; i < sparse.tables.size(); ++i) {
    SparseTableSnapshot& t = sparse.tables[i];
    const std::string name = "table " + std::to_string(i);
    char rec[kSparseTableBytes];
    RT_RETURN_IF_ERROR(r->Read(rec, sizeof(rec)));
    Decoder h(rec);
    t.dim = h.U32();
    const uint32_t zero = h.U32();
    const uint64_t rows = h.U64();
    const uint64_t round_keys = h.U64();
    if (t.dim != expected.sparse_dims[i] || zero != 0) {
      return bad(name + " has dim " + std::to_string(t.dim) + ", the model's has " +
                 std::to_string(expected.sparse_dims[i]));
    }
    // Bounded by the bytes left before anything is multiplied (no overflow below).
    if (rows > r->remaining() / 8 || round_keys > r->remaining() / 8) {
      return bad(name + " claims " + std::to_string(rows) + " rows and " +
                 std::to_string(round_keys) + " round keys, more than the file holds");
    }
    RT_RETURN_IF_ERROR(ReadArray(*r, rows, &t.keys, name + "'s keys"));
    RT_RETURN_IF_ERROR(ReadArray(*r, rows * row * t.dim, &t.rows, name + "'s rows"));
    if ((flags & kStepsFlag) != 0) {
      RT_RETURN_IF_ERROR(ReadArray(*r, rows, &t.steps, name + "'s steps"));
    }
    RT_RETURN_IF_ERROR(ReadArray(*r, round_keys, &t.round_keys, name + "'s round keys"));
    RT_RETURN_IF_ERROR(ReadArray(*r, round_keys * t.dim, &t.round_sums, name + "'s round sums"));
  }
  RT_RETURN_IF_ERROR(ReadArray(*r, sketch, &sparse.admission, "the admission sketch"));
  return sparse;
}

}  // namespace

Status CheckStateFits(const ShardState& state, const ShardIdentity& id) {
  if (state.partitions.size() != id.partitions.size()) {
    return InvalidArgument("shard state has " + std::to_string(state.partitions.size()) +
                           " partitions, the shard " + std::to_string(id.partitions.size()));
  }
  for (size_t i = 0; i < id.partitions.size(); ++i) {
    const PartitionSnapshot& p = state.partitions[i];
    const PartitionShape& shape = id.partitions[i];
    // Built only for an error: Submit runs this on the server's thread, once per partition.
    const auto name = [&p] { return "shard state partition " + std::to_string(p.id); };
    if (p.id != shape.id) {
      return InvalidArgument(name() + " where the shard has partition " + std::to_string(shape.id));
    }
    const auto size = static_cast<size_t>(shape.size);
    if (p.params.size() != size ||
        p.optimizer_state.size() != size * static_cast<size_t>(id.state_slots) ||
        !(p.accum.empty() || p.accum.size() == size)) {
      return InvalidArgument(name() + ": sizes (" + std::to_string(p.params.size()) + ", " +
                             std::to_string(p.optimizer_state.size()) + ", " +
                             std::to_string(p.accum.size()) + ") do not fit its " +
                             std::to_string(shape.size) + " elements");
    }
    if (p.version < 0 || p.optimizer_steps < 0) {
      return InvalidArgument(name() + ": negative version or optimizer steps");
    }
  }
  if (state.workers.size() != static_cast<size_t>(id.num_workers)) {
    return InvalidArgument("shard state has " + std::to_string(state.workers.size()) +
                           " worker clocks, the job " + std::to_string(id.num_workers) +
                           " workers");
  }
  for (size_t w = 0; w < state.workers.size(); ++w) {
    if (!state.workers[w].partial.empty()) {
      // The file has no place for it: ps::ServerCheckpointer waits for the push to complete.
      return InvalidArgument(
          "shard state has worker " + std::to_string(w) +
          "'s push partly in (streamed rounds); a checkpoint holds whole pushes");
    }
  }
  if (state.sparse.has_value() != !id.sparse_dims.empty()) {
    return InvalidArgument(state.sparse.has_value()
                               ? "shard state has sparse tables, the model none"
                               : "shard state has no sparse tables, the model " +
                                     std::to_string(id.sparse_dims.size()));
  }
  if (state.sparse.has_value()) RT_RETURN_IF_ERROR(CheckSparseFits(*state.sparse, id));
  return Status::Ok();
}

StatusOr<FileEntry> WriteShardFile(const std::string& path, const ShardState& state,
                                   const ShardIdentity& id) {
  RT_RETURN_IF_ERROR(CheckStateFits(state, id));
  RT_ASSIGN_OR_RETURN(std::unique_ptr<internal::ChecksummedWriter> w,
                      internal::ChecksummedWriter::Create(path));
  Encoder header;
  header.Bytes(kShardMagic, sizeof(kShardMagic));
  header.U32(static_cast<uint32_t>(kFormatVersion));
  header.U32(static_cast<uint32_t>(id.state_slots));
  header.U64(state.partitions.size());
  header.U64(state.workers.size());
  RT_RETURN_IF_ERROR(w->Append(header.bytes().data(), header.bytes().size()));
  for (const PartitionSnapshot& p : state.partitions) {
    const bool round = !p.accum.empty();
    Encoder rec;
    rec.U32(p.id);
    rec.U32(round ? kRoundFlag : 0);
    rec.I64(static_cast<int64_t>(p.params.size()));
    rec.I64(p.version);
    rec.I64(p.optimizer_steps);
    rec.U64(round ? p.round_samples : 0);
    rec.U32(round ? p.round_pushes : 0);
    rec.F32(round ? p.round_learning_rate : 0.0f);
    RT_RETURN_IF_ERROR(w->Append(rec.bytes().data(), rec.bytes().size()));
    RT_RETURN_IF_ERROR(WriteFloats(*w, p.params));
    RT_RETURN_IF_ERROR(WriteFloats(*w, p.optimizer_state));
    if (round) RT_RETURN_IF_ERROR(WriteFloats(*w, p.accum));
  }
  Encoder workers;
  workers.Bytes(kWorkersMagic, sizeof(kWorkersMagic));
  for (const WorkerClock& c : state.workers) {
    workers.I64(c.clock);
    workers.U64((c.done ? kDoneFlag : 0) | (c.excluded ? kExcludedFlag : 0));
  }
  RT_RETURN_IF_ERROR(w->Append(workers.bytes().data(), workers.bytes().size()));
  if (state.sparse.has_value()) RT_RETURN_IF_ERROR(WriteSparse(*w, *state.sparse));
  if (state.queue.has_value()) {
    const DataQueueState& q = *state.queue;
    Encoder queue;
    queue.Bytes(kQueueMagic, sizeof(kQueueMagic));
    queue.I64(q.tasks);
    queue.I64(q.epochs);
    queue.I64(q.epoch);
    queue.I64(q.next);
    queue.U64(q.handed_out);
    queue.U64(q.finished);
    queue.U64(q.requeued);
    queue.U64(q.finished_again);
    queue.U64(q.leased.size());
    queue.U64(q.returned.size());
    for (const auto* list : {&q.leased, &q.returned}) {
      for (const DataQueueState::Lease& l : *list) {
        queue.I64(l.epoch);
        queue.I64(l.position);
        queue.I64(l.worker);
      }
    }
    RT_RETURN_IF_ERROR(w->Append(queue.bytes().data(), queue.bytes().size()));
  }
  return w->Finish(kShardFileName);
}

namespace {

// Parses the file, checking every field against `expected`; the caller checks the CRC.
StatusOr<ShardState> Parse(internal::BoundedReader* r, const std::string& path,
                           const ShardIdentity& expected) {
  const auto bad = [&](const std::string& what) { return DataLoss(path + ": " + what); };

  char header[kHeaderBytes];
  RT_RETURN_IF_ERROR(r->Read(header, sizeof(header)));
  Decoder h(header);
  char magic[8];
  h.Bytes(magic, sizeof(magic));
  if (std::memcmp(magic, kShardMagic, sizeof(magic)) != 0) return bad("not a shard file");
  const uint32_t version = h.U32();
  const uint32_t slots = h.U32();
  const uint64_t num_partitions = h.U64();
  const uint64_t num_workers = h.U64();
  if (version != static_cast<uint32_t>(kFormatVersion)) {
    return bad("format version " + std::to_string(version) + ", expected " +
               std::to_string(kFormatVersion));
  }
  if (slots != static_cast<uint32_t>(expected.state_slots)) {
    return bad(std::to_string(slots) + " optimizer state slots, this server's optimizer has " +
               std::to_string(expected.state_slots));
  }
  if (num_partitions != expected.partitions.size()) {
    return bad(std::to_string(num_partitions) + " partitions, this server owns " +
               std::to_string(expected.partitions.size()));
  }
  if (num_workers != static_cast<uint64_t>(expected.num_workers)) {
    return bad(std::to_string(num_workers) + " workers, the job has " +
               std::to_string(expected.num_workers));
  }

  ShardState state;
  state.partitions.resize(expected.partitions.size());
  for (size_t i = 0; i < expected.partitions.size(); ++i) {
    const PartitionShape& shape = expected.partitions[i];
    char record[kRecordBytes];
    RT_RETURN_IF_ERROR(r->Read(record, sizeof(record)));
    Decoder d(record);
    PartitionSnapshot& p = state.partitions[i];
    p.id = d.U32();
    const uint32_t flags = d.U32();
    const int64_t size = d.I64();
    p.version = d.I64();
    p.optimizer_steps = d.I64();
    p.round_samples = d.U64();
    p.round_pushes = d.U32();
    p.round_learning_rate = d.F32();
    const std::string name = "partition record " + std::to_string(i);
    if (p.id != shape.id) {
      return bad(name + " is partition " + std::to_string(p.id) + ", expected partition " +
                 std::to_string(shape.id));
    }
    if (size != shape.size) {
      return bad("partition " + std::to_string(p.id) + " has " + std::to_string(size) +
                 " elements, the layout says " + std::to_string(shape.size));
    }
    if ((flags & ~kRoundFlag) != 0) {
      return bad("partition " + std::to_string(p.id) + ": unknown flags " + std::to_string(flags));
    }
    const bool round = (flags & kRoundFlag) != 0;
    if (p.version < 0 || p.optimizer_steps < 0 || p.optimizer_steps > p.version) {
      return bad("partition " + std::to_string(p.id) + ": version " + std::to_string(p.version) +
                 " and optimizer steps " + std::to_string(p.optimizer_steps) +
                 " are not 0 <= steps <= version");
    }
    if (p.round_pushes > static_cast<uint32_t>(expected.num_workers) ||
        !std::isfinite(p.round_learning_rate) || p.round_learning_rate < 0 ||
        (!round && (p.round_pushes != 0 || p.round_samples != 0))) {
      return bad("partition " + std::to_string(p.id) + ": its round state is inconsistent");
    }
    const auto n = static_cast<uint64_t>(size);
    RT_RETURN_IF_ERROR(ReadFloats(*r, n, &p.params, "partition " + std::to_string(p.id)));
    RT_RETURN_IF_ERROR(ReadFloats(*r, n * slots, &p.optimizer_state,
                                  "partition " + std::to_string(p.id) + "'s optimizer state"));
    if (round) {
      RT_RETURN_IF_ERROR(
          ReadFloats(*r, n, &p.accum, "partition " + std::to_string(p.id) + "'s accumulator"));
    }
  }
  char wmagic[8];
  RT_RETURN_IF_ERROR(r->Read(wmagic, sizeof(wmagic)));
  if (std::memcmp(wmagic, kWorkersMagic, sizeof(wmagic)) != 0) {
    return bad("the worker clocks are not where the partitions end");
  }
  if (r->remaining() < num_workers * kWorkerBytes) {
    return bad(std::to_string(r->remaining()) + " bytes of worker clocks, expected " +
               std::to_string(num_workers * kWorkerBytes));
  }
  state.workers.resize(static_cast<size_t>(num_workers));
  for (size_t w = 0; w < state.workers.size(); ++w) {
    char rec[kWorkerBytes];
    RT_RETURN_IF_ERROR(r->Read(rec, sizeof(rec)));
    Decoder d(rec);
    state.workers[w].clock = d.I64();
    const uint64_t flags = d.U64();
    if (state.workers[w].clock < 0 || (flags & ~(kDoneFlag | kExcludedFlag)) != 0) {
      return bad("worker " + std::to_string(w) + "'s clock record is damaged");
    }
    state.workers[w].done = (flags & kDoneFlag) != 0;
    state.workers[w].excluded = (flags & kExcludedFlag) != 0;
  }
  if (!expected.sparse_dims.empty()) {
    RT_ASSIGN_OR_RETURN(SparseState sparse, ReadSparse(r, path, expected));
    state.sparse = std::move(sparse);
  }
  if (r->remaining() == 0) return state;
  // The data queue (dynamic sharding), on the server that keeps it.
  if (r->remaining() < kQueueBytes) return bad("the data queue's record is cut short");
  char fixed[kQueueBytes];
  RT_RETURN_IF_ERROR(r->Read(fixed, sizeof(fixed)));
  if (std::memcmp(fixed, kQueueMagic, sizeof(kQueueMagic)) != 0) {
    return bad("bytes after the worker clocks that are not the data queue");
  }
  Decoder d(fixed + sizeof(kQueueMagic));
  DataQueueState q;
  q.tasks = d.I64();
  const int64_t epochs = d.I64();
  q.epoch = d.I64();
  q.next = d.I64();
  q.handed_out = d.U64();
  q.finished = d.U64();
  q.requeued = d.U64();
  q.finished_again = d.U64();
  const uint64_t leased = d.U64();
  const uint64_t returned = d.U64();
  if (q.tasks < 0 || epochs < 0 || epochs > INT32_MAX || q.epoch < 0 || q.epoch > epochs ||
      q.next < 0 || (q.tasks > 0 && q.next >= q.tasks) || leased > num_workers ||
      returned > r->remaining() / kLeaseBytes ||
      r->remaining() != (leased + returned) * kLeaseBytes) {
    return bad("the data queue's record is damaged");
  }
  q.epochs = static_cast<int32_t>(epochs);
  for (uint64_t k = 0; k < leased + returned; ++k) {
    char rec[kLeaseBytes];
    RT_RETURN_IF_ERROR(r->Read(rec, sizeof(rec)));
    Decoder l(rec);
    DataQueueState::Lease lease;
    lease.epoch = l.I64();
    lease.position = l.I64();
    const int64_t worker = l.I64();
    if (lease.epoch < 0 || lease.epoch >= epochs || lease.position < 0 ||
        lease.position >= q.tasks || worker < -1 || worker >= static_cast<int64_t>(num_workers)) {
      return bad("a lease of the data queue is damaged");
    }
    lease.worker = static_cast<int32_t>(worker);
    (k < leased ? q.leased : q.returned).push_back(lease);
  }
  state.queue = std::move(q);
  return state;
}

}  // namespace

StatusOr<ShardState> ReadShardFile(const std::string& path, const FileEntry& entry,
                                   const ShardIdentity& expected) {
  RT_ASSIGN_OR_RETURN(std::unique_ptr<internal::BoundedReader> r,
                      internal::BoundedReader::Open(path, entry.bytes));
  const std::string corrupt =
      path + ": checksum mismatch (its CRC-32 is not the manifest's): the file is corrupt";
  StatusOr<ShardState> state = Parse(r.get(), path, expected);
  if (!state.ok()) {
    // A field that does not fit is most often damage: say so when the checksum agrees.
    if (state.status().code() == StatusCode::kDataLoss && r->Drain().ok() &&
        r->crc() != entry.crc32) {
      return DataLoss(corrupt + " (" + state.status().message() + ")");
    }
    return state.status();
  }
  if (r->crc() != entry.crc32) return DataLoss(corrupt);
  return state;
}

}  // namespace ringtrain::ckpt

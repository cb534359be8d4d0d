#include "ringtrain/ps/sparse_shard.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "ringtrain/common/check.h"
#include "ringtrain/common/hash.h"
#include "ringtrain/transport/message_kind.h"

namespace ringtrain::ps {

namespace {

// How many keys ahead the loops over a message's keys prefetch their slots.
constexpr size_t kPrefetchAhead = 12;

}  // namespace

void InitialValue(uint64_t seed, uint32_t table, uint64_t key, float scale, std::span<float> out) {
  if (scale == 0.0f) {
    std::fill(out.begin(), out.end(), 0.0f);
    return;
  }
  const uint64_t base = Fmix64(seed ^ Fmix64(key ^ (uint64_t{table} << 48 | 0x5bd1e995ULL)));
  for (size_t e = 0; e < out.size(); ++e) {
    const uint64_t bits = Fmix64(base + (e + 1) * 0x9e3779b97f4a7c15ULL);
    // 24 random bits -> [0, 1) exactly representable, then [-scale, scale).
    const float unit = static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
    out[e] = (2.0f * unit - 1.0f) * scale;
  }
}

SparseShard::SparseShard(SparseShardConfig config) : config_(std::move(config)) {
  RT_CHECK(config_.table != nullptr && !config_.table->sparse().empty());
  RT_CHECK(config_.optimizer != nullptr && config_.num_workers >= 1);
  const auto& specs = config_.table->sparse().tables();
  RT_CHECK(config_.init.empty() || config_.init.size() == specs.size());
  RT_CHECK(config_.admit_after >= 1 && config_.admit_after <= 255);
  RT_CHECK(config_.expire_after >= 0 && config_.expire_after <= kMaxExpireAfter);
  slots_ = config_.optimizer->state_slots();
  for (size_t t = 0; t < specs.size(); ++t) {
    const int dim = specs[t].dim;
    tables_.push_back(Table{dim, config_.init.empty() ? 0.0f : config_.init[t].scale,
                            SparseTable(dim * (1 + slots_), config_.expire_after > 0),
                            SparseTable(dim, /*track_steps=*/false)});
  }
  if (config_.admit_after > 1) admission_.emplace();
  pulled_.assign(static_cast<size_t>(config_.num_workers),
                 std::vector<std::vector<uint64_t>>(specs.size()));
  pull_known_.assign(static_cast<size_t>(config_.num_workers), true);
}

Status SparseShard::ValidateKeys(const transport::Message& msg) const {
  const proto::Header& h = msg.header;
  const ring::SparsePlacement& placement = config_.table->sparse();
  std::vector<bool> seen(tables_.size(), false);
  for (int i = 0; i < h.sparse_size(); ++i) {
    const proto::SparseSlice& s = h.sparse(i);
    const auto what = [&] {
      return transport::KindName(h.kind()) + " from worker " + std::to_string(h.sender()) +
             ": sparse slice " + std::to_string(i) + " (table " + std::to_string(s.table()) + ")";
    };
    if (s.table() >= tables_.size()) {
      return InvalidArgument(what() + ": the model has " + std::to_string(tables_.size()) +
                             " sparse tables");
    }
    if (seen[s.table()]) return InvalidArgument(what() + ": table listed twice");
    seen[s.table()] = true;
    const ring::SparseTableSpec& spec = placement.tables()[s.table()];
    if (s.dim() != static_cast<uint32_t>(spec.dim)) {
      return InvalidArgument(what() + ": dim " + std::to_string(s.dim()) + ", table '" + spec.name +
                             "' has dim " + std::to_string(spec.dim));
    }
    const std::span<const uint64_t> keys = msg.SparseKeys(static_cast<size_t>(i));
    const std::vector<int>& servers = placement.bucket_servers(s.table());
    for (size_t k = 0; k < keys.size(); ++k) {
      const uint64_t key = keys[k];
      if (k > 0 && key <= keys[k - 1]) {
        return InvalidArgument(what() + ": keys not strictly ascending at index " +
                               std::to_string(k) + " (" + std::to_string(keys[k - 1]) + " then " +
                               std::to_string(key) + ")");
      }
      if (key >= spec.key_limit) {
        return InvalidArgument(what() + ": key " + std::to_string(key) +
                               " is outside the table's range [0, " +
                               std::to_string(spec.key_limit) + ")");
      }
      const int owner = servers[ring::SparseBucketOf(key, spec.buckets)];
      if (owner != config_.server_index) {
        return InvalidArgument(what() + ": key " + std::to_string(key) + " belongs to server " +
                               std::to_string(owner) + ", not " +
                               std::to_string(config_.server_index));
      }
    }
  }
  return Status::Ok();
}

Status SparseShard::ValidatePush(int worker, const transport::Message& msg, bool forwarded) const {
  const proto::Header& h = msg.header;
  for (int i = 0; i < h.sparse_size(); ++i) {
    const proto::SparseSlice& s = h.sparse(i);
    const auto what = [&] {
      return "PUSH from worker " + std::to_string(worker) + ": sparse slice " + std::to_string(i) +
             " (table " + std::to_string(s.table()) + ")";
    };
    const std::span<const uint64_t> keys = msg.SparseKeys(static_cast<size_t>(i));
    if (!forwarded && pull_known_[static_cast<size_t>(worker)]) {
      const std::vector<uint64_t>& pulled =
          pulled_[static_cast<size_t>(worker)][static_cast<size_t>(s.table())];
      // Both ascending: one merge pass.
      size_t p = 0;
      for (const uint64_t key : keys) {
        while (p < pulled.size() && pulled[p] < key) ++p;
        if (p == pulled.size() || pulled[p] != key) {
          return InvalidArgument(what() + ": key " + std::to_string(key) +
                                 " was not in the worker's latest pull");
        }
      }
    }
    const std::span<const float> values = msg.SparseValues(static_cast<size_t>(i));
    for (size_t v = 0; v < values.size(); ++v) {
      if (!std::isfinite(values[v])) {
        return InvalidArgument(what() + ": gradient of key " + std::to_string(keys[v / s.dim()]) +
                               " is not finite");
      }
    }
  }
  return Status::Ok();
}

void SparseShard::RecordPull(int worker, const transport::Message& msg) {
  std::vector<std::vector<uint64_t>>& pulled = pulled_[static_cast<size_t>(worker)];
  pull_known_[static_cast<size_t>(worker)] = true;
  for (std::vector<uint64_t>& keys : pulled) keys.clear();
  for (int i = 0; i < msg.header.sparse_size(); ++i) {
    const std::span<const uint64_t> keys = msg.SparseKeys(static_cast<size_t>(i));
    pulled[msg.header.sparse(i).table()].assign(keys.begin(), keys.end());
  }
}

void SparseShard::AnswerPull(const transport::Message& msg, int64_t version, proto::Header* reply,
                             std::vector<zmq::message_t>* frames) {
  for (int i = 0; i < msg.header.sparse_size(); ++i) {
    const proto::SparseSlice& s = msg.header.sparse(i);
    const Table& t = tables_[s.table()];
    const std::span<const uint64_t> keys = msg.SparseKeys(static_cast<size_t>(i));
    const size_t dim = static_cast<size_t>(t.dim);
    zmq::message_t frame(keys.size() * dim * sizeof(float));
    float* out = static_cast<float*>(frame.data());
    for (size_t k = 0; k < keys.size(); ++k) {
      if (k + kPrefetchAhead < keys.size()) t.rows.Prefetch(keys[k + kPrefetchAhead]);
      const float* row = t.rows.Find(keys[k]);
      if (row != nullptr) {
        std::memcpy(out + k * dim, row, dim * sizeof(float));
      } else {
        InitialValue(config_.init_seed, s.table(), keys[k], t.init_scale,
                     std::span<float>(out + k * dim, dim));
      }
    }
    proto::SparseSlice* slice = reply->add_sparse();
    slice->set_table(s.table());
    slice->set_num_keys(keys.size());
    slice->set_dim(s.dim());
    slice->set_version(version);
    frames->push_back(std::move(frame));
    keys_pulled_ += keys.size();
  }
}

float* SparseShard::RowFor(uint32_t table, uint64_t key) {
  Table& t = tables_[table];
  if (admission_.has_value()) {
    float* row = t.rows.Find(key);
    if (row != nullptr) return row;
    if (admission_->Add(table, key) < config_.admit_after) {
      ++not_admitted_;
      return nullptr;
    }
  }
  bool inserted = false;
  float* row = t.rows.Insert(key, &inserted);
  if (inserted) {
    InitialValue(config_.init_seed, table, key, t.init_scale,
                 std::span<float>(row, static_cast<size_t>(t.dim)));
    ++rows_created_;
  }
  return row;
}

void SparseShard::Update(uint32_t table, uint64_t key, std::span<const float> grad,
                         float learning_rate, float grad_scale) {
  Table& t = tables_[table];
  const size_t dim = static_cast<size_t>(t.dim);
  float* row = RowFor(table, key);
  if (row == nullptr) return;
  config_.optimizer->ApplyScaled(learning_rate, /*step=*/1, grad_scale, grad,
                                 std::span<float>(row, dim),
                                 std::span<float>(row + dim, dim * static_cast<size_t>(slots_)));
  t.rows.Touch(key, clock_);
}

void SparseShard::Tick() {
  ++clock_;
  if (config_.expire_after == 0) return;
  const auto idle = static_cast<uint32_t>(config_.expire_after);
  const uint32_t period = std::max<uint32_t>(1, idle / 8);
  if (clock_ % period != 0 || clock_ <= idle) return;
  for (Table& t : tables_) rows_expired_ += t.rows.ExpireOlderThan(clock_ - idle);
}

void SparseShard::Accumulate(const transport::Message& msg, float weight) {
  for (int i = 0; i < msg.header.sparse_size(); ++i) {
    const uint32_t table = msg.header.sparse(i).table();
    Table& t = tables_[table];
    const size_t dim = static_cast<size_t>(t.dim);
    const std::span<const uint64_t> keys = msg.SparseKeys(static_cast<size_t>(i));
    const std::span<const float> values = msg.SparseValues(static_cast<size_t>(i));
    for (size_t k = 0; k < keys.size(); ++k) {
      if (k + kPrefetchAhead < keys.size()) t.accum.Prefetch(keys[k + kPrefetchAhead]);
      bool inserted = false;
      float* sum = t.accum.Insert(keys[k], &inserted);
      const float* g = values.data() + k * dim;
      for (size_t e = 0; e < dim; ++e) sum[e] += weight * g[e];
    }
    keys_pushed_ += keys.size();
  }
}

size_t SparseShard::ApplyRound(float learning_rate, float divisor) {
  RT_CHECK(divisor > 0.0f);
  size_t updated = 0;
  const float inv = 1.0f / divisor;
  for (uint32_t table = 0; table < tables_.size(); ++table) {
    Table& t = tables_[table];
    const auto dim = static_cast<size_t>(t.dim);
    // The sums, in the accumulator's order; then the rows, prefetched some keys ahead (rows
    // and sums are different tables: updating rows moves no sum).
    std::vector<std::pair<uint64_t, const float*>> sums;
    sums.reserve(t.accum.size());
    t.accum.ForEach([&](uint64_t key, std::span<const float> sum, uint32_t) {
      sums.emplace_back(key, sum.data());
    });
    for (size_t k = 0; k < sums.size(); ++k) {
      if (k + kPrefetchAhead < sums.size()) t.rows.Prefetch(sums[k + kPrefetchAhead].first);
      // The mean, scaled as the optimizer reads the sum (no copy of it per key).
      Update(table, sums[k].first, std::span<const float>(sums[k].second, dim), learning_rate, inv);
    }
    updated += sums.size();
    t.accum.Clear();
  }
  Tick();
  return updated;
}

void SparseShard::ClearRound() {
  for (Table& t : tables_) t.accum.Clear();
}

size_t SparseShard::ApplyNow(const transport::Message& msg, float learning_rate) {
  size_t updated = 0;
  for (int i = 0; i < msg.header.sparse_size(); ++i) {
    const uint32_t table = msg.header.sparse(i).table();
    const size_t dim = static_cast<size_t>(tables_[table].dim);
    const std::span<const uint64_t> keys = msg.SparseKeys(static_cast<size_t>(i));
    const std::span<const float> values = msg.SparseValues(static_cast<size_t>(i));
    const SparseTable& rows = tables_[table].rows;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (k + kPrefetchAhead < keys.size()) rows.Prefetch(keys[k + kPrefetchAhead]);
      Update(table, keys[k], values.subspan(k * dim, dim), learning_rate, 1.0f);
    }
    keys_pushed_ += keys.size();
    updated += keys.size();
  }
  Tick();
  return updated;
}

void SparseShard::SnapshotInto(ckpt::SparseState* out) const {
  out->clock = clock_;
  out->tables.resize(tables_.size());
  for (size_t i = 0; i < tables_.size(); ++i) {
    const Table& t = tables_[i];
    ckpt::SparseTableSnapshot& snap = out->tables[i];
    const size_t width = static_cast<size_t>(t.rows.row_floats());
    snap.dim = static_cast<uint32_t>(t.dim);
    // resize, then fill in place: a state reused for the next checkpoint keeps its storage.
    snap.keys.resize(t.rows.size());
    snap.rows.resize(t.rows.size() * width);
    snap.steps.resize(t.rows.track_steps() ? t.rows.size() : 0);
    size_t k = 0;
    t.rows.ForEach([&](uint64_t key, std::span<const float> row, uint32_t step) {
      snap.keys[k] = key;
      std::memcpy(snap.rows.data() + k * width, row.data(), width * sizeof(float));
      if (!snap.steps.empty()) snap.steps[k] = step;
      ++k;
    });
    snap.round_keys.resize(t.accum.size());
    snap.round_sums.resize(t.accum.size() * static_cast<size_t>(t.dim));
    k = 0;
    t.accum.ForEach([&](uint64_t key, std::span<const float> sum, uint32_t) {
      snap.round_keys[k] = key;
      std::memcpy(snap.round_sums.data() + k * sum.size(), sum.data(), sum.size_bytes());
      ++k;
    });
  }
  if (admission_.has_value()) {
    out->admission = admission_->counters();
  } else {
    out->admission.clear();
  }
}

Status SparseShard::Restore(ckpt::SparseState* state) {
  const std::string who =
      "restoring the sparse tables of server " + std::to_string(config_.server_index) + ": ";
  const ring::SparsePlacement& placement = config_.table->sparse();
  if (state->tables.size() != tables_.size()) {
    return FailedPrecondition(who + "the state has " + std::to_string(state->tables.size()) +
                              " tables, the model " + std::to_string(tables_.size()));
  }
  if (admission_.has_value() && !state->admission.empty() &&
      state->admission.size() != admission_->bytes()) {
    return FailedPrecondition(who + "an admission sketch of " +
                              std::to_string(state->admission.size()) + " bytes, expected " +
                              std::to_string(admission_->bytes()));
  }
  const size_t width = static_cast<size_t>(1 + slots_);
  std::vector<Table> restored;
  restored.reserve(tables_.size());
  for (uint32_t i = 0; i < tables_.size(); ++i) {
    const ckpt::SparseTableSnapshot& snap = state->tables[i];
    const ring::SparseTableSpec& spec = placement.tables()[i];
    const std::vector<int>& servers = placement.bucket_servers(i);
    const size_t dim = static_cast<size_t>(tables_[i].dim);
    const std::string table = who + "table '" + spec.name + "'";
    if (snap.dim != dim || snap.rows.size() != snap.keys.size() * width * dim ||
        !(snap.steps.empty() || snap.steps.size() == snap.keys.size()) ||
        snap.round_sums.size() != snap.round_keys.size() * dim) {
      return FailedPrecondition(table + ": its sizes do not fit dim " + std::to_string(dim) +
                                " with " + std::to_string(slots_) + " optimizer state slots");
    }
    const auto check = [&](uint64_t key, const char* what) -> Status {
      if (key >= spec.key_limit) {
        return FailedPrecondition(table + ": " + what + " key " + std::to_string(key) +
                                  " is outside the table's range [0, " +
                                  std::to_string(spec.key_limit) + ")");
      }
      const int owner = servers[ring::SparseBucketOf(key, spec.buckets)];
      if (owner != config_.server_index) {
        return FailedPrecondition(table + ": " + what + " key " + std::to_string(key) +
                                  " belongs to server " + std::to_string(owner));
      }
      return Status::Ok();
    };
    Table t{tables_[i].dim, tables_[i].init_scale,
            SparseTable(tables_[i].rows.row_floats(), tables_[i].rows.track_steps()),
            SparseTable(tables_[i].dim, /*track_steps=*/false)};
    t.rows.Reserve(snap.keys.size());
    for (size_t k = 0; k < snap.keys.size(); ++k) {
      const uint64_t key = snap.keys[k];
      RT_RETURN_IF_ERROR(check(key, "row"));
      bool inserted = false;
      float* row = t.rows.Insert(key, &inserted);
      if (!inserted) {
        return FailedPrecondition(table + ": key " + std::to_string(key) + " has two rows");
      }
      std::memcpy(row, snap.rows.data() + k * width * dim, width * dim * sizeof(float));
      t.rows.Touch(key, snap.steps.empty() ? state->clock : snap.steps[k]);
    }
    for (size_t k = 0; k < snap.round_keys.size(); ++k) {
      const uint64_t key = snap.round_keys[k];
      RT_RETURN_IF_ERROR(check(key, "round"));
      bool inserted = false;
      float* sum = t.accum.Insert(key, &inserted);
      if (!inserted) {
        return FailedPrecondition(table + ": round key " + std::to_string(key) + " has two sums");
      }
      std::memcpy(sum, snap.round_sums.data() + k * dim, dim * sizeof(float));
    }
    restored.push_back(std::move(t));
  }

  // All checked: nothing below fails.
  tables_ = std::move(restored);
  clock_ = state->clock;
  if (admission_.has_value()) {
    if (state->admission.empty()) {
      admission_->Clear();
    } else {
      admission_->Restore(std::move(state->admission));
    }
  }
  for (size_t w = 0; w < pulled_.size(); ++w) {
    for (std::vector<uint64_t>& keys : pulled_[w]) keys.clear();
    pull_known_[w] = false;
  }
  return Status::Ok();
}

const float* SparseShard::row(uint32_t table, uint64_t key) const {
  RT_CHECK(table < tables_.size());
  return tables_[table].rows.Find(key);
}

size_t SparseShard::rows() const {
  size_t n = 0;
  for (const Table& t : tables_) n += t.rows.size();
  return n;
}

size_t SparseShard::table_bytes() const {
  size_t n = 0;
  for (const Table& t : tables_) n += t.rows.bytes();
  return n;
}

size_t SparseShard::raw_bytes() const {
  size_t n = 0;
  for (const Table& t : tables_) n += t.rows.raw_bytes();
  return n;
}

void SparseShard::CountInto(proto::ServerStats* stats) const {
  stats->set_sparse_keys_pulled(keys_pulled_);
  stats->set_sparse_keys_pushed(keys_pushed_);
  stats->set_sparse_rows(rows());
  stats->set_sparse_rows_created(rows_created_);
  stats->set_sparse_table_bytes(table_bytes());
  stats->set_sparse_raw_bytes(raw_bytes());
  stats->set_sparse_updates_not_admitted(not_admitted_);
  stats->set_sparse_rows_expired(rows_expired_);
}

}  // namespace ringtrain::ps

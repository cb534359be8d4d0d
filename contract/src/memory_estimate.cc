#include "ringtrain/job/memory_estimate.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

#include "checks.h"

namespace ringtrain::job {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kFloat = 4;
constexpr uint64_t kBaseBytes = uint64_t{32} << 20;  // code, libraries, sockets

// Saturating arithmetic: a spec at the limits of every field must not wrap around.
uint64_t Mul(uint64_t a, uint64_t b) { return (a != 0 && b > kMax / a) ? kMax : a * b; }
uint64_t Add(uint64_t a, uint64_t b) { return b > kMax - a ? kMax : a + b; }

// Builds a total and its "name size, name size" description; zero parts are left out.
class Sum {
 public:
  void Add(const char* name, uint64_t bytes) {
    if (bytes == 0) return;
    total_ = job::Add(total_, bytes);
    if (!text_.empty()) text_ += ", ";
    text_ += std::string(name) + " " + FormatBytes(bytes);
  }
  ProcessMemory Result() const { return ProcessMemory{total_, text_}; }
  uint64_t total() const { return total_; }

 private:
  uint64_t total_ = 0;
  std::string text_;
};

// Layer widths from the input to the output; the input is 0 when unknown.
std::vector<uint64_t> Widths(const ModelSpec& model, const DataShape& shape) {
  std::vector<uint64_t> widths = {static_cast<uint64_t>(std::max<int64_t>(shape.input_dim, 0))};
  for (int h : model.hidden_layers) widths.push_back(static_cast<uint64_t>(h));
  widths.push_back(static_cast<uint64_t>(std::max<int64_t>(shape.num_classes, 1)));
  return widths;
}

uint64_t ParameterCount(const std::vector<uint64_t>& widths) {
  uint64_t p = 0;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    p = Add(p, Mul(Add(widths[i], 1), widths[i + 1]));  // weights and biases
  }
  return p;
}

// Values of optimizer state per parameter on the servers.
uint64_t ServerStateValues(const TrainingSpec& training) {
  const bool codec = training.compression.type != CompressionType::kNone;
  switch (training.optimizer.type) {
    case OptimizerType::kSgd:
      return 0;
    case OptimizerType::kMomentum:
    case OptimizerType::kNesterov:
      return codec ? 0 : 1;  // with a codec, momentum runs on the workers
    case OptimizerType::kAdagrad:
      return 1;
    case OptimizerType::kAdam:
    case OptimizerType::kFtrl:
      return 2;
  }
  return 0;
}

ProcessMemory Server(const TrainingJobSpec& spec, uint64_t parameters) {
  const uint64_t servers = static_cast<uint64_t>(std::max(spec.parameter_servers.replicas, 1));
  const uint64_t share = Mul((parameters + servers - 1) / servers, kFloat);
  const uint64_t state = Mul(share, ServerStateValues(spec.training));
  Sum sum;
  sum.Add("parameters", share);
  sum.Add("optimizer state", state);
  if (spec.training.sync_mode == SyncMode::kSync) sum.Add("round's gradient sum", share);
  sum.Add("push being applied", share);
  if (spec.parameter_servers.replication > 0) {
    sum.Add("copy of the predecessor's shard",
            Mul(Add(share, state), static_cast<uint64_t>(spec.parameter_servers.replication)));
  }
  if (spec.checkpoint.has_value()) sum.Add("checkpoint snapshot", Add(share, state));
  sum.Add("base", kBaseBytes);
  return sum.Result();
}

ProcessMemory Worker(const TrainingJobSpec& spec, const std::vector<uint64_t>& widths,
                     uint64_t parameters, const DataShape& shape, bool evaluates) {
  const TrainingSpec& t = spec.training;
  const bool codec = t.compression.type != CompressionType::kNone;
  const uint64_t params = Mul(parameters, kFloat);
  uint64_t units = 0;
  for (uint64_t w : widths) units = Add(units, w);
  const uint64_t d = widths.front();
  const uint64_t workers = static_cast<uint64_t>(std::max(spec.workers.replicas, 1));
  const uint64_t rows = static_cast<uint64_t>(std::max<int64_t>(shape.train_rows, 0));
  const uint64_t test_rows =
      evaluates ? static_cast<uint64_t>(std::max<int64_t>(shape.test_rows, 0)) : 0;
  // The training set as floats, and while it is read also as bytes, then its shard copied out.
  const uint64_t train_floats = Mul(Mul(rows, d), kFloat);
  const uint64_t shard = Mul(Mul((rows + workers - 1) / workers, d), kFloat);
  const uint64_t loading = Add(train_floats, std::max(Mul(rows, d), shard));
  const uint64_t test = Mul(Mul(test_rows, d), kFloat);

  Sum model;
  model.Add("parameters", params);
  model.Add("gradient", params);
  model.Add("encoded push", params);
  if (codec && t.compression.error_feedback) model.Add("codec residual", params);
  if (codec && (t.optimizer.type == OptimizerType::kMomentum ||
                t.optimizer.type == OptimizerType::kNesterov)) {
    model.Add("local momentum", params);
  }
  model.Add("activations", Mul(Mul(static_cast<uint64_t>(t.batch_size), units), 2 * kFloat));
  if (spec.dataset.format == DataFormat::kLibsvm || spec.dataset.format == DataFormat::kCsv) {
    // Streamed: the window, the blocks ahead (and the one being filled and the one being
    // taken), a batch; each row its floats and a label.
    const uint64_t row_bytes = Add(Mul(d, kFloat), 4);
    const uint64_t stream_rows =
        static_cast<uint64_t>(ShuffleWindowRows(spec.dataset, t.batch_size)) +
        static_cast<uint64_t>((kStreamPrefetchBlocks + 2) * StreamBlockRows(spec.dataset)) +
        static_cast<uint64_t>(t.batch_size);
    model.Add("streamed rows", Mul(stream_rows, row_bytes));
  }
  // Loading comes before the model exists; training holds the shard (and the test set).
  const uint64_t steady = Add(Add(model.total(), shard), test);
  Sum sum;
  if (loading > steady) {
    sum.Add("training set while loading", loading);
  } else {
    sum = model;
    sum.Add("training shard", shard);
    sum.Add("test set", test);
  }
  sum.Add("base", kBaseBytes);
  return sum.Result();
}

}  // namespace

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
  return buf;
}

int64_t ShuffleWindowRows(const DatasetSpec& dataset, int64_t batch_size) {
  if (dataset.shuffle_buffer > 0) return dataset.shuffle_buffer;
  constexpr int64_t kRows = 65536;
  constexpr int64_t kBytes = int64_t{64} << 20;
  const int64_t row_bytes = int64_t{std::max(dataset.features, 1)} * 4 + 4;
  return std::max(batch_size, std::min(kRows, kBytes / row_bytes));
}

int64_t StreamBlockRows(const DatasetSpec& dataset) {
  const int64_t row_bytes = int64_t{std::max(dataset.features, 1)} * 4 + 4;
  return std::clamp<int64_t>((int64_t{4} << 20) / row_bytes, 1, 1024);
}

MemoryEstimate EstimateMemory(const TrainingJobSpec& spec, const DataShape& shape) {
  const std::vector<uint64_t> widths = Widths(spec.model, shape);
  MemoryEstimate e;
  e.parameters = ParameterCount(widths);
  e.server = Server(spec, e.parameters);
  e.worker = Worker(spec, widths, e.parameters, shape, /*evaluates=*/false);
  e.worker0 =
      Worker(spec, widths, e.parameters, shape, /*evaluates=*/spec.dataset.test.has_value());
  const uint64_t servers = static_cast<uint64_t>(std::max(spec.parameter_servers.replicas, 1));
  const uint64_t workers = static_cast<uint64_t>(std::max(spec.workers.replicas, 1));
  e.job_bytes =
      Add(Add(Mul(servers, e.server.bytes), Mul(workers - 1, e.worker.bytes)), e.worker0.bytes);
  return e;
}

Status CheckMemoryLimits(const TrainingJobSpec& spec, const MemoryEstimate& estimate) {
  struct Role {
    const char* field;
    const ReplicaSpec* replicas;
    const ProcessMemory* floor;
    const char* who;
  };
  const Role roles[] = {
      {"spec.parameterServers.resources.limits.memory", &spec.parameter_servers, &estimate.server,
       "each parameter server"},
      {"spec.workers.resources.limits.memory", &spec.workers, &estimate.worker0,
       spec.workers.replicas > 1 ? "worker 0" : "the worker"},
  };
  for (const Role& role : roles) {
    auto it = role.replicas->resources.limits.find("memory");
    if (it == role.replicas->resources.limits.end()) continue;
    const std::optional<long double> limit = internal::ParseQuantity(it->second);
    if (!limit.has_value()) continue;  // the parser has refused it already
    if (*limit >= static_cast<long double>(role.floor->bytes)) continue;
    return InvalidArgument(std::string(role.field) + ": " + it->second + " is less than " +
                           role.who + " needs: at least " + FormatBytes(role.floor->bytes) + " (" +
                           role.floor->breakdown + ")");
  }
  return Status::Ok();
}

}  // namespace ringtrain::job

#include <memory>
#include <string>

#include "ringtrain/model/mlp.h"
#include "ringtrain/model/model.h"
#include "ringtrain/model/softmax.h"

namespace ringtrain::model {
namespace {

// Upper bound on the parameter count (8 GiB of float32): far beyond any model this system
// trains, low enough that offsets and sizes never overflow.
constexpr int64_t kMaxParams = int64_t{1} << 31;

std::string Got(int64_t v) { return " (got " + std::to_string(v) + ")"; }

// False for a value that is no enumerator (a cast int).
bool KnownKind(ModelKind kind) {
  switch (kind) {
    case ModelKind::kSoftmax:
    case ModelKind::kMlp:
      return true;
  }
  return false;
}

}  // namespace

const char* ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kSoftmax:
      return "softmax";
    case ModelKind::kMlp:
      return "mlp";
  }
  return "unknown";
}

Status ValidateModelConfig(const ModelConfig& config) {
  if (config.input_dim < 1) {
    return InvalidArgument("input_dim: must be >= 1" + Got(config.input_dim));
  }
  if (config.num_classes < 2) {
    return InvalidArgument("num_classes: must be >= 2" + Got(config.num_classes));
  }
  if (!KnownKind(config.kind)) {
    return InvalidArgument("kind: unknown model kind " +
                           std::to_string(static_cast<int>(config.kind)));
  }
  switch (config.kind) {
    case ModelKind::kSoftmax:
      if (!config.hidden_layers.empty()) {
        return InvalidArgument("hidden_layers: must be empty for a softmax model (got " +
                               std::to_string(config.hidden_layers.size()) + " layers)");
      }
      break;
    case ModelKind::kMlp:
      if (config.hidden_layers.empty()) {
        return InvalidArgument("hidden_layers: an mlp model needs at least one hidden layer");
      }
      break;
  }
  int64_t params = 0;
  int64_t in = config.input_dim;
  for (size_t i = 0; i <= config.hidden_layers.size(); ++i) {
    const bool hidden = i < config.hidden_layers.size();
    const int64_t out = hidden ? config.hidden_layers[i] : config.num_classes;
    if (out < 1) {
      return InvalidArgument("hidden_layers[" + std::to_string(i) + "]: must be >= 1" + Got(out));
    }
    params += in * out + out;  // each term < 2^63 since params <= kMaxParams and in, out < 2^31
    if (params > kMaxParams) {
      return InvalidArgument("model has more than " + std::to_string(kMaxParams) +
                             " parameters (input_dim " + std::to_string(config.input_dim) +
                             ", num_classes " + std::to_string(config.num_classes) +
                             ", through layer " + std::to_string(i) + ")");
    }
    in = out;
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<Model>> MakeModel(const ModelConfig& config) {
  RT_RETURN_IF_ERROR(ValidateModelConfig(config));
  std::unique_ptr<Model> model;
  if (config.kind == ModelKind::kSoftmax) {
    model = std::make_unique<SoftmaxModel>(config.input_dim, config.num_classes);
  } else {
    model = std::make_unique<MlpModel>(config.input_dim, config.hidden_layers, config.num_classes);
  }
  return model;
}

}  // namespace ringtrain::model

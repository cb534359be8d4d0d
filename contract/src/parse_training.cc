// Parsers of spec.model, spec.dataset and spec.training.
//
// Within each object the discriminating enum (type, format, syncMode) is read before unknown
// fields are checked, so `{format: csv, delimiter: ";"}` reports that csv is not supported yet
// rather than that delimiter is unknown; absence of a required discriminator is reported after
// the field check, so a misspelt `typ` gets the "did you mean" hint. Fields that only apply to
// some values of the discriminator are rejected when written for another, before their range
// is checked, and are then held as 0 / false.
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "checks.h"
#include "json_reader.h"
#include "parse_internal.h"

namespace ringtrain::job::internal {
namespace {

constexpr int kMaxHiddenLayers = 16;
constexpr int kMaxLayerUnits = 65536;
constexpr int kMaxStaleness = 1000000;
constexpr int kDefaultStaleness = 3;
constexpr int kMaxCompressionBlock = 1048576;
constexpr int kDefaultCompressionBlock = 256;
constexpr double kDefaultTopKRatio = 0.01;
// A sparsity warm-up longer than any realistic job is a typo, not a plan.
constexpr int64_t kMaxSparsityWarmupSteps = 100000000;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

Status ParseDataFiles(const json& v, const std::string& path, DataFiles* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(r.CheckFields({"images", "labels"}));
  for (auto [key, field] : {std::pair{"images", &out->images}, std::pair{"labels", &out->labels}}) {
    RT_RETURN_IF_ERROR(r.Require(key));
    RT_RETURN_IF_ERROR(r.GetString(key, field));
    RT_RETURN_IF_ERROR(CheckDataUri(r.PathOf(key), *field));
  }
  return Status::Ok();
}

Status ParseLearningRateScaling(const json& v, const std::string& path,
                                LearningRateScalingSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(r.CheckFields({"referenceBatchSize"}));
  RT_RETURN_IF_ERROR(r.Require("referenceBatchSize"));
  return r.GetInt("referenceBatchSize", 1, 1048576, &out->reference_batch_size);
}

// Reads optional field `key` into *out (`fallback` when absent) and checks that it lies between
// 0 and 1, each end closed or open as given; the error writes the interval: "must be in [0, 1)".
Status GetFraction(const ObjectReader& r, const char* key, double fallback, bool low_inclusive,
                   bool high_inclusive, double* out) {
  *out = fallback;
  RT_RETURN_IF_ERROR(r.GetDouble(key, out));
  const bool low_ok = low_inclusive ? *out >= 0 : *out > 0;
  const bool high_ok = high_inclusive ? *out <= 1 : *out < 1;
  if (low_ok && high_ok) return Status::Ok();
  return r.Error(key, std::string("must be in ") + (low_inclusive ? "[" : "(") + "0, 1" +
                          (high_inclusive ? "]" : ")") + " (got " + FormatDouble(*out) + ")");
}

Status ParseOptimizer(const json& v, const std::string& path, OptimizerSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(
      GetEnum(r, "type",
              {OptimizerType::kSgd, OptimizerType::kMomentum, OptimizerType::kNesterov,
               OptimizerType::kAdagrad, OptimizerType::kAdam},
              {}, &out->type));
  RT_RETURN_IF_ERROR(r.CheckFields({"type", "learningRate", "momentum", "weightDecay", "beta1",
                                    "beta2", "epsilon", "scaleLearningRate"}));

  RT_RETURN_IF_ERROR(r.GetDouble("learningRate", &out->learning_rate));
  if (!(out->learning_rate > 0)) {
    return r.Error("learningRate",
                   "must be greater than 0 (got " + FormatDouble(out->learning_rate) + ")");
  }

  // Which type-specific fields the type admits; the others must not be written.
  const OptimizerType type = out->type;
  const bool nesterov = type == OptimizerType::kNesterov;
  const bool momentum = type == OptimizerType::kMomentum || nesterov;
  const bool adam = type == OptimizerType::kAdam;
  const bool epsilon = adam || type == OptimizerType::kAdagrad;
  for (auto [key, allowed] : {std::pair{"momentum", momentum}, std::pair{"beta1", adam},
                              std::pair{"beta2", adam}, std::pair{"epsilon", epsilon}}) {
    if (!allowed && r.Has(key)) {
      return r.Error(key, std::string("not allowed when type is ") + Name(type));
    }
  }
  out->momentum = 0.0;
  out->beta1 = 0.0;
  out->beta2 = 0.0;
  out->epsilon = 0.0;
  if (momentum) {
    // PyTorch rejects Nesterov without momentum.
    RT_RETURN_IF_ERROR(GetFraction(r, "momentum", 0.9, /*low_inclusive=*/!nesterov,
                                   /*high_inclusive=*/false, &out->momentum));
  }
  if (adam) {
    RT_RETURN_IF_ERROR(GetFraction(r, "beta1", 0.9, true, false, &out->beta1));
    RT_RETURN_IF_ERROR(GetFraction(r, "beta2", 0.999, true, false, &out->beta2));
  }
  if (epsilon) {
    RT_RETURN_IF_ERROR(GetFraction(r, "epsilon", adam ? 1e-8 : 1e-10, /*low_inclusive=*/false,
                                   /*high_inclusive=*/true, &out->epsilon));
  }

  RT_RETURN_IF_ERROR(r.GetDouble("weightDecay", &out->weight_decay));
  if (out->weight_decay < 0) {
    return r.Error("weightDecay",
                   "must be at least 0 (got " + FormatDouble(out->weight_decay) + ")");
  }

  out->scale_learning_rate.reset();
  if (const json* scaling = r.Find("scaleLearningRate")) {
    LearningRateScalingSpec spec;
    RT_RETURN_IF_ERROR(ParseLearningRateScaling(*scaling, r.PathOf("scaleLearningRate"), &spec));
    out->scale_learning_rate = spec;
  }
  return Status::Ok();
}

Status ParseSchedule(const json& v, const std::string& path, ScheduleSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(GetEnum(r, "type",
                             {ScheduleType::kConstant, ScheduleType::kCosine, ScheduleType::kStep},
                             {}, &out->type));
  RT_RETURN_IF_ERROR(
      r.CheckFields({"type", "warmupSteps", "stepSize", "gamma", "minLearningRate"}));
  RT_RETURN_IF_ERROR(r.GetInt("warmupSteps", int64_t{0}, kInt64Max, &out->warmup_steps));

  const bool step = out->type == ScheduleType::kStep;
  const bool cosine = out->type == ScheduleType::kCosine;
  if (!step) {
    for (const char* key : {"stepSize", "gamma"}) {
      if (r.Has(key)) return r.Error(key, "only allowed when type is step");
    }
  }
  if (!cosine && r.Has("minLearningRate")) {
    return r.Error("minLearningRate", "only allowed when type is cosine");
  }
  if (step) {
    RT_RETURN_IF_ERROR(r.Has("stepSize") ? Status::Ok()
                                         : r.Error("stepSize", "required when type is step"));
    RT_RETURN_IF_ERROR(r.GetInt("stepSize", int64_t{1}, kInt64Max, &out->step_size));
    RT_RETURN_IF_ERROR(r.GetDouble("gamma", &out->gamma));
    if (!(out->gamma > 0 && out->gamma <= 1)) {
      return r.Error("gamma", "must be in (0, 1] (got " + FormatDouble(out->gamma) + ")");
    }
  }
  if (cosine) {
    RT_RETURN_IF_ERROR(r.GetDouble("minLearningRate", &out->min_learning_rate));
    if (out->min_learning_rate < 0) {
      return r.Error("minLearningRate",
                     "must be at least 0 (got " + FormatDouble(out->min_learning_rate) + ")");
    }
  }
  return Status::Ok();
}

Status ParseCompression(const json& v, const std::string& path, CompressionSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(
      GetEnum(r, "type",
              {CompressionType::kNone, CompressionType::kFp16, CompressionType::kInt8,
               CompressionType::kOneBit, CompressionType::kTopK},
              {}, &out->type));
  RT_RETURN_IF_ERROR(r.CheckFields({"type", "ratio", "block", "errorFeedback", "warmupSteps"}));

  // Which type-specific fields the type admits; the others must not be written.
  const CompressionType type = out->type;
  const bool topk = type == CompressionType::kTopK;
  const bool blocked = type == CompressionType::kInt8 || type == CompressionType::kOneBit;
  const bool lossy = type != CompressionType::kNone;
  if (!topk) {
    for (const char* key : {"ratio", "warmupSteps"}) {
      if (r.Has(key)) return r.Error(key, "only allowed when type is topk");
    }
  }
  if (!blocked && r.Has("block")) {
    return r.Error("block", "only allowed when type is int8 or onebit");
  }
  if (!lossy && r.Has("errorFeedback")) {
    return r.Error("errorFeedback", std::string("not allowed when type is ") + Name(type));
  }
  out->ratio = 0.0;
  out->block = 0;
  out->error_feedback = false;
  out->warmup_steps = 0;
  if (topk) {
    RT_RETURN_IF_ERROR(GetFraction(r, "ratio", kDefaultTopKRatio, /*low_inclusive=*/false,
                                   /*high_inclusive=*/true, &out->ratio));
    RT_RETURN_IF_ERROR(
        r.GetInt("warmupSteps", int64_t{0}, kMaxSparsityWarmupSteps, &out->warmup_steps));
  }
  if (blocked) {
    out->block = kDefaultCompressionBlock;
    RT_RETURN_IF_ERROR(r.GetInt("block", 1, kMaxCompressionBlock, &out->block));
  }
  if (lossy) {
    // The codecs that drop most of the signal (sign only, a few elements) need the residual
    // to converge; fp16 and int8 lose little enough to go without it by default.
    out->error_feedback = type == CompressionType::kOneBit || topk;
    RT_RETURN_IF_ERROR(r.GetBool("errorFeedback", &out->error_feedback));
  }
  return Status::Ok();
}

}  // namespace

Status ParseModel(const json& v, const std::string& path, ModelSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(
      GetEnum(r, "type", {ModelType::kSoftmax, ModelType::kMlp}, {"logistic", "fm"}, &out->type));
  RT_RETURN_IF_ERROR(r.CheckFields({"type", "hiddenLayers"}));
  RT_RETURN_IF_ERROR(r.Require("type"));

  const json* layers = r.Find("hiddenLayers");
  if (out->type == ModelType::kSoftmax) {
    if (layers != nullptr) return r.Error("hiddenLayers", "not allowed when type is softmax");
    return Status::Ok();
  }
  if (layers == nullptr) return r.Error("hiddenLayers", "required when type is mlp");
  const std::string layers_path = r.PathOf("hiddenLayers");
  RT_RETURN_IF_ERROR(ExpectArray(*layers, layers_path));
  if (layers->empty() || layers->size() > kMaxHiddenLayers) {
    return FieldError(layers_path, "must have between 1 and " + std::to_string(kMaxHiddenLayers) +
                                       " entries (got " + std::to_string(layers->size()) + ")");
  }
  out->hidden_layers.clear();
  for (size_t i = 0; i < layers->size(); ++i) {
    int64_t units = 0;
    RT_RETURN_IF_ERROR(ReadInt((*layers)[i], IndexPath(layers_path, i), 1, kMaxLayerUnits, &units));
    out->hidden_layers.push_back(static_cast<int>(units));
  }
  return Status::Ok();
}

Status ParseDataset(const json& v, const std::string& path, DatasetSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(GetEnum(r, "format", {DataFormat::kIdx}, {"csv", "libsvm"}, &out->format));
  RT_RETURN_IF_ERROR(GetEnum(r, "sharding", {Sharding::kRow}, {"feature"}, &out->sharding));
  RT_RETURN_IF_ERROR(r.CheckFields({"format", "train", "test", "sharding", "shuffle"}));
  RT_RETURN_IF_ERROR(r.Require("train"));
  RT_RETURN_IF_ERROR(ParseDataFiles(*r.Find("train"), r.PathOf("train"), &out->train));
  if (const json* test = r.Find("test")) {
    DataFiles files;
    RT_RETURN_IF_ERROR(ParseDataFiles(*test, r.PathOf("test"), &files));
    out->test = std::move(files);
  }
  return r.GetBool("shuffle", &out->shuffle);
}

Status ParseTraining(const json& v, const std::string& path, TrainingSpec* out) {
  RT_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Open(v, path));
  RT_RETURN_IF_ERROR(GetEnum(r, "syncMode", {SyncMode::kSync, SyncMode::kAsync, SyncMode::kSsp}, {},
                             &out->sync_mode));
  RT_RETURN_IF_ERROR(
      r.CheckFields({"epochs", "batchSize", "syncMode", "staleness", "stalenessAwareLR", "seed",
                     "optimizer", "schedule", "compression"}));
  RT_RETURN_IF_ERROR(r.GetInt("epochs", 1, 100000, &out->epochs));
  RT_RETURN_IF_ERROR(r.GetInt("batchSize", 1, 1048576, &out->batch_size));

  // Which sync-mode-specific fields the mode admits; the others must not be written.
  const bool ssp = out->sync_mode == SyncMode::kSsp;
  const bool on_arrival = out->sync_mode == SyncMode::kAsync || ssp;
  if (!ssp && r.Has("staleness")) {
    return r.Error("staleness", "only allowed when syncMode is ssp");
  }
  if (!on_arrival && r.Has("stalenessAwareLR")) {
    return r.Error("stalenessAwareLR", "only allowed when syncMode is async or ssp");
  }
  out->staleness = 0;
  out->staleness_aware_lr = false;
  if (ssp) {
    out->staleness = kDefaultStaleness;
    RT_RETURN_IF_ERROR(r.GetInt("staleness", 0, kMaxStaleness, &out->staleness));
  }
  if (on_arrival) RT_RETURN_IF_ERROR(r.GetBool("stalenessAwareLR", &out->staleness_aware_lr));
  RT_RETURN_IF_ERROR(r.GetUint64("seed", &out->seed));
  if (const json* o = r.Find("optimizer")) {
    RT_RETURN_IF_ERROR(ParseOptimizer(*o, r.PathOf("optimizer"), &out->optimizer));
  }
  if (const json* s = r.Find("schedule")) {
    RT_RETURN_IF_ERROR(ParseSchedule(*s, r.PathOf("schedule"), &out->schedule));
  }
  if (const json* c = r.Find("compression")) {
    RT_RETURN_IF_ERROR(ParseCompression(*c, r.PathOf("compression"), &out->compression));
  }
  // The cosine floor is a learning rate; above the peak rate the schedule would rise.
  if (out->schedule.min_learning_rate > out->optimizer.learning_rate) {
    return FieldError(FieldPath(r.PathOf("schedule"), "minLearningRate"),
                      "must not exceed " + FieldPath(r.PathOf("optimizer"), "learningRate") + " (" +
                          FormatDouble(out->schedule.min_learning_rate) + " > " +
                          FormatDouble(out->optimizer.learning_rate) + ")");
  }
  return Status::Ok();
}

}  // namespace ringtrain::job::internal

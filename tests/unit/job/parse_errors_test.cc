// Table-driven: each case breaks one field of a valid TrainingJob and checks that the error is
// InvalidArgument and starts with the exact field path, followed by the expected explanation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ringtrain/job/parse.h"

namespace ringtrain::job {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

json ValidJob() {
  return json::parse(R"({
    "apiVersion": "ringtrain.io/v1alpha1", "kind": "TrainingJob",
    "metadata": {"name": "fashion-mnist"},
    "spec": {
      "model": {"type": "mlp", "hiddenLayers": [256]},
      "dataset": {"train": {"images": "file:///data/train-images.gz",
                            "labels": "file:///data/train-labels.gz"},
                  "test": {"images": "/data/test-images.gz", "labels": "/data/test-labels.gz"}},
      "training": {"epochs": 2, "batchSize": 64,
                   "optimizer": {"type": "momentum", "learningRate": 0.05},
                   "schedule": {"type": "cosine", "warmupSteps": 10}},
      "parameterServers": {"replicas": 2,
                           "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}},
      "workers": {"replicas": 2},
      "runPolicy": {"restartPolicy": "OnFailure"}
    }})");
}

struct ErrorCase {
  const char* name;
  const char* pointer;  // JSON pointer of the field to change
  const char* value;    // its new value as JSON text; nullptr removes the field
  const char* path;     // the message must start with "<path>: "
  const char* detail;   // and contain this
};

constexpr ErrorCase kCases[] = {
    // Wrong types.
    {"EpochsString", "/spec/training/epochs", R"("ten")", "spec.training.epochs",
     R"(expected an integer, got string "ten")"},
    {"EpochsFraction", "/spec/training/epochs", "3.5", "spec.training.epochs",
     "expected an integer, got number 3.5"},
    {"ShuffleString", "/spec/dataset/shuffle", R"("yes")", "spec.dataset.shuffle",
     R"(expected a boolean, got string "yes")"},
    {"ModelArray", "/spec/model", "[1]", "spec.model", "expected an object, got an array"},
    {"LearningRateString", "/spec/training/optimizer/learningRate", R"("fast")",
     "spec.training.optimizer.learningRate", "expected a number"},
    {"LabelValueBool", "/metadata/labels", R"({"team": true})", "metadata.labels.team",
     "expected a string, got boolean true"},
    {"DocumentArray", "", "[]", "document", "expected an object, got an array"},
    // Out of range.
    {"BatchSizeZero", "/spec/training/batchSize", "0", "spec.training.batchSize",
     "must be between 1 and 1048576 (got 0)"},
    {"EpochsHuge", "/spec/training/epochs", "1e20", "spec.training.epochs",
     "must be between 1 and 100000 (got 1e+20)"},
    {"HiddenLayerZero", "/spec/model/hiddenLayers", "[256, 0]", "spec.model.hiddenLayers[1]",
     "must be between 1 and 65536 (got 0)"},
    {"HiddenLayersEmpty", "/spec/model/hiddenLayers", "[]", "spec.model.hiddenLayers",
     "must have between 1 and 16 entries (got 0)"},
    {"HiddenLayersTooMany", "/spec/model/hiddenLayers", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
     "spec.model.hiddenLayers", "must have between 1 and 16 entries (got 17)"},
    {"WorkersTooMany", "/spec/workers/replicas", "5000", "spec.workers.replicas",
     "must be between 1 and 4096 (got 5000)"},
    {"PsZero", "/spec/parameterServers/replicas", "0", "spec.parameterServers.replicas",
     "must be between 1 and 1024 (got 0)"},
    {"PartitionTooSmall", "/spec/parameterServers/partitionSize", "100",
     "spec.parameterServers.partitionSize", "must be between 1024 and 67108864 (got 100)"},
    {"BackoffNegative", "/spec/runPolicy/backoffLimit", "-1", "spec.runPolicy.backoffLimit",
     "must be between 0 and 1000 (got -1)"},
    {"DeadlineZero", "/spec/runPolicy/activeDeadlineSeconds", "0",
     "spec.runPolicy.activeDeadlineSeconds", "(got 0)"},
    {"LearningRateZero", "/spec/training/optimizer/learningRate", "0",
     "spec.training.optimizer.learningRate", "must be greater than 0 (got 0)"},
    {"MomentumOne", "/spec/training/optimizer/momentum", "1", "spec.training.optimizer.momentum",
     "must be in [0, 1) (got 1)"},
    {"WeightDecayNegative", "/spec/training/optimizer/weightDecay", "-0.5",
     "spec.training.optimizer.weightDecay", "must be at least 0 (got -0.5)"},
    {"SeedNegative", "/spec/training/seed", "-1", "spec.training.seed",
     "must be between 0 and 18446744073709551615 (got -1)"},
    {"WarmupNegative", "/spec/training/schedule/warmupSteps", "-5",
     "spec.training.schedule.warmupSteps", "(got -5)"},
    // Unknown enum values and values reserved for later.
    {"ModelCnn", "/spec/model/type", R"("cnn")", "spec.model.type",
     R"(unknown value "cnn" (expected one of: softmax, mlp))"},
    {"RestartAlways", "/spec/runPolicy/restartPolicy", R"("Always")",
     "spec.runPolicy.restartPolicy",
     R"(unknown value "Always" (expected one of: Never, OnFailure, ExitCode))"},
    {"SyncAsync", "/spec/training/syncMode", R"("async")", "spec.training.syncMode",
     R"("async" is not supported yet (supported: sync))"},
    {"CompressionTopk", "/spec/training/compression", R"({"type": "topk", "ratio": 0.01})",
     "spec.training.compression.type", R"("topk" is not supported yet (supported: none))"},
    {"OptimizerRmsprop", "/spec/training/optimizer/type", R"("rmsprop")",
     "spec.training.optimizer.type",
     R"(unknown value "rmsprop" (expected one of: sgd, momentum, nesterov, adagrad, adam))"},
    {"ModelFm", "/spec/model/type", R"("fm")", "spec.model.type", "is not supported yet"},
    {"FormatCsv", "/spec/dataset/format", R"("csv")", "spec.dataset.format",
     R"("csv" is not supported yet (supported: idx))"},
    {"ShardingFeature", "/spec/dataset/sharding", R"("feature")", "spec.dataset.sharding",
     "is not supported yet (supported: row)"},
    // Unknown fields.
    {"BatchsizeTypo", "/spec/training/batchsize", "64", "spec.training.batchsize",
     R"(unknown field (did you mean "batchSize"?))"},
    {"TypTypo", "/spec/model", R"({"typ": "mlp"})", "spec.model.typ",
     R"(unknown field (did you mean "type"?))"},
    {"TopLevelTypo", "/sepc", "{}", "sepc", R"(unknown field (did you mean "spec"?))"},
    {"UnknownFieldNoSuggestion", "/spec/workers/gpus", "1", "spec.workers.gpus",
     "unknown field (expected one of: replicas, resources, image)"},
    // Missing required fields.
    {"MissingModelType", "/spec/model/type", nullptr, "spec.model.type",
     "required field is missing"},
    {"MissingTrainLabels", "/spec/dataset/train/labels", nullptr, "spec.dataset.train.labels",
     "required field is missing"},
    {"MissingSpec", "/spec", nullptr, "spec", "required field is missing"},
    {"MissingName", "/metadata/name", nullptr, "metadata.name", "required field is missing"},
    {"MissingDataset", "/spec/dataset", nullptr, "spec.dataset", "required field is missing"},
    // Cross-field rules.
    {"SgdWithMomentum", "/spec/training/optimizer", R"({"type": "sgd", "momentum": 0.9})",
     "spec.training.optimizer.momentum", "not allowed when type is sgd"},
    {"DefaultSgdWithEpsilon", "/spec/training/optimizer", R"({"epsilon": 1e-8})",
     "spec.training.optimizer.epsilon", "not allowed when type is sgd"},
    {"SgdWithBeta1", "/spec/training/optimizer", R"({"type": "sgd", "beta1": 0.9})",
     "spec.training.optimizer.beta1", "not allowed when type is sgd"},
    {"MomentumWithBeta2", "/spec/training/optimizer/beta2", "0.999",
     "spec.training.optimizer.beta2", "not allowed when type is momentum"},
    {"MomentumWithEpsilon", "/spec/training/optimizer/epsilon", "1e-8",
     "spec.training.optimizer.epsilon", "not allowed when type is momentum"},
    {"NesterovWithBeta1", "/spec/training/optimizer", R"({"type": "nesterov", "beta1": 0.9})",
     "spec.training.optimizer.beta1", "not allowed when type is nesterov"},
    {"AdagradWithMomentum", "/spec/training/optimizer", R"({"type": "adagrad", "momentum": 0.9})",
     "spec.training.optimizer.momentum", "not allowed when type is adagrad"},
    {"AdagradWithBeta2", "/spec/training/optimizer", R"({"type": "adagrad", "beta2": 0.99})",
     "spec.training.optimizer.beta2", "not allowed when type is adagrad"},
    {"AdamWithMomentum", "/spec/training/optimizer", R"({"type": "adam", "momentum": 0.9})",
     "spec.training.optimizer.momentum", "not allowed when type is adam"},
    // Ranges of the type-specific fields.
    {"NesterovMomentumZero", "/spec/training/optimizer", R"({"type": "nesterov", "momentum": 0})",
     "spec.training.optimizer.momentum", "must be in (0, 1) (got 0)"},
    {"NesterovMomentumOne", "/spec/training/optimizer", R"({"type": "nesterov", "momentum": 1})",
     "spec.training.optimizer.momentum", "must be in (0, 1) (got 1)"},
    {"AdamBeta1One", "/spec/training/optimizer", R"({"type": "adam", "beta1": 1})",
     "spec.training.optimizer.beta1", "must be in [0, 1) (got 1)"},
    {"AdamBeta1Negative", "/spec/training/optimizer", R"({"type": "adam", "beta1": -0.5})",
     "spec.training.optimizer.beta1", "must be in [0, 1) (got -0.5)"},
    {"AdamBeta2One", "/spec/training/optimizer", R"({"type": "adam", "beta2": 1.0})",
     "spec.training.optimizer.beta2", "must be in [0, 1) (got 1)"},
    {"AdamBeta2String", "/spec/training/optimizer", R"({"type": "adam", "beta2": "0.99"})",
     "spec.training.optimizer.beta2", R"(expected a number, got string "0.99")"},
    {"AdamEpsilonZero", "/spec/training/optimizer", R"({"type": "adam", "epsilon": 0})",
     "spec.training.optimizer.epsilon", "must be in (0, 1] (got 0)"},
    {"AdagradEpsilonAboveOne", "/spec/training/optimizer", R"({"type": "adagrad", "epsilon": 1.5})",
     "spec.training.optimizer.epsilon", "must be in (0, 1] (got 1.5)"},
    {"AdagradEpsilonNegative", "/spec/training/optimizer",
     R"({"type": "adagrad", "epsilon": -1e-10})", "spec.training.optimizer.epsilon",
     "must be in (0, 1] (got -1e-10)"},
    // The linear scaling rule.
    {"ScaleReferenceZero", "/spec/training/optimizer/scaleLearningRate",
     R"({"referenceBatchSize": 0})", "spec.training.optimizer.scaleLearningRate.referenceBatchSize",
     "must be between 1 and 1048576 (got 0)"},
    {"ScaleReferenceTooLarge", "/spec/training/optimizer/scaleLearningRate",
     R"({"referenceBatchSize": 1048577})",
     "spec.training.optimizer.scaleLearningRate.referenceBatchSize",
     "must be between 1 and 1048576 (got 1048577)"},
    {"ScaleReferenceMissing", "/spec/training/optimizer/scaleLearningRate", "{}",
     "spec.training.optimizer.scaleLearningRate.referenceBatchSize", "required field is missing"},
    {"ScaleReferenceTypo", "/spec/training/optimizer/scaleLearningRate",
     R"({"referenceBatchsize": 256})",
     "spec.training.optimizer.scaleLearningRate.referenceBatchsize",
     R"(unknown field (did you mean "referenceBatchSize"?))"},
    {"ScaleNotAnObject", "/spec/training/optimizer/scaleLearningRate", "true",
     "spec.training.optimizer.scaleLearningRate", "expected an object, got boolean true"},
    {"StepWithoutStepSize", "/spec/training/schedule", R"({"type": "step"})",
     "spec.training.schedule.stepSize", "required when type is step"},
    {"CosineWithStepSize", "/spec/training/schedule/stepSize", "100",
     "spec.training.schedule.stepSize", "only allowed when type is step"},
    {"StepGammaZero", "/spec/training/schedule", R"({"type": "step", "stepSize": 10, "gamma": 0})",
     "spec.training.schedule.gamma", "must be in (0, 1] (got 0)"},
    {"MinRateAboveRate", "/spec/training/schedule/minLearningRate", "0.5",
     "spec.training.schedule.minLearningRate",
     "must not exceed spec.training.optimizer.learningRate (0.5 > 0.05)"},
    {"SoftmaxWithHiddenLayers", "/spec/model/type", R"("softmax")", "spec.model.hiddenLayers",
     "not allowed when type is softmax"},
    {"MlpWithoutHiddenLayers", "/spec/model/hiddenLayers", nullptr, "spec.model.hiddenLayers",
     "required when type is mlp"},
    {"RequestAboveLimit", "/spec/parameterServers/resources/requests/cpu", R"("2500m")",
     "spec.parameterServers.resources.requests.cpu",
     "must not exceed spec.parameterServers.resources.limits.cpu (2500m > 2)"},
    // Resources.
    {"BadQuantity", "/spec/workers/resources", R"({"requests": {"memory": "1 GB"}})",
     "spec.workers.resources.requests.memory",
     R"(must be a Kubernetes quantity such as "1", "500m" or "1Gi" (got "1 GB"))"},
    {"BadQuantitySuffix", "/spec/workers/resources", R"({"limits": {"memory": "1Gb"}})",
     "spec.workers.resources.limits.memory", R"((got "1Gb"))"},
    {"NegativeQuantity", "/spec/workers/resources", R"({"requests": {"cpu": -1}})",
     "spec.workers.resources.requests.cpu", R"(must not be negative (got "-1"))"},
    {"QuantityBool", "/spec/workers/resources", R"({"requests": {"cpu": true}})",
     "spec.workers.resources.requests.cpu", "expected a quantity (string or number)"},
    {"UnknownResource", "/spec/workers/resources", R"({"requests": {"cpus": "1"}})",
     "spec.workers.resources.requests.cpus", R"(unknown resource (did you mean "cpu"?))"},
    {"BadExtendedResource", "/spec/workers/resources", R"({"requests": {"Nvidia_com/gpu": 1}})",
     R"(spec.workers.resources.requests["Nvidia_com/gpu"])", "key prefix must be a DNS subdomain"},
    // Names, identity and URIs.
    {"NameUpperCase", "/metadata/name", R"("Fashion_MNIST")", "metadata.name",
     R"(must consist of lower-case letters, digits and '-', start with a letter and end with a letter or digit (got "Fashion_MNIST"))"},
    {"NameStartsWithDigit", "/metadata/name", R"("9lives")", "metadata.name",
     "start with a letter"},
    {"NameTooLong", "/metadata/name", R"("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijk")",
     "metadata.name", "must be at most 50 characters (got 51)"},
    {"NamespaceUpperCase", "/metadata/namespace", R"("Default")", "metadata.namespace",
     R"((got "Default"))"},
    {"LabelKeyInvalid", "/metadata/labels", R"({"-team": "x"})", R"(metadata.labels["-team"])",
     "key must be 1 to 63 characters"},
    {"LabelValueInvalid", "/metadata/labels", R"({"team": "a b"})", "metadata.labels.team",
     R"(value must be empty or 1 to 63 characters)"},
    {"ApiVersionV1", "/apiVersion", R"("v1")", "apiVersion",
     R"(must be "ringtrain.io/v1alpha1" (got "v1"))"},
    {"KindJob", "/kind", R"("Job")", "kind", R"(must be "TrainingJob" (got "Job"))"},
    {"MissingKind", "/kind", nullptr, "kind", "required field is missing"},
    {"UriSchemeGs", "/spec/dataset/train/images", R"("gs://bucket/train.gz")",
     "spec.dataset.train.images",
     R"(unsupported URI scheme "gs" (expected file, http, https, s3 or a plain path))"},
    {"FileUriRelative", "/spec/dataset/test/labels", R"("file://data/labels.gz")",
     "spec.dataset.test.labels", "a file URI must name an absolute path"},
    {"HttpUriNoHost", "/spec/dataset/test/images", R"("https:///x.gz")", "spec.dataset.test.images",
     "https URI has no host"},
    {"EmptyUri", "/spec/dataset/train/images", R"("")", "spec.dataset.train.images",
     "must not be empty"},
    {"ImageWithSpace", "/spec/image", R"("ringtrain/runtime 0.1")", "spec.image",
     "must not contain whitespace"},
    {"EmptyWorkerImage", "/spec/workers/image", R"("")", "spec.workers.image", "must not be empty"},
};

class ParseErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseErrorTest, NamesTheFieldPath) {
  const ErrorCase& c = GetParam();
  json doc = ValidJob();
  json::json_pointer ptr(c.pointer);
  if (c.value == nullptr) {
    ASSERT_TRUE(doc.contains(ptr)) << "test case removes a field that is not there";
    doc[ptr.parent_pointer()].erase(ptr.back());
  } else {
    doc[ptr] = json::parse(c.value);
  }
  StatusOr<TrainingJob> job = ParseTrainingJob(doc);
  ASSERT_FALSE(job.ok()) << "accepted: " << doc.dump();
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(job.status().message(), StartsWith(std::string(c.path) + ": "));
  EXPECT_THAT(job.status().message(), HasSubstr(c.detail));
}

INSTANTIATE_TEST_SUITE_P(Malformed, ParseErrorTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(ParseErrorBaseTest, BaseJobIsValid) {
  StatusOr<TrainingJob> job = ParseTrainingJob(ValidJob());
  EXPECT_TRUE(job.ok()) << job.status().ToString();
}

}  // namespace
}  // namespace ringtrain::job

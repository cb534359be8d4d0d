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
      "workers": {"replicas": 2,
                  "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true}]},
      "runPolicy": {"restartPolicy": "OnFailure"},
      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "fashion-mnist"}}]
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
    {"ReplicationTwo", "/spec/parameterServers/replication", "2",
     "spec.parameterServers.replication", "must be between 0 and 1 (got 2)"},
    {"ReplicationOneServer", "/spec/parameterServers", R"({"replicas": 1, "replication": 1})",
     "spec.parameterServers.replication",
     "1 needs at least 2 parameter servers (the shard's copy lives on the next server), got "
     "replicas: 1"},
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
     R"(unknown value "cnn" (expected one of: softmax, mlp, logistic, fm, deepfm))"},
    {"RestartAlways", "/spec/runPolicy/restartPolicy", R"("Always")",
     "spec.runPolicy.restartPolicy",
     R"(unknown value "Always" (expected one of: Never, OnFailure, ExitCode))"},
    {"SyncModeUnknown", "/spec/training/syncMode", R"("bsp")", "spec.training.syncMode",
     R"(unknown value "bsp" (expected one of: sync, async, ssp))"},
    {"SyncModeNotAString", "/spec/training/syncMode", "1", "spec.training.syncMode",
     "expected a string, got number 1"},
    {"CompressionUnknown", "/spec/training/compression", R"({"type": "fp8"})",
     "spec.training.compression.type",
     R"(unknown value "fp8" (expected one of: none, fp16, int8, onebit, topk))"},
    {"OptimizerRmsprop", "/spec/training/optimizer/type", R"("rmsprop")",
     "spec.training.optimizer.type",
     R"(unknown value "rmsprop" (expected one of: sgd, momentum, nesterov, adagrad, adam, ftrl))"},
    {"FormatParquet", "/spec/dataset/format", R"("parquet")", "spec.dataset.format",
     R"(unknown value "parquet" (expected one of: idx, libsvm, csv, criteo))"},
    // The text formats take uri, features and classes; idx its two files.
    {"CsvWithoutFeatures", "/spec/dataset", R"({"format": "csv", "train": {"uri": "/d/"}})",
     "spec.dataset.features", "required when format is libsvm or csv"},
    {"LibsvmWithImages", "/spec/dataset",
     R"({"format": "libsvm", "features": 4, "classes": 2, "train": {"images": "/a"}})",
     "spec.dataset.train.uri", "required with format libsvm"},
    {"LibsvmWithImagesBesideUri", "/spec/dataset",
     R"({"format": "libsvm", "features": 4, "classes": 2,
         "train": {"uri": "/d/", "images": "/a"}})",
     "spec.dataset.train.images", "not allowed with format libsvm (uri names the data)"},
    {"IdxWithUri", "/spec/dataset/train/uri", R"("/d/")", "spec.dataset.train.uri",
     "not allowed with format idx"},
    {"LibsvmTestWithoutUri", "/spec/dataset",
     R"({"format": "libsvm", "features": 4, "classes": 2, "train": {"uri": "/d/"},
         "test": {"labels": "/l"}})",
     "spec.dataset.test.uri", "required with format libsvm"},
    {"IndexBaseTwo", "/spec/dataset",
     R"({"format": "libsvm", "features": 4, "classes": 2, "indexBase": 2,
         "train": {"uri": "/d/"}})",
     "spec.dataset.indexBase", "must be"},
    {"LabelColumnWithLibsvm", "/spec/dataset",
     R"({"format": "libsvm", "features": 4, "classes": 2, "labelColumn": "y",
         "train": {"uri": "/d/"}})",
     "spec.dataset.labelColumn", "csv"},
    {"ClassesOne", "/spec/dataset",
     R"({"format": "csv", "features": 4, "classes": 1, "train": {"uri": "/d/"}})",
     "spec.dataset.classes", "must be"},
    {"FeaturesWithIdx", "/spec/dataset/features", "4", "spec.dataset.features", "libsvm or csv"},
    {"OnBadRecordIgnore", "/spec/dataset",
     R"({"format": "csv", "features": 4, "classes": 2, "onBadRecord": "ignore",
         "train": {"uri": "/d/"}})",
     "spec.dataset.onBadRecord", R"(unknown value "ignore" (expected one of: fail, skip))"},
    {"ShardingColumn", "/spec/dataset/sharding", R"("column")", "spec.dataset.sharding",
     R"(unknown value "column" (expected one of: row, dynamic, feature))"},
    {"FeatureShardingOfIdx", "/spec/dataset/sharding", R"("feature")", "spec.dataset.sharding",
     "feature needs format libsvm or csv"},
    {"FeatureShardingOfAnMlp", "/spec",
     R"({"model": {"type": "mlp", "hiddenLayers": [4]},
         "dataset": {"format": "csv", "features": 4, "classes": 2, "sharding": "feature",
                     "train": {"uri": "/d/"}}})",
     "spec.dataset.sharding", "feature needs model.type softmax"},
    {"DynamicShardingOfIdx", "/spec/dataset/sharding", R"("dynamic")", "spec.dataset.sharding",
     "dynamic needs format libsvm or csv"},
    // Unknown fields.
    {"BatchsizeTypo", "/spec/training/batchsize", "64", "spec.training.batchsize",
     R"(unknown field (did you mean "batchSize"?))"},
    {"TypTypo", "/spec/model", R"({"typ": "mlp"})", "spec.model.typ",
     R"(unknown field (did you mean "type"?))"},
    {"TopLevelTypo", "/sepc", "{}", "sepc", R"(unknown field (did you mean "spec"?))"},
    {"UnknownFieldNoSuggestion", "/spec/workers/gpus", "1", "spec.workers.gpus",
     "unknown field (expected one of: replicas, resources, image, volumeMounts)"},
    // Missing required fields.
    {"MissingModelType", "/spec/model/type", nullptr, "spec.model.type",
     "required field is missing"},
    {"MissingTrainLabels", "/spec/dataset/train/labels", nullptr, "spec.dataset.train.labels",
     "required with format idx"},
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
    // Fields of some sync modes only.
    {"StalenessWithDefaultSync", "/spec/training/staleness", "3", "spec.training.staleness",
     "only allowed when syncMode is ssp"},
    {"StalenessWithAsync", "/spec/training", R"({"syncMode": "async", "staleness": 3})",
     "spec.training.staleness", "only allowed when syncMode is ssp"},
    {"StalenessZeroWithSync", "/spec/training", R"({"syncMode": "sync", "staleness": 0})",
     "spec.training.staleness", "only allowed when syncMode is ssp"},
    {"WorkerTimeoutWithAsync", "/spec/training",
     R"({"syncMode": "async", "workerTimeoutSeconds": 30})", "spec.training.workerTimeoutSeconds",
     "only allowed when syncMode is sync"},
    {"WorkerTimeoutNegative", "/spec/training/workerTimeoutSeconds", "-1",
     "spec.training.workerTimeoutSeconds", "-1"},
    {"WorkerTimeoutAboveADay", "/spec/training/workerTimeoutSeconds", "86401",
     "spec.training.workerTimeoutSeconds", "86401"},
    {"PushChunkWithSsp", "/spec/training", R"({"syncMode": "ssp", "pushChunkKiB": 64})",
     "spec.training.pushChunkKiB", "only allowed when syncMode is sync"},
    {"PushChunkNegative", "/spec/training/pushChunkKiB", "-1", "spec.training.pushChunkKiB", "-1"},
    {"PushChunkAboveAGiB", "/spec/training/pushChunkKiB", "1048577", "spec.training.pushChunkKiB",
     "1048577"},
    {"StalenessAwareLRWithDefaultSync", "/spec/training/stalenessAwareLR", "true",
     "spec.training.stalenessAwareLR", "only allowed when syncMode is async or ssp"},
    {"StalenessAwareLRFalseWithSync", "/spec/training",
     R"({"syncMode": "sync", "stalenessAwareLR": false})", "spec.training.stalenessAwareLR",
     "only allowed when syncMode is async or ssp"},
    {"SspStalenessNegative", "/spec/training", R"({"syncMode": "ssp", "staleness": -1})",
     "spec.training.staleness", "must be between 0 and 1000000 (got -1)"},
    {"SspStalenessTooLarge", "/spec/training", R"({"syncMode": "ssp", "staleness": 1000001})",
     "spec.training.staleness", "must be between 0 and 1000000 (got 1000001)"},
    {"SspStalenessFraction", "/spec/training", R"({"syncMode": "ssp", "staleness": 2.5})",
     "spec.training.staleness", "expected an integer, got number 2.5"},
    {"AsyncStalenessAwareLRString", "/spec/training",
     R"({"syncMode": "async", "stalenessAwareLR": "yes"})", "spec.training.stalenessAwareLR",
     R"(expected a boolean, got string "yes")"},
    {"StalenessTypo", "/spec/training", R"({"syncMode": "ssp", "stalness": 3})",
     "spec.training.stalness", R"(unknown field (did you mean "staleness"?))"},
    // Fields of some compression types only.
    {"NoneWithErrorFeedback", "/spec/training/compression",
     R"({"type": "none", "errorFeedback": false})", "spec.training.compression.errorFeedback",
     "not allowed when type is none"},
    {"DefaultNoneWithErrorFeedback", "/spec/training/compression", R"({"errorFeedback": true})",
     "spec.training.compression.errorFeedback", "not allowed when type is none"},
    {"NoneWithRatio", "/spec/training/compression", R"({"ratio": 0.01})",
     "spec.training.compression.ratio", "only allowed when type is topk"},
    {"Fp16WithRatio", "/spec/training/compression", R"({"type": "fp16", "ratio": 0.01})",
     "spec.training.compression.ratio", "only allowed when type is topk"},
    {"OnebitWithRatio", "/spec/training/compression", R"({"type": "onebit", "ratio": 0.5})",
     "spec.training.compression.ratio", "only allowed when type is topk"},
    {"Int8WithWarmupSteps", "/spec/training/compression", R"({"type": "int8", "warmupSteps": 0})",
     "spec.training.compression.warmupSteps", "only allowed when type is topk"},
    {"NoneWithBlock", "/spec/training/compression", R"({"type": "none", "block": 256})",
     "spec.training.compression.block", "only allowed when type is int8 or onebit"},
    {"Fp16WithBlock", "/spec/training/compression", R"({"type": "fp16", "block": 256})",
     "spec.training.compression.block", "only allowed when type is int8 or onebit"},
    {"TopkWithBlock", "/spec/training/compression", R"({"type": "topk", "block": 256})",
     "spec.training.compression.block", "only allowed when type is int8 or onebit"},
    {"TopkRatioZero", "/spec/training/compression", R"({"type": "topk", "ratio": 0})",
     "spec.training.compression.ratio", "must be in (0, 1] (got 0)"},
    {"TopkRatioAboveOne", "/spec/training/compression", R"({"type": "topk", "ratio": 1.5})",
     "spec.training.compression.ratio", "must be in (0, 1] (got 1.5)"},
    {"TopkRatioString", "/spec/training/compression", R"({"type": "topk", "ratio": "1%"})",
     "spec.training.compression.ratio", R"(expected a number, got string "1%")"},
    {"TopkWarmupNegative", "/spec/training/compression", R"({"type": "topk", "warmupSteps": -1})",
     "spec.training.compression.warmupSteps", "must be between 0 and 100000000 (got -1)"},
    {"TopkWarmupTooLarge", "/spec/training/compression",
     R"({"type": "topk", "warmupSteps": 100000001})", "spec.training.compression.warmupSteps",
     "must be between 0 and 100000000 (got 100000001)"},
    {"Int8BlockZero", "/spec/training/compression", R"({"type": "int8", "block": 0})",
     "spec.training.compression.block", "must be between 1 and 1048576 (got 0)"},
    {"OnebitBlockTooLarge", "/spec/training/compression", R"({"type": "onebit", "block": 1048577})",
     "spec.training.compression.block", "must be between 1 and 1048576 (got 1048577)"},
    {"Int8BlockFraction", "/spec/training/compression", R"({"type": "int8", "block": 64.5})",
     "spec.training.compression.block", "expected an integer, got number 64.5"},
    {"OnebitErrorFeedbackNumber", "/spec/training/compression",
     R"({"type": "onebit", "errorFeedback": 1})", "spec.training.compression.errorFeedback",
     "expected a boolean, got number 1"},
    {"CompressionRatioTypo", "/spec/training/compression", R"({"type": "topk", "raito": 0.1})",
     "spec.training.compression.raito", R"(unknown field (did you mean "ratio"?))"},
    {"CompressionNotAnObject", "/spec/training/compression", R"("topk")",
     "spec.training.compression", R"(expected an object, got string "topk")"},
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
    // Volumes and mounts.
    {"VolumesObject", "/spec/volumes", R"({"name": "data"})", "spec.volumes",
     "expected an array, got an object"},
    {"VolumeWithoutSource", "/spec/volumes/0", R"({"name": "data"})", "spec.volumes[0]",
     "needs a source: one of persistentVolumeClaim, hostPath, emptyDir, nfs, configMap, secret"},
    {"VolumeWithTwoSources", "/spec/volumes/0",
     R"({"name": "data", "emptyDir": {}, "hostPath": {"path": "/d"}})", "spec.volumes[0]",
     "has more than one source (hostPath, emptyDir)"},
    {"VolumeUnknownSource", "/spec/volumes/0", R"({"name": "data", "hostpath": {"path": "/d"}})",
     "spec.volumes[0].hostpath", R"(did you mean "hostPath"?)"},
    {"VolumeNameUpperCase", "/spec/volumes/0/name", R"("Data")", "spec.volumes[0].name",
     R"((got "Data"))"},
    {"VolumeNamedSpec", "/spec/volumes/0/name", R"("spec")", "spec.volumes[0].name",
     "the operator's"},
    {"VolumeNameTwice", "/spec/volumes/1", R"({"name": "data", "emptyDir": {}})",
     "spec.volumes[1].name", R"(another volume is named "data" already)"},
    {"ClaimNameMissing", "/spec/volumes/0/persistentVolumeClaim", R"({"readOnly": true})",
     "spec.volumes[0].persistentVolumeClaim.claimName", "required field is missing"},
    {"ClaimNameInvalid", "/spec/volumes/0/persistentVolumeClaim/claimName", R"("My_Data")",
     "spec.volumes[0].persistentVolumeClaim.claimName", "lower-case letters, digits, '-' and '.'"},
    {"ClaimReadOnlyString", "/spec/volumes/0/persistentVolumeClaim/readOnly", R"("yes")",
     "spec.volumes[0].persistentVolumeClaim.readOnly", "expected a boolean"},
    {"HostPathRelative", "/spec/volumes/0", R"({"name": "data", "hostPath": {"path": "data"}})",
     "spec.volumes[0].hostPath.path", R"(must be an absolute path (got "data"))"},
    {"HostPathUnknownType", "/spec/volumes/0",
     R"({"name": "data", "hostPath": {"path": "/d", "type": "Dir"}})",
     "spec.volumes[0].hostPath.type",
     R"(unknown value "Dir" (expected one of: DirectoryOrCreate,)"},
    {"EmptyDirMedium", "/spec/volumes/0",
     R"({"name": "data", "emptyDir": {"medium": "HugePages"}})", "spec.volumes[0].emptyDir.medium",
     R"(must be "Memory" or empty)"},
    {"EmptyDirSizeLimit", "/spec/volumes/0",
     R"({"name": "data", "emptyDir": {"sizeLimit": "lots"}})", "spec.volumes[0].emptyDir.sizeLimit",
     "non-negative Kubernetes quantity"},
    {"NfsWithoutServer", "/spec/volumes/0", R"({"name": "data", "nfs": {"path": "/export"}})",
     "spec.volumes[0].nfs.server", "required field is missing"},
    {"NfsServerWithSlash", "/spec/volumes/0",
     R"({"name": "data", "nfs": {"server": "nfs/x", "path": "/export"}})",
     "spec.volumes[0].nfs.server", "must be a host name or address"},
    {"ConfigMapWithoutName", "/spec/volumes/0", R"({"name": "data", "configMap": {}})",
     "spec.volumes[0].configMap.name", "required field is missing"},
    {"SecretName", "/spec/volumes/0", R"({"name": "data", "secret": {"name": "x"}})",
     "spec.volumes[0].secret.name", "unknown field"},
    {"MountsObject", "/spec/workers/volumeMounts", R"({"name": "data"})",
     "spec.workers.volumeMounts", "expected an array"},
    {"MountUnknownVolume", "/spec/workers/volumeMounts/0/name", R"("date")",
     "spec.workers.volumeMounts[0].name",
     R"(no volume named "date" in spec.volumes (did you mean "data"?))"},
    {"PsMountUnknownVolume", "/spec/parameterServers/volumeMounts",
     R"([{"name": "scratch", "mountPath": "/scratch"}])",
     "spec.parameterServers.volumeMounts[0].name", R"(no volume named "scratch" in spec.volumes)"},
    {"MountPathMissing", "/spec/workers/volumeMounts/0", R"({"name": "data"})",
     "spec.workers.volumeMounts[0].mountPath", "required field is missing"},
    {"MountPathRelative", "/spec/workers/volumeMounts/0/mountPath", R"("data")",
     "spec.workers.volumeMounts[0].mountPath", "must be an absolute path"},
    {"MountPathColon", "/spec/workers/volumeMounts/0/mountPath", R"("/data:ro")",
     "spec.workers.volumeMounts[0].mountPath", "must not contain ':'"},
    {"MountOverTheSpec", "/spec/workers/volumeMounts/0/mountPath", R"("/etc/ringtrain")",
     "spec.workers.volumeMounts[0].mountPath", "the operator's"},
    {"MountBelowTheSpec", "/spec/workers/volumeMounts/0/mountPath", R"("/etc/ringtrain/x")",
     "spec.workers.volumeMounts[0].mountPath", "the operator's"},
    {"MountOverTheTerminationLog", "/spec/workers/volumeMounts/0/mountPath",
     R"("/dev/termination-log")", "spec.workers.volumeMounts[0].mountPath", "the operator's"},
    {"MountPathTwice", "/spec/workers/volumeMounts/1", R"({"name": "data", "mountPath": "/data"})",
     "spec.workers.volumeMounts[1].mountPath", R"(another mount of this role is at "/data")"},
    {"SubPathAbsolute", "/spec/workers/volumeMounts/0/subPath", R"("/x")",
     "spec.workers.volumeMounts[0].subPath", "must be a relative path inside the volume"},
    {"SubPathEscapes", "/spec/workers/volumeMounts/0/subPath", R"("a/../../x")",
     "spec.workers.volumeMounts[0].subPath", R"(without "..")"},
    {"HostPathBacksteps", "/spec/volumes/0",
     R"({"name": "data", "hostPath": {"path": "/srv/../etc"}})", "spec.volumes[0].hostPath.path",
     R"(must not contain "..")"},
    {"EmptyDirSizeMinusZero", "/spec/volumes/0",
     R"({"name": "data", "emptyDir": {"sizeLimit": "-0"}})", "spec.volumes[0].emptyDir.sizeLimit",
     "non-negative"},
    {"MountAtRoot", "/spec/workers/volumeMounts/0/mountPath", R"("/")",
     "spec.workers.volumeMounts[0].mountPath", "must be a clean path"},
    {"MountTrailingSlash", "/spec/workers/volumeMounts/0/mountPath", R"("/data/")",
     "spec.workers.volumeMounts[0].mountPath", "must be a clean path"},
    {"MountDoubleSlashOverTheSpec", "/spec/workers/volumeMounts/0/mountPath",
     R"("/etc//ringtrain")", "spec.workers.volumeMounts[0].mountPath", "must be a clean path"},
    {"MountDotElement", "/spec/workers/volumeMounts/0/mountPath", R"("/etc/./ringtrain")",
     "spec.workers.volumeMounts[0].mountPath", "must be a clean path"},
    {"MountTrailingDot", "/spec/workers/volumeMounts/0/mountPath", R"("/etc/ringtrain/.")",
     "spec.workers.volumeMounts[0].mountPath", "must be a clean path"},
    {"MountDotDot", "/spec/workers/volumeMounts/0/mountPath", R"("/x/../etc/ringtrain")",
     "spec.workers.volumeMounts[0].mountPath", "must be a clean path"},
    {"SubPathDotDot", "/spec/workers/volumeMounts/0/subPath", R"("..")",
     "spec.workers.volumeMounts[0].subPath", R"(without "..")"},
    {"MountAtTheParentOfTheSpec", "/spec/workers/volumeMounts/0/mountPath", R"("/etc")",
     "spec.workers.volumeMounts[0].mountPath",
     R"("/etc" would hold the operator's /etc/ringtrain)"},
    {"MountAtTheParentOfTheTerminationLog", "/spec/workers/volumeMounts/0/mountPath", R"("/dev")",
     "spec.workers.volumeMounts[0].mountPath", "would hold the operator's /dev/termination-log"},
    {"NfsServerVerticalTab", "/spec/volumes/0",
     R"({"name": "data", "nfs": {"server": "nfs\u000bx", "path": "/exports"}})",
     "spec.volumes[0].nfs.server", "must be a host name or address"},
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

TEST(ParseErrorBaseTest, AtMost64VolumesAndMountsPerRole) {
  json doc = ValidJob();
  for (int i = 1; i < 65; ++i) {
    doc["spec"]["volumes"].push_back(
        {{"name", "v" + std::to_string(i)}, {"emptyDir", json::object()}});
  }
  StatusOr<TrainingJob> job = ParseTrainingJob(doc);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().message(), "spec.volumes: must have at most 64 items (got 65)");
  doc["spec"]["volumes"].erase(64);
  for (int i = 1; i < 65; ++i) {
    doc["spec"]["workers"]["volumeMounts"].push_back(
        {{"name", "v" + std::to_string(i)}, {"mountPath", "/m" + std::to_string(i)}});
  }
  job = ParseTrainingJob(doc);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().message(),
            "spec.workers.volumeMounts: must have at most 64 items (got 65)");
  doc["spec"]["workers"]["volumeMounts"].erase(64);
  EXPECT_TRUE(ParseTrainingJob(doc).ok());
}

// maxLength counts characters, as the API server does (UTF-8 code points), not bytes: a
// hostPath of 4096 two-byte characters is 8192 bytes and within the limit, one more is not.
TEST(ParseErrorBaseTest, PathLengthsCountCharactersNotBytes) {
  std::string path = "/";
  for (int i = 1; i < 4096; ++i) path += "\xc3\xa9";  // é
  json doc = ValidJob();
  doc["spec"]["volumes"].push_back({{"name", "wide"}, {"hostPath", {{"path", path}}}});
  StatusOr<TrainingJob> job = ParseTrainingJob(doc);
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  doc["spec"]["volumes"].back()["hostPath"]["path"] = path + "\xc3\xa9";
  job = ParseTrainingJob(doc);
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(job.status().message(),
              StartsWith("spec.volumes[1].hostPath.path: must be at most 4096 characters"));
}

TEST(ParseErrorBaseTest, BaseJobIsValid) {
  StatusOr<TrainingJob> job = ParseTrainingJob(ValidJob());
  EXPECT_TRUE(job.ok()) << job.status().ToString();
}

}  // namespace
}  // namespace ringtrain::job

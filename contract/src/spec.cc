#include "ringtrain/job/spec.h"

namespace ringtrain::job {

// Every switch covers all enumerators; the trailing return only silences -Wreturn-type for
// values outside the enum, which a parsed spec never holds.

const char* Name(ModelType v) {
  switch (v) {
    case ModelType::kSoftmax:
      return "softmax";
    case ModelType::kMlp:
      return "mlp";
    case ModelType::kLogistic:
      return "logistic";
    case ModelType::kFm:
      return "fm";
    case ModelType::kDeepFm:
      return "deepfm";
  }
  return "?";
}

const char* Name(DataFormat v) {
  switch (v) {
    case DataFormat::kIdx:
      return "idx";
    case DataFormat::kLibsvm:
      return "libsvm";
    case DataFormat::kCsv:
      return "csv";
    case DataFormat::kCriteo:
      return "criteo";
  }
  return "?";
}

const char* Name(AddressingStyle v) {
  switch (v) {
    case AddressingStyle::kPath:
      return "path";
    case AddressingStyle::kVirtual:
      return "virtual";
  }
  return "?";
}

const char* Name(BadRecordPolicy v) {
  switch (v) {
    case BadRecordPolicy::kFail:
      return "fail";
    case BadRecordPolicy::kSkip:
      return "skip";
  }
  return "?";
}

const char* Name(FeatureType v) {
  switch (v) {
    case FeatureType::kCategorical:
      return "categorical";
    case FeatureType::kNumeric:
      return "numeric";
  }
  return "?";
}

const char* Name(Combiner v) {
  switch (v) {
    case Combiner::kMean:
      return "mean";
    case Combiner::kSum:
      return "sum";
  }
  return "?";
}

const char* Name(Sharding v) {
  switch (v) {
    case Sharding::kRow:
      return "row";
    case Sharding::kDynamic:
      return "dynamic";
    case Sharding::kFeature:
      return "feature";
  }
  return "?";
}

const char* Name(OptimizerType v) {
  switch (v) {
    case OptimizerType::kSgd:
      return "sgd";
    case OptimizerType::kMomentum:
      return "momentum";
    case OptimizerType::kNesterov:
      return "nesterov";
    case OptimizerType::kAdagrad:
      return "adagrad";
    case OptimizerType::kAdam:
      return "adam";
    case OptimizerType::kFtrl:
      return "ftrl";
  }
  return "?";
}

const char* Name(ScheduleType v) {
  switch (v) {
    case ScheduleType::kConstant:
      return "constant";
    case ScheduleType::kCosine:
      return "cosine";
    case ScheduleType::kStep:
      return "step";
  }
  return "?";
}

const char* Name(CompressionType v) {
  switch (v) {
    case CompressionType::kNone:
      return "none";
    case CompressionType::kFp16:
      return "fp16";
    case CompressionType::kInt8:
      return "int8";
    case CompressionType::kOneBit:
      return "onebit";
    case CompressionType::kTopK:
      return "topk";
  }
  return "?";
}

const char* Name(SyncMode v) {
  switch (v) {
    case SyncMode::kSync:
      return "sync";
    case SyncMode::kAsync:
      return "async";
    case SyncMode::kSsp:
      return "ssp";
  }
  return "?";
}

const char* Name(RestartPolicy v) {
  switch (v) {
    case RestartPolicy::kNever:
      return "Never";
    case RestartPolicy::kOnFailure:
      return "OnFailure";
    case RestartPolicy::kExitCode:
      return "ExitCode";
  }
  return "?";
}

const char* Name(CleanPodPolicy v) {
  switch (v) {
    case CleanPodPolicy::kAll:
      return "All";
    case CleanPodPolicy::kRunning:
      return "Running";
    case CleanPodPolicy::kNone:
      return "None";
  }
  return "?";
}

const char* Name(Authentication v) {
  switch (v) {
    case Authentication::kCurve:
      return "curve";
    case Authentication::kNone:
      return "none";
  }
  return "?";
}

int64_t GlobalBatchSize(const TrainingJobSpec& spec) {
  const int64_t batch = spec.training.batch_size;
  return spec.dataset.sharding == Sharding::kFeature ? batch : batch * spec.workers.replicas;
}

bool IsObjectStoreLocation(std::string_view location) { return location.starts_with("s3://"); }

int WorkersPerExample(const TrainingJobSpec& spec) {
  return spec.dataset.sharding == Sharding::kFeature ? spec.workers.replicas : 1;
}

}  // namespace ringtrain::job

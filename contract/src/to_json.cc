// ToJson: the inverse of ParseTrainingJob. Field names and the variant rules (which fields a
// given type admits) must match parse.cc and parse_training.cc; the round-trip test checks it.
#include "ringtrain/job/parse.h"

namespace ringtrain::job {

nlohmann::json VolumeMountToJson(const VolumeMountSpec& m) {
  nlohmann::json out = {{"name", m.name}, {"mountPath", m.mount_path}};
  if (!m.sub_path.empty()) out["subPath"] = m.sub_path;
  if (m.read_only) out["readOnly"] = true;
  return out;
}

namespace {

using nlohmann::json;

json DataFilesToJson(const DataFiles& f) { return {{"images", f.images}, {"labels", f.labels}}; }

json ModelToJson(const ModelSpec& m) {
  json out = {{"type", Name(m.type)}};
  if (m.type == ModelType::kMlp) out["hiddenLayers"] = m.hidden_layers;
  return out;
}

json DatasetToJson(const DatasetSpec& d) {
  json out = {{"format", Name(d.format)},
              {"train", DataFilesToJson(d.train)},
              {"sharding", Name(d.sharding)},
              {"shuffle", d.shuffle}};
  if (d.test) out["test"] = DataFilesToJson(*d.test);
  return out;
}

json OptimizerToJson(const OptimizerSpec& o) {
  json out = {
      {"type", Name(o.type)}, {"learningRate", o.learning_rate}, {"weightDecay", o.weight_decay}};
  if (o.type == OptimizerType::kMomentum || o.type == OptimizerType::kNesterov) {
    out["momentum"] = o.momentum;
  }
  if (o.type == OptimizerType::kAdam) {
    out["beta1"] = o.beta1;
    out["beta2"] = o.beta2;
  }
  if (o.type == OptimizerType::kAdam || o.type == OptimizerType::kAdagrad) {
    out["epsilon"] = o.epsilon;
  }
  if (o.scale_learning_rate) {
    out["scaleLearningRate"] = {
        {"referenceBatchSize", o.scale_learning_rate->reference_batch_size}};
  }
  return out;
}

json ScheduleToJson(const ScheduleSpec& s) {
  json out = {{"type", Name(s.type)}, {"warmupSteps", s.warmup_steps}};
  if (s.type == ScheduleType::kStep) {
    out["stepSize"] = s.step_size;
    out["gamma"] = s.gamma;
  }
  if (s.type == ScheduleType::kCosine) out["minLearningRate"] = s.min_learning_rate;
  return out;
}

json CompressionToJson(const CompressionSpec& c) {
  json out = {{"type", Name(c.type)}};
  if (c.type == CompressionType::kTopK) {
    out["ratio"] = c.ratio;
    out["warmupSteps"] = c.warmup_steps;
  }
  if (c.type == CompressionType::kInt8 || c.type == CompressionType::kOneBit) {
    out["block"] = c.block;
  }
  if (c.type != CompressionType::kNone) out["errorFeedback"] = c.error_feedback;
  return out;
}

json TrainingToJson(const TrainingSpec& t) {
  json out = {{"epochs", t.epochs},
              {"batchSize", t.batch_size},
              {"syncMode", Name(t.sync_mode)},
              {"seed", t.seed},
              {"optimizer", OptimizerToJson(t.optimizer)},
              {"schedule", ScheduleToJson(t.schedule)},
              {"compression", CompressionToJson(t.compression)}};
  if (t.sync_mode == SyncMode::kSsp) out["staleness"] = t.staleness;
  if (t.sync_mode == SyncMode::kAsync || t.sync_mode == SyncMode::kSsp) {
    out["stalenessAwareLR"] = t.staleness_aware_lr;
  }
  return out;
}

json ResourcesToJson(const ResourceRequirements& r) {
  json out = json::object();
  if (!r.requests.empty()) out["requests"] = r.requests;
  if (!r.limits.empty()) out["limits"] = r.limits;
  return out;
}

json ReplicaToJson(const ReplicaSpec& r) {
  json out = {{"replicas", r.replicas}, {"resources", ResourcesToJson(r.resources)}};
  if (!r.image.empty()) out["image"] = r.image;
  // Absent when empty, so the spec hash of jobs without mounts stays what it was.
  if (!r.volume_mounts.empty()) {
    out["volumeMounts"] = json::array();
    for (const VolumeMountSpec& m : r.volume_mounts)
      out["volumeMounts"].push_back(VolumeMountToJson(m));
  }
  return out;
}

json RunPolicyToJson(const RunPolicy& p) {
  json out = {{"restartPolicy", Name(p.restart_policy)},
              {"backoffLimit", p.backoff_limit},
              {"cleanPodPolicy", Name(p.clean_pod_policy)},
              {"suspend", p.suspend}};
  if (p.active_deadline_seconds) out["activeDeadlineSeconds"] = *p.active_deadline_seconds;
  if (p.ttl_seconds_after_finished) {
    out["ttlSecondsAfterFinished"] = *p.ttl_seconds_after_finished;
  }
  return out;
}

json MetadataToJson(const ObjectMeta& m) {
  json out = {{"name", m.name}, {"namespace", m.namespace_}};
  if (!m.labels.empty()) out["labels"] = m.labels;
  if (!m.annotations.empty()) out["annotations"] = m.annotations;
  return out;
}

}  // namespace

json VolumeToJson(const VolumeSpec& v) {
  json source = json::object();
  const char* key = "emptyDir";
  switch (v.kind) {
    case VolumeSourceKind::kPersistentVolumeClaim:
      key = "persistentVolumeClaim";
      source["claimName"] = v.source_name;
      if (v.read_only) source["readOnly"] = true;
      break;
    case VolumeSourceKind::kHostPath:
      key = "hostPath";
      source["path"] = v.source_name;
      if (!v.host_path_type.empty()) source["type"] = v.host_path_type;
      break;
    case VolumeSourceKind::kEmptyDir:
      key = "emptyDir";
      if (!v.medium.empty()) source["medium"] = v.medium;
      if (!v.size_limit.empty()) source["sizeLimit"] = v.size_limit;
      break;
    case VolumeSourceKind::kNfs:
      key = "nfs";
      source["server"] = v.server;
      source["path"] = v.source_name;
      if (v.read_only) source["readOnly"] = true;
      break;
    case VolumeSourceKind::kConfigMap:
      key = "configMap";
      source["name"] = v.source_name;
      if (v.optional) source["optional"] = true;
      break;
    case VolumeSourceKind::kSecret:
      key = "secret";
      source["secretName"] = v.source_name;
      if (v.optional) source["optional"] = true;
      break;
  }
  return {{"name", v.name}, {key, std::move(source)}};
}

json ToJson(const TrainingJob& job) {
  const TrainingJobSpec& s = job.spec;
  json spec = {{"model", ModelToJson(s.model)},
               {"dataset", DatasetToJson(s.dataset)},
               {"training", TrainingToJson(s.training)},
               {"parameterServers", ReplicaToJson(s.parameter_servers)},
               {"workers", ReplicaToJson(s.workers)},
               {"runPolicy", RunPolicyToJson(s.run_policy)}};
  spec["parameterServers"]["partitionSize"] = s.parameter_servers.partition_size;
  if (!s.image.empty()) spec["image"] = s.image;
  if (!s.volumes.empty()) {
    spec["volumes"] = json::array();
    for (const VolumeSpec& v : s.volumes) spec["volumes"].push_back(VolumeToJson(v));
  }
  return {{"apiVersion", job.api_version},
          {"kind", job.kind},
          {"metadata", MetadataToJson(job.metadata)},
          {"spec", std::move(spec)}};
}

}  // namespace ringtrain::job

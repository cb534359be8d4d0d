#include "ringtrain/operator/resources.h"

#include <cstdio>

#include "ringtrain/common/hash.h"
#include "ringtrain/job/parse.h"
#include "ringtrain/operator/names.h"

namespace ringtrain::op {

namespace {

nlohmann::json OwnerReference(const JobView& view) {
  return {{"apiVersion", job::kApiVersion},
          {"kind", job::kKind},
          {"name", view.name},
          {"uid", view.uid},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

nlohmann::json BaseLabels(const JobView& view) {
  return {{kLabelJobName, view.name}, {kLabelManagedBy, kManagedBy}};
}

nlohmann::json Metadata(const JobView& view, const std::string& name, nlohmann::json labels) {
  return {{"name", name},
          {"namespace", view.ns},
          {"labels", std::move(labels)},
          {"ownerReferences", nlohmann::json::array({OwnerReference(view)})}};
}

nlohmann::json Resources(const job::ResourceRequirements& r) {
  nlohmann::json out = nlohmann::json::object();
  if (!r.requests.empty()) out["requests"] = r.requests;
  if (!r.limits.empty()) out["limits"] = r.limits;
  return out;
}

// Workers read the data: spec.dataset.storage as the environment AWS's tools read, the
// credentials by reference to the Secret the spec names (the kubelet resolves them; the
// operator never reads the Secret, and they are never in the ConfigMap).
void AppendStorageEnv(const job::DatasetSpec& dataset, nlohmann::json* env) {
  if (!dataset.storage.has_value()) return;
  const job::StorageSpec& s = *dataset.storage;
  if (!s.endpoint.empty()) {
    env->push_back({{"name", "AWS_ENDPOINT_URL_S3"}, {"value", s.endpoint}});
    env->push_back({{"name", "AWS_S3_ADDRESSING_STYLE"}, {"value", job::Name(s.addressing_style)}});
  }
  if (!s.region.empty()) env->push_back({{"name", "AWS_REGION"}, {"value", s.region}});
  if (s.credentials_secret.empty()) return;
  for (const char* key : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
    nlohmann::json ref = {{"name", s.credentials_secret}, {"key", key}};
    // Temporary credentials only: a Secret without a session token is complete.
    if (std::string(key) == "AWS_SESSION_TOKEN") ref["optional"] = true;
    env->push_back({{"name", key}, {"valueFrom", {{"secretKeyRef", std::move(ref)}}}});
  }
}

}  // namespace

std::string SpecHash(const job::TrainingJob& job) {
  nlohmann::json j = job::ToJson(job);
  // runPolicy applies to a running job; everything else shapes its pods.
  j["spec"].erase("runPolicy");
  j.erase("status");
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(Hash64(j["spec"].dump())));
  return buf;
}

std::string ConfigMapName(const std::string& job_name) { return job_name + "-spec"; }

nlohmann::json BuildConfigMap(const JobView& view, const job::TrainingJob& job,
                              const JobKeyFiles* keys) {
  nlohmann::json labels = BaseLabels(view);
  labels[kLabelSpecHash] = SpecHash(job);
  // The whole job: the runtime reads it, and the controller reads it back as the job the pods
  // were made for (JobFromConfigMap), so it must hash as `job` does, volumes included.
  nlohmann::json data = {{kSpecFileName, job::ToJson(job).dump(2)}};
  if (keys != nullptr) data[kPublicKeysFileName] = keys->public_keys;
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", Metadata(view, ConfigMapName(view.name), labels)},
          {"data", std::move(data)}};
}

nlohmann::json BuildKeySecret(const JobView& view, const job::TrainingJob& job,
                              const JobKeyFiles& keys) {
  // stringData: the API server stores it base64-encoded under data.
  nlohmann::json data = nlohmann::json::object();
  for (const auto& [file, secret] : keys.secrets) data[file] = secret;
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "Opaque"},
          {"metadata",
           Metadata(view,
                    JobKeySecretName(view.name, view.uid, job.spec.parameter_servers.replicas,
                                     job.spec.workers.replicas),
                    BaseLabels(view))},
          {"stringData", std::move(data)}};
}

std::string NetworkPolicyName(const std::string& job_name) { return job_name + "-network"; }

nlohmann::json BuildNetworkPolicy(const JobView& view, const ResourceOptions& options) {
  const nlohmann::json job_pods = {
      {"podSelector", {{"matchLabels", {{kLabelJobName, view.name}}}}}};
  auto port = [](int p) { return nlohmann::json{{"protocol", "TCP"}, {"port", p}}; };
  nlohmann::json ingress = nlohmann::json::array();
  ingress.push_back({{"from", nlohmann::json::array({job_pods})},
                     {"ports", nlohmann::json::array({port(options.ps_port)})}});
  if (!options.operator_pod_labels.empty()) {
    nlohmann::json peer = {{"podSelector", {{"matchLabels", options.operator_pod_labels}}}};
    if (!options.operator_namespace.empty()) {
      peer["namespaceSelector"] = {
          {"matchLabels", {{"kubernetes.io/metadata.name", options.operator_namespace}}}};
    }
    ingress.push_back(
        {{"from", nlohmann::json::array({peer})},
         {"ports", nlohmann::json::array({port(options.ps_port), port(options.status_port),
                                          port(options.ps_status_port)})}});
  }
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", Metadata(view, NetworkPolicyName(view.name), BaseLabels(view))},
          {"spec",
           {{"podSelector", {{"matchLabels", {{kLabelJobName, view.name}}}}},
            {"policyTypes", {"Ingress"}},
            {"ingress", std::move(ingress)}}}};
}

nlohmann::json BuildService(const JobView& view, job::Role role, const ResourceOptions& options) {
  nlohmann::json labels = BaseLabels(view);
  labels[kLabelRole] = job::Name(role);
  nlohmann::json spec = {{"clusterIP", "None"},
                         // Peers must resolve before they are ready: workers connect to servers
                         // that are still starting, and ZeroMQ reconnects on its own.
                         {"publishNotReadyAddresses", true},
                         {"selector", labels}};
  if (role == job::Role::kParameterServer) {
    spec["ports"] = {{{"name", "ps"}, {"port", options.ps_port}, {"protocol", "TCP"}}};
  } else {
    spec["ports"] = nlohmann::json::array();
  }
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", Metadata(view, ServiceName(view.name, role), labels)},
          {"spec", spec}};
}

nlohmann::json BuildPod(const JobView& view, const job::TrainingJob& job, job::Role role, int index,
                        const ResourceOptions& options) {
  const job::TrainingJobSpec& spec = job.spec;
  job::Placement placement;
  for (int i = 0; i < spec.parameter_servers.replicas; ++i) {
    placement.ps_endpoints.push_back(PsEndpointInCluster(view.name, view.ns, i, options.ps_port));
  }
  placement.ps_bind = "tcp://*:" + std::to_string(options.ps_port);
  placement.spec_path = std::string(job::kSpecMountDir) + "/" + kSpecFileName;
  placement.control_endpoint = options.control_endpoint;
  placement.status_bind = "tcp://*:" + std::to_string(options.status_port);
  placement.ps_status_bind = "tcp://*:" + std::to_string(options.ps_status_port);
  placement.termination_log = job::kTerminationLogPath;
  const bool authenticated = spec.security.authentication == job::Authentication::kCurve;
  if (authenticated) {
    placement.public_keys_path = std::string(job::kSpecMountDir) + "/" + kPublicKeysFileName;
    placement.secret_key_dir = job::kSpecMountDir;
  }
  const job::PodContract c = job::ContractFor(job, role, index, placement);

  const job::ReplicaSpec& replica =
      role == job::Role::kParameterServer
          ? static_cast<const job::ReplicaSpec&>(spec.parameter_servers)
          : spec.workers;
  std::string image = !replica.image.empty() ? replica.image
                      : !spec.image.empty()  ? spec.image
                                             : options.default_runtime_image;

  nlohmann::json env = nlohmann::json::array();
  for (const auto& [k, v] : job::ToEnv(c)) env.push_back({{"name", k}, {"value", v}});
  // Workers read the data (and worker 0 writes the model); servers write checkpoints, which
  // may be in the object store too.
  const bool checkpoints_in_store =
      spec.checkpoint.has_value() && job::IsObjectStoreLocation(spec.checkpoint->path);
  if (role == job::Role::kWorker || checkpoints_in_store) AppendStorageEnv(spec.dataset, &env);

  // The spec's volume, then those of spec.volumes this role mounts (in spec.volumes order).
  nlohmann::json mounts = {
      {{"name", job::kSpecVolumeName}, {"mountPath", job::kSpecMountDir}, {"readOnly", true}}};
  nlohmann::json volumes = {
      {{"name", job::kSpecVolumeName}, {"configMap", {{"name", ConfigMapName(view.name)}}}}};
  if (authenticated) {
    // The spec's directory also holds the public keys (from the ConfigMap) and this pod's own
    // secret key alone (one item of the job's Secret): one projected volume, its files
    // readable by the pod's group (fsGroup below) and nobody else.
    const std::string file = job::SecretKeyFileName(role, index);
    nlohmann::json secret = {
        {"name", JobKeySecretName(view.name, view.uid, spec.parameter_servers.replicas,
                                  spec.workers.replicas)},
        {"items", nlohmann::json::array({{{"key", file}, {"path", file}}})}};
    nlohmann::json sources = nlohmann::json::array(
        {{{"configMap", {{"name", ConfigMapName(view.name)}}}}, {{"secret", std::move(secret)}}});
    volumes[0] = {{"name", job::kSpecVolumeName},
                  {"projected", {{"defaultMode", 0440}, {"sources", std::move(sources)}}}};
  }
  for (const job::VolumeMountSpec& m : replica.volume_mounts) {
    mounts.push_back(job::VolumeMountToJson(m));
  }
  for (const job::VolumeSpec& v : spec.volumes) {
    for (const job::VolumeMountSpec& m : replica.volume_mounts) {
      if (m.name != v.name) continue;
      volumes.push_back(job::VolumeToJson(v));
      break;
    }
  }

  nlohmann::json container = {
      {"name", job::Name(role)},
      {"image", image},
      {"args", job::ProcessArgs(role)},
      {"env", env},
      {"resources", Resources(replica.resources)},
      {"volumeMounts", std::move(mounts)},
      {"terminationMessagePath", job::kTerminationLogPath},
      // What Pod Security "restricted" asks for: training needs no privilege.
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"runAsNonRoot", true},
        {"capabilities", {{"drop", {"ALL"}}}},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      // A process that dies before writing its last words leaves its log's tail instead.
      {"terminationMessagePolicy", "FallbackToLogsOnError"}};
  const bool server = role == job::Role::kParameterServer;
  nlohmann::json ports = nlohmann::json::array();
  if (server) {
    ports.push_back({{"name", "ps"}, {"containerPort", options.ps_port}, {"protocol", "TCP"}});
  }
  if (!c.status_bind.empty()) {
    // Worker 0: its progress; a server: its last checkpoint.
    ports.push_back({{"name", "status"},
                     {"containerPort", server ? options.ps_status_port : options.status_port},
                     {"protocol", "TCP"}});
  }
  if (!ports.empty()) container["ports"] = std::move(ports);

  nlohmann::json labels = BaseLabels(view);
  labels[kLabelRole] = job::Name(role);
  labels[kLabelIndex] = std::to_string(index);
  labels[kLabelSpecHash] = SpecHash(job);
  const std::string name = PodName(view.name, role, index);
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", Metadata(view, name, labels)},
          {"spec",
           {{"hostname", name},
            {"subdomain", ServiceName(view.name, role)},
            // The operator decides about restarts (restartPolicy, backoffLimit, exit codes).
            {"restartPolicy", "Never"},
            // Training needs no Kubernetes API: the operator pulls progress from worker 0.
            {"automountServiceAccountToken", false},
            // The image's user (images/runtime.Dockerfile): files of mounted Secrets are its
            // group's, so the process reads its key and nobody else can.
            {"securityContext", {{"fsGroup", kRuntimeGroup}}},
            {"containers", {container}},
            {"volumes", std::move(volumes)}}}};
}

}  // namespace ringtrain::op

#include "control_plane.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <vector>

#include "ringtrain/operator/kube/kubeconfig.h"

namespace ringtrain::testing {

namespace {

const std::string kScripts = RINGTRAIN_SOURCE_DIR "/tests/controlplane";

}  // namespace

std::unique_ptr<SharedControlPlane> SharedControlPlane::Start(
    const op::kube::ClientOptions& options, bool with_controller_manager) {
  auto shared = std::make_unique<SharedControlPlane>();
  const auto start = std::chrono::steady_clock::now();
  StatusOr<std::unique_ptr<ControlPlane>> cp = ControlPlane::Start(with_controller_manager);
  if (!cp.ok()) {
    shared->error = cp.status().ToString();
    return shared;
  }
  shared->cp = std::move(cp).value();
  std::fprintf(stderr, "control plane started in %.1f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  StatusOr<std::unique_ptr<op::kube::RestClient>> client = shared->cp->Client(options);
  if (!client.ok()) {
    shared->error = "RestClient: " + client.status().ToString();
    return shared;
  }
  shared->client = std::move(client).value();
  return shared;
}

StatusOr<std::string> CreateTestNamespace(op::kube::KubeClient& client, const std::string& prefix,
                                          const std::string& test_name) {
  std::string name = prefix;
  for (char c : test_name) {
    name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  name = name.substr(0, 63);
  const op::kube::Resource namespaces{"", "v1", "namespaces", false};
  StatusOr<nlohmann::json> created =
      client.Create(namespaces, "", {{"metadata", {{"name", name}}}});
  if (!created.ok()) return created.status();
  return name;
}

StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Start(bool with_controller_manager) {
  char tmpl[] = "/tmp/ringtrain-cp.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Internal("mkdtemp failed");
  const std::string dir = tmpl;
  StopWhenThisProcessEnds(kScripts + "/stop.sh", dir);
  const std::string log = dir + "/controlplane.out";
  CommandResult r =
      RunCommand("bash " + kScripts + "/start.sh " +
                 (with_controller_manager ? "--with-controller-manager " : "") + dir + " >>" + log);
  if (r.exit_code != 0) {
    return Unavailable("the control plane did not start (tests/controlplane/start.sh " + dir +
                       "); build its binaries with tests/controlplane/build.sh. Output:\n" +
                       TailFile(log));
  }
  return std::unique_ptr<ControlPlane>(new ControlPlane(dir));
}

ControlPlane::~ControlPlane() {
  CommandResult r = RunCommand("bash " + kScripts + "/stop.sh " + dir_);
  if (r.exit_code == 0) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  } else {
    std::fprintf(stderr, "stop.sh %s failed; left it in place:\n%s\n", dir_.c_str(),
                 r.output.c_str());
  }
}

std::string ControlPlane::bin() const {
  // start.sh writes the bin dir into DIR/env as RINGTRAIN_CONTROLPLANE_BIN.
  CommandResult r =
      RunCommand("bash -c " + ShellQuote("source " + dir_ +
                                         "/env && printf %s \"$RINGTRAIN_CONTROLPLANE_BIN\""));
  return r.output;
}

CommandResult ControlPlane::Kubectl(const std::string& args) const {
  return RunCommand("KUBECONFIG=" + ShellQuote(kubeconfig()) + " " +
                    ShellQuote(bin() + "/kubectl") + " " + args);
}

Status ControlPlane::RestartApiServer(const std::string& mode) const {
  CommandResult r = RunCommand("bash " + kScripts + "/restart-apiserver.sh " + dir_ + " " + mode);
  if (r.exit_code != 0) return Unavailable("restart-apiserver.sh " + mode + ": " + r.output);
  return Status::Ok();
}

Status ControlPlane::InstallCrd() const {
  CommandResult r = Kubectl("apply -f " + ShellQuote(std::string(RINGTRAIN_SOURCE_DIR) +
                                                     "/crds/ringtrain.io_trainingjobs.yaml"));
  if (r.exit_code != 0) return Unavailable("installing the CRD: " + r.output);
  // Polls (lib.sh's cp_wait_condition) rather than `kubectl wait`, which fails at once while
  // the new CRD's .status.conditions is still null.
  const std::string wait = "source " + ShellQuote(kScripts + "/lib.sh") +
                           " && cp_wait_condition 60 Established " +
                           ShellQuote(bin() + "/kubectl") + " --kubeconfig " +
                           ShellQuote(kubeconfig()) + " get crd/trainingjobs.ringtrain.io";
  r = RunCommand("bash -c " + ShellQuote(wait));
  if (r.exit_code != 0) return Unavailable("installing the CRD: " + r.output);
  return Status::Ok();
}

StatusOr<std::unique_ptr<op::kube::RestClient>> ControlPlane::Client(
    const op::kube::ClientOptions& options) const {
  StatusOr<op::kube::ClusterConfig> config = op::kube::LoadKubeconfig(kubeconfig());
  if (!config.ok()) return config.status();
  return op::kube::RestClient::Make(*config, options);
}

}  // namespace ringtrain::testing

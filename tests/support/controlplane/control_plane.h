// ControlPlane: a real etcd + kube-apiserver (optionally kube-controller-manager) on 127.0.0.1
// for one test executable, started by tests/controlplane/start.sh from the cached binaries
// (tests/controlplane/build.sh builds them), stopped and removed when destroyed. If the test
// process dies first (a crash, a sanitizer abort), a detached guard stops it and removes its
// directory.
//
// Thread-safety: Kubectl and Client may be called from any thread; Restart by one thread.
#ifndef RINGTRAIN_TESTS_SUPPORT_CONTROLPLANE_CONTROL_PLANE_H_
#define RINGTRAIN_TESTS_SUPPORT_CONTROLPLANE_CONTROL_PLANE_H_

#include <memory>
#include <string>

#include "command.h"
#include "ringtrain/common/status.h"
#include "ringtrain/operator/kube/rest_client.h"

namespace ringtrain::testing {

class ControlPlane {
 public:
  // Unavailable with the start script's output tail if it does not come up.
  static StatusOr<std::unique_ptr<ControlPlane>> Start(bool with_controller_manager = false);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  const std::string& dir() const { return dir_; }
  std::string kubeconfig() const { return dir_ + "/kubeconfig"; }
  // The directory of kube-apiserver, kubectl, helm, ...
  std::string bin() const;

  // `kubectl <args>` against this control plane.
  CommandResult Kubectl(const std::string& args) const;
  // tests/controlplane/restart-apiserver.sh DIR <mode>: restart | stop | start | crash.
  Status RestartApiServer(const std::string& mode = "restart") const;
  // kubectl apply of the repository's CRD, then waits (polling, at most 60 s) until it is
  // Established.
  Status InstallCrd() const;

  // A RestClient for the admin user of the kubeconfig.
  StatusOr<std::unique_ptr<op::kube::RestClient>> Client(
      const op::kube::ClientOptions& options) const;

 private:
  explicit ControlPlane(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// What a test suite shares across its tests: one control plane and one client for it, made in
// SetUpTestSuite and deleted in TearDownTestSuite (which stops the control plane).
struct SharedControlPlane {
  // Starts the control plane (logging to stderr how long that took) and a client with
  // `options`. Never null; if either fails, `error` says why and what failed is null.
  static std::unique_ptr<SharedControlPlane> Start(const op::kube::ClientOptions& options,
                                                   bool with_controller_manager = false);

  std::unique_ptr<ControlPlane> cp;
  std::unique_ptr<op::kube::RestClient> client;  // destroyed before cp
  std::string error;                             // empty if both are up
};

// Creates the namespace "<prefix><test_name in lower case>", cut to 63 characters (a DNS label),
// through `client` and returns its name; the create's error if that fails (AlreadyExists if it
// is there already). For a namespace per test, a fixture's SetUp passes the gtest test name,
// ::testing::UnitTest::GetInstance()->current_test_info()->name().
StatusOr<std::string> CreateTestNamespace(op::kube::KubeClient& client, const std::string& prefix,
                                          const std::string& test_name);

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_CONTROLPLANE_CONTROL_PLANE_H_

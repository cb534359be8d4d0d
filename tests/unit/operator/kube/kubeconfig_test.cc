#include "ringtrain/operator/kube/kubeconfig.h"

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "test_pem.h"

namespace ringtrain::op::kube {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ringtrain-kubeconfig-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

constexpr char kTwoContexts[] = R"(apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443/
    insecure-skip-tls-verify: true
- name: test
  cluster:
    server: https://127.0.0.1:8443
users:
- name: alice
  user:
    token: alice-token
- name: bob
  user:
    token: bob-token
contexts:
- name: prod-ctx
  context: {cluster: prod, user: alice, namespace: team-a}
- name: test-ctx
  context: {cluster: test, user: bob}
current-context: prod-ctx
)";

TEST_F(KubeconfigTest, CurrentContextWithTokenAndNamespace) {
  auto config = LoadKubeconfig(Write("config", kTwoContexts));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://prod.example:6443");  // trailing slash dropped
  EXPECT_EQ(config->token, "alice-token");
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->default_namespace, "team-a");
  EXPECT_TRUE(config->ca_pem.empty());
  EXPECT_THAT(config->source, HasSubstr("prod-ctx"));
}

TEST_F(KubeconfigTest, ExplicitContextOverridesCurrentContext) {
  auto config = LoadKubeconfig(Write("config", kTwoContexts), "test-ctx");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://127.0.0.1:8443");
  EXPECT_EQ(config->token, "bob-token");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->default_namespace, "default");
}

TEST_F(KubeconfigTest, UnknownContextIsNamed) {
  auto config = LoadKubeconfig(Write("config", kTwoContexts), "nope");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("no context named \"nope\""));
}

TEST_F(KubeconfigTest, ClientCertificateDataIsDecoded) {
  const std::string text = std::string(R"(clusters:
- name: c
  cluster:
    server: https://10.0.0.1
    certificate-authority-data: )") +
                           Base64(testing::kTestCertPem) + R"(
users:
- name: u
  user:
    client-certificate-data: )" +
                           Base64(testing::kTestCertPem) + R"(
    client-key-data: )" + Base64(testing::kTestKeyPem) +
                           R"(
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)";
  auto config = LoadKubeconfig(Write("config", text));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->ca_pem, testing::kTestCertPem);
  EXPECT_EQ(config->client_cert_pem, testing::kTestCertPem);
  EXPECT_EQ(config->client_key_pem, testing::kTestKeyPem);
  EXPECT_TRUE(config->token.empty());
}

TEST_F(KubeconfigTest, RelativeFilesAreResolvedAgainstTheKubeconfigDirectory) {
  Write("sub/pki/ca.crt", testing::kTestCertPem);
  Write("sub/pki/client.crt", "CERT");
  Write("sub/pki/client.key", "KEY");
  Write("sub/token", "file-token\n");
  const std::string path = Write("sub/config", R"(clusters:
- name: c
  cluster: {server: "https://h:1", certificate-authority: pki/ca.crt}
users:
- name: u
  user:
    client-certificate: pki/client.crt
    client-key: pki/client.key
    tokenFile: token
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)");
  auto config = LoadKubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->ca_pem, testing::kTestCertPem);
  EXPECT_EQ(config->client_cert_pem, "CERT");
  EXPECT_EQ(config->client_key_pem, "KEY");
  EXPECT_EQ(config->token_file, (dir_ / "sub/token").string());
}

TEST_F(KubeconfigTest, AbsoluteFilesAreUsedAsIs) {
  const std::string ca = Write("elsewhere/ca.crt", testing::kTestCertPem);
  auto config = LoadKubeconfig(Write("config", R"(clusters:
- name: c
  cluster: {server: "https://h:1", certificate-authority: )" +
                                                   ca + R"(}
contexts:
- name: x
  context: {cluster: c}
current-context: x
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->ca_pem, testing::kTestCertPem);
  EXPECT_TRUE(config->token.empty());
}

// Each malformed kubeconfig must fail with an error naming the offending field.
struct ErrorCase {
  const char* name;
  std::string text;
  StatusCode code;
  std::string expected;  // substring of the message
};

std::string WithUser(const std::string& user_body) {
  return "clusters:\n- name: c\n  cluster: {server: \"https://h:1\"}\n"
         "users:\n- name: u\n  user:\n" +
         user_body + "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
}

std::string WithCluster(const std::string& cluster_body) {
  return "clusters:\n- name: c\n  cluster:\n" + cluster_body +
         "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
}

class KubeconfigErrorTest : public KubeconfigTest,
                            public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(KubeconfigErrorTest, NamesTheField) {
  const ErrorCase& c = GetParam();
  const std::string path = Write("config", c.text);
  auto config = LoadKubeconfig(path);
  ASSERT_FALSE(config.ok()) << c.name;
  EXPECT_EQ(config.status().code(), c.code) << config.status().ToString();
  EXPECT_THAT(config.status().message(), HasSubstr(c.expected));
  EXPECT_THAT(config.status().message(), HasSubstr(path));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, KubeconfigErrorTest,
    ::testing::Values(
        ErrorCase{"BadBase64", WithUser("    client-key-data: '!!notbase64'\n"),
                  StatusCode::kInvalidArgument, "users[0].user.client-key-data: not valid base64"},
        ErrorCase{"BadCaBase64",
                  WithCluster("    server: https://h\n"
                              "    certificate-authority-data: abc\n"),
                  StatusCode::kInvalidArgument,
                  "clusters[0].cluster.certificate-authority-data: not valid base64"},
        ErrorCase{"MissingServer", WithCluster("    insecure-skip-tls-verify: true\n"),
                  StatusCode::kInvalidArgument, "clusters[0].cluster.server: must be set"},
        ErrorCase{"ServerNotUrl", WithCluster("    server: h:6443\n"), StatusCode::kInvalidArgument,
                  "clusters[0].cluster.server: must start with"},
        ErrorCase{"InsecureNotBool",
                  WithCluster("    server: https://h\n"
                              "    insecure-skip-tls-verify: maybe\n"),
                  StatusCode::kInvalidArgument,
                  "clusters[0].cluster.insecure-skip-tls-verify: must be true or false"},
        ErrorCase{"TokenNotString", WithUser("    token: [a, b]\n"), StatusCode::kInvalidArgument,
                  "users[0].user.token: must be a string"},
        ErrorCase{"MissingCaFile",
                  WithCluster("    server: https://h\n"
                              "    certificate-authority: nope/ca.crt\n"),
                  StatusCode::kNotFound, "clusters[0].cluster.certificate-authority: cannot read"},
        ErrorCase{"MissingTokenFile", WithUser("    tokenFile: missing-token\n"),
                  StatusCode::kNotFound, "users[0].user.tokenFile: cannot read"},
        ErrorCase{"CertWithoutKey",
                  WithUser("    client-certificate-data: " + Base64("CERT") + "\n"),
                  StatusCode::kInvalidArgument,
                  "users[0].user.client-key: must be set together with client-certificate"},
        ErrorCase{"ExecPlugin", WithUser("    exec: {command: aws}\n"), StatusCode::kUnimplemented,
                  "users[0].user.exec: not supported"},
        ErrorCase{"UnknownUser",
                  "clusters:\n- name: c\n  cluster: {server: \"https://h\"}\n"
                  "contexts:\n- name: x\n  context: {cluster: c, user: ghost}\n"
                  "current-context: x\n",
                  StatusCode::kInvalidArgument,
                  "contexts[0].context.user: no user named \"ghost\""},
        ErrorCase{"UnknownCluster",
                  "contexts:\n- name: x\n  context: {cluster: gone}\ncurrent-context: x\n",
                  StatusCode::kInvalidArgument,
                  "contexts[0].context.cluster: no cluster named \"gone\""},
        ErrorCase{"ContextNotMapping", "contexts:\n- name: x\n  context: 3\ncurrent-context: x\n",
                  StatusCode::kInvalidArgument, "contexts[0].context: must be a mapping"},
        ErrorCase{"ClustersNotList",
                  "clusters: {}\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                  "current-context: x\n",
                  StatusCode::kInvalidArgument, "clusters: must be a list"},
        ErrorCase{"NoCurrentContext", "clusters: []\n", StatusCode::kInvalidArgument,
                  "current-context: not set"},
        ErrorCase{"NotYaml", "clusters: [\n", StatusCode::kInvalidArgument, "not valid YAML"}),
    [](const ::testing::TestParamInfo<ErrorCase>& p) { return p.param.name; });

TEST_F(KubeconfigTest, MissingFileIsNotFound) {
  auto config = LoadKubeconfig((dir_ / "absent").string());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr((dir_ / "absent").string()));
}

// A FIFO named as the kubeconfig or as a token file would block the operator's start for
// ever: refused at once, saying what it is.
TEST_F(KubeconfigTest, AFifoIsRefusedInsteadOfBlocking) {
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto config = LoadKubeconfig(fifo);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("FIFO"));
  const std::string path =
      Write("config",
            "clusters:\n- name: c\n  cluster: {server: \"https://h\", insecure-skip-tls-verify: "
            "true}\nusers:\n- name: u\n  user: {tokenFile: fifo}\ncontexts:\n- name: x\n  "
            "context: {cluster: c, user: u}\ncurrent-context: x\n");
  config = LoadKubeconfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("users[0].user.tokenFile: cannot read"));
  EXPECT_THAT(config.status().message(), HasSubstr("FIFO"));
}

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& key) -> std::optional<std::string> {
    auto it = vars.find(key);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST_F(KubeconfigTest, InClusterReadsTheServiceAccountDirectory) {
  Write("sa/token", "sa-token\n");
  Write("sa/ca.crt", testing::kTestCertPem);
  Write("sa/namespace", "team-b\n");
  auto config = InClusterConfig(
      MapEnv({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
      (dir_ / "sa").string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->token_file, (dir_ / "sa/token").string());
  EXPECT_EQ(config->ca_pem, testing::kTestCertPem);
  EXPECT_EQ(config->default_namespace, "team-b");
}

TEST_F(KubeconfigTest, InClusterBracketsIpv6AndDefaultsTheNamespace) {
  Write("sa/token", "t");
  Write("sa/ca.crt", testing::kTestCertPem);
  auto config = InClusterConfig(
      MapEnv({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}),
      (dir_ / "sa").string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://[fd00::1]:6443");
  EXPECT_EQ(config->default_namespace, "default");
}

TEST_F(KubeconfigTest, InClusterErrors) {
  auto unset = InClusterConfig(MapEnv({}), (dir_ / "sa").string());
  EXPECT_EQ(unset.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unset.status().message(), HasSubstr("KUBERNETES_SERVICE_HOST"));

  const auto env =
      MapEnv({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  auto no_token = InClusterConfig(env, (dir_ / "sa").string());
  EXPECT_EQ(no_token.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_token.status().message(), HasSubstr((dir_ / "sa/token").string()));

  Write("sa/token", "\n");
  auto empty_token = InClusterConfig(env, (dir_ / "sa").string());
  EXPECT_EQ(empty_token.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(empty_token.status().message(), HasSubstr("token is empty"));

  Write("sa/token", "t");
  auto no_ca = InClusterConfig(env, (dir_ / "sa").string());
  EXPECT_EQ(no_ca.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_ca.status().message(), HasSubstr("ca.crt"));
}

std::string MinimalKubeconfig(const std::string& server) {
  return "clusters:\n- name: c\n  cluster: {server: \"" + server +
         "\"}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
}

TEST_F(KubeconfigTest, ResolveOrderFlagThenKubeconfigEnvThenInClusterThenHome) {
  const std::string flag = Write("flag/config", MinimalKubeconfig("https://flag"));
  const std::string env_file = Write("env/config", MinimalKubeconfig("https://env"));
  Write("home/.kube/config", MinimalKubeconfig("https://home"));
  Write("sa/token", "t");
  Write("sa/ca.crt", testing::kTestCertPem);
  const std::string sa = (dir_ / "sa").string();
  const std::string home = (dir_ / "home").string();
  std::map<std::string, std::string> vars = {{"KUBECONFIG", "/nonexistent:" + env_file},
                                             {"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                             {"KUBERNETES_SERVICE_PORT", "443"},
                                             {"HOME", home}};

  auto from_flag = ResolveConfig(flag, MapEnv(vars), "", sa);
  ASSERT_TRUE(from_flag.ok()) << from_flag.status().ToString();
  EXPECT_EQ(from_flag->server, "https://flag");

  auto from_env = ResolveConfig("", MapEnv(vars), "", sa);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->server, "https://env");

  vars.erase("KUBECONFIG");
  auto in_cluster = ResolveConfig("", MapEnv(vars), "", sa);
  ASSERT_TRUE(in_cluster.ok()) << in_cluster.status().ToString();
  EXPECT_EQ(in_cluster->server, "https://10.0.0.1:443");

  vars.erase("KUBERNETES_SERVICE_HOST");
  auto from_home = ResolveConfig("", MapEnv(vars), "", sa);
  ASSERT_TRUE(from_home.ok()) << from_home.status().ToString();
  EXPECT_EQ(from_home->server, "https://home");

  vars["HOME"] = (dir_ / "nohome").string();
  auto none = ResolveConfig("", MapEnv(vars), "", sa);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("nohome/.kube/config (missing)"));
}

TEST_F(KubeconfigTest, ResolveReportsTheErrorOfTheFirstSourceThatApplies) {
  // A broken $KUBECONFIG is an error, not a reason to fall back to ~/.kube/config.
  const std::string broken = Write("broken", "clusters: [\n");
  Write("home/.kube/config", MinimalKubeconfig("https://home"));
  auto config =
      ResolveConfig("", MapEnv({{"KUBECONFIG", broken}, {"HOME", (dir_ / "home").string()}}), "",
                    (dir_ / "sa").string());
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr(broken));
}

}  // namespace
}  // namespace ringtrain::op::kube

// The ringtrain binary as a user meets it: `validate`, `run`, bad input, failures, Ctrl-C.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "job_fixture.h"
#include "process_helpers.h"
#include "ringtrain/auth/key_set.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/launch/child_process.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;
using testing::RunCommand;

const std::string kBinary = RINGTRAIN_BINARY;
const std::string kSource = RINGTRAIN_SOURCE_DIR;

// Writes dir/job.yaml: a softmax TrainingJob named "x" whose spec continues with `more_spec`
// (YAML lines indented by two spaces); returns its path.
std::string WriteSoftmaxJob(const std::string& dir, const std::string& more_spec) {
  const std::string path = dir + "/job.yaml";
  EXPECT_TRUE(testing::WriteFile(
      path,
      "apiVersion: ringtrain.io/v1alpha1\nkind: TrainingJob\nmetadata: {name: x}\n"
      "spec:\n  model: {type: softmax}\n" +
          more_spec));
  return path;
}

TEST(CliTest, ValidateAcceptsTheExamples) {
  for (const char* f : {"/examples/fashion-mnist.yaml", "/examples/fashion-mnist-softmax.yaml",
                        "/examples/fashion-mnist-ssp-topk.yaml"}) {
    auto r = RunCommand({kBinary, "validate", kSource + f});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("valid TrainingJob"));
  }
}

TEST(CliTest, InvalidFieldIsNamedAndExitsWithTwo) {
  const std::string dir = testing::MakeTempDir("cli-bad");
  const std::string path = WriteSoftmaxJob(dir,
                                           "  dataset: {train: {images: /a, labels: /b}}\n"
                                           "  training: {batchSize: 0}\n");
  for (const char* cmd : {"validate", "run"}) {
    auto r = RunCommand({kBinary, cmd, path});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("spec.training.batchSize"));
    EXPECT_THAT(r.output, HasSubstr(path));
  }
}

TEST(CliTest, MalformedYamlReportsLine) {
  const std::string dir = testing::MakeTempDir("cli-yaml");
  const std::string path = dir + "/broken.yaml";
  testing::WriteFile(path, "apiVersion: ringtrain.io/v1alpha1\nkind: [TrainingJob\n");
  auto r = RunCommand({kBinary, "run", path});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("line"));
}

TEST(CliTest, MissingDatasetGivesAClearMessageBeforeStartingAnything) {
  const std::string dir = testing::MakeTempDir("cli-missing");
  const std::string path = WriteSoftmaxJob(
      dir, "  dataset: {train: {images: file:///nonexistent/imgs.gz, labels: /b}}\n");
  auto r = RunCommand({kBinary, "run", path});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("spec.dataset.train.images"));
  EXPECT_THAT(r.output, HasSubstr("/nonexistent/imgs.gz"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("parameter server")));
}

TEST(CliTest, MissingDatasetOfAJobWithVolumesSaysVolumesArePodsOnly) {
  const std::string dir = testing::MakeTempDir("cli-volumes");
  const std::string path =
      WriteSoftmaxJob(dir,
                      "  dataset: {train: {images: /data/imgs.gz, labels: /data/labels.gz}}\n"
                      "  volumes: [{name: data, persistentVolumeClaim: {claimName: mnist}}]\n"
                      "  workers: {volumeMounts: [{name: data, mountPath: /data}]}\n");
  auto valid = RunCommand({kBinary, "validate", path});
  EXPECT_EQ(valid.exit_code, 0) << valid.output;
  auto r = RunCommand({kBinary, "run", path});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("/data/imgs.gz"));
  EXPECT_THAT(r.output, HasSubstr("spec.volumes are mounted in pods only"));
}

// In a pod: a server that cannot read the training images (its role does not mount the data)
// fails as invalid input, naming the file and why servers need it.
TEST(CliTest, ServerWithoutTheDataSaysServersReadItToo) {
  const std::string dir = testing::MakeTempDir("cli-ps-data");
  const std::string path =
      WriteSoftmaxJob(dir,
                      "  dataset: {train: {images: /data/imgs.gz, labels: /data/labels.gz}}\n"
                      "  security: {authentication: none}\n");
  job::PodContract c;
  c.job_name = "x";
  c.role = job::Role::kParameterServer;
  c.bind_endpoint = "tcp://127.0.0.1:0";
  c.spec_path = path;
  c.termination_log = dir + "/termination-log";
  ASSERT_TRUE(job::ValidatePodContract(c).ok());
  auto r = RunCommand({kBinary, "ps"}, std::chrono::seconds(60), job::ToEnv(c));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("spec.dataset.train.images: /data/imgs.gz"));
  EXPECT_THAT(r.output, HasSubstr("spec.parameterServers.volumeMounts must mount the data too"));
}

// Authentication is the default: a process told no keys refuses to start (invalid input), and
// one given another process's key, or keys of another shape of job, too.
TEST(CliTest, AProcessWithoutItsKeysRefusesToStart) {
  const std::string dir = testing::MakeTempDir("cli-keys");
  const std::string path = WriteSoftmaxJob(
      dir, "  dataset: {train: {images: /data/imgs.gz, labels: /data/labels.gz}}\n");
  job::PodContract c;
  c.job_name = "x";
  c.role = job::Role::kParameterServer;
  c.bind_endpoint = "tcp://127.0.0.1:0";
  c.spec_path = path;
  auto r = RunCommand({kBinary, "ps"}, std::chrono::seconds(60), job::ToEnv(c));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("RINGTRAIN_PUBLIC_KEYS: required with "
                                  "spec.security.authentication: curve"));

  StatusOr<auth::JobKeys> keys = auth::NewJobKeys(1, 1);
  ASSERT_TRUE(keys.ok());
  c.public_keys_path = dir + "/public-keys";
  ASSERT_TRUE(testing::WriteFile(c.public_keys_path, auth::FormatKeySet(keys->public_keys)));
  c.secret_key_path = dir + "/worker-0.key";
  ASSERT_TRUE(auth::WriteSecretKeyFile(c.secret_key_path,
                                       keys->pairs.at(auth::Identity::Worker(0)).secret_key)
                  .ok());
  r = RunCommand({kBinary, "ps"}, std::chrono::seconds(60), job::ToEnv(c));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(c.secret_key_path + " is not ps-0's key"));

  StatusOr<auth::JobKeys> bigger = auth::NewJobKeys(2, 1);
  ASSERT_TRUE(bigger.ok());
  std::filesystem::remove(c.public_keys_path);
  ASSERT_TRUE(testing::WriteFile(c.public_keys_path, auth::FormatKeySet(bigger->public_keys)));
  r = RunCommand({kBinary, "ps"}, std::chrono::seconds(60), job::ToEnv(c));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("a key for ps-1, which is not a process of this job"));
  std::filesystem::remove_all(dir);
}

// A corrupt IDX file is invalid input: exit 2, naming the file, before any process starts.
TEST(CliTest, CorruptIdxFileExitsWithTwoNamingTheFile) {
  auto job = testing::JobFixture::Make("cli-corrupt", 3000, 2, 2, 1);
  const std::string images = job.dir + "/train-images.gz";
  // A valid gzip IDX file of the wrong kind: labels where the images belong (bad magic).
  std::filesystem::copy_file(job.dir + "/train-labels.gz", images,
                             std::filesystem::copy_options::overwrite_existing);
  auto r = RunCommand({kBinary, "run", "--no-progress", job.spec_path}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(images));
  EXPECT_THAT(r.output, HasSubstr("bad magic"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("parameter server")));
  // Not gzip at all.
  ASSERT_TRUE(testing::WriteFile(images, "this is not gzip IDX"));
  r = RunCommand({kBinary, "run", "--no-progress", job.spec_path}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(images));
}

// Regression: test images of another shape than the training images aborted worker 0 with an
// invariant failure (signal 6) after a full epoch. Now an input error before anything starts,
// naming both files.
TEST(CliTest, TestImagesOfAnotherShapeExitWithTwoNamingBothFiles) {
  auto job = testing::JobFixture::Make("cli-shape", 600, 1, 1, 1);
  const std::string test_images = job.dir + "/test-images.gz";
  testing::WriteIdx(testing::MakeSyntheticImages(50, 6, 10, 3), 6, test_images,
                    job.dir + "/test-labels.gz");
  auto r = RunCommand({kBinary, "run", "--no-progress", job.spec_path}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("spec.dataset.test.images: " + test_images +
                                  " holds images of 6x6 pixels, but the training images " +
                                  job.dir + "/train-images.gz are 8x8"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("parameter server")));
}

// `job`'s spec (a softmax model) with `model` instead.
std::string SpecWithModel(const testing::JobFixture& job, const std::string& model) {
  std::string spec;
  {
    std::ifstream in(job.spec_path);
    spec.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string softmax = "model: {type: softmax}";
  spec.replace(spec.find(softmax), softmax.size(), "model: " + model);
  return spec;
}

// `ringtrain ps` as the first of 2 servers' pods of a 2-worker job over tcp://, on `job`'s spec.
testing::CommandResult RunFirstServerPod(const std::string& name, const testing::JobFixture& job) {
  job::PodContract c;
  c.job_name = name;
  c.role = job::Role::kParameterServer;
  c.num_ps = 2;
  c.num_workers = 2;
  c.bind_endpoint = "tcp://127.0.0.1:0";
  c.spec_path = job.spec_path;
  c.termination_log = job.dir + "/termination-log";
  EXPECT_TRUE(job::ValidatePodContract(c).ok());
  return RunCommand({kBinary, "ps"}, std::chrono::seconds(30), job::ToEnv(c));
}

// The case, larger: a model no machine here holds passed `validate`, and every server
// died of bad_alloc a minute later. Now `validate`, `run` and each process refuse it at once
// with the numbers: 16 layers of 65536 units are 69 billion parameters, 256 GiB each copy.
TEST(CliTest, AJobThatCannotFitInMemoryIsRefusedBeforeAnythingIsAllocated) {
  auto job = testing::JobFixture::Make("cli-memory", 600, 2, 2, 1);
  const std::string spec =
      SpecWithModel(job,
                    "{type: mlp, hiddenLayers: [65536, 65536, 65536, 65536, 65536, 65536, "
                    "65536, 65536, 65536, 65536, 65536, 65536, 65536, 65536, 65536, 65536]}");
  ASSERT_TRUE(testing::WriteFile(job.spec_path, spec));
  const auto start = std::chrono::steady_clock::now();
  auto r = RunCommand({kBinary, "validate", job.spec_path}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("each parameter server needs at least"));
  r = RunCommand({kBinary, "run", "--no-progress", job.spec_path}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the job needs at least"));
  EXPECT_THAT(r.output, HasSubstr("of memory on one machine (2 parameter servers x "));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("parameter server 0")));
  // A pod's process checks itself.
  r = RunFirstServerPod("cli-memory", job);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ps-0 needs at least"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  // The example fits, and `validate` says what it needs.
  r = RunCommand({kBinary, "validate", kSource + "/examples/fashion-mnist.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("memory: at least "));
}

// A model cut into more partitions than one message header lists (app/header_check.h) started
// its processes and failed at the workers' first pull ("header frame of 103822 bytes exceeds the
// limit of 65536"). Now `validate`, `run` and each process refuse it at once, naming the field
// and a size that fits; at that size `validate` passes.
TEST(CliTest, PartitionsTooManyForOneMessageHeaderAreRefusedWithASizeThatFits) {
  auto job = testing::JobFixture::Make("cli-headers", 600, 2, 2, 1);
  std::string spec = SpecWithModel(job, "{type: mlp, hiddenLayers: [4096, 2048]}");
  spec += "  security: {authentication: none}\n";  // the pod below has no keys
  ASSERT_TRUE(testing::WriteFile(job.spec_path, spec));
  const std::string field = "spec.parameterServers.partitionSize: 1024 elements puts ";
  auto r = RunCommand({kBinary, "validate", job.spec_path}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(field));
  EXPECT_THAT(r.output, HasSubstr("or more, or more spec.parameterServers.replicas"));
  r = RunCommand({kBinary, "run", "--no-progress", job.spec_path}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(field));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("worker-0")));
  // A pod's process checks itself.
  r = RunFirstServerPod("cli-headers", job);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(field));
  // The size the message advises passes.
  const std::string advised = "use a partitionSize of ";
  const size_t at = r.output.find(advised);
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string size = r.output.substr(
      at + advised.size(), r.output.find(' ', at + advised.size()) - (at + advised.size()));
  const std::string small = "partitionSize: 1024";
  spec.replace(spec.find(small), small.size(), "partitionSize: " + size);
  ASSERT_TRUE(testing::WriteFile(job.spec_path, spec));
  r = RunCommand({kBinary, "validate", job.spec_path}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("memory: at least "));
}

// Regression: a FIFO as the spec (`ringtrain run <(...)` too) or as data blocked forever.
TEST(CliTest, FifosAndDevicesAreRefusedAtOnce) {
  auto job = testing::JobFixture::Make("cli-fifo", 600, 1, 1, 1);
  const std::string fifo = job.dir + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const char* cmd : {"validate", "run"}) {
    auto r = RunCommand({kBinary, cmd, fifo}, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr(fifo + ": is a FIFO (named pipe), not a regular file"));
  }
  // As the training labels.
  std::string spec;
  {
    std::ifstream in(job.spec_path);
    spec.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string labels = job.dir + "/train-labels.gz";
  spec.replace(spec.find(labels), labels.size(), fifo);
  ASSERT_TRUE(testing::WriteFile(job.spec_path, spec));
  auto r = RunCommand({kBinary, "run", "--no-progress", job.spec_path}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("spec.dataset.train.labels: " + fifo + ": is a FIFO"));
  // A device as the spec.
  r = RunCommand({kBinary, "validate", "/dev/urandom"}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("/dev/urandom: is a character device"));
}

// export and eval read checkpoints: a job without any says where to find them.
TEST(CliTest, ExportAndEvalOfAJobWithoutCheckpointsSayWhatIsMissing) {
  auto job = testing::JobFixture::Make("cli-no-ckpt", 100, 1, 1, 1);
  for (const char* command : {"export", "eval"}) {
    auto r = RunCommand({kBinary, command, job.spec_path});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("the job has no spec.checkpoint: give the checkpoint "
                                    "directory with --checkpoint DIR"));
    r = RunCommand({kBinary, command, job.spec_path, "--checkpoint", job.dir + "/none"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(r.output,
                HasSubstr("ps-0: no checkpoint directory " + job.dir + "/none/cli-no-ckpt/ps-0"));
  }
}

// Command-line misuse is invalid input too: exit 2 with CLI11's message (not its own exit
// codes: 106 for a missing argument, 109 for an unknown option).
TEST(CliTest, CommandLineMisuseExitsWithTwo) {
  const std::string example = kSource + "/examples/fashion-mnist.yaml";
  auto missing = RunCommand({kBinary, "validate"});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("file is required"));
  auto unknown = RunCommand({kBinary, "validate", "--frobnicate", example});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_THAT(unknown.output, HasSubstr("--frobnicate"));
  auto no_command = RunCommand({kBinary});
  EXPECT_EQ(no_command.exit_code, 2) << no_command.output;
  EXPECT_THAT(no_command.output, HasSubstr("subcommand"));
  auto help = RunCommand({kBinary, "run", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.output;
  EXPECT_THAT(help.output, HasSubstr("--no-progress"));
}

TEST(CliTest, RunTrainsASmallJobAndPrintsProgressAndSummary) {
  auto job = testing::JobFixture::Make("cli-run", 3000, 2, 2, 3);
  // Run from the job's directory: without spec.output the model goes to
  // ./ringtrain-output/<job>/model.onnx there.
  auto r =
      RunCommand({"/bin/sh", "-c",
                  "cd '" + job.dir + "' && exec '" + kBinary + "' run --no-progress job.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string model = job.dir + "/ringtrain-output/cli-run/model.onnx";
  EXPECT_THAT(r.output, HasSubstr("model                " + model + " (ONNX)"));
  EXPECT_TRUE(std::filesystem::is_regular_file(model)) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("checkpoints  "))) << "the job has none";
  EXPECT_THAT(r.output, HasSubstr("epoch 1/3  test accuracy"));
  EXPECT_THAT(r.output, HasSubstr("epoch 3/3  test accuracy"));
  EXPECT_THAT(r.output, HasSubstr("summary"));
  EXPECT_THAT(r.output, HasSubstr("dropped messages     0"));
  EXPECT_GE(testing::SummaryAccuracy(r.output), 0.9) << r.output;
  EXPECT_TRUE(testing::ProcessesWithEnv("RINGTRAIN_SPEC_PATH=" + job.spec_path).empty());
}

// The servers report each checkpoint they write (CHECKPOINT events); the summary's checkpoints
// line says the last one: every server's final checkpoint, at the job's last step.
TEST(CliTest, RunWithCheckpointsSaysTheLastCheckpointInTheSummary) {
  auto job = testing::JobFixture::Make("cli-ckpt", 3000, 2, 2, 2);
  // 3000 rows, 2 workers, batch 16: 94 steps per epoch, 188 in all.
  std::ofstream(job.spec_path, std::ios::app)
      << "  checkpoint: {path: " << job.dir << "/ckpt, everySteps: 30}\n";
  auto r =
      RunCommand({kBinary, "run", "--no-progress", "--output", job.dir + "/out", job.spec_path});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("checkpoints          " + job.dir +
                                  "/ckpt/cli-ckpt (ps-<index>/ per server); last at step 188, "
                                  "final\n"));
}

TEST(CliTest, RunsAnSspJobWithTopKAndReportsStalenessAndBytes) {
  auto job = testing::JobFixture::Make("cli-ssp", 3000, 2, 3, 2, "softmax",
                                       "    syncMode: ssp\n    staleness: 2\n"
                                       "    compression: {type: topk, ratio: 0.05}\n");
  auto r =
      RunCommand({kBinary, "run", "--no-progress", "--output", job.dir + "/models", job.spec_path});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::is_regular_file(job.dir + "/models/model.onnx")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("training ssp (staleness 2), momentum, batch 16 per worker, "
                                  "compression topk 0.05 with error feedback"));
  EXPECT_THAT(r.output, HasSubstr("fewer than dense float32"));
  EXPECT_THAT(r.output, HasSubstr("staleness            mean "));
  // The servers never let a worker get more than 2 clocks ahead of the slowest.
  const size_t lead = r.output.find("largest clock lead ");
  ASSERT_NE(lead, std::string::npos) << r.output;
  EXPECT_LE(std::stoi(r.output.substr(lead + 19)), 2) << r.output;
  EXPECT_GE(testing::SummaryAccuracy(r.output), 0.85) << r.output;
}

// A content error in a data file that only a worker reads: the worker fails, and its exit 2
// (invalid input) is the run's. (Regression: the run exited 1.)
TEST(CliTest, FailingWorkerStopsTheRunNamesItAndLeavesNoProcesses) {
  auto job = testing::JobFixture::Make("cli-fail", 3000, 2, 2, 50);
  // Worker 0 alone reads the test set: corrupt it so that worker 0 fails while the others run.
  testing::WriteFile(job.dir + "/test-labels.gz", "this is not gzip IDX");
  auto r = RunCommand({kBinary, "run", "--no-progress", job.spec_path}, std::chrono::seconds(120));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("worker-0 failed"));
  EXPECT_THAT(r.output, HasSubstr("test-labels.gz"));
  EXPECT_TRUE(testing::ProcessesWithEnv("RINGTRAIN_SPEC_PATH=" + job.spec_path).empty());
}

TEST(CliTest, InterruptStopsEveryProcess) {
  auto job = testing::JobFixture::Make("cli-int", 20000, 2, 2, 1000);
  const std::string log_dir = job.dir + "/logs";
  auto launcher = launch::ChildProcess::Spawn(
      "launcher", {kBinary, "run", "--no-progress", "--log-dir", log_dir, job.spec_path}, {},
      job.dir + "/launcher.log");
  ASSERT_TRUE(launcher.ok());
  // Wait until the workers run (their logs say how many steps an epoch has).
  const std::string needle = "RINGTRAIN_SPEC_PATH=" + job.spec_path;
  ASSERT_EQ(testing::WaitForProcessesWithEnv(needle, 4, std::chrono::seconds(60)).size(), 4u)
      << (*launcher)->LogTail(20);
  (*launcher)->Signal(SIGINT);
  auto exit = testing::WaitForExit(**launcher, std::chrono::seconds(30));
  ASSERT_TRUE(exit.has_value()) << "launcher did not stop";
  EXPECT_EQ(exit->exit_code, 128 + SIGINT) << (*launcher)->LogTail(20);
  EXPECT_TRUE(testing::ProcessesWithEnv(needle).empty());
}

// A server stopped by SIGTERM while workers still need it exits 128+15 and fails the run.
// (Regression: it used to exit 0, which in a pod reads as Succeeded.)
TEST(CliTest, ServerStoppedMidRunFailsTheRun) {
  auto job = testing::JobFixture::Make("cli-psstop", 20000, 2, 2, 1000);
  auto launcher = launch::ChildProcess::Spawn(
      "launcher", {kBinary, "run", "--no-progress", job.spec_path}, {}, job.dir + "/launcher.log");
  ASSERT_TRUE(launcher.ok());
  const std::string needle = "RINGTRAIN_SPEC_PATH=" + job.spec_path;
  std::vector<int> servers;
  for (int pid : testing::WaitForProcessesWithEnv(needle, 4, std::chrono::seconds(60))) {
    for (int ps : testing::ProcessesWithEnv("RINGTRAIN_ROLE=ps")) {
      if (ps == pid) servers.push_back(pid);
    }
  }
  ASSERT_EQ(servers.size(), 2u) << (*launcher)->LogTail(20);
  kill(servers[0], SIGTERM);
  auto exit = testing::WaitForExit(**launcher, std::chrono::seconds(60));
  ASSERT_TRUE(exit.has_value()) << "launcher did not stop";
  EXPECT_EQ(exit->exit_code, 1) << (*launcher)->LogTail(20);
  EXPECT_THAT((*launcher)->LogTail(20), HasSubstr("failed (exit code 143)"));
  EXPECT_TRUE(testing::ProcessesWithEnv(needle).empty());
}

}  // namespace
}  // namespace ringtrain

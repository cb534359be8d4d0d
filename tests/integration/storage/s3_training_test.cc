// A training run whose LibSVM part files (gzip and plain) are read from a real S3 server on
// loopback (SeaweedFS), end to end with `ringtrain run`: credentials from the environment, as
// AWS's tools take them; a wrong secret fails at once, naming the location and S3's verdict.
// And a run whose checkpoints and model are written to the bucket, resumed from them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>

#include "ringtrain/launch/child_process.h"
#include "ringtrain/storage/storage.h"
#include "s3_server.h"
#include "text_job.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;

const std::string kBinary = RINGTRAIN_BINARY;

using testing::ReadFile;

// The S3 server, the environment `ringtrain` reads its credentials from, a store that uses them,
// and a bucket `bucket` holding the synthetic LibSVM parts under synthetic/.
struct BucketWithData {
  std::unique_ptr<testing::S3Server> server;
  std::map<std::string, std::string> env;
  std::unique_ptr<storage::Storage> store;
  std::string dir;  // a local scratch directory
};

void MakeBucketWithData(const std::string& bucket, BucketWithData* out) {
  auto server = testing::S3Server::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  out->server = std::move(server).value();
  out->dir = testing::MakeTempDir("s3train");
  std::filesystem::create_directories(out->dir + "/train");
  testing::WriteLibsvmParts(out->dir);
  out->env = {{"AWS_ACCESS_KEY_ID", out->server->access_key()},
              {"AWS_SECRET_ACCESS_KEY", out->server->secret_key()},
              {"AWS_REGION", out->server->region()},
              {"AWS_ENDPOINT_URL_S3", out->server->endpoint()}};
  storage::StorageOptions options;
  options.s3 = storage::S3OptionsFromEnvironment([out](const char* name) -> const char* {
    auto it = out->env.find(name);
    return it == out->env.end() ? nullptr : it->second.c_str();
  });
  out->store = std::make_unique<storage::Storage>(options);
  // The bucket, through our own signed PUT (the store never creates buckets).
  storage::HttpClient client{storage::HttpOptions{}};
  const std::string host = out->server->endpoint().substr(std::string("http://").size());
  storage::HttpRequest create;
  create.method = "PUT";
  create.url = out->server->endpoint() + "/" + bucket;
  for (storage::Header& h :
       storage::SignV4({"PUT", host, "/" + bucket, {}, {}, std::string(storage::kEmptySha256)},
                       options.s3.credentials, options.s3.region, "s3",
                       std::chrono::system_clock::now())
           .headers) {
    create.headers.push_back(std::move(h));
  }
  StatusOr<storage::HttpResponse> r = client.Send(create);
  ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  for (const std::string name :
       {"train/part-0.gz", "train/part-1.gz", "train/part-2", "test.libsvm"}) {
    ASSERT_TRUE(
        out->store->Put("s3://" + bucket + "/synthetic/" + name, ReadFile(out->dir + "/" + name))
            .ok());
  }
}

TEST(S3TrainingTest, LibsvmPartsInABucketTrainTheModelAndAWrongSecretIsNamed) {
  BucketWithData b;
  ASSERT_NO_FATAL_FAILURE(MakeBucketWithData("datasets", &b));
  const std::string& dir = b.dir;
  std::map<std::string, std::string>& env = b.env;

  const std::string spec_path = dir + "/job.yaml";
  testing::WriteFile(spec_path,
                     testing::TextJob("s3train", "libsvm", "s3://datasets/synthetic/train/",
                                      "s3://datasets/synthetic/test.libsvm"));
  const std::vector<std::string> argv = {kBinary,       "run",      "--no-progress", "--log-dir",
                                         dir + "/logs", "--output", dir + "/out",    spec_path};
  auto run = launch::ChildProcess::Spawn("run", argv, env, dir + "/run.log");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto exit = testing::WaitForExit(**run, std::chrono::seconds(300));
  ASSERT_TRUE(exit.has_value());
  const std::string log = ReadFile(dir + "/run.log");
  ASSERT_TRUE(exit->success()) << exit->ToString() << "\n" << log;
  EXPECT_GE(testing::SummaryAccuracy(log), 0.9) << log;

  env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret";
  auto refused = launch::ChildProcess::Spawn("run", argv, env, dir + "/refused.log");
  ASSERT_TRUE(refused.ok());
  auto refused_exit = testing::WaitForExit(**refused, std::chrono::seconds(120));
  ASSERT_TRUE(refused_exit.has_value());
  const std::string refused_log = ReadFile(dir + "/refused.log");
  EXPECT_EQ(refused_exit->exit_code, 2) << refused_log;
  EXPECT_THAT(refused_log, HasSubstr("spec.dataset.train.uri: s3://datasets/synthetic/train/: "
                                     "403 SignatureDoesNotMatch"))
      << refused_log;
  EXPECT_THAT(refused_log, ::testing::Not(HasSubstr("not-the-secret")));
}

// Checkpoints and the model in the bucket (spec.checkpoint.path and spec.output.path
// s3://...): a run stopped after epoch 1 continues from the checkpoints in the bucket, writes the
// model there, `ringtrain export` reads the same checkpoints back into the same model, a second
// run says the job has finished, and --fresh deletes the checkpoints and trains again.
TEST(S3TrainingTest, CheckpointsAndTheModelLiveInTheBucketAndTheJobResumesFromThem) {
  BucketWithData b;
  ASSERT_NO_FATAL_FAILURE(MakeBucketWithData("runs", &b));
  const std::string spec_path = b.dir + "/job.yaml";
  testing::WriteFile(spec_path,
                     testing::TextJob("s3ckpt", "libsvm", "s3://runs/synthetic/train/",
                                      "s3://runs/synthetic/test.libsvm", "",
                                      "  checkpoint: {path: 's3://runs/ckpt', everySteps: 20, "
                                      "keep: 2}\n"
                                      "  output: {path: 's3://runs/models'}\n"));
  const auto start = [&](const std::string& tag, const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {kBinary, "run", "--no-progress", "--log-dir",
                                     b.dir + "/logs-" + tag};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(spec_path);
    auto run = launch::ChildProcess::Spawn("run", argv, b.env, b.dir + "/" + tag + ".log");
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return std::move(run).value();
  };
  auto first = start("first", {});
  // Until epoch 1 is evaluated (or the run ended early: its log says why, below).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!testing::WaitForText(b.dir + "/first.log", "epoch 1/4  test accuracy",
                               std::chrono::seconds(1)) &&
         std::chrono::steady_clock::now() < deadline && first->running()) {
  }
  first->Signal(SIGINT);
  auto stopped = testing::WaitForExit(*first, std::chrono::seconds(60));
  ASSERT_TRUE(stopped.has_value()) << ReadFile(b.dir + "/first.log");
  // Each server's checkpoints are objects: at most `keep` committed, each a MANIFEST and a
  // shard file.
  StatusOr<std::vector<storage::ObjectInfo>> objects = b.store->List("s3://runs/ckpt/s3ckpt/");
  ASSERT_TRUE(objects.ok()) << objects.status().ToString() << ReadFile(b.dir + "/first.log");
  int manifests = 0;
  for (const storage::ObjectInfo& o : *objects) {
    EXPECT_THAT(o.uri,
                ::testing::MatchesRegex("s3://runs/ckpt/s3ckpt/ps-[01]/ckpt-[0-9]+-step-[0-9]+/"
                                        "(MANIFEST|shard.bin)"));
    if (o.uri.ends_with("/MANIFEST")) ++manifests;
  }
  EXPECT_GE(manifests, 2);
  EXPECT_LE(manifests, 4) << "keep: 2 per server";

  auto second = start("second", {});
  auto finished = testing::WaitForExit(*second, std::chrono::seconds(300));
  const std::string log = ReadFile(b.dir + "/second.log");
  ASSERT_TRUE(finished.has_value() && finished->success()) << log;
  EXPECT_THAT(log, HasSubstr("resumed")) << log;
  EXPECT_THAT(ReadFile(b.dir + "/logs-second/ps-0.log"),
              HasSubstr("s3://runs/ckpt/s3ckpt/ps-0/ckpt-"));
  EXPECT_THAT(log, HasSubstr("s3://runs/models/model.onnx")) << log;
  EXPECT_THAT(log, ::testing::Not(HasSubstr("did not write the model"))) << log;
  EXPECT_GE(testing::SummaryAccuracy(log), 0.9) << log;
  StatusOr<std::string> model = b.store->Get("s3://runs/models/model.onnx", 64 << 20);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_GT(model->size(), 64u * 10 * 4) << "the weights, at least";

  // The same model, from the final checkpoints in the bucket.
  testing::CommandResult exported =
      testing::RunCommand({kBinary, "export", spec_path, "--output", b.dir + "/exported.onnx"},
                          std::chrono::seconds(120), b.env);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_THAT(exported.output, HasSubstr("s3://runs/ckpt/s3ckpt/ps-1/ckpt-"));
  EXPECT_EQ(ReadFile(b.dir + "/exported.onnx"), *model)
      << "the final checkpoints hold the model worker 0 wrote";

  auto again = start("again", {});
  auto refused = testing::WaitForExit(*again, std::chrono::seconds(60));
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(refused->success());
  EXPECT_THAT(ReadFile(b.dir + "/again.log"),
              HasSubstr("has already finished: its final checkpoints"));
  EXPECT_THAT(ReadFile(b.dir + "/again.log"), HasSubstr("s3://runs/ckpt/s3ckpt"));

  auto fresh = start("fresh", {"--fresh"});
  auto trained = testing::WaitForExit(*fresh, std::chrono::seconds(300));
  const std::string fresh_log = ReadFile(b.dir + "/fresh.log");
  ASSERT_TRUE(trained.has_value() && trained->success()) << fresh_log;
  EXPECT_THAT(fresh_log, HasSubstr("--fresh: removed the checkpoints in s3://runs/ckpt/s3ckpt"));
  EXPECT_THAT(fresh_log, ::testing::Not(HasSubstr("resumed")));
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(b.dir);
}

}  // namespace
}  // namespace ringtrain

// A training run whose LibSVM part files (gzip and plain) are read from a real S3 server on
// loopback (SeaweedFS), end to end with `ringtrain run`: credentials from the environment, as
// AWS's tools take them; a wrong secret fails at once, naming the location and S3's verdict.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "ringtrain/launch/child_process.h"
#include "ringtrain/storage/storage.h"
#include "s3_server.h"
#include "text_job.h"

namespace ringtrain {
namespace {

using ::testing::HasSubstr;

const std::string kBinary = RINGTRAIN_BINARY;

using testing::ReadFile;

TEST(S3TrainingTest, LibsvmPartsInABucketTrainTheModelAndAWrongSecretIsNamed) {
  auto server = testing::S3Server::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string dir = testing::MakeTempDir("s3train");
  std::filesystem::create_directories(dir + "/train");
  testing::WriteLibsvmParts(dir);

  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", (*server)->access_key()},
                                            {"AWS_SECRET_ACCESS_KEY", (*server)->secret_key()},
                                            {"AWS_REGION", (*server)->region()},
                                            {"AWS_ENDPOINT_URL_S3", (*server)->endpoint()}};
  storage::StorageOptions options;
  options.s3 = storage::S3OptionsFromEnvironment([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  storage::Storage store(options);
  // The bucket, through our own signed PUT (the store never creates buckets).
  {
    storage::HttpClient client{storage::HttpOptions{}};
    const std::string host = (*server)->endpoint().substr(std::string("http://").size());
    storage::HttpRequest create;
    create.method = "PUT";
    create.url = (*server)->endpoint() + "/datasets";
    for (storage::Header& h :
         storage::SignV4({"PUT", host, "/datasets", {}, {}, std::string(storage::kEmptySha256)},
                         options.s3.credentials, options.s3.region, "s3",
                         std::chrono::system_clock::now())
             .headers) {
      create.headers.push_back(std::move(h));
    }
    StatusOr<storage::HttpResponse> r = client.Send(create);
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  }
  for (const std::string name :
       {"train/part-0.gz", "train/part-1.gz", "train/part-2", "test.libsvm"}) {
    ASSERT_TRUE(store.Put("s3://datasets/synthetic/" + name, ReadFile(dir + "/" + name)).ok());
  }

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

}  // namespace
}  // namespace ringtrain

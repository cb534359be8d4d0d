// What a process authenticates with (app/credentials.h): keys from its contract, a local run's
// private directory, or nothing with authentication: none.
#include "ringtrain/app/credentials.h"

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "process_helpers.h"
#include "ringtrain/auth/key_set.h"

namespace ringtrain::app {
namespace {

using ::testing::HasSubstr;

job::PodContract Contract() {
  job::PodContract c;
  c.job_name = "j";
  c.role = job::Role::kWorker;
  c.index = 1;
  c.num_ps = 1;
  c.num_workers = 2;
  return c;
}

TEST(CredentialsTest, NoneMeansPlaintext) {
  job::TrainingJob job;
  job.spec.security.authentication = job::Authentication::kNone;
  StatusOr<std::shared_ptr<const auth::Credentials>> c = LoadCredentials(Contract(), job);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c, nullptr);
}

TEST(CredentialsTest, KeysGiveTheProcessItsIdentity) {
  const std::string dir = testing::MakeTempDir("credentials");
  StatusOr<auth::JobKeys> keys = auth::NewJobKeys(1, 2);
  ASSERT_TRUE(keys.ok());
  job::PodContract c = Contract();
  c.public_keys_path = dir + "/public-keys";
  c.secret_key_path = dir + "/worker-1.key";
  ASSERT_TRUE(testing::WriteFile(c.public_keys_path, auth::FormatKeySet(keys->public_keys)));
  ASSERT_TRUE(auth::WriteSecretKeyFile(c.secret_key_path,
                                       keys->pairs.at(auth::Identity::Worker(1)).secret_key)
                  .ok());
  StatusOr<std::shared_ptr<const auth::Credentials>> got = LoadCredentials(c, job::TrainingJob{});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_NE(*got, nullptr);
  EXPECT_EQ((*got)->self, auth::Identity::Worker(1));
  EXPECT_EQ((*got)->pair, keys->pairs.at(auth::Identity::Worker(1)));
  EXPECT_EQ((*got)->keys, keys->public_keys);
  // Told it is worker 0, with worker 1's key.
  c.index = 0;
  EXPECT_THAT(LoadCredentials(c, job::TrainingJob{}).status().message(),
              HasSubstr("is not worker-0's key"));
  std::filesystem::remove_all(dir);
}

TEST(CredentialsTest, ALocalRunsPrivateDirectoryStandsInForKeys) {
  const std::string dir = testing::MakeTempDir("run-dir");  // mkdtemp: 0700
  job::PodContract c = Contract();
  c.run_dir = dir;
  StatusOr<std::shared_ptr<const auth::Credentials>> got = LoadCredentials(c, job::TrainingJob{});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, nullptr);
  ASSERT_EQ(chmod(dir.c_str(), 0750), 0);
  EXPECT_THAT(LoadCredentials(c, job::TrainingJob{}).status().message(),
              HasSubstr("RINGTRAIN_RUN_DIR: " + dir + " must be this user's alone (mode 0700)"));
  c.run_dir = dir + "/missing";
  EXPECT_THAT(LoadCredentials(c, job::TrainingJob{}).status().message(),
              HasSubstr("No such file or directory"));
  // Neither keys nor a run directory: refused, naming what is missing.
  EXPECT_THAT(LoadCredentials(Contract(), job::TrainingJob{}).status().message(),
              HasSubstr("RINGTRAIN_PUBLIC_KEYS: required"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringtrain::app

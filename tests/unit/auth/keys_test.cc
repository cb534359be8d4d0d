#include "ringtrain/auth/keys.h"

#include <sys/stat.h>
#include <zmq.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "process_helpers.h"

namespace ringtrain::auth {
namespace {

using ::testing::HasSubstr;

TEST(KeysTest, NewPairsAreDistinctAndTheSecretGivesBackThePublicKey) {
  StatusOr<KeyPair> a = NewKeyPair();
  StatusOr<KeyPair> b = NewKeyPair();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->public_key.size(), kKeyTextLength);
  EXPECT_EQ(a->secret_key.size(), kKeyTextLength);
  EXPECT_NE(a->secret_key, b->secret_key);
  EXPECT_NE(a->public_key, a->secret_key);
  StatusOr<KeyPair> again = KeyPairFromSecret(a->secret_key);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *a);
}

TEST(KeysTest, AgreesWithLibzmqsOwnKeyPairs) {
  char pub[41];
  char sec[41];
  ASSERT_EQ(zmq_curve_keypair(pub, sec), 0);
  StatusOr<KeyPair> pair = KeyPairFromSecret(sec);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_EQ(pair->public_key, pub);
}

TEST(KeysTest, DerivationIsAFunctionOfMasterJobAndIdentity) {
  const std::string master(40, 'm');
  StatusOr<KeyPair> a = DeriveKeyPair(master, "uid-1", "worker-0");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*DeriveKeyPair(master, "uid-1", "worker-0"), *a);
  EXPECT_NE(DeriveKeyPair(master, "uid-1", "worker-1")->secret_key, a->secret_key);
  EXPECT_NE(DeriveKeyPair(master, "uid-2", "worker-0")->secret_key, a->secret_key);
  EXPECT_NE(DeriveKeyPair(std::string(40, 'n'), "uid-1", "worker-0")->secret_key, a->secret_key);
  // The separator keeps (job, identity) pairs apart: "uid-1"+"0worker" is not "uid-10"+"worker".
  EXPECT_NE(DeriveKeyPair(master, "uid-10", "worker")->secret_key,
            DeriveKeyPair(master, "uid-1", "0worker")->secret_key);
  EXPECT_EQ(KeyPairFromSecret(a->secret_key)->public_key, a->public_key);

  EXPECT_THAT(DeriveKeyPair("short", "uid", "ps-0").status().message(),
              HasSubstr("at least 32 bytes"));
  EXPECT_FALSE(DeriveKeyPair(master, "", "ps-0").ok());
}

TEST(KeysTest, KeyTextIsCheckedWithTheReason) {
  EXPECT_THAT(CheckKeyText("abc", "k").message(), HasSubstr("40 Z85 characters, got 3"));
  EXPECT_THAT(CheckKeyText(std::string(39, 'a') + "~", "k").message(),
              HasSubstr("character 40 is not a Z85 character"));
  // "#####" is 84 * (85^4 + ... + 1) > 2^32.
  EXPECT_THAT(CheckKeyText("#####" + std::string(35, '0'), "k").message(),
              HasSubstr("characters 1-5 are not valid Z85"));
  EXPECT_TRUE(CheckKeyText(std::string(40, 'Z'), "k").ok());
}

TEST(KeysTest, SecretKeyFilesAreWrittenPrivateAndReadBack) {
  const std::string dir = testing::MakeTempDir("keys");
  const std::string path = dir + "/worker-0.key";
  StatusOr<KeyPair> pair = NewKeyPair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(WriteSecretKeyFile(path, pair->secret_key).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  StatusOr<KeyPair> read = ReadSecretKeyFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, *pair);
  // Never overwritten.
  EXPECT_EQ(WriteSecretKeyFile(path, pair->secret_key).code(), StatusCode::kAlreadyExists);

  // Readable by others: refused; by the group (a pod's fsGroup): accepted.
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  EXPECT_THAT(ReadSecretKeyFile(path).status().message(), HasSubstr("it is 0644"));
  ASSERT_EQ(chmod(path.c_str(), 0440), 0);
  EXPECT_TRUE(ReadSecretKeyFile(path).ok());
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);

  const std::string bad = dir + "/bad.key";
  ASSERT_TRUE(testing::WriteFile(bad, "not a key\n"));
  ASSERT_EQ(chmod(bad.c_str(), 0600), 0);
  EXPECT_THAT(ReadSecretKeyFile(bad).status().message(), HasSubstr(bad + ": "));
  const std::string big = dir + "/big.key";
  ASSERT_TRUE(testing::WriteFile(big, std::string(4096, 'a')));
  ASSERT_EQ(chmod(big.c_str(), 0600), 0);
  EXPECT_THAT(ReadSecretKeyFile(big).status().message(), HasSubstr("4096 bytes"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringtrain::auth

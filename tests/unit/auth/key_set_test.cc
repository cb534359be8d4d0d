#include "ringtrain/auth/key_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringtrain::auth {
namespace {

using ::testing::HasSubstr;

TEST(IdentityTest, NamesParseBack) {
  for (const Identity& id :
       {Identity::Server(0), Identity::Server(1023), Identity::Worker(7), Identity::Supervisor()}) {
    StatusOr<Identity> back = ParseIdentity(Name(id));
    ASSERT_TRUE(back.ok()) << Name(id);
    EXPECT_EQ(*back, id);
  }
  EXPECT_EQ(Name(Identity::Worker(3)), "worker-3");
  for (const char* bad : {"worker-", "worker-01", "worker--1", "worker-1x", "ps", "Supervisor",
                          "ps-99999999999", ""}) {
    EXPECT_FALSE(ParseIdentity(bad).ok()) << bad;
  }
}

TEST(KeySetTest, JobKeysCoverTheJobAndRoundTripThroughTheFile) {
  StatusOr<JobKeys> keys = NewJobKeys(2, 3);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->public_keys.size(), 6u);
  EXPECT_EQ(keys->pairs.size(), 6u);
  EXPECT_TRUE(keys->public_keys.CheckCovers(2, 3).ok());
  EXPECT_THAT(keys->public_keys.CheckCovers(3, 3).message(), HasSubstr("no key for ps-2"));
  EXPECT_THAT(keys->public_keys.CheckCovers(2, 2).message(),
              HasSubstr("a key for worker-2, which is not a process of this job"));
  const KeyPair& w1 = keys->pairs.at(Identity::Worker(1));
  EXPECT_EQ(keys->public_keys.Find(w1.public_key), Identity::Worker(1));
  EXPECT_EQ(keys->public_keys.Find(w1.secret_key), std::nullopt);

  const std::string text = FormatKeySet(keys->public_keys);
  EXPECT_THAT(text, HasSubstr("worker-1 " + w1.public_key + "\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr(w1.secret_key)));
  StatusOr<KeySet> back = ParseKeySet(text, "keys");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, keys->public_keys);
}

TEST(KeySetTest, DerivedJobKeysAreTheSameEachTime) {
  const std::string master(40, 'x');
  StatusOr<JobKeys> a = DeriveJobKeys(master, "uid", 1, 2);
  StatusOr<JobKeys> b = DeriveJobKeys(master, "uid", 1, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->public_keys, b->public_keys);
  EXPECT_NE(DeriveJobKeys(master, "other-uid", 1, 2)->public_keys, a->public_keys);
}

TEST(KeySetTest, MalformedFilesNameTheLine) {
  const std::string k1(40, 'a');
  const std::string k2(40, 'b');
  EXPECT_THAT(
      ParseKeySet("# c\n\nps-0 " + k1 + "\nworker-x " + k2 + "\n", "keys").status().message(),
      HasSubstr("keys:4: worker-x is not an identity"));
  EXPECT_THAT(ParseKeySet("ps-0\n", "keys").status().message(),
              HasSubstr("keys:1: expected \"<identity> <public key>\""));
  EXPECT_THAT(ParseKeySet("ps-0 " + k1 + "\nps-0 " + k2 + "\n", "keys").status().message(),
              HasSubstr("keys:2: ps-0 has two keys"));
  EXPECT_THAT(ParseKeySet("ps-0 " + k1 + "\nworker-0 " + k1 + "\n", "keys").status().message(),
              HasSubstr("keys:2: worker-0 has the key of ps-0"));
  EXPECT_THAT(ParseKeySet("ps-0 short\n", "keys").status().message(),
              HasSubstr("keys:1: ps-0's public key: a key is 40 Z85 characters"));
  StatusOr<KeySet> ok = ParseKeySet("ps-0\t" + k1 + "  \r\n", "keys");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->KeyOf(Identity::Server(0)), k1);
}

}  // namespace
}  // namespace ringtrain::auth

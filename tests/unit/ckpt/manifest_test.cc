#include "ringtrain/ckpt/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <zlib.h>

#include "ckpt_test_util.h"

namespace ringtrain::ckpt {
namespace {

using ::testing::HasSubstr;
using testing::TestIdentity;

Manifest Sample() {
  Manifest m = ManifestFor(TestIdentity());
  m.step = 120;
  m.sequence = 7;
  m.final = true;
  m.created_unix_ms = 1700000000123;
  m.files.push_back({"shard.bin", 4096, 0x89abcdefu});
  return m;
}

TEST(ManifestTest, RoundTripsEveryField) {
  const Manifest m = Sample();
  StatusOr<Manifest> back = ParseManifest(EncodeManifest(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->format_version, kFormatVersion);
  EXPECT_EQ(back->job, "fashion");
  EXPECT_EQ(back->server_index, 1);
  EXPECT_EQ(back->ring_servers, (std::vector<std::string>{"ps-0", "ps-1"}));
  EXPECT_EQ(back->layout_fingerprint, 0x1234567890abcdefULL);
  EXPECT_EQ(back->model_fingerprint, 0xfedcba0987654321ULL);  // above 2^63: kept exactly
  EXPECT_EQ(back->sync_mode, "sync");
  EXPECT_EQ(back->optimizer, "momentum");
  EXPECT_EQ(back->state_slots, 1);
  EXPECT_EQ(back->num_workers, 3);
  EXPECT_EQ(back->num_partitions, 3);
  EXPECT_EQ(back->num_elements, 10);
  EXPECT_EQ(back->step, 120);
  EXPECT_EQ(back->sequence, 7u);
  EXPECT_TRUE(back->final);
  EXPECT_EQ(back->created_unix_ms, 1700000000123);
  ASSERT_EQ(back->files.size(), 1u);
  EXPECT_EQ(back->files[0].name, "shard.bin");
  EXPECT_EQ(back->files[0].bytes, 4096u);
  EXPECT_EQ(back->files[0].crc32, 0x89abcdefu);
  EXPECT_TRUE(CheckMatches(*back, TestIdentity()).ok());
}

TEST(ManifestTest, IsReadableText) {
  const std::string text = EncodeManifest(Sample());
  EXPECT_EQ(text.rfind("ringtrain-checkpoint-manifest 1 crc32=", 0), 0u) << text;
  EXPECT_THAT(text, HasSubstr("\"modelFingerprint\": \"0xfedcba0987654321\""));
}

TEST(ManifestTest, EveryFlippedByteIsDetected) {
  const std::string good = EncodeManifest(Sample());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    StatusOr<Manifest> m = ParseManifest(bad);
    EXPECT_FALSE(m.ok()) << "byte " << i << " ('" << good[i] << "') flipped went unnoticed";
  }
}

TEST(ManifestTest, TruncatedIsDataLoss) {
  const std::string good = EncodeManifest(Sample());
  for (size_t keep : {size_t{0}, size_t{10}, good.find('\n') + 1, good.size() - 1}) {
    StatusOr<Manifest> m = ParseManifest(good.substr(0, keep));
    ASSERT_FALSE(m.ok()) << keep;
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss) << keep;
  }
  EXPECT_THAT(ParseManifest(good.substr(0, good.size() - 1)).status().message(),
              HasSubstr("truncated"));
}

std::string SampleBody() {
  const std::string text = EncodeManifest(Sample());
  return text.substr(text.find('\n') + 1);
}

void Replace(std::string* s, const std::string& from, const std::string& to) {
  const size_t at = s->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s->replace(at, from.size(), to);
}

TEST(ManifestTest, HeaderOfSampleBodyParses) {
  EXPECT_TRUE(ParseManifest(testing::WithHeader(SampleBody())).ok());
}

TEST(ManifestTest, FieldsAreCheckedEvenWithAValidChecksum) {
  struct Case {
    std::string from, to, message;
  };
  const std::vector<Case> cases = {
      {"\"step\": 120", "\"step\": -1", "\"step\" must be in [0"},
      {"\"step\": 120", "\"step\": \"120\"", "\"step\" must be an integer"},
      {"\"0xfedcba0987654321\"", "\"0xfedcba09876543\"", "\"modelFingerprint\" must be"},
      {"\"name\": \"shard.bin\"", "\"name\": \"../shard.bin\"", "a plain file name"},
      {"\"index\": 1", "\"index\": 2", "an index into \"ring\""},
      {"\"stateSlots\": 1", "\"stateSlots\": 100", "\"stateSlots\" must be in [0, 16]"},
      {"\"job\": \"fashion\",", "", "\"job\" must be a string"},
      {"\"workers\": 3", "\"workers\": 0", "\"workers\" must be in [1"},
  };
  for (const Case& c : cases) {
    std::string body = SampleBody();
    Replace(&body, c.from, c.to);
    StatusOr<Manifest> m = ParseManifest(testing::WithHeader(body));
    ASSERT_FALSE(m.ok()) << c.to;
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss) << c.to;
    EXPECT_THAT(m.status().message(), HasSubstr(c.message)) << c.to;
  }
  StatusOr<Manifest> array = ParseManifest(testing::WithHeader("[1, 2]"));
  ASSERT_FALSE(array.ok());
  EXPECT_THAT(array.status().message(), HasSubstr("not a JSON object"));
  StatusOr<Manifest> broken = ParseManifest(testing::WithHeader("{\"job\": "));
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.status().message(), HasSubstr("not a JSON object"));
}

TEST(ManifestTest, OtherFormatVersionIsRefusedByName) {
  std::string text = EncodeManifest(Sample());
  text.replace(text.find(" 1 crc32="), 9, " 2 crc32=");
  StatusOr<Manifest> m = ParseManifest(text);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(m.status().message(), HasSubstr("format version 2"));
}

TEST(ManifestTest, OversizedIsRefusedBeforeParsing) {
  const std::string huge(static_cast<size_t>(kMaxManifestBytes) + 1, ' ');
  StatusOr<Manifest> m = ParseManifest(huge);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("more than"));
}

struct Mismatch {
  const char* name;
  void (*change)(ShardIdentity*);
  const char* message;
};

class ManifestMismatchTest : public ::testing::TestWithParam<Mismatch> {};

TEST_P(ManifestMismatchTest, IsRefusedNamingTheDifference) {
  const Manifest m = Sample();
  ShardIdentity other = TestIdentity();
  GetParam().change(&other);
  const Status s = CheckMatches(m, other);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, ManifestMismatchTest,
    ::testing::Values(
        Mismatch{"job", [](ShardIdentity* i) { i->job = "other"; }, "another job"},
        Mismatch{"model", [](ShardIdentity* i) { i->model_fingerprint ^= 1; },
                 "another model (model fingerprint): the checkpoint's is 0xfedcba0987654321"},
        Mismatch{"server", [](ShardIdentity* i) { i->server_index = 0; }, "another server"},
        Mismatch{"ring", [](ShardIdentity* i) { i->ring_servers.push_back("ps-2"); },
                 "[ps-0,ps-1], this server's [ps-0,ps-1,ps-2]"},
        Mismatch{"layout", [](ShardIdentity* i) { i->layout_fingerprint ^= 1; },
                 "another partition layout"},
        Mismatch{"sync", [](ShardIdentity* i) { i->sync_mode = "async"; }, "another sync mode"},
        Mismatch{"optimizer", [](ShardIdentity* i) { i->optimizer = "adagrad"; },
                 "another optimizer"},
        Mismatch{"slots", [](ShardIdentity* i) { i->state_slots = 2; }, "another optimizer"},
        Mismatch{"workers", [](ShardIdentity* i) { i->num_workers = 4; }, "number of workers"},
        Mismatch{"partitions", [](ShardIdentity* i) { i->partitions.pop_back(); },
                 "another shard size"}),
    [](const ::testing::TestParamInfo<Mismatch>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace ringtrain::ckpt

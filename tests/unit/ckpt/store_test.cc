#include "ringtrain/ckpt/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ckpt_test_util.h"
#include "ringtrain/ckpt/shard_file.h"

namespace ringtrain::ckpt {
namespace {

namespace fs = std::filesystem;
using testing::FlipByte;
using ::testing::HasSubstr;
using testing::SameState;
using testing::ScratchDir;
using ::testing::SizeIs;
using testing::TestIdentity;
using testing::TestState;
using testing::Truncate;

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(int keep = 3) {
    StatusOr<std::unique_ptr<Store>> s = Store::Open({dir_.path() + "/ps-1", keep, nullptr});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  // Writes checkpoints at steps 10, 20, ... and returns them newest first.
  std::vector<WrittenCheckpoint> WriteSteps(Store& store, int n) {
    std::vector<WrittenCheckpoint> out;
    for (int i = 1; i <= n; ++i) {
      StatusOr<WrittenCheckpoint> w =
          store.Write(id_, TestState(id_, 10 * i, static_cast<float>(i)), false);
      EXPECT_TRUE(w.ok()) << w.status().ToString();
      out.insert(out.begin(), *w);
    }
    return out;
  }

  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_.path() + "/ps-1")) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  ScratchDir dir_;
  ShardIdentity id_ = TestIdentity();
};

TEST_F(StoreTest, RoundTrip) {
  auto store = Open();
  const ShardState state = TestState(id_, 42);
  StatusOr<WrittenCheckpoint> w = store->Write(id_, state, /*final=*/true);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->ref.step, 42);
  EXPECT_EQ(w->ref.sequence, 1u);
  EXPECT_EQ(w->ref.path, dir_.path() + "/ps-1/ckpt-0000000001-step-000000000042");
  EXPECT_GT(w->bytes, 0u);
  EXPECT_TRUE(fs::exists(w->ref.path + "/MANIFEST"));
  EXPECT_TRUE(fs::exists(w->ref.path + "/shard.bin"));

  StatusOr<LoadedCheckpoint> back = store->LoadLatest(id_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(SameState(back->state, state));
  EXPECT_EQ(back->ref.path, w->ref.path);
  EXPECT_TRUE(back->manifest.final);
  EXPECT_EQ(back->manifest.step, 42);
  EXPECT_EQ(back->manifest.job, "fashion");
  EXPECT_TRUE(back->skipped.empty());
}

TEST_F(StoreTest, KeepsTheNewestN) {
  auto store = Open(/*keep=*/2);
  const auto written = WriteSteps(*store, 5);
  EXPECT_EQ(written[0].pruned, 1);
  EXPECT_THAT(Entries(), ::testing::ElementsAre("ckpt-0000000004-step-000000000040",
                                                "ckpt-0000000005-step-000000000050"));
  StatusOr<LoadedCheckpoint> back = store->LoadLatest(id_);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->manifest.step, 50);
  EXPECT_TRUE(SameState(back->state, TestState(id_, 50, 5.0f)));
}

TEST_F(StoreTest, SequenceContinuesAfterReopenAndOrdersByWriteNotStep) {
  {
    auto store = Open();
    WriteSteps(*store, 2);  // sequences 1, 2 at steps 10, 20
  }
  auto store = Open();
  // A restored server goes on from an older step: its new checkpoint is still the newest.
  StatusOr<WrittenCheckpoint> w = store->Write(id_, TestState(id_, 15, 9.0f), false);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->ref.sequence, 3u);
  StatusOr<LoadedCheckpoint> back = store->LoadLatest(id_);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->manifest.step, 15);
}

TEST_F(StoreTest, EmptyIsNotFound) {
  auto store = Open();
  StatusOr<LoadedCheckpoint> back = store->LoadLatest(id_);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, OpenRemovesWhatACrashLeftAndIgnoresStrangers) {
  fs::create_directories(dir_.path() + "/ps-1/.tmp-ckpt-9-123");
  testing::WriteAll(dir_.path() + "/ps-1/.tmp-ckpt-9-123/shard.bin", "partial");
  testing::WriteAll(dir_.path() + "/ps-1/notes.txt", "mine");
  auto store = Open();
  EXPECT_THAT(Entries(), ::testing::ElementsAre("notes.txt"));
  StatusOr<std::vector<CheckpointRef>> refs = store->List();
  ASSERT_TRUE(refs.ok());
  EXPECT_THAT(*refs, SizeIs(0));
}

// A reader beside a running server (`ringtrain export`): nothing of the server's may change.
TEST_F(StoreTest, ReadOnlyCreatesRemovesAndWritesNothing) {
  const std::string missing = dir_.path() + "/ps-1";
  StatusOr<std::unique_ptr<Store>> none = Store::OpenReadOnly(missing);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr(missing));
  EXPECT_FALSE(fs::exists(missing)) << "a reader creates no directory";

  std::vector<WrittenCheckpoint> written = WriteSteps(*Open(), 2);
  // A write in progress of the server's.
  fs::create_directories(missing + "/.tmp-ckpt-3-123");
  StatusOr<std::unique_ptr<Store>> reader = Store::OpenReadOnly(missing);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(fs::exists(missing + "/.tmp-ckpt-3-123")) << "the server's write is left alone";
  StatusOr<LoadedCheckpoint> latest = (*reader)->LoadLatest(id_);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->ref.path, written[0].ref.path);
  StatusOr<WrittenCheckpoint> refused = (*reader)->Write(id_, TestState(id_, 30), false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(Entries(), SizeIs(3));

  testing::WriteAll(dir_.path() + "/file", "x");
  EXPECT_EQ(Store::OpenReadOnly(dir_.path() + "/file").status().code(), StatusCode::kUnavailable);
}

TEST_F(StoreTest, BadOptions) {
  EXPECT_EQ(Store::Open({"", 3, nullptr}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Store::Open({dir_.path(), 0, nullptr}).status().code(), StatusCode::kInvalidArgument);
  testing::WriteAll(dir_.path() + "/file", "x");
  EXPECT_FALSE(Store::Open({dir_.path() + "/file", 1, nullptr}).ok());
}

// The damage done to the newest of three checkpoints, and what the message must say.
struct Damage {
  const char* name;
  void (*apply)(const std::string& checkpoint_dir);
  const char* message;
};

class StoreFallbackTest : public StoreTest, public ::testing::WithParamInterface<Damage> {};

TEST_P(StoreFallbackTest, NewestDamagedFallsBackToThePreviousWithAClearMessage) {
  auto store = Open();
  const auto written = WriteSteps(*store, 3);
  GetParam().apply(written[0].ref.path);

  StatusOr<LoadedCheckpoint> back = store->LoadLatest(id_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->manifest.step, 20);
  EXPECT_EQ(back->ref.path, written[1].ref.path);
  EXPECT_TRUE(SameState(back->state, TestState(id_, 20, 2.0f)));
  ASSERT_THAT(back->skipped, SizeIs(1));
  EXPECT_THAT(back->skipped[0], HasSubstr(written[0].ref.path));
  EXPECT_THAT(back->skipped[0], HasSubstr(GetParam().message));

  // Loading that one directly names the same problem.
  StatusOr<LoadedCheckpoint> direct = store->Load(written[0].ref, id_);
  ASSERT_FALSE(direct.ok());
  EXPECT_THAT(direct.status().message(), HasSubstr(GetParam().message));
}

// Rewrites a field of the manifest with a checksum that agrees, as another job's writer would
// have written it.
void RewriteManifest(const std::string& dir, const std::string& from, const std::string& to) {
  const std::string text = testing::ReadAll(dir + "/MANIFEST");
  std::string body = text.substr(text.find('\n') + 1);
  const size_t at = body.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  body.replace(at, from.size(), to);
  testing::WriteAll(dir + "/MANIFEST", testing::WithHeader(body));
}

INSTANTIATE_TEST_SUITE_P(
    Damages, StoreFallbackTest,
    ::testing::Values(
        Damage{"TruncatedShard", [](const std::string& d) { Truncate(d + "/shard.bin", 7); },
               "/shard.bin: 325 bytes, the manifest says 332 (truncated)"},
        Damage{"FlippedShardByte", [](const std::string& d) { FlipByte(d + "/shard.bin", 100); },
               "/shard.bin: checksum mismatch"},
        Damage{"FlippedManifestByte", [](const std::string& d) { FlipByte(d + "/MANIFEST", -3); },
               "/MANIFEST: manifest body does not match its checksum"},
        Damage{"TruncatedManifest", [](const std::string& d) { Truncate(d + "/MANIFEST", 40); },
               "(truncated)"},
        Damage{"MissingManifest", [](const std::string& d) { fs::remove(d + "/MANIFEST"); },
               "/MANIFEST: missing"},
        Damage{"MissingShard", [](const std::string& d) { fs::remove(d + "/shard.bin"); },
               "/shard.bin: missing"},
        Damage{"EmptyShard", [](const std::string& d) { Truncate(d + "/shard.bin", 332); },
               "/shard.bin: 0 bytes, the manifest says 332 (truncated)"},
        Damage{"OtherModel",
               [](const std::string& d) {
                 RewriteManifest(d, "\"modelFingerprint\": \"0xfedcba0987654321\"",
                                 "\"modelFingerprint\": \"0x0000000000000001\"");
               },
               "a checkpoint of another model (model fingerprint): the checkpoint's is "
               "0x0000000000000001, this server's 0xfedcba0987654321"},
        Damage{"OtherJob",
               [](const std::string& d) {
                 RewriteManifest(d, "\"job\": \"fashion\"", "\"job\": \"mnist\"");
               },
               "a checkpoint of another job: the checkpoint's is \"mnist\""},
        Damage{"OtherLayout",
               [](const std::string& d) {
                 RewriteManifest(d, "\"layoutFingerprint\": \"0x1234567890abcdef\"",
                                 "\"layoutFingerprint\": \"0x1234567890abcdee\"");
               },
               "another partition layout (layout fingerprint)"}),
    [](const ::testing::TestParamInfo<Damage>& p) { return std::string(p.param.name); });

TEST_F(StoreTest, NothingUsableIsAnErrorListingEveryCheckpoint) {
  auto store = Open();
  const auto written = WriteSteps(*store, 2);
  Truncate(written[0].ref.path + "/shard.bin", 1);
  fs::remove(written[1].ref.path + "/MANIFEST");
  StatusOr<LoadedCheckpoint> back = store->LoadLatest(id_);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(back.status().message(), HasSubstr("no usable checkpoint among the 2"));
  EXPECT_THAT(back.status().message(), HasSubstr(written[0].ref.path + "/shard.bin"));
  EXPECT_THAT(back.status().message(), HasSubstr(written[1].ref.path + "/MANIFEST: missing"));
}

TEST_F(StoreTest, AllOfAnotherModelIsAClearError) {
  auto store = Open();
  WriteSteps(*store, 2);
  ShardIdentity other = id_;
  other.model_fingerprint = 7;
  StatusOr<LoadedCheckpoint> back = store->LoadLatest(other);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(back.status().message(), HasSubstr("another model"));
}

TEST_F(StoreTest, ManifestInAnotherCheckpointsDirectoryIsRefused) {
  auto store = Open();
  const auto written = WriteSteps(*store, 2);
  fs::remove(written[0].ref.path + "/MANIFEST");
  fs::copy_file(written[1].ref.path + "/MANIFEST", written[0].ref.path + "/MANIFEST");
  StatusOr<LoadedCheckpoint> direct = store->Load(written[0].ref, id_);
  ASSERT_FALSE(direct.ok());
  EXPECT_THAT(direct.status().message(), HasSubstr("in a directory named for sequence 2"));
}

TEST_F(StoreTest, StateThatDoesNotFitLeavesNothingBehind) {
  auto store = Open();
  ShardState bad = TestState(id_, 5);
  bad.workers.pop_back();
  StatusOr<WrittenCheckpoint> w = store->Write(id_, bad, false);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Entries().empty());
}

TEST_F(StoreTest, FailedWriteLeavesThePreviousCheckpoints) {
  auto store = Open();
  WriteSteps(*store, 1);
  // The directory disappears under the store (a volume unmounted, say).
  fs::remove_all(dir_.path() + "/ps-1");
  testing::WriteAll(dir_.path() + "/ps-1", "not a directory");
  StatusOr<WrittenCheckpoint> w = store->Write(id_, TestState(id_, 20), false);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(w.status().message(), HasSubstr(dir_.path() + "/ps-1/.tmp-ckpt-2-"));
}

}  // namespace
}  // namespace ringtrain::ckpt

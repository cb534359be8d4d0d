// The checkpoint store over an object directory (StoreOptions::objects): checkpoints committed
// by their MANIFEST, uploads cut short, pruning, damaged objects and a store that fails. The
// objects live in memory here (the logic only); against a real S3 server: tests/integration/
// storage/s3_checkpoint_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ckpt_test_util.h"
#include "ringtrain/ckpt/object_directory.h"
#include "ringtrain/ckpt/store.h"

namespace ringtrain::ckpt {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SameState;
using testing::ScratchDir;
using testing::TestIdentity;
using testing::TestState;

class MemoryDirectory final : public ObjectDirectory {
 public:
  StatusOr<std::vector<std::string>> List() override {
    if (!fail_.ok()) return fail_;
    std::vector<std::string> names;
    for (const auto& [name, bytes] : objects_) names.push_back(name);
    return names;
  }
  StatusOr<std::string> Get(const std::string& name, uint64_t max_bytes) override {
    if (!fail_.ok()) return fail_;
    auto it = objects_.find(name);
    if (it == objects_.end()) return NotFound(Where(name) + ": no such object");
    if (it->second.size() > max_bytes) return DataLoss(Where(name) + ": too large");
    return it->second;
  }
  Status Put(const std::string& name, std::string_view bytes) override {
    if (!fail_.ok()) return fail_;
    if (fail_put_of_ == name) return Unavailable(Where(name) + ": connection reset");
    objects_[name] = std::string(bytes);
    return Status::Ok();
  }
  Status Delete(const std::string& name) override {
    if (!fail_.ok()) return fail_;
    objects_.erase(name);
    return Status::Ok();
  }
  std::string Where(const std::string& name) const override { return "mem://ckpt/" + name; }

  std::map<std::string, std::string> objects_;
  Status fail_ = Status::Ok();
  std::string fail_put_of_;
};

class ObjectStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(int keep = 2) {
    StatusOr<std::unique_ptr<Store>> s = Store::Open({dir_.path() + "/staging", keep, objects_});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [name, bytes] : objects_->objects_) names.push_back(name);
    return names;
  }
  std::vector<std::string> Staged() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_.path() + "/staging")) {
      names.push_back(e.path().filename().string());
    }
    return names;
  }

  ScratchDir dir_;
  std::shared_ptr<MemoryDirectory> objects_ = std::make_shared<MemoryDirectory>();
  ShardIdentity id_ = TestIdentity();
};

TEST_F(ObjectStoreTest, WritesKeepsTheNewestAndLoadsBack) {
  auto store = Open(/*keep=*/2);
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 3; ++i) {
    StatusOr<WrittenCheckpoint> w = store->Write(id_, TestState(id_, 10 * i, float(i)), i == 3);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(w->ref.sequence, static_cast<uint64_t>(i));
    EXPECT_EQ(w->pruned, i == 3 ? 1 : 0);
  }
  EXPECT_THAT(Names(), ElementsAre("ckpt-0000000002-step-000000000020/MANIFEST",
                                   "ckpt-0000000002-step-000000000020/shard.bin",
                                   "ckpt-0000000003-step-000000000030/MANIFEST",
                                   "ckpt-0000000003-step-000000000030/shard.bin"));
  EXPECT_TRUE(Staged().empty()) << "nothing stays staged";
  EXPECT_EQ(store->location(), "mem://ckpt/");
  StatusOr<LoadedCheckpoint> back = store->LoadLatest(id_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(SameState(back->state, TestState(id_, 30, 3.0f)));
  EXPECT_TRUE(back->manifest.final);
  EXPECT_EQ(back->ref.path, "mem://ckpt/ckpt-0000000003-step-000000000030");
  EXPECT_TRUE(Staged().empty()) << "the downloaded shard file is deleted once read";

  // A second store (a restarted server) continues the sequence.
  auto again = Open(2);
  StatusOr<WrittenCheckpoint> next = again->Write(id_, TestState(id_, 40, 4.0f), false);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->ref.sequence, 4u);
}

TEST_F(ObjectStoreTest, AnUploadCutShortIsNoCheckpointAndIsDeletedByTheNextOpen) {
  auto store = Open(3);
  ASSERT_TRUE(store->Write(id_, TestState(id_, 10), false).ok());
  // The connection breaks before the manifest: the shard file is there, the checkpoint is not.
  objects_->fail_put_of_ = "ckpt-0000000002-step-000000000020/MANIFEST";
  StatusOr<WrittenCheckpoint> cut = store->Write(id_, TestState(id_, 20), false);
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(), HasSubstr("connection reset"));
  EXPECT_TRUE(Staged().empty());
  StatusOr<std::vector<CheckpointRef>> listed = store->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].step, 10);
  EXPECT_EQ(store->LoadLatest(id_)->manifest.step, 10);
  objects_->fail_put_of_.clear();
  auto reopened = Open(3);
  EXPECT_THAT(Names(), ElementsAre("ckpt-0000000001-step-000000000010/MANIFEST",
                                   "ckpt-0000000001-step-000000000010/shard.bin"));
  // Its sequence is not used again.
  EXPECT_EQ(reopened->Write(id_, TestState(id_, 30), false)->ref.sequence, 3u);
}

TEST_F(ObjectStoreTest, ADamagedShardFileFallsBackToTheCheckpointBefore) {
  auto store = Open(3);
  ASSERT_TRUE(store->Write(id_, TestState(id_, 10, 1.0f), false).ok());
  ASSERT_TRUE(store->Write(id_, TestState(id_, 20, 2.0f), false).ok());
  std::string& newest = objects_->objects_["ckpt-0000000002-step-000000000020/shard.bin"];
  newest[newest.size() / 2] ^= 0x40;
  StatusOr<LoadedCheckpoint> back = store->LoadLatest(id_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->manifest.step, 10);
  ASSERT_EQ(back->skipped.size(), 1u);
  EXPECT_THAT(back->skipped[0],
              HasSubstr("mem://ckpt/ckpt-0000000002-step-000000000020/shard.bin"));
  // Larger than its manifest says: refused before it is read whole.
  newest += std::string(100, 'x');
  back = store->LoadLatest(id_);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->manifest.step, 10);
  EXPECT_THAT(back->skipped[0], HasSubstr("too large"));
}

TEST_F(ObjectStoreTest, ReadOnlyReadsWithoutWritingAndAFailingStoreIsAnError) {
  EXPECT_EQ(Store::OpenReadOnly(dir_.path() + "/ro", objects_).status().code(),
            StatusCode::kNotFound);
  auto store = Open(3);
  ASSERT_TRUE(store->Write(id_, TestState(id_, 10), true).ok());
  StatusOr<std::unique_ptr<Store>> ro = Store::OpenReadOnly(dir_.path() + "/ro", objects_);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*ro)->LoadLatest(id_)->manifest.step, 10);
  EXPECT_EQ((*ro)->Write(id_, TestState(id_, 20), false).status().code(),
            StatusCode::kFailedPrecondition);
  objects_->fail_ = Unavailable("mem://ckpt/: the store is down");
  StatusOr<LoadedCheckpoint> down = (*ro)->LoadLatest(id_);
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << "not a fall-back: the store failed";
  EXPECT_FALSE(Store::Open({dir_.path() + "/s2", 3, objects_}).ok());
}

}  // namespace
}  // namespace ringtrain::ckpt

// S3Store against a real S3 server on loopback (SeaweedFS, tests/s3server): listing across
// pages, globs, keys that need encoding, getting and deleting one object, ranged reads, wrong
// credentials, a missing bucket or key, and a server that goes away in the middle of a read
// (retried with backoff; a clear error once the retries are spent).
#include "ringtrain/storage/s3_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "ringtrain/storage/storage.h"
#include "s3_server.h"

namespace ringtrain::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class S3StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = testing::S3Server::Start();
    if (!started.ok()) {
      error_ = new std::string(started.status().ToString());
      return;
    }
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete error_;
    error_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(error_, nullptr) << *error_; }

  static S3Options Options() {
    S3Options o;
    o.endpoint = server_->endpoint();
    o.region = server_->region();
    o.credentials = {server_->access_key(), server_->secret_key(), ""};
    o.retry.attempts = 3;
    o.retry.initial_backoff = std::chrono::milliseconds(50);
    return o;
  }

  // PUT /bucket, signed by our own SigV4 (the store itself never creates buckets).
  static Status CreateBucket(const std::string& bucket) {
    const std::string host = server_->endpoint().substr(std::string("http://").size());
    SigV4Request sign{"PUT", host, "/" + bucket, {}, {}, std::string(kEmptySha256)};
    HttpRequest request;
    request.method = "PUT";
    request.url = server_->endpoint() + "/" + bucket;
    for (Header& h : SignV4(sign, {server_->access_key(), server_->secret_key(), ""},
                            server_->region(), "s3", std::chrono::system_clock::now())
                         .headers) {
      request.headers.push_back(std::move(h));
    }
    HttpClient client{HttpOptions{}};
    RT_ASSIGN_OR_RETURN(HttpResponse r, client.Send(request));
    if (r.status != 200) return Internal("create bucket: " + std::to_string(r.status) + r.body);
    return Status::Ok();
  }

  static std::string RandomBytes(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  }

  static std::vector<std::string> Keys(const std::vector<ObjectInfo>& found) {
    std::vector<std::string> keys;
    for (const ObjectInfo& o : found) keys.push_back(o.uri);
    return keys;
  }

  static testing::S3Server* server_;
  static std::string* error_;
};

testing::S3Server* S3StoreTest::server_ = nullptr;
std::string* S3StoreTest::error_ = nullptr;

TEST_F(S3StoreTest, ListsEveryPageAndGlobsAndReadsBackWhatItWrote) {
  ASSERT_TRUE(CreateBucket("listing").ok());
  S3Options options = Options();
  options.list_page_size = 2;  // 7 objects: 4 pages, each continued with a token
  Storage storage({options, {}});
  const std::vector<std::string> keys = {
      "data/part-00.csv",     "data/part-01.csv",     "data/part-02.csv", "data/part-10.csv",
      "data/sub/part-03.csv", "data/a name+=&,;.txt", "other/x.csv"};
  for (const std::string& key : keys) {
    const Status put = storage.Put("s3://listing/" + key, "content of " + key);
    ASSERT_TRUE(put.ok()) << key << ": " << put.ToString();
  }
  StatusOr<std::vector<ObjectInfo>> all = storage.List("s3://listing/data/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(Keys(*all),
              ElementsAre("s3://listing/data/a name+=&,;.txt", "s3://listing/data/part-00.csv",
                          "s3://listing/data/part-01.csv", "s3://listing/data/part-02.csv",
                          "s3://listing/data/part-10.csv", "s3://listing/data/sub/part-03.csv"));
  EXPECT_EQ((*all)[1].size,
            static_cast<int64_t>(std::string("content of data/part-00.csv").size()));
  StatusOr<std::vector<ObjectInfo>> glob = storage.List("s3://listing/data/part-0*.csv");
  ASSERT_TRUE(glob.ok()) << glob.status().ToString();
  EXPECT_THAT(Keys(*glob),
              ElementsAre("s3://listing/data/part-00.csv", "s3://listing/data/part-01.csv",
                          "s3://listing/data/part-02.csv"))
      << "no wildcard crosses a '/'";
  // One key, and a "directory" without its trailing '/'.
  StatusOr<std::vector<ObjectInfo>> one = storage.List("s3://listing/data/a name+=&,;.txt");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  auto stream = storage.Open((*one)[0]);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ(*ReadAll(**stream, 1000), "content of data/a name+=&,;.txt");
  StatusOr<std::vector<ObjectInfo>> dir = storage.List("s3://listing/data/sub");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_THAT(Keys(*dir), ElementsAre("s3://listing/data/sub/part-03.csv"));
  StatusOr<std::vector<ObjectInfo>> whole = storage.List("s3://listing");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->size(), keys.size());
}

TEST_F(S3StoreTest, GetsOneObjectAndDeletesIt) {
  ASSERT_TRUE(CreateBucket("deleting").ok());
  Storage storage({Options(), {}});
  ASSERT_TRUE(storage.Put("s3://deleting/ckpt/MANIFEST", "manifest").ok());
  ASSERT_TRUE(storage.Put("s3://deleting/ckpt/MANIFEST.d/x", "beneath").ok());
  StatusOr<std::string> got = storage.Get("s3://deleting/ckpt/MANIFEST", 100);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "manifest");
  StatusOr<std::string> big = storage.Get("s3://deleting/ckpt/MANIFEST", 3);
  EXPECT_EQ(big.status().code(), StatusCode::kDataLoss) << big.status().ToString();
  // A key that is only a prefix of others is no object.
  EXPECT_EQ(storage.Get("s3://deleting/ckpt", 100).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(storage.Delete("s3://deleting/ckpt/MANIFEST").ok());
  EXPECT_EQ(storage.Get("s3://deleting/ckpt/MANIFEST", 100).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(storage.Delete("s3://deleting/ckpt/MANIFEST").ok()) << "deleting nothing is OK";
  StatusOr<std::vector<ObjectInfo>> left = storage.List("s3://deleting/");
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_THAT(Keys(*left), ElementsAre("s3://deleting/ckpt/MANIFEST.d/x"));
  EXPECT_EQ(storage.Delete("s3://deleting/ckpt/").code(), StatusCode::kInvalidArgument);
}

TEST_F(S3StoreTest, RangedReadsInChunksGiveTheExactBytes) {
  ASSERT_TRUE(CreateBucket("ranges").ok());
  S3Options options = Options();
  options.read_chunk_bytes = 64 << 10;
  Storage storage({options, {}});
  const std::string blob = RandomBytes(1 << 20, 7);
  ASSERT_TRUE(storage.Put("s3://ranges/blob.bin", blob).ok());
  StatusOr<std::vector<ObjectInfo>> found = storage.List("s3://ranges/blob.bin");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ((*found)[0].size, 1 << 20);
  auto part = storage.Open((*found)[0], 1000, 300000);
  ASSERT_TRUE(part.ok());
  StatusOr<std::string> got = ReadAll(**part, 1 << 21);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == blob.substr(1000, 300000));
  auto all = storage.Open((*found)[0]);
  ASSERT_TRUE(all.ok());
  got = ReadAll(**all, 1 << 21);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == blob);
}

TEST_F(S3StoreTest, WrongCredentialsMissingBucketsAndKeysAreNamedErrors) {
  ASSERT_TRUE(CreateBucket("errors").ok());
  Storage good({Options(), {}});
  ASSERT_TRUE(good.Put("s3://errors/k", "v").ok());

  S3Options wrong_secret = Options();
  wrong_secret.credentials.secret_access_key = "not-the-secret";
  Storage bad_secret({wrong_secret, {}});
  StatusOr<std::vector<ObjectInfo>> listed = bad_secret.List("s3://errors/");
  EXPECT_EQ(listed.status().code(), StatusCode::kPermissionDenied) << listed.status().ToString();
  EXPECT_THAT(listed.status().message(), HasSubstr("s3://errors/: 403 SignatureDoesNotMatch"));
  EXPECT_THAT(listed.status().message(), ::testing::Not(HasSubstr("not-the-secret")));

  S3Options wrong_key = Options();
  wrong_key.credentials.access_key_id = "RTNOSUCHKEY000000000";
  StatusOr<std::vector<ObjectInfo>> unknown = Storage({wrong_key, {}}).List("s3://errors/");
  EXPECT_EQ(unknown.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(unknown.status().message(), HasSubstr("InvalidAccessKeyId"));

  StatusOr<std::vector<ObjectInfo>> no_bucket = good.List("s3://no-such-bucket/data/");
  EXPECT_EQ(no_bucket.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_bucket.status().message(),
              HasSubstr("s3://no-such-bucket/data/: 404 NoSuchBucket"));
  StatusOr<std::vector<ObjectInfo>> no_key = good.List("s3://errors/missing.csv");
  EXPECT_EQ(no_key.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_key.status().message(), HasSubstr("s3://errors/missing.csv"));
  // An object deleted after it was listed: the read says so.
  auto gone = good.Open({"s3://errors/listed-then-gone", 10});
  ASSERT_TRUE(gone.ok());
  StatusOr<std::string> read = ReadAll(**gone, 100);
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(read.status().message(), HasSubstr("s3://errors/listed-then-gone: 404 NoSuchKey"));
}

// Stopped in the middle of two reads: the one with few retries fails with a clear error naming
// the object once they are spent; the other goes on once the server is started again (a
// restart takes ~17 s: SeaweedFS's master holds writes and lookups for 15 s) and gets every byte.
TEST_F(S3StoreTest, AServerThatGoesAwayMidReadIsRetriedThenAClearError) {
  ASSERT_TRUE(CreateBucket("flaky").ok());
  S3Options patient = Options();
  patient.read_chunk_bytes = 64 << 10;
  patient.retry.attempts = 30;
  patient.retry.initial_backoff = std::chrono::milliseconds(250);
  patient.retry.max_backoff = std::chrono::milliseconds(2000);
  patient.http.connect_timeout = std::chrono::milliseconds(2000);
  S3Options brief = patient;
  brief.retry.attempts = 3;
  brief.retry.initial_backoff = std::chrono::milliseconds(100);
  Storage storage({patient, {}});
  Storage impatient({brief, {}});
  const std::string blob = RandomBytes(1 << 20, 11);
  ASSERT_TRUE(storage.Put("s3://flaky/blob.bin", blob).ok());
  StatusOr<std::vector<ObjectInfo>> found = storage.List("s3://flaky/blob.bin");
  ASSERT_TRUE(found.ok());
  auto stream = storage.Open((*found)[0]);
  auto brief_stream = impatient.Open((*found)[0]);
  ASSERT_TRUE(stream.ok() && brief_stream.ok());
  std::string got(100 << 10, '\0');
  for (ByteStream* s : {stream->get(), brief_stream->get()}) {
    size_t have = 0;
    while (have < got.size()) {
      StatusOr<size_t> n = s->Read(std::span<char>(got.data() + have, got.size() - have));
      ASSERT_TRUE(n.ok() && *n > 0);
      have += *n;
    }
  }
  ASSERT_TRUE(server_->Stop().ok());

  StatusOr<std::string> failed = ReadAll(**brief_stream, 1 << 21);
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().ToString();
  EXPECT_THAT(failed.status().message(), HasSubstr("s3://flaky/blob.bin"));
  EXPECT_THAT(failed.status().message(), HasSubstr("gave up after 3 attempts"));

  std::thread restart([] {
    const Status started = server_->StartAgain();
    EXPECT_TRUE(started.ok()) << started.ToString();
  });
  StatusOr<std::string> rest = ReadAll(**stream, 1 << 21);
  restart.join();
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_TRUE(got + *rest == blob);
}

}  // namespace
}  // namespace ringtrain::storage

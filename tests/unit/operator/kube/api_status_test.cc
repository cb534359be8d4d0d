#include "ringtrain/operator/kube/api_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ringtrain/operator/kube/watch_event.h"

namespace ringtrain::op::kube {
namespace {

using ::testing::HasSubstr;

TEST(ApiStatusTest, CodeTable) {
  EXPECT_EQ(CodeForHttpStatus(400, "BadRequest"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeForHttpStatus(401, "Unauthorized"), StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeForHttpStatus(403, "Forbidden"), StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeForHttpStatus(404, "NotFound"), StatusCode::kNotFound);
  EXPECT_EQ(CodeForHttpStatus(405, "MethodNotAllowed"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeForHttpStatus(408, ""), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(CodeForHttpStatus(409, "AlreadyExists"), StatusCode::kAlreadyExists);
  EXPECT_EQ(CodeForHttpStatus(409, "Conflict"), StatusCode::kAborted);
  EXPECT_EQ(CodeForHttpStatus(409, ""), StatusCode::kAborted);
  EXPECT_EQ(CodeForHttpStatus(410, "Expired"), StatusCode::kOutOfRange);
  EXPECT_EQ(CodeForHttpStatus(410, "Gone"), StatusCode::kOutOfRange);
  EXPECT_EQ(CodeForHttpStatus(415, "UnsupportedMediaType"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeForHttpStatus(422, "Invalid"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeForHttpStatus(429, "TooManyRequests"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForHttpStatus(500, "InternalError"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForHttpStatus(502, ""), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForHttpStatus(503, "ServiceUnavailable"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeForHttpStatus(504, "Timeout"), StatusCode::kDeadlineExceeded);
}

TEST(ApiStatusTest, MessageNamesVerbPathAndServerMessage) {
  const std::string body = R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"configmaps \"x\" not found","reason":"NotFound","code":404})";
  Status s = StatusFromHttp("GET", "/api/v1/namespaces/a/configmaps/x", 404, body);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "GET /api/v1/namespaces/a/configmaps/x: HTTP 404 NotFound: configmaps \"x\" not found");
}

TEST(ApiStatusTest, AlreadyExistsVersusConflictComesFromTheReason) {
  Status exists = StatusFromHttp(
      "POST", "/p", 409, R"({"kind":"Status","reason":"AlreadyExists","message":"exists"})");
  EXPECT_EQ(exists.code(), StatusCode::kAlreadyExists);
  Status conflict = StatusFromHttp(
      "PUT", "/p", 409,
      R"({"kind":"Status","reason":"Conflict","message":"the object has been modified"})");
  EXPECT_EQ(conflict.code(), StatusCode::kAborted);
  EXPECT_THAT(conflict.message(), HasSubstr("the object has been modified"));
}

// A conflict is told by its code, never by the words of its message: whatever the server
// writes (or the reason it omits), a 409 that is not AlreadyExists is Aborted.
TEST(ApiStatusTest, ConflictIsAbortedWhateverTheMessageSays) {
  Status bare = StatusFromHttp("PATCH", "/p", 409, "");
  EXPECT_EQ(bare.code(), StatusCode::kAborted);
  Status precondition = StatusFromHttp(
      "DELETE", "/p", 409,
      R"({"kind":"Status","reason":"Conflict","message":"Precondition failed: UID in precondition: a, UID in object meta: b"})");
  EXPECT_EQ(precondition.code(), StatusCode::kAborted);
  Status odd = StatusFromHttp("PUT", "/p", 409, R"({"kind":"Status","message":"try again"})");
  EXPECT_EQ(odd.code(), StatusCode::kAborted);
  // The same for a watch's ERROR event carrying a metav1.Status.
  Status from_watch = StatusFromApiStatus(
      "WATCH", "/p", nlohmann::json{{"kind", "Status"}, {"code", 409}, {"message", "m"}});
  EXPECT_EQ(from_watch.code(), StatusCode::kAborted);
  EXPECT_EQ(bare.ToString().rfind("aborted: ", 0), 0u) << bare.ToString();
  EXPECT_NE(StatusCode::kAborted, StatusCode::kFailedPrecondition);
}

TEST(ApiStatusTest, HttpStatusWinsOverTheBodysCode) {
  Status s = StatusFromHttp("GET", "/p", 503, R"({"kind":"Status","code":200,"message":"m"})");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST(ApiStatusTest, NonJsonBodyIsQuotedTruncated) {
  const std::string html = "<html>" + std::string(500, 'x') + "</html>";
  Status s = StatusFromHttp("GET", "/p", 502, html);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("GET /p: HTTP 502 Bad Gateway: <html>xxx"));
  EXPECT_THAT(s.message(), HasSubstr("..."));
  EXPECT_LT(s.message().size(), 300u);
}

TEST(ApiStatusTest, EmptyBodyUsesTheReasonPhrase) {
  Status s = StatusFromHttp("DELETE", "/p", 403, "");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "DELETE /p: HTTP 403 Forbidden");
}

TEST(ApiStatusTest, StatusObjectWithoutCodeIsInternal) {
  Status s = StatusFromApiStatus("WATCH", "/p", {{"kind", "Status"}, {"message", "huh"}});
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("huh"));
}

TEST(WatchEventTest, ParsesAnEvent) {
  auto event = ParseWatchLine(
      "/w", R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}})");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->type, "MODIFIED");
  EXPECT_EQ(event->object["metadata"]["name"], "a");
}

TEST(WatchEventTest, GarbageIsDataLossNamingTheLine) {
  struct Case {
    std::string line;
    std::string why;
  };
  for (const Case& c : {Case{"not json at all", "not JSON"}, Case{"[1,2]", "not a JSON object"},
                        Case{R"({"object":{}})", "no string \"type\""},
                        Case{R"({"type":"RENAMED","object":{}})", "unknown event type"},
                        Case{R"({"type":"ADDED","object":"x"})", "no object \"object\""}}) {
    auto event = ParseWatchLine("/api/v1/pods?watch=1", c.line);
    ASSERT_FALSE(event.ok()) << c.line;
    EXPECT_EQ(event.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(event.status().message(), HasSubstr(c.why));
    EXPECT_THAT(event.status().message(), HasSubstr("\"" + c.line + "\""));
    EXPECT_THAT(event.status().message(), HasSubstr("/api/v1/pods?watch=1"));
  }
}

TEST(WatchEventTest, LongGarbageLineIsTruncated) {
  auto event = ParseWatchLine("/w", std::string(10000, 'g'));
  ASSERT_FALSE(event.ok());
  EXPECT_LT(event.status().message().size(), 400u);
  EXPECT_THAT(event.status().message(), HasSubstr("ggg..."));
}

TEST(WatchEventTest, GoneErrorEventIsOutOfRange) {
  // As kube-apiserver 1.34 sends it for a resourceVersion older than its watch cache.
  auto event = ParseWatchLine(
      "/w",
      R"j({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)j"
      R"j("status":"Failure","message":"too old resource version: 2 (192)","reason":"Expired",)j"
      R"j("code":410}})j");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  Status s = WatchErrorStatus("/w", *event);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(), HasSubstr("too old resource version: 2 (192)"));
  EXPECT_THAT(s.message(), HasSubstr("resourceVersion too old"));
}

TEST(WatchEventTest, OtherErrorEventsMapLikeHttpErrors) {
  WatchEvent event{"ERROR", {{"kind", "Status"}, {"code", 500}, {"message", "etcd unavailable"}}};
  Status s = WatchErrorStatus("/w", event);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("etcd unavailable"));
}

}  // namespace
}  // namespace ringtrain::op::kube

// S3Server: a real SeaweedFS S3 endpoint on 127.0.0.1 for one test executable, started by
// tests/s3server/start.sh from the cached `weed` (tests/s3server/build.sh builds it; `make
// s3server`), with S3 authentication on and one key pair; stopped and its directory removed
// when destroyed. If the test process dies first, a detached guard stops it.
//
// Thread-safety: Stop/StartAgain by one thread; the accessors from any.
#ifndef RINGTRAIN_TESTS_SUPPORT_S3SERVER_S3_SERVER_H_
#define RINGTRAIN_TESTS_SUPPORT_S3SERVER_S3_SERVER_H_

#include <memory>
#include <string>

#include "ringtrain/common/status.h"

namespace ringtrain::testing {

class S3Server {
 public:
  // Unavailable with the start script's output tail if it does not come up.
  static StatusOr<std::unique_ptr<S3Server>> Start();
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // http://127.0.0.1:PORT
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }
  const std::string& region() const { return region_; }
  const std::string& dir() const { return dir_; }

  // Stops the server (its data stays); StartAgain starts it on the same port and data.
  Status Stop();
  Status StartAgain();

 private:
  explicit S3Server(std::string dir) : dir_(std::move(dir)) {}
  Status ReadCredentials();

  std::string dir_;
  std::string endpoint_, access_key_, secret_key_, region_;
};

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_SUPPORT_S3SERVER_S3_SERVER_H_

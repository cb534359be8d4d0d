#include "s3_server.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "command.h"

namespace ringtrain::testing {
namespace {

const std::string kScripts = RINGTRAIN_SOURCE_DIR "/tests/s3server";

std::string Tail(const std::string& text, size_t max_chars = 4000) {
  return text.size() <= max_chars ? text : text.substr(text.size() - max_chars);
}

}  // namespace

StatusOr<std::unique_ptr<S3Server>> S3Server::Start() {
  char tmpl[] = "/tmp/ringtrain-s3.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Internal("mkdtemp failed");
  const std::string dir = tmpl;
  StopWhenThisProcessEnds(kScripts + "/stop.sh", dir);
  std::unique_ptr<S3Server> server(new S3Server(dir));
  RT_RETURN_IF_ERROR(server->StartAgain());
  return server;
}

Status S3Server::StartAgain() {
  const CommandResult r = RunCommand("bash " + kScripts + "/start.sh " + dir_);
  if (r.exit_code != 0) {
    return Unavailable("the S3 server did not start (tests/s3server/start.sh " + dir_ +
                       "; build it with tests/s3server/build.sh). Output:\n" + Tail(r.output));
  }
  return ReadCredentials();
}

Status S3Server::Stop() {
  const CommandResult r = RunCommand("bash " + kScripts + "/stop.sh " + dir_);
  if (r.exit_code != 0) return Internal("stop.sh " + dir_ + ": " + Tail(r.output));
  return Status::Ok();
}

Status S3Server::ReadCredentials() {
  std::ifstream in(dir_ + "/credentials");
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = line.substr(0, eq), value = line.substr(eq + 1);
    if (name == "AWS_ACCESS_KEY_ID") access_key_ = value;
    if (name == "AWS_SECRET_ACCESS_KEY") secret_key_ = value;
    if (name == "AWS_REGION") region_ = value;
    if (name == "S3_ENDPOINT") endpoint_ = value;
  }
  if (endpoint_.empty() || access_key_.empty() || secret_key_.empty()) {
    return Internal(dir_ + "/credentials lacks the endpoint or the key pair");
  }
  return Status::Ok();
}

S3Server::~S3Server() {
  const CommandResult r = RunCommand("bash " + kScripts + "/stop.sh " + dir_);
  if (r.exit_code == 0) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

}  // namespace ringtrain::testing

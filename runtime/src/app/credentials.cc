#include "ringtrain/app/credentials.h"

#include <utility>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ringtrain/auth/keys.h"

namespace ringtrain::app {

Status CheckPrivateDirectory(const std::string& dir) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) {
    return InvalidArgument(std::string(job::kEnvRunDir) + ": " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return InvalidArgument(std::string(job::kEnvRunDir) + ": " + dir + " is not a directory");
  }
  if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return InvalidArgument(std::string(job::kEnvRunDir) + ": " + dir +
                           " must be this user's alone (mode 0700) to stand in for CURVE; it is "
                           "owned by uid " +
                           std::to_string(st.st_uid) + ", mode " + mode);
  }
  return Status::Ok();
}

auth::Identity IdentityOf(const job::PodContract& contract) {
  return contract.role == job::Role::kParameterServer ? auth::Identity::Server(contract.index)
                                                      : auth::Identity::Worker(contract.index);
}

StatusOr<std::shared_ptr<const auth::Credentials>> LoadCredentials(const job::PodContract& contract,
                                                                   const job::TrainingJob& job) {
  if (job.spec.security.authentication == job::Authentication::kNone) {
    return std::shared_ptr<const auth::Credentials>();
  }
  if (!contract.run_dir.empty() && contract.public_keys_path.empty() &&
      contract.secret_key_path.empty()) {
    // A local run over ipc:// sockets in a directory only this user can enter: its
    // permissions authenticate (nobody else can connect), with no cryptographic cost.
    RT_RETURN_IF_ERROR(CheckPrivateDirectory(contract.run_dir));
    return std::shared_ptr<const auth::Credentials>();
  }
  for (auto [var, path] : {std::pair{job::kEnvPublicKeys, &contract.public_keys_path},
                           std::pair{job::kEnvSecretKey, &contract.secret_key_path}}) {
    if (path->empty()) {
      return InvalidArgument(std::string(var) +
                             ": required with spec.security.authentication: curve (the default; "
                             "`none` runs the job in plaintext)");
    }
  }
  auto credentials = std::make_shared<auth::Credentials>();
  credentials->self = IdentityOf(contract);
  StatusOr<auth::KeySet> keys = auth::ReadKeySetFile(contract.public_keys_path);
  if (!keys.ok()) {
    return Status(keys.status().code(),
                  std::string(job::kEnvPublicKeys) + ": " + keys.status().message());
  }
  if (Status s = keys->CheckCovers(contract.num_ps, contract.num_workers); !s.ok()) {
    return InvalidArgument(std::string(job::kEnvPublicKeys) + ": " + contract.public_keys_path +
                           ": " + s.message());
  }
  StatusOr<auth::KeyPair> pair = auth::ReadSecretKeyFile(contract.secret_key_path);
  if (!pair.ok()) {
    return Status(pair.status().code(),
                  std::string(job::kEnvSecretKey) + ": " + pair.status().message());
  }
  if (keys->KeyOf(credentials->self) != pair->public_key) {
    return InvalidArgument(std::string(job::kEnvSecretKey) + ": " + contract.secret_key_path +
                           " is not " + auth::Name(credentials->self) + "'s key (" +
                           job::kEnvPublicKeys + " lists another)");
  }
  credentials->keys = std::move(keys).value();
  credentials->pair = std::move(pair).value();
  return std::shared_ptr<const auth::Credentials>(std::move(credentials));
}

StatusOr<std::unique_ptr<auth::ZapHandler>> StartZapHandler(
    zmq::context_t& context, const auth::Credentials* credentials,
    std::function<void(const std::string&)> log) {
  if (credentials == nullptr) return std::unique_ptr<auth::ZapHandler>();
  return auth::ZapHandler::Start(context, credentials->keys, std::move(log));
}

}  // namespace ringtrain::app

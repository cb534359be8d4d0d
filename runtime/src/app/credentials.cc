#include "ringtrain/app/credentials.h"

#include <utility>

#include "ringtrain/auth/keys.h"

namespace ringtrain::app {

auth::Identity IdentityOf(const job::PodContract& contract) {
  return contract.role == job::Role::kParameterServer ? auth::Identity::Server(contract.index)
                                                      : auth::Identity::Worker(contract.index);
}

StatusOr<std::shared_ptr<const auth::Credentials>> LoadCredentials(const job::PodContract& contract,
                                                                   const job::TrainingJob& job) {
  if (job.spec.security.authentication == job::Authentication::kNone) {
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

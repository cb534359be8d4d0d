// The credentials a process of a job authenticates with (spec.security.authentication), and
// the ZAP handler that admits the job's keys to its listening sockets.
//
// With authentication: curve the pod contract must name the job's public keys file and this
// process's secret key file (RINGTRAIN_PUBLIC_KEYS, RINGTRAIN_SECRET_KEY), or, for a local run
// over ipc:// sockets, the run's private directory alone (RINGTRAIN_RUN_DIR: this user's, mode
// 0700; CheckPrivateDirectory), whose permissions authenticate instead; the keys must cover
// exactly the job's processes and the supervisor, and the secret key must be the one the public
// keys list for this process. Errors are InvalidArgument naming the variable or the file:
// "RINGTRAIN_SECRET_KEY: /keys/worker-1.key is not worker-0's key (RINGTRAIN_PUBLIC_KEYS
// lists another)". With authentication: none the process runs in plaintext and key files are
// ignored.
//
// Thread-safety: functions of their arguments (they read the named files).
#ifndef RINGTRAIN_APP_CREDENTIALS_H_
#define RINGTRAIN_APP_CREDENTIALS_H_

#include <functional>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/auth/zap_handler.h"
#include "ringtrain/common/status.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::app {

// OK when `dir` is a directory owned by this process's user that nobody else may enter (no
// group or other permission): InvalidArgument naming RINGTRAIN_RUN_DIR otherwise.
[[nodiscard]] Status CheckPrivateDirectory(const std::string& dir);

// The identity of the process `contract` describes: ps-<i> or worker-<i>.
auth::Identity IdentityOf(const job::PodContract& contract);

// The process's credentials, or null with authentication: none (see the top).
StatusOr<std::shared_ptr<const auth::Credentials>> LoadCredentials(const job::PodContract& contract,
                                                                   const job::TrainingJob& job);

// With credentials, starts `context`'s ZAP handler over the job's keys (refusals go to `log`);
// null without. Call before any socket of the context binds.
StatusOr<std::unique_ptr<auth::ZapHandler>> StartZapHandler(
    zmq::context_t& context, const auth::Credentials* credentials,
    std::function<void(const std::string&)> log);

}  // namespace ringtrain::app

#endif  // RINGTRAIN_APP_CREDENTIALS_H_

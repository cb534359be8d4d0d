// Action: one step of a reconcile plan (planner.h) for the executor (executor.h) to take.
// Built only through the named factories below, so each kind carries exactly the fields it
// uses; the fields stay public for the executor and the tests to read.
//
// Thread-safety: a value.
#ifndef RINGTRAIN_OPERATOR_ACTION_H_
#define RINGTRAIN_OPERATOR_ACTION_H_

#include <string>

#include <nlohmann/json.hpp>

#include "ringtrain/operator/job_keys.h"

namespace ringtrain::op {

enum class ActionType {
  kCreate,           // create `object`
  kDeletePod,        // delete pod `name`
  kDeleteConfigMap,  // delete ConfigMap `name` (the old spec of a job resumed after an edit)
  kDeleteJob,        // delete the TrainingJob itself (TTL)
  kEvent,            // record a Kubernetes Event
  kTakeover,         // tell the lost server `server`'s successor, at `endpoint`, to serve its
                     // shard until the replacement fetches it (failover; shard_control.h)
};

struct Action {
  ActionType type;
  nlohmann::json object;   // kCreate
  std::string name;        // kDeletePod, kDeleteConfigMap, kDeleteJob
  std::string uid;         // kDelete*: the object meant (a precondition); "" for any
  std::string event_type;  // kEvent: Normal | Warning
  std::string reason;      // kEvent
  std::string message;     // kEvent
  int server = -1;         // kTakeover: the lost server's index
  std::string endpoint{};  // kTakeover: its successor's data endpoint ("tcp://10.1.2.3:7070")
  PeerAuth auth{};         // kTakeover: how to speak to the successor (empty: plaintext)

  // Creates `object` (a complete manifest with apiVersion, kind and metadata.name).
  static Action Create(nlohmann::json object);
  // Deletes the pod `name` if its UID is still `uid`.
  static Action DeletePod(std::string name, std::string uid);
  // Deletes the ConfigMap `name` if its UID is still `uid`.
  static Action DeleteConfigMap(std::string name, std::string uid);
  // Deletes the TrainingJob `name` if its UID is still `uid` (a job re-created under the same
  // name is not this one).
  static Action DeleteJob(std::string name, std::string uid);
  // Records an Event about the job. REQUIRES: `type` is "Normal" or "Warning".
  static Action Event(std::string type, std::string reason, std::string message);
  // Asks the successor of lost server `server`, listening at `endpoint`, to take its shard over.
  static Action Takeover(int server, std::string endpoint, PeerAuth auth = {});
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_ACTION_H_

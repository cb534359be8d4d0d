#include "ringtrain/operator/action.h"

#include <utility>

#include "ringtrain/common/check.h"

namespace ringtrain::op {

Action Action::Create(nlohmann::json object) {
  return {ActionType::kCreate, std::move(object), "", "", "", "", ""};
}

Action Action::DeletePod(std::string name, std::string uid) {
  return {ActionType::kDeletePod, {}, std::move(name), std::move(uid), "", "", ""};
}

Action Action::DeleteConfigMap(std::string name, std::string uid) {
  return {ActionType::kDeleteConfigMap, {}, std::move(name), std::move(uid), "", "", ""};
}

Action Action::DeleteJob(std::string name, std::string uid) {
  return {ActionType::kDeleteJob, {}, std::move(name), std::move(uid), "", "", ""};
}

Action Action::Event(std::string type, std::string reason, std::string message) {
  RT_CHECK(type == "Normal" || type == "Warning");
  return {ActionType::kEvent, {}, "", "", std::move(type), std::move(reason), std::move(message)};
}

Action Action::Takeover(int server, std::string endpoint, PeerAuth auth) {
  Action a{ActionType::kTakeover, {}, "", "", "", "", ""};
  a.server = server;
  a.endpoint = std::move(endpoint);
  a.auth = std::move(auth);
  return a;
}

}  // namespace ringtrain::op

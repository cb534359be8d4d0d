#include "ringtrain/operator/job_state.h"

namespace ringtrain::op {

const Condition* JobStatus::Find(const std::string& type) const {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool JobStatus::IsTrue(const std::string& type) const {
  const Condition* c = Find(type);
  return c != nullptr && c->status == "True";
}

bool SetCondition(JobStatus& status, const std::string& type, const std::string& value,
                  const std::string& reason, const std::string& message, Time now,
                  int64_t generation) {
  for (Condition& c : status.conditions) {
    if (c.type != type) continue;
    if (c.status == value && c.reason == reason && c.message == message &&
        c.observed_generation == generation) {
      return false;
    }
    if (c.status != value) c.last_transition = now;
    const bool changed = c.status != value || c.reason != reason;
    c.status = value;
    c.reason = reason;
    c.message = message;
    c.observed_generation = generation;
    return changed;
  }
  // A condition that never held is not worth recording as False.
  if (value == "False") return false;
  status.conditions.push_back({type, value, reason, message, now, generation});
  return true;
}

}  // namespace ringtrain::op

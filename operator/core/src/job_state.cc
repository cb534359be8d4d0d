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

}  // namespace ringtrain::op

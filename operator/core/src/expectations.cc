#include "ringtrain/operator/expectations.h"

#include <utility>

#include "ringtrain/common/check.h"

namespace ringtrain::op {

Expectations::Expectations(std::chrono::milliseconds timeout, Clock clock)
    : timeout_(timeout), clock_(std::move(clock)) {
  RT_CHECK(timeout_.count() > 0);
  RT_CHECK(clock_ != nullptr);
}

void Expectations::Expect(const std::string& key, Expectation expectation) {
  Entry entry{std::move(expectation), clock_() + timeout_};
  std::lock_guard<std::mutex> lock(mu_);
  entries_[key] = std::move(entry);
}

void Expectations::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(key);
}

Expectations::Verdict Expectations::Check(const std::string& key, const std::string& job_uid,
                                          const std::string& job_resource_version,
                                          const Lookup& lookup) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return Verdict::kProceed;
  if (it->second.expectation.job_uid != job_uid) {
    entries_.erase(it);  // about a previous job of the same name
    return Verdict::kProceed;
  }
  if (Met(it->second.expectation, job_resource_version, lookup)) {
    entries_.erase(it);
    return Verdict::kProceed;
  }
  if (clock_() < it->second.expires) return Verdict::kWait;
  entries_.erase(it);
  return Verdict::kExpired;
}

size_t Expectations::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

bool Expectations::Met(const Expectation& e, const std::string& job_resource_version,
                       const Lookup& lookup) {
  // A status write moves the job's resourceVersion; until the cache shows another one, it
  // has not seen the write.
  if (!e.job_resource_version.empty() && job_resource_version == e.job_resource_version) {
    return false;
  }
  for (const ObjectRef& ref : e.present) {
    if (lookup(e.job_uid, ref) == Cached::kAbsent) return false;
  }
  for (const ObjectRef& ref : e.absent) {
    if (lookup(e.job_uid, ref) == Cached::kPresent) return false;
  }
  return true;
}

}  // namespace ringtrain::op

#include "ringtrain/operator/leader_election.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <thread>
#include <utility>

namespace ringtrain::op {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class RealElectionClock final : public ElectionClock {
 public:
  SteadyClock::time_point Now() override { return SteadyClock::now(); }
  std::chrono::system_clock::time_point WallNow() override {
    return std::chrono::system_clock::now();
  }
  void Sleep(milliseconds duration, const std::atomic<bool>& stop) override {
    // The caller's stop flag is a bare atomic, nothing to wait on: poll it.
    const auto until = SteadyClock::now() + duration;
    while (!stop) {
      const auto now = SteadyClock::now();
      if (now >= until) return;
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(until - now, milliseconds(10)));
    }
  }
};

std::string StringField(const nlohmann::json& spec, const char* key) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t IntField(const nlohmann::json& spec, const char* key) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

int64_t LeaseSeconds(const LeaderElectionOptions& options) {
  return std::max<int64_t>(1, (options.lease_duration.count() + 999) / 1000);
}

std::string KeyOf(const nlohmann::json& lease) {
  const LeaseSpec spec = ParseLeaseSpec(lease);
  return spec.holder_identity + "\n" + spec.renew_time;
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string FormatSeconds(SteadyClock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f s", Seconds(d));
  return buf;
}

}  // namespace

Status ValidateLeaderElectionOptions(const LeaderElectionOptions& o) {
  if (o.lease_namespace.empty())
    return InvalidArgument("leader election: lease_namespace is empty");
  if (o.lease_name.empty()) return InvalidArgument("leader election: lease_name is empty");
  if (o.identity.empty()) return InvalidArgument("leader election: identity is empty");
  if (o.retry_period <= milliseconds(0)) {
    return InvalidArgument("leader election: retry_period must be > 0");
  }
  if (o.renew_deadline <= o.retry_period) {
    return InvalidArgument("leader election: renew_deadline must exceed retry_period");
  }
  if (o.lease_duration <= o.renew_deadline) {
    return InvalidArgument("leader election: lease_duration must exceed renew_deadline");
  }
  return Status::Ok();
}

std::string FormatMicroTime(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
  const auto secs = std::chrono::floor<std::chrono::seconds>(us);
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
  // The fraction is in [0, 999999]; a string keeps GCC's -Wformat-truncation (Release) quiet.
  std::string fraction = std::to_string((us - secs).count());
  fraction.insert(0, 6 - std::min<size_t>(6, fraction.size()), '0');
  return std::string(date) + "." + fraction + "Z";
}

LeaseSpec ParseLeaseSpec(const nlohmann::json& lease) {
  LeaseSpec s;
  if (!lease.is_object()) return s;
  auto it = lease.find("spec");
  if (it == lease.end() || !it->is_object()) return s;
  s.holder_identity = StringField(*it, "holderIdentity");
  s.lease_duration_seconds = IntField(*it, "leaseDurationSeconds");
  s.acquire_time = StringField(*it, "acquireTime");
  s.renew_time = StringField(*it, "renewTime");
  s.lease_transitions = IntField(*it, "leaseTransitions");
  return s;
}

LeaseDecision DecideLease(const LeaseObservation& observed, const LeaderElectionOptions& options,
                          SteadyClock::time_point now,
                          std::chrono::system_clock::time_point wall_now) {
  LeaseDecision d;
  const std::string stamp = FormatMicroTime(wall_now);
  if (!observed.lease.has_value()) {
    d.action = LeaseAction::kCreate;
    d.lease = {{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", options.lease_name}, {"namespace", options.lease_namespace}}},
               {"spec",
                {{"holderIdentity", options.identity},
                 {"leaseDurationSeconds", LeaseSeconds(options)},
                 {"acquireTime", stamp},
                 {"renewTime", stamp},
                 {"leaseTransitions", 0}}}};
    return d;
  }
  const LeaseSpec spec = ParseLeaseSpec(*observed.lease);
  d.holder = spec.holder_identity;
  d.lease = *observed.lease;
  if (!d.lease.contains("spec") || !d.lease["spec"].is_object()) {
    d.lease["spec"] = nlohmann::json::object();
  }
  nlohmann::json& out = d.lease["spec"];
  if (spec.holder_identity == options.identity) {
    d.action = LeaseAction::kRenew;
    out["holderIdentity"] = options.identity;
    out["leaseDurationSeconds"] = LeaseSeconds(options);
    out["renewTime"] = stamp;
    if (spec.acquire_time.empty()) out["acquireTime"] = stamp;
    out["leaseTransitions"] = spec.lease_transitions;
    return d;
  }
  if (!spec.holder_identity.empty()) {
    const auto duration = std::max<SteadyClock::duration>(
        options.lease_duration, std::chrono::seconds(spec.lease_duration_seconds));
    const auto expires_at = observed.changed_at + duration;
    if (now < expires_at) {
      d.action = LeaseAction::kWait;
      d.expires_in = std::chrono::ceil<milliseconds>(expires_at - now);
      d.lease = nullptr;
      return d;
    }
  }
  d.action = LeaseAction::kTake;
  out["holderIdentity"] = options.identity;
  out["leaseDurationSeconds"] = LeaseSeconds(options);
  out["acquireTime"] = stamp;
  out["renewTime"] = stamp;
  out["leaseTransitions"] = spec.lease_transitions + 1;
  return d;
}

std::unique_ptr<ElectionClock> MakeRealElectionClock() {
  return std::make_unique<RealElectionClock>();
}

LeaderElector::LeaderElector(kube::KubeClient& client, LeaderElectionOptions options,
                             std::unique_ptr<ElectionClock> clock)
    : client_(client),
      options_(std::move(options)),
      clock_(clock != nullptr ? std::move(clock) : MakeRealElectionClock()) {}

bool LeaderElector::IsLeader() const {
  if (!leader_.load(std::memory_order_acquire)) return false;
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->Now().time_since_epoch())
          .count();
  return now_ns < valid_until_ns_.load(std::memory_order_acquire);
}

void LeaderElector::SetLeader(bool leader, SteadyClock::time_point valid_until) {
  if (leader) {
    // The deadline first, so a reader that sees leader_ true never pairs it with a stale one.
    valid_until_ns_.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(valid_until.time_since_epoch())
            .count(),
        std::memory_order_release);
  }
  leader_.store(leader, std::memory_order_release);
}

std::string LeaderElector::LeaseRef() const {
  return "lease " + options_.lease_namespace + "/" + options_.lease_name;
}

void LeaderElector::Observe(const std::optional<nlohmann::json>& lease,
                            SteadyClock::time_point now) {
  observed_ = lease;
  std::optional<std::string> key;
  if (lease.has_value()) key = KeyOf(*lease);
  if (key != observed_key_ || !key.has_value()) {
    observed_key_ = std::move(key);
    observed_changed_at_ = now;
  }
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenew() {
  const auto now = clock_->Now();
  attempt_started_ = now;
  auto got = client_.Get(kube::Leases(), options_.lease_namespace, options_.lease_name);
  if (got.ok()) {
    Observe(*got, now);
  } else if (got.status().code() == StatusCode::kNotFound) {
    Observe(std::nullopt, now);
  } else {
    last_error_ = got.status().WithContext("reading " + LeaseRef());
    return Attempt::kError;
  }
  LeaseDecision d =
      DecideLease({observed_, observed_changed_at_}, options_, now, clock_->WallNow());
  StatusOr<nlohmann::json> written = Status(StatusCode::kInternal, "unset");
  switch (d.action) {
    case LeaseAction::kWait:
      last_error_ =
          FailedPrecondition(LeaseRef() + " is held by \"" + d.holder + "\"; it expires in " +
                             FormatSeconds(d.expires_in) + " unless renewed");
      return Attempt::kHeldByOther;
    case LeaseAction::kCreate:
      written = client_.Create(kube::Leases(), options_.lease_namespace, d.lease);
      if (written.status().code() == StatusCode::kAlreadyExists) {
        last_error_ = written.status().WithContext("another candidate created " + LeaseRef());
        return Attempt::kConflict;
      }
      break;
    case LeaseAction::kTake:
    case LeaseAction::kRenew:
      written = client_.Update(kube::Leases(), options_.lease_namespace, d.lease);
      if (written.status().code() == StatusCode::kAborted) {
        // 409: someone wrote the Lease since we read it.
        last_error_ = written.status().WithContext("lost the race to write " + LeaseRef());
        return Attempt::kConflict;
      }
      break;
  }
  if (!written.ok()) {
    last_error_ = written.status().WithContext("writing " + LeaseRef());
    return Attempt::kError;
  }
  Observe(*written, now);
  return Attempt::kLeading;
}

Status LeaderElector::Acquire(const std::atomic<bool>& stop) {
  RT_RETURN_IF_ERROR(ValidateLeaderElectionOptions(options_));
  while (!stop) {
    if (TryAcquireOrRenew() == Attempt::kLeading) {
      SetLeader(true, attempt_started_ + options_.renew_deadline);
      return Status::Ok();
    }
    clock_->Sleep(options_.retry_period, stop);
  }
  return Cancelled("stopped before acquiring " + LeaseRef() + " (last: " + last_error_.ToString() +
                   ")");
}

Status LeaderElector::Hold(const std::atomic<bool>& stop) {
  if (!leader_) return FailedPrecondition("Hold without a successful Acquire of " + LeaseRef());
  auto last_success = attempt_started_;
  bool retry_at_once = false;  // after a conflict, re-read once without waiting
  while (true) {
    const auto deadline = last_success + options_.renew_deadline;
    if (!retry_at_once) {
      const auto left = std::chrono::ceil<milliseconds>(deadline - clock_->Now());
      clock_->Sleep(std::clamp(left, milliseconds(0), options_.retry_period), stop);
    }
    const bool retried_at_once = retry_at_once;
    retry_at_once = false;
    if (stop) {
      SetLeader(false);
      if (options_.release_on_stop) Release().IgnoreError();  // best effort: else it expires
      return Status::Ok();
    }
    if (clock_->Now() >= deadline) {
      SetLeader(false);
      return DeadlineExceeded("could not renew " + LeaseRef() + " within " +
                              FormatSeconds(options_.renew_deadline) +
                              "; last error: " + last_error_.ToString());
    }
    const Attempt a = TryAcquireOrRenew();
    if (a == Attempt::kLeading) {
      last_success = attempt_started_;
      SetLeader(true, last_success + options_.renew_deadline);
      continue;
    }
    const std::string holder =
        observed_.has_value() ? ParseLeaseSpec(*observed_).holder_identity : "";
    if (a == Attempt::kHeldByOther || (!holder.empty() && holder != options_.identity)) {
      SetLeader(false);
      return FailedPrecondition(LeaseRef() + " was taken over by \"" + holder + "\"");
    }
    // Once only: conflicts in a row then wait retry_period like any other failure.
    retry_at_once = a == Attempt::kConflict && !retried_at_once;
  }
}

Status LeaderElector::Release() {
  SetLeader(false);
  if (!observed_.has_value() || ParseLeaseSpec(*observed_).holder_identity != options_.identity) {
    return Status::Ok();
  }
  nlohmann::json lease = *observed_;
  const std::string stamp = FormatMicroTime(clock_->WallNow());
  nlohmann::json& spec = lease["spec"];
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  spec["acquireTime"] = stamp;
  spec["renewTime"] = stamp;
  auto written = client_.Update(kube::Leases(), options_.lease_namespace, lease);
  if (!written.ok()) return written.status().WithContext("releasing " + LeaseRef());
  Observe(*written, clock_->Now());
  return Status::Ok();
}

}  // namespace ringtrain::op

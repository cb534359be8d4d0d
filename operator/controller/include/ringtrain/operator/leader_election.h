// Leader election over a coordination.k8s.io/v1 Lease, with client-go's semantics
// (k8s.io/client-go/tools/leaderelection), so that at most one operator replica reconciles.
//
// The Lease's spec says who holds it (holderIdentity), for how long (leaseDurationSeconds), since
// when (acquireTime) and when it was last renewed (renewTime); leaseTransitions counts changes of
// holder. Candidates read the Lease and decide (DecideLease, a pure function):
//   - no Lease: create it (AlreadyExists: another candidate won the race);
//   - no holder (released) or not renewed for the lease duration: take it over,
//     leaseTransitions + 1;
//   - held by this identity: renew it;
//   - otherwise: wait.
// Expiry is judged on this process's steady clock, from the moment it last saw the holder or
// renewTime change, never from the timestamps in the Lease, so clock skew between replicas does
// not matter. Every write is a PUT carrying the metadata.resourceVersion that was read, so two
// candidates can never both win: the loser gets a 409 Conflict.
//
// Safety: the leader stops considering itself leader (Hold returns, IsLeader turns false) once
// renewal has not succeeded for renew_deadline, measured from the start of the last successful
// attempt; a standby takes over no earlier than lease_duration after it saw that renewal, so
// there is a margin of lease_duration - renew_deadline. IsLeader is bounded by the same deadline
// even while a KubeClient call is blocking, so a hung API call cannot stretch the leadership.
// Configure the client's request timeout well below renew_deadline so that Hold returns in time.
//
// Thread model: Acquire, Hold and Release are called from one thread (the election thread),
// never concurrently with each other; IsLeader and Identity may be called from any thread. API
// calls are made without holding any lock.
#ifndef RINGTRAIN_OPERATOR_LEADER_ELECTION_H_
#define RINGTRAIN_OPERATOR_LEADER_ELECTION_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/operator/kube/client.h"

namespace ringtrain::op {

struct LeaderElectionOptions {
  std::string lease_namespace;  // where the Lease lives
  std::string lease_name;       // e.g. "ringtrain-operator"
  std::string identity;         // this replica, e.g. pod name + "_" + random suffix
  // How long a standby waits, after it last saw the Lease renewed, before taking it over.
  std::chrono::milliseconds lease_duration{15000};  // client-go defaults 15s/10s/2s
  // How long the leader keeps trying to renew before it gives up leadership.
  std::chrono::milliseconds renew_deadline{10000};
  // Interval between attempts to acquire or renew.
  std::chrono::milliseconds retry_period{2000};
  // On stop, hand the lease back (holderIdentity cleared) so a standby takes over at once.
  // REQUIRES of the caller then: all work guarded by the lease has finished before `stop` is set.
  bool release_on_stop = true;
};

// InvalidArgument naming the field unless namespace, name and identity are non-empty and
// lease_duration > renew_deadline > retry_period > 0.
[[nodiscard]] Status ValidateLeaderElectionOptions(const LeaderElectionOptions& options);

// "2026-12-01T19:00:00.000000Z", the API's MicroTime.
std::string FormatMicroTime(std::chrono::system_clock::time_point t);

// Lease.spec as read; absent fields are empty or zero.
struct LeaseSpec {
  std::string holder_identity;
  int64_t lease_duration_seconds = 0;
  std::string acquire_time;
  std::string renew_time;
  int64_t lease_transitions = 0;
};
LeaseSpec ParseLeaseSpec(const nlohmann::json& lease);

// What a candidate has seen of the Lease.
struct LeaseObservation {
  std::optional<nlohmann::json> lease;  // as read from the API server; nullopt: it does not exist
  // Local steady time at which this process last saw spec.holderIdentity or spec.renewTime change
  // (the first read counts as a change).
  std::chrono::steady_clock::time_point changed_at;
};

enum class LeaseAction {
  kCreate,  // no Lease: Create `lease`
  kTake,    // free or expired: Update to `lease` (holder = us, leaseTransitions + 1)
  kRenew,   // ours: Update to `lease` (renewTime = now)
  kWait,    // held by another holder whose lease has not expired
};

struct LeaseDecision {
  LeaseAction action = LeaseAction::kWait;
  nlohmann::json lease;  // the object to write (kCreate/kTake/kRenew), with the observed
                         // metadata (resourceVersion) for an Update
  std::string holder;    // the observed holder ("" if none)
  // kWait: local time left until the holder's lease expires.
  std::chrono::milliseconds expires_in{0};
};

// The pure decision. A holder's lease expires `max(options.lease_duration,
// spec.leaseDurationSeconds)` after observed.changed_at, so a holder advertising a longer lease
// than ours is never cut short. Timestamps written are `wall_now`; leaseDurationSeconds is
// options.lease_duration rounded up to whole seconds.
LeaseDecision DecideLease(const LeaseObservation& observed, const LeaderElectionOptions& options,
                          std::chrono::steady_clock::time_point now,
                          std::chrono::system_clock::time_point wall_now);

// Time for the elector; injectable so tests can run without real sleeps.
// Thread-safety: Now may be called from any thread (IsLeader uses it).
class ElectionClock {
 public:
  virtual ~ElectionClock() = default;
  virtual std::chrono::steady_clock::time_point Now() = 0;      // for expiry and deadlines
  virtual std::chrono::system_clock::time_point WallNow() = 0;  // for the Lease's timestamps
  // Sleeps for `duration`, returning early (within ~10 ms) once `stop` is true.
  virtual void Sleep(std::chrono::milliseconds duration, const std::atomic<bool>& stop) = 0;
};

// The steady and system clocks; Sleep polls `stop` every 10 ms.
std::unique_ptr<ElectionClock> MakeRealElectionClock();

class LeaderElector {
 public:
  // `client` must outlive the elector. `clock` nullptr: MakeRealElectionClock().
  LeaderElector(kube::KubeClient& client, LeaderElectionOptions options,
                std::unique_ptr<ElectionClock> clock = nullptr);
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Blocks until this replica holds the lease (OK) or `stop` becomes true (Cancelled).
  // API errors and lost races are retried every retry_period, never fatal. InvalidArgument if
  // the options are invalid (ValidateLeaderElectionOptions).
  [[nodiscard]] Status Acquire(const std::atomic<bool>& stop);

  // REQUIRES: Acquire returned OK just before (else FailedPrecondition at once; called more
  // than renew_deadline after it, DeadlineExceeded at once).
  // Renews every retry_period until `stop` becomes true (releases the lease, best effort, if
  // release_on_stop; returns OK), or until leadership is lost: DeadlineExceeded if no renewal
  // succeeded for renew_deadline (the message carries the last error), FailedPrecondition if
  // another holder took the lease (the message names it). On return IsLeader() is false and
  // the caller must stop acting as leader at once. Acquire may then be called again (back to
  // standby), though exiting the process is the simpler way to drop all leader state.
  [[nodiscard]] Status Hold(const std::atomic<bool>& stop);

  // Hands the lease back (holderIdentity "", leaseDurationSeconds 1) if this replica wrote it
  // last; OK if there was nothing to release. Aborted if it changed since (a 409),
  // other API errors as returned. IsLeader() is false from the start of the call.
  // REQUIRES: the caller's leader work has stopped (a standby may lead once this returns);
  // not called concurrently with Acquire or Hold.
  [[nodiscard]] Status Release();

  // Whether this replica holds the lease and its last successful renewal started less than
  // renew_deadline ago. Thread-safe.
  bool IsLeader() const;
  std::string Identity() const { return options_.identity; }
  const LeaderElectionOptions& options() const { return options_; }

 private:
  enum class Attempt { kLeading, kHeldByOther, kConflict, kError };
  // One read-decide-write round; on kHeldByOther/kConflict/kError sets last_error_.
  Attempt TryAcquireOrRenew();
  void Observe(const std::optional<nlohmann::json>& lease,
               std::chrono::steady_clock::time_point now);
  void SetLeader(bool leader, std::chrono::steady_clock::time_point valid_until = {});
  std::string LeaseRef() const;

  kube::KubeClient& client_;
  const LeaderElectionOptions options_;
  const std::unique_ptr<ElectionClock> clock_;

  // Election-thread state (see the thread model above): no lock.
  std::optional<nlohmann::json> observed_;   // the Lease last read or written
  std::optional<std::string> observed_key_;  // its holder + renewTime
  std::chrono::steady_clock::time_point observed_changed_at_;
  std::chrono::steady_clock::time_point attempt_started_;  // of the round in progress
  Status last_error_;                                      // why the last round did not lead

  // Read by IsLeader from any thread.
  std::atomic<bool> leader_{false};
  std::atomic<int64_t> valid_until_ns_{0};  // steady_clock, since its epoch
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_LEADER_ELECTION_H_

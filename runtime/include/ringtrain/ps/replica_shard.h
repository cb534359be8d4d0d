// ReplicaShard: the copy a backup server keeps of its predecessor's shard (replication: 1).
//
// Server j's shard is also kept by server j+1 (mod M), its successor. The copy is a ServerCore
// of server j's index, fed the same state-changing requests, in the same order, as j's own core
// (chain replication of a deterministic state machine: ServerCore's updates depend only on the
// requests it is given, and pulls change nothing). The primary (ps::BackupLink, on server j):
//   - sends REPLICA_SYNC with its whole state whenever its connection to the backup (re)starts:
//     the copy is replaced, and forwards of that epoch continue from the SYNC's seq;
//   - forwards each PUSH, JOIN and WORKER_DONE it handles, verbatim with Header.replica
//     {server, epoch, seq}, and each silent worker it stops waiting for (REPLICA_EXCLUDE,
//     ServerCore::Exclude) in the same sequence; the copy applies seq s only right after s-1 of the
//     same epoch, and answers each applied forward (and the SYNC) with REPLICA_ACK {seq};
// and releases its replies to workers only once the backup has acknowledged what caused them,
// so the backup holds every acknowledged update. A starting server asks its successor for the
// copy (REPLICA_FETCH -> REPLICA_STATE, holds_copy = false until a SYNC arrived): a server
// replaced after a crash continues from it.
//
// What arrives out of sequence, from another epoch, from another primary than the
// predecessor, or before any SYNC is dropped and counted (replica_dropped), never applied:
// the primary, getting no acknowledgement, syncs again (ps/backup_link.h).
//
// Taking over (failover). When the primary is lost, its supervisor (the local launcher, the
// operator), which knows it is dead, sends REPLICA_TAKEOVER here before it starts the
// replacement. From then on the copy is the shard: the workers, finding the primary
// unreachable, send its requests here instead (Header.detour, PsClient), and HandleDetour
// answers them from the copy as the primary would have (rounds, parked pulls, the final model).
// Nothing is replicated meanwhile: this copy is the shard's only one. The replacement's
// REPLICA_FETCH hands the shard back: it gets the copy with every detoured update, the copy's
// parked requests are forgotten (the workers send them to the replacement once it is back), and
// later detours are answered NOT_SERVING, as they are before any takeover. Forwards from the
// lost primary's epoch are dropped while serving; a SYNC (a replacement that did not fetch)
// ends the takeover too and replaces the copy. The supervisor is trusted to send TAKEOVER only
// for a primary that is gone: two servers serving one shard would diverge (authenticating it
// is the security issue's: until then anyone who can reach the socket can send it).
//
// Thread-safety: not thread-safe; the server's socket thread owns it.
#ifndef RINGTRAIN_PS_REPLICA_SHARD_H_
#define RINGTRAIN_PS_REPLICA_SHARD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::ps {

class ReplicaShard {
 public:
  // `copy`: a ServerCore of the predecessor's index, in its initial state. `counters`: where
  // replica_applied and replica_dropped are counted (the owning server's core stats).
  // `log` says what happened to the copy (synced, refused); may be empty.
  ReplicaShard(std::unique_ptr<ServerCore> copy, proto::ServerStats* counters,
               std::function<void(const std::string&)> log);

  // The primary whose shard this is a copy of.
  int server() const { return copy_->config().server_index; }

  // Handles one replication message from `peer`: REPLICA_SYNC, REPLICA_FETCH,
  // REPLICA_TAKEOVER, or a forwarded request (Header.replica set, kind PUSH, JOIN, WORKER_DONE
  // or REPLICA_EXCLUDE); appends the answers (REPLICA_ACK, REPLICA_STATE, REPLICA_TAKEOVER) to
  // *out. Anything else is dropped and counted.
  void Handle(const std::string& peer, transport::Message msg, std::vector<Reply>* out);

  // A worker's request for the predecessor's shard (Header.detour.server == server()): served
  // from the copy while taken over (counted in detours_served), else answered NOT_SERVING
  // (detours_refused). Appends the replies to *out.
  void HandleDetour(const std::string& peer, transport::Message msg, std::vector<Reply>* out);

  // The NOT_SERVING answer to a detoured `request` (from a server of `job`).
  static Reply NotServing(const std::string& peer, const proto::Header& request,
                          const std::string& job);

  // Taken over and not handed back yet (see Taking over).
  bool serving() const { return serving_; }

  // A SYNC has arrived: the copy holds the primary's state (and keeps up with it while the
  // forwards arrive in sequence).
  bool synced() const { return synced_; }

  // Every worker has finished on the copy.
  bool finished() const { return copy_->finished(); }

  // The copy, for tests.
  const ServerCore& copy() const { return *copy_; }

 private:
  void HandleSync(const std::string& peer, transport::Message msg, std::vector<Reply>* out);
  void HandleForward(const std::string& peer, transport::Message msg, std::vector<Reply>* out);
  void HandleFetch(const std::string& peer, const proto::Header& h, std::vector<Reply>* out);
  void HandleTakeover(const std::string& peer, const proto::Header& h, std::vector<Reply>* out);
  // Ends a takeover: forgets the copy's parked requests, says why and what was served.
  void HandBack(const std::string& why);
  Reply Ack(const std::string& peer, uint64_t seq) const;
  // The answer of `kind` to `request`, about this copy's shard.
  Reply Answer(const std::string& peer, const proto::Header& request,
               proto::MessageKind kind) const;
  void Drop(const std::string& why);

  std::unique_ptr<ServerCore> copy_;
  proto::ServerStats* counters_;
  std::function<void(const std::string&)> log_;
  bool synced_ = false;
  bool serving_ = false;
  uint64_t served_ = 0;  // detours served in the takeover in progress
  uint64_t epoch_ = 0;
  uint64_t last_seq_ = 0;
  uint64_t drops_logged_ = 0;
  std::vector<Reply> discarded_;  // the copy's own answers to forwarded requests (reused)
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_REPLICA_SHARD_H_

// BackupLink: a primary server's side of replication (replication: 1): its DEALER connection to
// its successor, the backup of its shard (the protocol: ps/replica_shard.h).
//
// Lifecycle, driven by the server's one thread (ps::ParameterServer):
//   1. Fetch(): at start, asks the successor for the copy it keeps of this shard and waits up to
//      fetch_timeout. A server replaced after a crash restores the copy (the successor has every
//      update this shard acknowledged) when it is at least as far as what the core holds (a
//      checkpoint, or the initial parameters); with no copy there (a new job) or no answer, it
//      goes on with what it has and says why.
//   2. Serving: whenever the connection to the backup is up and not in sync, the link sends
//      REPLICA_SYNC with the whole shard (not while the core holds pushes it cannot copy: see
//      ServerCore::has_held_pushes), then Forward()s every PUSH, JOIN, WORKER_DONE and
//      REPLICA_EXCLUDE before the core handles it. Hold() keeps the replies the core produced while
//      a forward is not yet acknowledged; REPLICA_ACKs release them, in order. So a worker hears of
//      an update only once the backup has applied it.
//   3. Degraded: when the backup's connection breaks (a crash, or ZMTP heartbeats finding it
//      silent for 10 s), or it leaves a forward unacknowledged for ack_timeout, the held
//      replies go out at once (counted in replies_unreplicated: those updates exist here only)
//      and the link syncs again when it can. A dead backup therefore costs the job at most
//      that detection time, never its progress.
//   A shard whose state has a frame larger than max_message_size (a sparse table's rows travel
//   in one frame) is not sent: the link logs why, serves without a copy, and tries again every
//   ack_timeout.
//
// Thread-safety: not thread-safe; the server's socket thread owns it.
#ifndef RINGTRAIN_PS_BACKUP_LINK_H_
#define RINGTRAIN_PS_BACKUP_LINK_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/common/status.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::ps {

struct BackupLinkOptions {
  int server = 0;                  // this server's index
  int successor = 1;               // the backup's index
  std::string successor_endpoint;  // where it listens
  // Largest message the link accepts (the copy of this shard in a REPLICA_STATE).
  int64_t max_message_size = -1;
  std::chrono::milliseconds fetch_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds ack_timeout{std::chrono::seconds(30)};
  // What happened to the link (lost, synced, degraded); may be empty.
  std::function<void(const std::string&)> log;
  // This server's credentials: the link is a CURVE client of the successor's key. Null:
  // plaintext.
  std::shared_ptr<const auth::Credentials> credentials;
};

// What Fetch() found.
struct FetchOutcome {
  bool restored = false;  // the core now holds the successor's copy
  int64_t step = 0;       // the copy's step (its smallest worker clock), when there was one
  std::string why;        // when not restored: why not
};

class BackupLink {
 public:
  static StatusOr<std::unique_ptr<BackupLink>> Connect(zmq::context_t& context,
                                                       BackupLinkOptions options);
  ~BackupLink();
  BackupLink(const BackupLink&) = delete;
  BackupLink& operator=(const BackupLink&) = delete;

  // Step 1 above. `serve_others` is called whenever the server's own socket may have messages
  // (within at most 50 ms), so that the server keeps answering its own predecessor while it
  // waits (two servers starting together each fetch from the other). Returns an error only if
  // a socket fails or the copy does not fit the core.
  StatusOr<FetchOutcome> Fetch(ServerCore* core, const std::function<Status()>& serve_others);

  // The sockets the server polls beside its own: the link, and its connection events.
  zmq::socket_t& socket() { return socket_; }
  zmq::socket_t& monitor() { return monitor_; }

  // Reads the link's events and messages (acknowledgements), syncs when it should, checks the
  // ack timeout; appends the replies that may go out now to *release.
  Status Poll(ServerCore& core, std::vector<Reply>* release);

  // Forwards `msg` (a request about to be handled by `core`) if it changes state and the
  // backup is in sync. If it cannot be sent, the link degrades, releasing into *release.
  void Forward(const transport::Message& msg, ServerCore& core, std::vector<Reply>* release);

  // Keeps the replies in *replies (emptied) while a forward is unacknowledged; else leaves them.
  void Hold(std::vector<Reply>* replies);

  // Replies are held waiting for the backup.
  bool holding() const { return !held_.empty(); }
  bool in_sync() const { return in_sync_; }

 private:
  struct Held {
    uint64_t seq;
    std::chrono::steady_clock::time_point since;
    std::vector<Reply> replies;
  };
  BackupLink(BackupLinkOptions options, zmq::socket_t socket, zmq::socket_t monitor,
             uint64_t epoch);
  void Log(const std::string& line) const;
  // Reads connection events; a break degrades the link (releasing into *release, counted in
  // *stats when non-null).
  Status DrainEvents(proto::ServerStats* stats, std::vector<Reply>* release);
  Status Sync(ServerCore& core);
  void Degrade(const std::string& why, proto::ServerStats* stats, std::vector<Reply>* release);
  void Release(uint64_t acked, std::vector<Reply>* release);
  Status Send(proto::Header header, std::vector<zmq::message_t> payloads);

  BackupLinkOptions options_;
  zmq::socket_t socket_;
  zmq::socket_t monitor_;
  const uint64_t epoch_;
  bool connected_ = false;
  bool in_sync_ = false;
  uint64_t seq_ = 0;    // the last forward (or SYNC) sent
  uint64_t acked_ = 0;  // the last one acknowledged
  std::deque<Held> held_;
  std::chrono::steady_clock::time_point next_sync_{};
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_BACKUP_LINK_H_

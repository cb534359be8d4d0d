// ParameterServer: binds a ZeroMQ ROUTER socket and serves a ServerCore on it.
//
// Each received multipart message is [routing id][header][payloads...]. Messages that cannot
// be decoded (garbage frames, wrong sizes, unknown kinds) are dropped and counted; the server
// keeps serving. Oversized inbound messages are refused by libzmq (ZMQ_MAXMSGSIZE), and by a
// direct link above the same size, which drops that connection only. Every reply carries the
// process's Header.incarnation.
//
// Shared memory (ServerOptions::shared_memory, workers on this host): pull replies may carry
// their partitions in this server's memory (ps/pull_publisher.h), and a PUSH naming its
// gradient in the worker's memory is copied out of it into frames before anything else sees
// it (ps/shared_push_reader.h); one that cannot be read is dropped, counted and answered ERROR
// with Header.shared_refused. Only a worker's own PUSH may name memory: a forward or any other
// message that does is dropped and counted.
//
// Direct links (ServerOptions::direct_path): workers on this host may also connect over a Unix
// stream socket (ps/direct_peers.h); what comes on one is handled as what comes on the ROUTER
// socket, and the replies to it go back on it.
//
// With replication (spec.parameterServers.replication: 1) the server also keeps a copy of its
// predecessor's shard (ps/replica_shard.h), fed by the REPLICA_ messages and forwarded requests
// arriving on the same socket, and replicates its own shard to its successor over a BackupLink
// (ps/backup_link.h): FetchShard() first, then Serve() forwards state-changing requests and
// holds replies until the backup has applied what caused them. Serve() returns once every
// worker has finished, nothing is held for the backup, and the copy it keeps has seen every
// worker finish too (the predecessor still needs its acknowledgements), or `final_wait` after
// the workers finished.
//
// Failover (replication): a worker request marked Header.detour is for the predecessor's shard,
// which this server serves from its copy once told to take it over (REPLICA_TAKEOVER) and until
// the predecessor's replacement fetches it back (ps/replica_shard.h, Taking over); otherwise,
// or without a copy of that shard, it is answered NOT_SERVING. Detours are served even while
// this server fetches its own shard. Serve() also waits (up to `final_wait`) for a shard it
// serves to be handed back.
//
// Silent workers (sync mode): a worker that a round waits for and that has sent nothing for
// `worker_timeout` — counted from its last request or the start of the round, whichever is
// later (a worker whose pull waited here was not silent) — is excluded from the rounds (never a
// worker that has not pushed yet and has not been heard from: it is starting) until its
// next PUSH, JOIN or WORKER_DONE (ServerCore::Exclude; forwarded to the backup like a request), so
// a dead worker that has not been replaced yet, or a stopped one, holds the others up for that long
// at most.
//
// Thread-safety: the thread that calls Serve() owns the socket for the duration of the call;
// Bind() may run on another thread if the hand-off is synchronised (e.g. by starting the
// serving thread afterwards). stop() may be called from any thread.
#ifndef RINGTRAIN_PS_SERVER_H_
#define RINGTRAIN_PS_SERVER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/common/status.h"
#include "ringtrain/ps/backup_link.h"
#include "ringtrain/ps/direct_peers.h"
#include "ringtrain/ps/pull_publisher.h"
#include "ringtrain/ps/replica_shard.h"
#include "ringtrain/ps/server_core.h"
#include "ringtrain/ps/shared_push_reader.h"

namespace ringtrain::ps {

struct ServerOptions {
  // Where to bind, e.g. "tcp://*:7070" in a pod or "tcp://127.0.0.1:0" for a free port.
  std::string bind_endpoint;
  // Answers the pulls of workers that say they share this host (Header.shared_ok) from shared
  // memory instead of frames (ps/pull_publisher.h; costs a copy of the owned parameters, made
  // on the first such pull), and reads pushes whose gradients are in their worker's shared
  // memory (ps/shared_push_reader.h). Without it such a push is refused (ERROR with
  // Header.shared_refused), and the worker sends it again with frames.
  bool shared_memory = false;
  // Where to listen for the direct links of workers on this host (ps/direct_peers.h,
  // DirectPathOf(bind_endpoint)); empty: none. Not with credentials (a link is not CURVE's):
  // Bind refuses both. A path that cannot be listened at is said and served without.
  std::string direct_path;
  // How often Serve() wakes to check stop() when idle.
  std::chrono::milliseconds poll_interval{100};
  // Inbound messages above this many bytes are refused. 0 = derive from the owned partitions.
  int64_t max_message_size = 0;
  // Serve() returns when this becomes non-zero (set from a signal handler). May be null.
  const std::atomic<int>* interrupted = nullptr;
  // Called on the serving thread after every message handled and at every idle wake-up (at
  // least every poll_interval), never while a message is being handled: the one place where
  // another component may read the core while it serves (checkpoint snapshots,
  // ps/checkpointer.h). It runs on the hot path: it must return quickly when it has nothing to
  // do. May be empty.
  std::function<void(const ServerCore&)> between_messages;
  // Once every worker has finished, Serve() returns with its last replies (the DONE_ACKs and
  // the final-model pull replies, ps/server_core.h) possibly still queued in libzmq. (None is
  // left on a direct link: a worker says WORKER_DONE, through ZeroMQ, only once its pushes
  // are answered.) The socket
  // then lingers up to this long for them when it is closed: the context's termination
  // (zmq_ctx_term) waits until they are sent to their connected workers, so the final model
  // reaches worker 0 before this process exits.
  std::chrono::milliseconds final_linger{std::chrono::seconds(60)};
  // With replication: how long Serve() waits, after every worker finished, for the backup's
  // last acknowledgements and for the predecessor's last forwards.
  std::chrono::milliseconds final_wait{std::chrono::seconds(30)};
  // With replication: worker requests that arrive while FetchShard() waits are kept (up to this
  // many) and handled when serving starts; more are dropped and counted.
  size_t max_deferred = 16384;
  // kSync: how long a round waits for a worker that sends nothing before going on without it
  // (see Silent workers above); 0 = for as long as it takes.
  std::chrono::milliseconds worker_timeout{0};
  // What the server decides on its own (a silent worker excluded, taken back); may be empty.
  std::function<void(const std::string&)> log;
  // This server's credentials: the socket is a CURVE server (the process's ZAP handler admits
  // only the job's keys) and every message must come from a key allowed to send it (see
  // Authorized); others are dropped and counted (messages_unauthorized). Null: plaintext.
  std::shared_ptr<const auth::Credentials> credentials;
};

// The largest frame a message of `table`'s sparse tables may carry (libzmq checks its limit
// frame by frame): a slice's keys (at most kMaxSparseKeys) or values (at most
// kMaxSparseValues floats), which also bounds the rows of a replicated shard's table (one frame
// per table, ps/replica_wire.h). 0 for a dense model.
int64_t LargestSparseFrame(const ring::PartitionTable& table);

// Whether the process `sender` authenticated as may send a message with header `h` to a
// server: a worker's requests (detoured too) only with its own index as Header.sender, STATS
// from anyone in the job, a predecessor's replication (SYNC, FETCH, forwards) only about its
// own shard (Header.replica.server), REPLICA_TAKEOVER only from the supervisor.
bool Authorized(const auth::Identity& sender, const proto::Header& h);

// The two halves of replication; both null without it.
struct Replication {
  std::unique_ptr<BackupLink> backup;     // to the successor, which keeps a copy of this shard
  std::unique_ptr<ReplicaShard> replica;  // the copy of the predecessor's shard
};

class ParameterServer {
 public:
  // Binds the socket. Returns Unavailable naming the endpoint if binding fails.
  static StatusOr<std::unique_ptr<ParameterServer>> Bind(zmq::context_t& context,
                                                         const ServerOptions& options,
                                                         std::unique_ptr<ServerCore> core,
                                                         Replication replication = {});
  ~ParameterServer();
  ParameterServer(const ParameterServer&) = delete;
  ParameterServer& operator=(const ParameterServer&) = delete;

  // The endpoint actually bound, with the port resolved (e.g. "tcp://127.0.0.1:40123").
  const std::string& endpoint() const { return endpoint_; }

  // Serves until every worker has finished (returns OK) or stop() is called (returns OK).
  // Returns an error only if the socket itself fails. When every worker has finished, the
  // socket's linger becomes options.final_linger (see there).
  Status Serve();

  // With replication, before Serve(): asks the successor for its copy of this shard and
  // restores it if it is at least as far as the core (ps/backup_link.h), answering the
  // predecessor meanwhile. Without replication: nothing to fetch (restored = false).
  StatusOr<FetchOutcome> FetchShard();

  // Asks Serve() to return at its next wake-up.
  void stop() { stop_.store(true); }

  // REQUIRES: Serve() is not running, or the caller is the serving thread.
  const ServerCore& core() const { return *core_; }

  // The direct links' listener is up (ServerOptions::direct_path).
  bool direct() const { return direct_ != nullptr; }
  // Closes the direct links open now; their workers send again through ZeroMQ what was in
  // flight on them, and connect again later (a fault, for tests; from between_messages).
  // REQUIRES: Serve() is not running, or the caller is the serving thread.
  void CloseDirectLinks() {
    if (direct_ != nullptr) direct_->CloseAll();
  }

 private:
  ParameterServer(std::unique_ptr<ServerCore> core, zmq::socket_t socket, std::string endpoint,
                  const ServerOptions& options, Replication replication);
  // Reads everything queued on the socket; worker requests are deferred while `defer`.
  Status Drain(bool defer);
  // Waits up to poll_interval for one message on the socket (its ZMQ_RCVTIMEO) and handles it.
  Status ReceiveOne();
  // [peer][header][payloads...] from the ROUTER socket, or from a direct link (`direct`).
  // Consumes the frames.
  void HandleFrames(std::span<zmq::message_t> frames, bool defer, bool direct = false);
  // Moves out of *msg only what the core keeps (ServerCore::Handle).
  void HandleRequest(const std::string& peer, transport::Message* msg);
  // Lets go of the frames last received (frames_, msg_'s), keeping the lists' storage: libzmq
  // gets back the receive buffers small frames are slices of.
  void ReleaseReceived();
  // Forwards `msg` to the backup (with replication), then lets apply(&replies) change the core,
  // and sends the replies it produced — held until the backup has applied `msg`.
  template <typename Apply>
  void Replicated(const transport::Message& msg, Apply apply);
  void SendReplies(std::vector<Reply>* replies);
  void CountDropped();
  // A PUSH with partitions in shared memory: resolved into frames (SharedPushReader), or
  // dropped, counted and answered ERROR with Header.shared_refused; false then.
  bool ReadSharedPush(const std::string& peer, transport::Message* msg);
  // Counts (and logs the first few of) a message `sender` may not send.
  void CountUnauthorized(const std::optional<auth::Identity>& sender, const proto::Header& h);
  // Excludes the workers a round has waited for longer than worker_timeout (see the top).
  Status ExcludeSilentWorkers();
  void Log(const std::string& line) const;
  // Every worker has finished and replication has nothing left to do (see the top).
  bool Done(std::chrono::steady_clock::time_point* finished_at) const;

  std::unique_ptr<ServerCore> core_;
  zmq::socket_t socket_;
  std::string endpoint_;
  std::chrono::milliseconds poll_interval_;
  const std::atomic<int>* interrupted_;
  std::function<void(const ServerCore&)> between_messages_;
  std::chrono::milliseconds final_linger_;
  std::chrono::milliseconds final_wait_;
  size_t max_deferred_;
  std::chrono::milliseconds worker_timeout_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<PullPublisher> publisher_;       // with options.shared_memory
  std::unique_ptr<SharedPushReader> push_reader_;  // with options.shared_memory
  std::unique_ptr<DirectPeers> direct_;            // with options.direct_path
  uint64_t shared_refused_logged_ = 0;
  const bool authenticated_;  // options.credentials was set: messages must be Authorized
  uint64_t unauthorized_logged_ = 0;
  // Per worker: when the last request from it arrived (Serve()'s start before the first).
  std::vector<std::chrono::steady_clock::time_point> last_heard_;
  std::vector<bool> heard_;  // per worker: a request from it arrived
  // Since when the round in progress (round_) has been in progress: no worker can push to it
  // before it starts, so silence counts from then at the earliest.
  int64_t round_ = -1;
  std::chrono::steady_clock::time_point round_since_{};
  std::chrono::steady_clock::time_point next_silence_check_{};
  std::atomic<bool> stop_{false};
  std::vector<Reply> replies_;  // reused buffer
  // Reused from message to message (their storage stays): the frames received, the peer's
  // routing id, the decoded message.
  std::vector<zmq::message_t> frames_;
  std::string peer_;
  transport::Message msg_;
  Replication replication_;
  std::vector<std::pair<std::string, transport::Message>> deferred_;  // while fetching
  const uint64_t incarnation_;  // Header.incarnation of every reply
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_SERVER_H_

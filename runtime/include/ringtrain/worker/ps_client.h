// PsClient: a worker's connections to every parameter server, and the push/pull protocol.
//
// One ZeroMQ DEALER socket per server (and a direct link on its host, below). Each operation sends
// one request per server, covering all partitions that server owns (pushes and pulls to different
// servers proceed in parallel), then waits for every reply or the timeout. Replies are validated
// (request id, partition ids, element counts, versions) before their bytes are copied into the
// caller's parameter vector: a reply that fails (DataLoss) changes neither the parameters nor the
// versions the next push reports. Replies to no request of the operation in flight (late
// answers to an operation that timed out, duplicates) are ignored. A server's ERROR reply
// fails the operation with the server's message (FailedPrecondition); a server that does not
// answer within the timeout fails it with DeadlineExceeded naming that server.
//
// Dense gradients are sent without copying: each payload frame is a slice of the shared gradient
// buffer (transport::SharedBuffer), which stays alive until libzmq has sent it. With a codec,
// the partitions for one server are encoded into one buffer, reused from push to push while no
// frame holds it, and each frame is a slice of it; with error feedback the client keeps one
// residual per parameter (what the codec has not sent yet) and adds it to the next gradient
// (compress/codec.h). Each PUSH carries, per partition, the version of the parameters the gradient
// was computed from (the version of the last pull), which servers use for staleness.
//
// A server that goes away and comes back (restarted after a crash, restoring its shard from a
// checkpoint; or the same server after a broken connection) is noticed from its socket's
// connection events (a socket monitor; ZMTP heartbeats close a connection that hears nothing
// for 10 s): what was in flight to it is dropped, the worker JOINs it at its clock — the clock
// of its push in flight, if the server had not acknowledged it — and then sends it again what
// was in flight, the push included (its frames were kept). A server restored from an older
// checkpoint moves the worker's clock up, counting the pushes it lost, and applies the push; one
// that continues from its successor's copy (replication) or already had the push acknowledges it
// as a duplicate, so an unacknowledged push is never lost. The operation goes on; only when a
// server stays away past the timeout does it fail, with Unavailable saying since when the server
// has been gone.
//
// Failover (with replication, `detours`): while a server's connection is down (or has never
// come up) for `detour_after`, its requests — those in flight and new ones — go to its
// successor instead, marked with Header.detour; a successor that has taken the shard over
// (ps/replica_shard.h, Taking over) answers them from its copy, one that has not answers
// NOT_SERVING, and they are tried there again every `detour_retry` until either serves. When the
// server comes back it is rejoined as above, detoured requests included: a push its successor
// applied before handing the shard back is acknowledged as a duplicate, one it refused is applied.
//
// Sparse tables (table->sparse(), worker/sparse_routing.h): PullRows and PushPullRows also pull
// the rows of a step's keys, and a push carries their gradients (PushRequest::sparse). Each
// server gets the keys it owns in the same PULL and PUSH as its partitions, so the rows come at
// the same version as the parameters (sync: the round asked for), and every server gets a push
// every step, whether the step touched its keys or not (it moves the worker's clock there).
// A push's keys must have been pulled from their server by the pull before it (the server
// checks), which PushPullRows's order (push of step c, then pull of step c + 1) keeps.
//
// Shared memory (options.shared_memory, sync mode): a worker on the servers' host marks its pulls
// (and its pushes pulled back, below) Header.shared_ok, and a server may then answer with its
// partitions in its shared memory instead of frames (ps/pull_publisher.h,
// transport/shared_segment.h); the client maps the segment (once per server process) and copies
// them from there into the caller's parameters. After the copy it checks the segment's sequence: if
// the server wrote meanwhile (not in sync mode, where the next version needs this worker's next
// push) the copy may be torn, and the pull is sent again, answered with frames (shared_retries();
// the parameters are then overwritten by that answer). A server whose segment cannot be opened
// (another host or PID namespace) is said once and asked with frames from then on.
// Pushes go the other way likewise (CODEC_NONE): to a server whose memory this worker has read
// (so on its host, in its PID namespace), a push's partitions are copied into this worker's own
// segment — one copy for every server, each partition at an aligned slot — and the PUSH names
// them there instead of carrying frames (ps/shared_push_reader.h). The segment is written only
// between operations, and an operation ends only once every server acknowledged its push: a
// server never reads a gradient being overwritten. Kept for a resend (Rejoin, detours) is the
// push with frames, so a push sent again never depends on the segment; a server that cannot read
// it answers ERROR with Header.shared_refused, and the push is sent again with frames, to that
// server from then on (said once).
//
// Pulled back (sync mode, a dense model over the whole scope, a PushPull asking for the next
// round): the PUSH is marked Header.pull_back and answered, instead of PUSH_ACK, with the
// PULL_REPLY of its partitions at the next version once their round is applied
// (ps/server_core.h): one message each way per server and step where a PUSH, its ACK, a PULL
// and its reply were four. Each message wakes a sender's and a receiver's ZeroMQ I/O thread and
// the receiver, so on one host (processes sharing cores) this is most of what a step's
// hand-offs cost. The answer acknowledges the push. Torn in shared memory, it is asked for again
// by the same push, with frames and not shared_ok, under a new request id (the server, which has
// it, answers it without applying it again; an answer still owed to the first try is passed
// over).
// Streamed rounds (options.push_chunk_bytes, the same conditions): in PushPull, a server whose
// partitions take at least two chunks' bytes (encoded) gets the push in chunks of about
// push_chunk_bytes, whole partitions each, in the table's order: PUSHes marked Header.partial
// and pull_back, each answered so for its own partitions.
// The server applies each partition's round as soon as every worker's chunk with it is in, so
// the first chunks' parameters come back while later chunks still go out: a link carries both
// directions at once, where a whole push and its answer use one direction at a time. A chunk's
// answer acknowledges it; the chunks already answered are kept until the operation ends, so a
// server that comes back while part of the push is unanswered is joined at the push's clock and
// gets the whole push again (the chunks it has are answered without being applied). Once every
// chunk is answered the push counts as acknowledged, as a whole push's answer does: a server
// restored from an older checkpoint then counts it among its lost pushes. Shared memory goes
// first: a push through it is never chunked.
//
// Direct link (options.direct_paths, servers on this host without CURVE): a push pulled back
// through shared memory — a header each way, the round's hot path — goes over a Unix stream
// socket to the server (transport/stream_link.h, ps/direct_peers.h) when nothing else is in
// flight to that server, and its answer comes back on it: written and read by the two
// processes' own threads, where through ZeroMQ each message also wakes both I/O threads.
// Nothing else takes it, so it never overtakes a request sent through ZeroMQ (an operation
// ends only once its requests are answered), and everything still works without it. A link is
// made on the first such push once the server's ZeroMQ connection is up (a server that does not
// listen is said once and asked again at most every second). A link that breaks or brings
// something malformed is closed, and what was in flight on it is sent again through ZeroMQ (a
// server that had the push answers it as a duplicate); a new link is tried a second later. An
// answer on a link is taken only from the server process that answers through ZeroMQ (by
// Header.incarnation): a link to another (the server's replacement, before its rejoin) is
// closed so. A server that comes back is rejoined as above, its link closed first.
//
// Thread-safety: not thread-safe; one thread owns the client and its sockets.
#ifndef RINGTRAIN_WORKER_PS_CLIENT_H_
#define RINGTRAIN_WORKER_PS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <poll.h>

#include <zmq.hpp>

#include "ringtrain/auth/curve.h"
#include "ringtrain/common/status.h"
#include "ringtrain/compress/codec.h"
#include "ringtrain/compress/sparsity_warmup.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/consistency.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/transport/message.h"
#include "ringtrain/transport/message_kind.h"
#include "ringtrain/transport/shared_buffer.h"
#include "ringtrain/transport/shared_segment.h"
#include "ringtrain/transport/stream_link.h"
#include "ringtrain/worker/sparse_routing.h"

namespace ringtrain::worker {

struct PsClientOptions {
  std::string job;
  int rank = 0;                        // this worker's index
  std::vector<std::string> endpoints;  // server i's ZeroMQ endpoint, i = ring server index
  std::shared_ptr<const ring::PartitionTable> table;
  // How long one operation may wait for all servers' replies. Synchronous rounds wait for
  // the slowest worker, so this bounds how long a stalled peer can hold the job.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // How long DoneWithFinalModel waits for the other workers to finish: in async mode a slow
  // worker may finish long after this one (the job's activeDeadlineSeconds bounds the whole).
  std::chrono::milliseconds final_model_timeout{std::chrono::hours(24)};
  ps::Consistency consistency = ps::Consistency::kSync;  // must match the servers'
  compress::CodecOptions codec;   // gradient encoding; for kTopK the ratio after any warm-up
  bool error_feedback = false;    // keep residuals (not for kNone)
  int64_t topk_warmup_steps = 0;  // kTopK: DGC sparsity warm-up over these steps (by clock)
  // Where to say that a server's connection broke or that it came back; empty: silent. A
  // broken connection is said only when an operation still waits for the server (or it comes
  // back): a server that answered everything and exited, as all do when the job ends, is not.
  std::function<void(const std::string&)> log;
  // Failover (see the top): send a lost server's requests to its successor. Only with
  // replication, where the successor keeps a copy of the shard.
  bool detours = false;
  std::chrono::milliseconds detour_after{std::chrono::seconds(1)};
  std::chrono::milliseconds detour_retry{std::chrono::milliseconds(200)};
  // This worker's credentials: each socket is a CURVE client of its server's key, and a server
  // that refuses this worker's key is logged. Null: plaintext.
  std::shared_ptr<const auth::Credentials> credentials;
  // Feature-wise sharding: the element ranges [first, second) of the flat parameter vector this
  // worker works on (its column block and the bias). Pushes and pulls then list only the
  // partitions that overlap them (a push that lists none still goes: it moves the clock), so
  // the rest of `params` is left as it was; Pull(..., whole = true) and the final model take
  // every partition. Empty: the whole model.
  std::vector<std::pair<int64_t, int64_t>> scope;
  // The servers run on this host (ipc:// endpoints): in sync mode, pulls and pushes pulled back
  // ask for shared memory (see Shared memory above).
  bool shared_memory = false;
  // Streamed rounds (see above): the size of a push's chunks, in payload bytes; a server's
  // share of a push below twice this goes whole (pulled back). 0: pushes always go whole.
  uint64_t push_chunk_bytes = uint64_t{64} << 10;
  // Per server: the path of its direct link (ps::DirectPathOf), or empty; none at all when
  // empty (see Direct link above). Not with credentials: Connect refuses both.
  std::vector<std::string> direct_paths;
};

// A gradient to push: computed at parameter version `clock` from `num_samples` samples.
struct PushRequest {
  // table->total_size() floats; partitions are sent as slices of it, without a copy (so the
  // caller must not write it in place while shared(); see shared_buffer.h)
  transport::SharedBuffer<float> gradient;
  int64_t clock = 0;
  uint32_t num_samples = 0;
  float learning_rate = 0;
  // The gradients of the step's sparse rows (the keys pulled for the step), one per table.
  std::vector<SparseGradient> sparse = {};
};

// Where a worker stands after joining (PsClient::Join).
struct JoinResult {
  // The step to continue from: the smallest clock of the servers this worker has not finished
  // with. The steps from it to `furthest` are replayed: the servers that have them acknowledge
  // them without applying them.
  int64_t clock = 0;
  int64_t furthest = 0;          // the largest clock of any server
  bool done_everywhere = false;  // every server says this worker has finished
};

class PsClient {
 public:
  // Creates the sockets and starts connecting (connection completes in the background).
  static StatusOr<std::unique_ptr<PsClient>> Connect(zmq::context_t& context,
                                                     PsClientOptions options);
  ~PsClient();
  PsClient(const PsClient&) = delete;
  PsClient& operator=(const PsClient&) = delete;

  // Fills `params` (table->total_size() floats) with every partition at version >=
  // min_version; *version_out (if non-null) receives the smallest version seen.
  // With `whole`, every partition, whatever the scope.
  Status Pull(int64_t min_version, std::span<float> params, int64_t* version_out = nullptr,
              bool whole = false);

  // Pushes the gradient to every server, then pulls parameters at version >= pull_min_version
  // into `params`: in sync mode (a dense model over the whole scope) asking for the next round,
  // the push's answer brings them (Pulled back, above); otherwise a PULL goes with each PUSH and
  // both are in flight together.
  Status PushPull(const PushRequest& push, int64_t pull_min_version, std::span<float> params,
                  int64_t* version_out = nullptr);

  // Pull and PushPull with the rows of sparse tables: each SparseRows' values receive its keys'
  // rows (see Sparse tables above). *version_out is the smallest version of the partitions
  // and the sparse rows.
  Status PullRows(int64_t min_version, std::span<float> params, std::span<const SparseRows> rows,
                  int64_t* version_out = nullptr);
  Status PushPullRows(const PushRequest& push, int64_t pull_min_version, std::span<float> params,
                      std::span<const SparseRows> rows, int64_t* version_out = nullptr);

  // Asks every server for this worker's clock (JOIN) and continues from the smallest (see
  // JoinResult). A worker starting fresh gets clock 0 everywhere; one that replaces a dead
  // worker, or starts after the job was restored from checkpoints, continues from there.
  StatusOr<JoinResult> Join();

  // Dynamic sharding: asks server `server` (the one keeping the data queue, ps/data_queue.h)
  // for this worker's next task, reporting the one it finished (request.finished); returns the
  // queue's answer. Retried like every request when the server comes back.
  StatusOr<proto::TaskInfo> NextTask(int server, const proto::TaskInfo& request);

  // Feature-wise sharding: sends this worker's partial margins of step `step` (rows x cols,
  // row-major, in `margins`) to server `server` (the one summing them, ps/margin_rounds.h) and
  // overwrites `margins` with the sum of every worker's, once all are in. Retried like every
  // request when the server comes back.
  Status SumMargins(int server, int64_t step, uint32_t rows, uint32_t cols,
                    std::span<float> margins);

  // Tells every server this worker has finished and waits for the acknowledgements.
  Status Done();

  // Done(), and fills `params` (table->total_size() floats) with the final model: each server
  // gets a PULL marked final_model, then WORKER_DONE, and answers the pull once every worker
  // has finished (ps/server_core.h), so this waits for the slowest worker, up to
  // final_model_timeout.
  // In async and ssp the result includes the updates of workers that finished after this one.
  Status DoneWithFinalModel(std::span<float> params);

  // Counters of server `index`.
  StatusOr<proto::ServerStats> Stats(int index);

  // Payload bytes sent in pushes (encoded), what those gradients take as float32, and payload
  // bytes received in pull replies.
  uint64_t bytes_pushed() const { return bytes_pushed_; }
  uint64_t bytes_pushed_dense() const { return bytes_pushed_dense_; }
  uint64_t bytes_pulled() const { return bytes_pulled_; }
  // The part of bytes_pulled() read from the servers' shared memory, and the pulls sent again
  // with frames because a copy from it may have been torn.
  uint64_t bytes_pulled_shared() const { return bytes_pulled_shared_; }
  uint64_t shared_retries() const { return shared_retries_; }
  // The part of bytes_pushed() the servers read from this worker's shared memory.
  uint64_t bytes_pushed_shared() const { return bytes_pushed_shared_; }
  // The part of bytes_pushed() sent in chunks (Streamed rounds).
  uint64_t bytes_pushed_chunked() const { return bytes_pushed_chunked_; }

  // Servers that came back after their connection broke, and were rejoined.
  uint64_t rejoins() const { return rejoins_; }

  // Requests sent over direct links, direct links that closed under this worker, and the
  // requests in flight on them then, sent again through ZeroMQ (see Direct link above).
  uint64_t direct_sent() const { return direct_sent_; }
  uint64_t direct_breaks() const { return direct_breaks_; }
  uint64_t direct_resent() const { return direct_resent_; }

  // Requests sent to a lost server's successor (see Failover above), and those it served.
  uint64_t detours_sent() const { return detours_sent_; }
  uint64_t detours_served() const { return detours_served_; }

  // The error-feedback residual (table->total_size() floats, or empty without feedback).
  const std::vector<float>& residual() const { return residual_; }

 private:
  // A push as it was sent (its frames share the gradient's bytes), to send again to a server
  // that came back before acknowledging it.
  struct SentPush {
    proto::Header header;
    std::vector<zmq::message_t> payloads;
  };
  // What one operation has in flight.
  struct Pending {
    struct Request {
      int server;  // whose shard it is for
      transport::RequestKind kind;
      int64_t min_version;       // kPull: the version asked for; kJoin, kPush: the clock
      bool rejoin = false;       // the JOIN sent to a server that came back (Rejoin)
      bool final_model = false;  // kPull: the final model's pull
      std::shared_ptr<SentPush> push = nullptr;  // kPush, kMargins: what was sent
      bool whole = false;                        // kPull: every partition, whatever the scope
      int via = -1;  // detoured: the successor it was sent to (Failover)
      std::shared_ptr<const proto::TaskInfo> task = nullptr;  // kTask: what was asked
      std::shared_ptr<SparsePart> sparse = nullptr;  // kPull: the server's share of the keys
      // kPull, kPush pulled back: not from shared memory (a torn copy's second try)
      bool frames_only = false;
      bool shared_asked = false;  // kPull, kPush pulled back: marked shared_ok
      bool shared_sent = false;   // kPush: its partitions in this worker's shared memory
      // kPush marked pull_back (whole or a chunk): answered by the PULL_REPLY of these
      // partitions at version min_version + 1.
      std::shared_ptr<const std::vector<uint32_t>> pulled_back = nullptr;
      bool direct = false;  // sent over the server's direct link
    };
    std::map<uint64_t, Request> requests;
    // Per server: the chunks of this operation's push already answered, sent again with the
    // rest if the server comes back (Rejoin) so that it gets the whole push.
    std::map<int, std::vector<Request>> answered_chunks;
    // Per server that came back during the operation: what to send again once its rejoin is
    // answered.
    std::map<int, std::vector<Request>> resend;
    // JOIN_REPLY per server: the worker's clock there and whether it has finished there.
    std::map<int, std::pair<int64_t, bool>> joined;
    std::optional<proto::TaskInfo> task;  // TASK_REPLY
    std::span<float> margins;             // where MARGINS_REPLY's sum goes
    std::span<const SparseRows> rows;     // where PULL_REPLY's sparse rows go
    bool margins_answered = false;

    // Something is in flight or waits to be sent again.
    bool busy() const {
      for (const auto& [server, waiting] : resend) {
        if (!waiting.empty()) return true;
      }
      return !requests.empty();
    }
    // Something this operation waits for depends on `server`: a request for its shard (sent
    // to it or detoured), one detoured through it, or one to send it again.
    bool Needs(int server) const {
      if (auto it = resend.find(server); it != resend.end() && !it->second.empty()) return true;
      for (const auto& [id, r] : requests) {
        if (r.server == server || r.via == server) return true;
      }
      return false;
    }
    // Something for `server`'s shard is detoured or waits to be sent again.
    bool Waits(int server) const {
      if (auto it = resend.find(server); it != resend.end() && !it->second.empty()) return true;
      for (const auto& [id, r] : requests) {
        if (r.server == server && r.via >= 0) return true;
      }
      return false;
    }
  };
  // A server's connection as its socket's events tell it.
  struct Link {
    bool connected_once = false;  // a handshake has succeeded
    bool down = false;            // disconnected, not back yet
    // The connection broke and that has not been said yet: it is said (SayLost) once an
    // operation waits for the server, or when it comes back; never when nothing was waiting
    // (a server that answered everything and then exited, at the end of the job).
    bool loss_unsaid = false;
    // Since when it has been down, or (never connected) since the client started.
    std::chrono::steady_clock::time_point down_since;
    // Failover: the successor served this server's last detoured request, so new ones go there
    // at once; when to detour again what is waiting (after NOT_SERVING answers).
    bool detoured = false;
    bool detour_logged = false;  // said so since it went down
    bool detour_served = false;  // the successor has served one since it went down
    std::chrono::steady_clock::time_point next_detour{};
    bool handshake_failure_logged = false;  // a failed CURVE handshake has been said
    // Its socket may hold replies that its ZMQ_FD will not announce (a ZeroMQ socket signals
    // only what comes after it was read to the end; a send may take that signal too), and its
    // monitor events: read before any wait.
    bool replies_unread = true;
    bool events_unread = true;
  };
  // A server's direct link (see Direct link above).
  struct Direct {
    std::unique_ptr<transport::StreamLink> link;       // null: none now
    std::chrono::steady_clock::time_point retry_at{};  // no new link before then
    bool refused_said = false;                         // a link that could not be made was said
    bool readable = false;                             // polled readable, not read to the end yet
    bool flush_failed = false;  // writing what was queued failed: closed by the next read
  };
  PsClient(PsClientOptions options, std::vector<zmq::socket_t> sockets,
           std::vector<zmq::socket_t> monitors);
  // `req` for `server` may go over its direct link: a push pulled back through shared memory,
  // nothing else in flight to the server, its ZeroMQ connection up.
  bool DirectEligible(int server, const Pending::Request& req, const Pending& pending) const;
  // The server's direct link, made now if there is none and one may be tried; null otherwise.
  transport::StreamLink* DirectLink(int server);
  // Closes the server's direct link unread; a new one may be made from `retry_at` on.
  void CloseDirect(int server, std::chrono::steady_clock::time_point retry_at);
  // Closes the server's direct link; what was in flight on it goes again through ZeroMQ.
  Status DirectBroken(int server, const Status& why, Pending* pending);
  // Reads the server's direct link and handles the replies on it.
  Status ReadDirect(int server, Pending* pending, std::span<float> params, int64_t* version_out,
                    proto::ServerStats* stats_out);
  void Log(const std::string& line) const;
  // Says that `server`'s connection broke (once per break; how long ago, if not just now).
  void SayLost(int server);
  // Reads server `server`'s connection events; a handshake after the first is a server that
  // came back: Rejoin.
  Status DrainLinkEvents(int server, Pending* pending);
  // Drops what was in flight to `server` (keeping it to send again), forgets the versions last
  // pulled from it, and sends it a JOIN at this worker's clock (that of an unacknowledged push).
  Status Rejoin(int server, Pending* pending);
  // Before an operation: handles servers that came back since the monitors were last looked
  // at (their rejoins answered before anything new is sent). The look is skipped when the
  // last was less than kLinkLookInterval ago (a system call saved on every small operation):
  // a server that came back within it is found as one that comes back after the look is, by
  // the operation's wait, before it takes that process's first reply; the rejoin drops and
  // sends again what that reply answers (every request is safe to receive twice or before a
  // JOIN). Until then what the links' state says (DirectEligible's events_unread, down) may
  // be up to that long old: a direct send to a process gone is caught by its link or by
  // ReadDirect's incarnation check.
  Status CheckLinks();
  // Lists, for PUSH and PULL, the partitions of `server` in scope (all with `whole`).
  proto::Header NewRequest(transport::RequestKind request, int server, bool whole = false);
  // The same into *out (cleared first, its storage kept).
  void FillRequest(transport::RequestKind request, int server, bool whole, proto::Header* out);
  // PushPullRows' operation (it then lets go of the push's frames).
  Status PushPullOnce(const PushRequest& push, int64_t pull_min_version, std::span<float> params,
                      std::span<const SparseRows> rows, int64_t* version_out);
  // The partitions of `server` a PUSH or PULL lists.
  const std::vector<uint32_t>& Listed(int server, bool whole) const;
  // Down (or never connected) for detour_after, with detours on and a successor to ask.
  bool Lost(int server) const;
  // Where requests for `server`'s shard go now: the server itself (-1), or its successor's index
  // while it is lost and the successor serves its shard.
  int Via(int server) const;
  // Sends a request for `server`'s shard (where Via says, marking a detour) and records `req` as
  // in flight under the header's request id. Marks *header (detour, wire version) and keeps
  // nothing of it.
  Status SendRequest(int server, proto::Header* header, std::vector<zmq::message_t> payloads,
                     Pending::Request req, Pending* pending);
  // Sends again, as new requests, what is in flight to lost servers and not detoured, to their
  // successors (at most every detour_retry per server).
  Status DetourLost(Pending* pending);
  // Sends `req` (as recorded when it was first sent) again for `server`'s shard.
  Status Resend(int server, const Pending::Request& req, Pending* pending);
  // `sparse`: the server's share of the push's gradients or the pull's keys (or null).
  // `shared_seq`: the partitions are in push_segment_, written under that sequence (or null).
  // How a push goes: whole (then a PULL), whole and answered with its partitions' next values
  // (pull_back, no PULL), or in chunks each answered so (SendChunks).
  enum class PushShape { kWhole, kPullBack, kChunks };
  Status SendPush(int server, const PushRequest& push, SparsePart* sparse, Pending* pending,
                  const uint64_t* shared_seq = nullptr, PushShape shape = PushShape::kWhole);
  // How PushPull sends `server` its push: kChunks and kPullBack only in sync mode for a dense
  // model over the whole scope, when the pull asks for the next round (Streamed rounds).
  PushShape ShapeOf(int server, const PushRequest& push, int64_t pull_min_version, bool sparse,
                    bool shared) const;
  // Sends the push built for `server` (header `h` listing its partitions, one payload frame
  // each) as chunks of about push_chunk_bytes, each marked partial and pull_back.
  Status SendChunks(int server, const proto::Header& h, std::vector<zmq::message_t> payloads,
                    Pending* pending);
  // Which servers get `push`'s partitions through shared memory (shared_push_to_), and copies
  // them there; the segment's sequence after the copy, or nullopt when none does.
  std::optional<uint64_t> WriteSharedPush(const PushRequest& push);
  // Creates push_segment_ (a slot per partition) on first use; false if it cannot be.
  bool PushSegmentReady();
  Status SendPull(int server, int64_t min_version, Pending* pending, bool final_model = false,
                  bool whole = false, std::shared_ptr<SparsePart> sparse = nullptr,
                  bool frames_only = false);
  // The mapped segment of the server process that sent `h` (`from`), opened on first use; null
  // (said once, and that server asked with frames from then on) when it cannot be opened.
  const transport::SegmentReader* SegmentOf(int from, const proto::Header& h);
  Status SendTask(int server, std::shared_ptr<const proto::TaskInfo> task, Pending* pending);
  Status SendSimple(int server, transport::RequestKind request, Pending* pending,
                    int64_t clock = 0);
  Status Await(Pending* pending, std::span<float> params, int64_t* version_out,
               proto::ServerStats* stats_out);
  // Waits up to `timeout` (0: only looks) for a signal of a server's monitor, or (with
  // `sockets`) of its socket or of its direct link, and marks those signalled as unread (a
  // direct link writable: what was queued on it is written). One system call for all of them,
  // where zmq_poll makes one or two per socket.
  Status PollSignals(bool sockets, std::chrono::milliseconds timeout);
  // The server whose socket every request in flight waits on, when nothing else is to be
  // watched (no direct link, no unread or unsaid connection event, nothing waiting to be sent
  // again): Await then waits in libzmq's blocking receive on it. -1 otherwise.
  int SoleSocketWait(const Pending& pending) const;
  // How long that receive waits before Await looks at the monitors (a server gone or back).
  static constexpr std::chrono::milliseconds kSoleWaitSlice{50};
  Status HandleReply(int server, const transport::Message& msg, Pending* pending,
                     std::span<float> params, int64_t* version_out, proto::ServerStats* stats_out);

  PsClientOptions options_;
  std::vector<zmq::socket_t> sockets_;
  std::vector<zmq::socket_t> monitors_;  // PAIR per server: its DEALER's connection events
  // The sockets' ZMQ_FDs, then the monitors', for PollSignals; then, while it waits, the
  // direct links' fds, of the servers in direct_polled_.
  std::vector<pollfd> signal_fds_;
  // When PollSignals last looked at the monitors; CheckLinks looks again after this long.
  static constexpr std::chrono::milliseconds kLinkLookInterval{1};
  std::chrono::steady_clock::time_point links_looked_at_{};
  std::vector<int> direct_polled_;
  std::vector<Direct> direct_;                                // per server
  std::vector<std::vector<zmq::message_t>> direct_received_;  // reused
  // Reused from reply to reply (their storage stays): the frames read, the decoded reply.
  std::vector<zmq::message_t> reply_frames_;
  transport::Message reply_;
  uint64_t direct_sent_ = 0;
  uint64_t direct_breaks_ = 0;
  uint64_t direct_resent_ = 0;
  // Per server: Header.incarnation of its last reply through ZeroMQ (0: none yet).
  std::vector<uint64_t> incarnations_;
  std::vector<Link> links_;
  int64_t clock_ = 0;  // pushes sent (counting the one in flight): the clock a rejoin sends
  uint64_t rejoins_ = 0;
  uint64_t detours_sent_ = 0;
  uint64_t detours_served_ = 0;
  std::vector<int64_t> versions_;         // per partition: version of the last pull (-1: none yet)
  std::vector<int64_t> sparse_versions_;  // per server: its sparse rows' last pulled version
  std::vector<std::vector<uint32_t>> scoped_;  // per server: its partitions in scope
  // The same, shared with the requests a pull back answers (no allocation per push).
  std::vector<std::shared_ptr<const std::vector<uint32_t>>> listed_;
  std::vector<float> residual_;
  // Per server: the encoded partitions of the last push (one buffer, frames are slices of it).
  std::vector<transport::SharedBuffer<uint8_t>> encoded_;
  // Per server: the last whole push's copy (SentPush), filled again by the next one once no
  // request holds it (no allocation per push). Its frames are let go of when the operation
  // ends.
  std::vector<std::shared_ptr<SentPush>> sent_push_;
  proto::Header push_header_;  // SendPush builds each push's header here (FillRequest)
  uint64_t next_request_id_ = 1;
  uint64_t bytes_pushed_ = 0;
  uint64_t bytes_pushed_dense_ = 0;
  uint64_t bytes_pulled_ = 0;
  uint64_t bytes_pulled_shared_ = 0;
  uint64_t shared_retries_ = 0;
  uint64_t bytes_pushed_chunked_ = 0;
  // Per server: its segment as last mapped, and whether it could not be (then frames only).
  std::vector<std::unique_ptr<transport::SegmentReader>> segments_;
  std::vector<bool> no_shared_;
  // This worker's segment for pushes (created on the first push that uses it), each partition's
  // offset in it, the servers the current push goes to through it, and those that refused it.
  std::unique_ptr<transport::SharedSegment> push_segment_;
  bool push_segment_failed_ = false;
  std::vector<uint64_t> push_slot_;
  std::vector<bool> shared_push_to_;
  std::vector<bool> no_shared_push_;
  uint64_t bytes_pushed_shared_ = 0;
};

}  // namespace ringtrain::worker

#endif  // RINGTRAIN_WORKER_PS_CLIENT_H_

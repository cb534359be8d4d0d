// ServerCore: the state machine of one parameter server, with no sockets.
//
// It owns the partitions the placement assigns to its server index (parameters, optimizer
// state and, in sync mode, the gradient accumulator of the current round) and turns each
// decoded request into replies. Every worker's PUSH covers every partition owned here, so a
// worker's clock (the pushes it has made to this server) is one number per server.
//
// Consistency models (ServerCoreConfig::consistency):
//   kSync (BSP): round v of a partition collects one push per unfinished worker, all computed
//     at version v; once every unfinished worker's clock is past v the server applies
//       params <- optimizer(params, sum_i(n_i * g_i) / sum_i(n_i), lr)
//     once and bumps the version to v+1. A PULL at clock c is answered once every listed
//     partition is at version >= c.
//   kAsync: every push with samples is applied on arrival, params <- optimizer(params, g, lr'),
//     bumping the partition's version; pulls are answered at once.
//   kSsp(s): pushes are applied as in kAsync; a PULL at clock c (the worker has pushed c steps
//     and wants to start step c+1) is answered once every unfinished worker's clock is
//     >= c - s, so no worker gets more than s clocks ahead of the slowest.
// Streamed rounds (kSync, a dense model without block sums): a worker may send its push at
// clock c in chunks, PUSHes marked Header.partial that each list some of the owned partitions
// (every one in exactly one chunk). A partition's round is applied as soon as every unfinished
// worker has pushed that partition — in a whole push or a chunk — without waiting for the rest
// of the chunks, and the worker's clock moves once its last chunk is in. A chunk (or any push)
// marked Header.pull_back is answered, instead of PUSH_ACK, with the PULL_REPLY of the partitions
// it lists at version >= c + 1 once their round is applied (through the server's shared memory
// if the push is marked shared_ok, as a pull may be), which acknowledges it: a whole push so
// answered is one message each way where a push, its PUSH_ACK, a pull and its reply were four;
// the
// parameters of the first chunks travel back while the worker's later chunks still arrive, so a
// link carries pushes and pulls at once. A chunk sent again (a resend after a broken
// connection) is answered again without being applied; one that lists a partition already
// pushed and one not yet is refused. The chunks already in are part of the shard's state
// (Snapshot: ckpt::WorkerClock::partial); a worker that is excluded or finishes leaves the
// chunks it sent in their rounds, as a whole push would be. An excluded worker taken back before
// its round moved on continues its push (the chunks it sends again are answered, not applied
// again); one taken back later has its clock moved past them, as after a whole push. A pull
// back is answered only for partitions owned here, in a dense model's sync rounds, whether the
// push is applied or a duplicate.
// A worker that announces WORKER_DONE stops counting in rounds and clocks, so uneven progress
// never deadlocks. In kAsync and kSsp one push is one worker's share of a global step, so
// lr' = lr / num_workers (N pushes move the model about as far as one sync round); with
// stalenessAwareLR lr' = lr / max(1, tau) instead (Zhang et al. 2016), tau = the updates applied
// to the partition since the version the push was computed from (PartitionSlice.version),
// which is about N - 1 in steady state. Pushes with 0 samples advance the clock only.
//
// The final model: a PULL marked final_model is answered, in every consistency model, only once
// every worker has announced WORKER_DONE, with the parameters after every update of every
// worker. Its sender sends it before its own WORKER_DONE (worker::PsClient::DoneWithFinalModel),
// so it is parked before the job can finish, and answered in the Handle() call that makes
// finished() true, beside the last DONE_ACK.
//
// Compressed pushes (config.codec, which every push must use; the codec comes parsed in
// transport::Message::codec) are validated once per partition (compress::ValidatePayload), then
// decoded without further checks straight into the accumulator in sync mode
// (compress::DecodeAdd, no dense temporary) and into one scratch buffer otherwise.
//
// Pull replies share the parameter buffers with libzmq instead of copying them
// (transport::SharedBuffer: copy-on-write when an update finds a reply still queued;
// stats().param_copies counts those).
// A PULL_REPLY echoes the pull's (or pulled-back push's) Header.shared_ok: the requester could
// read the partitions from the server's shared memory, which the server's socket layer may then
// put them in (ps/pull_publisher.h); the core itself always answers with frames.
//
// Every request is validated in full before any state changes: job name, sender rank, layout
// fingerprint, partition ids (owned here), element counts, codec and encoded bytes, clock,
// versions and duplicates. An invalid request changes nothing, is counted in
// stats().messages_dropped, and is answered with ERROR naming the problem.
//
// Joining (JOIN): a worker that starts — the first time, after the job was restarted from
// checkpoints, or as the replacement of a worker that died — asks every server for its clock
// and continues from the smallest (worker/ps_client.h). A server that already has a step
// acknowledges its push again without applying it (stats().pushes_duplicate): the steps are
// replayed, none is applied twice and none is lost. A worker that finds a server restarted
// while it trains (its shard restored from a checkpoint older than the worker's progress)
// JOINs it at its own clock instead: a JOIN above the clock held moves it up (clocks never move
// down; a JOIN at or below it is a question), and the pushes skipped that way are lost on that
// shard and counted (stats().pushes_lost). In sync mode, once every unfinished worker's clock
// has moved past the round in progress, the round is applied with the pushes it has and the
// version moves up to the smallest clock, so the pulls of the joined workers are answered. A
// worker that rejoined may push for a round the restored shard reaches only once the others
// have rejoined too: such a push (valid in every other respect) is held — one per worker,
// counted in stats().pushes_held — and applied when its round comes; a pull may count it. Sent
// again after a broken connection, a held push (or chunk) replaces the held one and is answered
// once, on the new connection (stats().pushes_duplicate).
//
// Silent workers (kSync): a round waits for every unfinished worker. When one of them is silent
// — dead and not yet replaced, or stopped — its owner (ps::ParameterServer, which keeps time)
// may Exclude() it: it stops counting in rounds and clocks, as if done, so the round in progress
// is applied with the pushes it has and the others go on (stats().workers_excluded). It is taken
// back by its next PUSH, JOIN or WORKER_DONE (stats().workers_returned): its clock moves up to
// the round in progress (the steps it missed are counted in stats().steps_missed), so a
// replacement that JOINs continues from there, and a worker that was only slow has its pushes
// for rounds already applied acknowledged without being applied (pushes_duplicate) until it has
// caught up. Its pulls change nothing (they are not replicated): a pull at a clock the rounds
// have passed is answered at once. Excluding is part of the shard's state (Snapshot, Restore).
//
// The data queue (dynamic sharding, ps/data_queue.h): on the server that keeps it, TASK is
// answered from the queue; a worker's JOIN or its exclusion gives its lease back (a worker that
// joins starts over: it holds nothing). The queue is part of the shard's state. Any other server
// refuses TASK.
//
// Feature-wise sharding (config.block_sums, model/feature_block.h): every worker computes the
// gradient of its own column block of a linear model from the same rows, so a round sums the
// pushes instead of averaging them, params <- optimizer(params, sum_i g_i, lr), and a push may
// list only the owned partitions its block touches (the others' gradient is 0; the push still
// moves the worker's clock). No block can be missed: Exclude() does nothing. The server with
// config.margin_cols > 0 also answers MARGINS (ps/margin_rounds.h): the sum of every worker's
// partial margins of a step, once all are in; any other server refuses MARGINS.
//
// Sparse tables (table->sparse(), ps/sparse_shard.h): a PUSH or PULL may carry, beside its
// partitions, keys of the sparse tables (Header.sparse) in the buckets this server owns. A push
// must still cover every owned partition, but may carry any keys (none: it only moves the
// worker's clock); a pull must ask for something (partitions or keys). The server's sparse
// tables take part in the consistency model as one more partition would: in sync they have the
// round's version (a pull with keys waits for it; a round sums n_i x gradient per key and
// applies sum / sum_i n_i once per key), in async and ssp each push's gradients are applied on
// arrival with the same rate as the partitions'. A push's keys must be among those of the
// worker's latest pull here (HandleForwarded, for requests a primary checked, skips that one
// check). The sparse tables are part of the shard's state (Snapshot, Restore: their rows, the
// round's sums, the expiry clock and the admission sketch); after a Restore a worker's first
// push is not checked against its pull (which went to the server the state came from).
//
// Checkpoints (ckpt/shard_state.h): Snapshot() copies the shard's whole state — what a restarted
// server needs to continue exactly where this one was — SnapshotInto() does the same into the
// buffers of an earlier copy, and Restore() puts such a state back.
// The core has no lock: its owner takes the snapshot on its own thread between two requests
// (ps::ServerCheckpointer, ps/checkpointer.h), so the copy is consistent by construction, and
// hands the copy to the checkpoint writer's thread.
//
// Thread-safety: not thread-safe; one thread (the server's socket thread) owns it.
#ifndef RINGTRAIN_PS_SERVER_CORE_H_
#define RINGTRAIN_PS_SERVER_CORE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/ckpt/shard_state.h"
#include "ringtrain/common/status.h"
#include "ringtrain/compress/codec.h"
#include "ringtrain/compress/validated_payload.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ps/consistency.h"
#include "ringtrain/ps/data_queue.h"
#include "ringtrain/ps/margin_rounds.h"
#include "ringtrain/ps/sparse_shard.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/transport/message.h"
#include "ringtrain/transport/shared_buffer.h"

namespace ringtrain::ps {

struct ServerCoreConfig {
  std::string job;
  int server_index = 0;
  int num_workers = 1;
  std::shared_ptr<const ring::PartitionTable> table;
  std::unique_ptr<optim::Optimizer> optimizer;
  Consistency consistency = Consistency::kSync;
  int64_t staleness = 0;                                   // kSsp: s >= 0
  bool staleness_aware_lr = false;                         // kAsync and kSsp only
  compress::CodecType codec = compress::CodecType::kNone;  // what pushes must be encoded with
  // Dynamic sharding: this server keeps the data queue (ps/data_queue.h) and answers TASK.
  bool keeps_data_queue = false;
  // Feature-wise sharding (kSync only; see Feature-wise sharding above).
  bool block_sums = false;
  int margin_cols = 0;  // > 0: this server sums the partial margins, `margin_cols` per row
  // Sparse tables (table->sparse() not empty; see Sparse tables above): how each table's rows
  // start (one per table, or empty for zeros) and the seed of their initial values; admission
  // and expiry of their keys (SparseShardConfig::admit_after, expire_after).
  std::vector<SparseInit> sparse_init;
  uint64_t sparse_seed = 0;
  uint32_t sparse_admit_after = 1;
  int64_t sparse_expire_after = 0;
};

// A reply addressed to the peer (routing id) that should receive it.
struct Reply {
  std::string peer;
  proto::Header header;
  std::vector<zmq::message_t> payloads;
};

class ServerCore {
 public:
  // `initial_params` is the whole model's flat parameter vector; the core copies its own
  // partitions. Returns InvalidArgument for an inconsistent config.
  static StatusOr<std::unique_ptr<ServerCore>> Make(ServerCoreConfig config,
                                                    std::span<const float> initial_params);

  ~ServerCore();
  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  // Handles one decoded request from `peer`, appending the replies it causes to *out
  // (including answers to pulls parked earlier by other peers). A message of a kind that is
  // not a request (transport::RequestOf) is answered with ERROR and counted as dropped.
  void Handle(const std::string& peer, transport::Message msg, std::vector<Reply>* out);
  // The same, moving out of *msg only what it keeps (a push held for a later round, a parked
  // pull) and leaving *msg valid otherwise: a receiver that decodes every request into one
  // Message (transport::DecodeMessage into it) reuses its storage from request to request.
  void Handle(const std::string& peer, transport::Message* msg, std::vector<Reply>* out);
  // As Handle, for a request its primary validated and forwarded (replication): the sparse keys
  // of a PUSH are not checked against a pull this copy never saw.
  void HandleForwarded(const std::string& peer, transport::Message msg, std::vector<Reply>* out);

  // Records a message that could not even be decoded (dropped without a reply).
  void CountUndecodable(uint64_t bytes);
  void CountReceived(uint64_t bytes);
  void CountSent(uint64_t bytes);

  const proto::ServerStats& stats() const { return stats_; }
  // For the counters of the server's other parts that the core does not see (replication), so
  // that STATS replies and the final counters include them.
  proto::ServerStats& mutable_stats() { return stats_; }

  // Elements of all partitions owned here.
  int64_t owned_elements() const;

  // True once every worker has sent WORKER_DONE.
  bool finished() const { return workers_done_ == config_.num_workers; }

  // Pushes accepted from `worker` (its clock), and the smallest clock of the unfinished
  // workers (INT64_MAX when all are done).
  int64_t clock(int worker) const { return clocks_[static_cast<size_t>(worker)]; }
  int64_t min_active_clock() const;
  // The shard's step: the smallest clock of all workers, finished or not (what Snapshot()'s
  // ckpt::ShardState::step() would say, without the copy).
  int64_t step() const;
  // The step checkpoints fall due by: the smallest clock of the workers neither finished nor
  // excluded (min_active_clock), or the largest clock once none is left. Unlike step(), a
  // worker that finished early (its share of the data ran out, or held no records) or went
  // silent does not hold it back; one taken back may lower it again for a while (checkpoints
  // by steps then wait until the step passes the last one's again; those by time go on).
  int64_t active_step() const;

  // kSync: the workers the round in progress waits for — unfinished, not excluded, at the
  // round's clock, while another worker has pushed to it — ascending. Empty otherwise.
  std::vector<int> WorkersHoldingRound() const;
  // The workers that requests here wait for now, ascending: kSync, WorkersHoldingRound() and the
  // workers the open round of margins misses;
  // kSsp, while a pull is parked, the unfinished workers at the smallest clock; kAsync, none.
  // What names a stopped worker when a job stalls.
  std::vector<int> WorkersWaitedFor() const;
  // kSync: the round in progress (its partitions' version; every push covers them all), the
  // sparse tables' round when no partition is owned here, 0 when neither is.
  int64_t round() const { return RoundVersion(); }
  // kSync: stops waiting for `worker` (see Silent workers above), appending the replies this
  // releases (pulls the applied round answers) to *out. Nothing happens outside sync mode, for
  // a worker that is done or already excluded, or a rank out of range.
  void Exclude(int worker, std::vector<Reply>* out);
  // As Exclude, for an exclusion its primary decided (replication): the pushes it releases are
  // handled as forwarded ones (HandleForwarded), so nothing is parked for their answers.
  void ExcludeForwarded(int worker, std::vector<Reply>* out);
  bool excluded(int worker) const { return worker_excluded_[static_cast<size_t>(worker)]; }

  // The current parameters and version of an owned partition (for tests and checkpoints).
  // REQUIRES: the partition is owned by this server.
  std::span<const float> params(uint32_t partition_id) const;
  int64_t version(uint32_t partition_id) const;
  // Changes whenever the parameters are replaced other than by updates (Restore), so that a
  // partition's (generation, version) names its contents (ps/pull_publisher.h relies on it).
  uint64_t generation() const { return generation_; }

  const ServerCoreConfig& config() const { return config_; }

  // The server's sparse tables, or nullptr for a dense model.
  const SparseShard* sparse() const { return sparse_.get(); }

  // A copy of the shard's state: every owned partition (ascending id) with its parameters,
  // optimizer state and steps, version and, in sync mode, the round in progress (its
  // accumulator only while a push of the round has arrived), and every worker's clock and
  // whether it is done. Costs one copy of the owned floats; the result shares nothing with the
  // core. Parked pulls and counters are not part of it.
  ckpt::ShardState Snapshot() const;

  // Overwrites *state with what Snapshot() returns, reusing its buffers: vectors of the right
  // size are copied into in place (no allocation, no page faults), others resized. Any earlier
  // contents are replaced, whatever their shapes; a state from a previous SnapshotInto of this
  // core costs one memcpy of the owned floats. REQUIRES: state != nullptr, and no other thread
  // uses *state during the call (ps::ServerCheckpointer gets it back from the checkpoint writer
  // only once its write is done).
  void SnapshotInto(ckpt::ShardState* state) const;

  // True while a push is held for a round this shard has not reached (see Joining above).
  // Such pushes are not part of Snapshot(): a copy taken now would lack them.
  bool has_held_pushes() const;
  // True while some worker's push has come in part (Streamed rounds above): a Snapshot() now
  // says which chunks are in (ckpt::WorkerClock::partial), which a checkpoint file cannot hold,
  // so the checkpointer waits for the push to complete.
  bool mid_push() const;

  // Forgets the parked pulls and held pushes, unanswered: another server answers them now
  // (a successor that served this shard hands it back to its replacement, to which the workers
  // send them again). Returns how many were forgotten. The shard's state is unchanged.
  size_t DropParked();

  // Replaces the shard's state with `state`, a Snapshot() of a core of the same job, server,
  // layout, optimizer and sync mode (ckpt::Store::LoadLatest checks the manifest says so).
  // Checks everything before changing anything: FailedPrecondition naming the partition or
  // worker if the partitions are not exactly those owned here, a size does not fit, a version
  // or step is negative, a round is out of range or in progress outside sync mode, the worker
  // count differs, or requests are already parked (restore before serving). Held pushes are
  // dropped with the state they belonged to.
  Status Restore(ckpt::ShardState state);

 private:
  struct PartitionState {
    uint32_t id = 0;
    // Shared with the PULL_REPLY frames libzmq has not sent yet, so replies go out without a
    // copy; an update writes in place unless a frame still holds the buffer (copy-on-write).
    transport::SharedBuffer<float> params;
    std::vector<float> optimizer_state;
    int64_t optimizer_steps = 0;  // updates applied (rounds with samples), Apply's step
    std::vector<float> accum;     // kSync: sum_i n_i * g_i of the current round (unless clear)
    // kSync: no gradient has been summed into accum this round: its floats are the last
    // round's, left for the round's first sum to overwrite (no pass to zero it between rounds).
    bool accum_clear = false;
    // kSync, only while HandlePush runs: the push's dense gradient for this partition (read in
    // place from its frame) and its weight, not yet added to accum. If the push completes the
    // round, the apply reads it with accum (Optimizer::ApplySum): one pass over the partition
    // fewer. Otherwise AddDeferred adds it before HandlePush returns.
    std::span<const float> deferred;
    float deferred_weight = 0;
    bool has_deferred = false;
    int64_t version = 0;      // kSync: rounds applied; else updates applied
    int pushes = 0;           // kSync: pushes in the current round
    uint64_t samples = 0;     // kSync: sum_i n_i of the current round
    float learning_rate = 0;  // kSync: rate of the current round's pushes
  };
  struct PendingPull {
    std::string peer;
    proto::Header request;
  };
  // A parked PULL, with its sparse keys.
  struct ParkedPull {
    std::string peer;
    transport::Message msg;
  };
  // The rounds of the sparse tables (kSync), as PartitionState's for a partition; in kAsync and
  // kSsp `version` counts the pushes whose gradients were applied.
  struct SparseRound {
    int64_t version = 0;
    int pushes = 0;
    uint64_t samples = 0;
    float learning_rate = 0;
  };
  struct HeldPush {
    std::string peer;
    transport::Message msg;
  };

  ServerCore(ServerCoreConfig config, std::vector<PartitionState> owned);

  Status ValidateCommon(const proto::Header& h) const;
  // InvalidArgument unless the request's layout fingerprint is this job's.
  Status ValidateLayout(const proto::Header& h) const;
  // Each listed partition owned here, of its size, listed once. Writes a scratch of this object
  // (listed_by_check_): like every method here, for the thread that owns it only.
  Status ValidatePartitions(const proto::Header& h) const;
  // Validates a push in full; on success *payloads holds each listed partition's validated
  // payload, in order (the only way HandlePush reads the bytes), and *ahead says it is a sync
  // push for a round this shard has not reached yet (to be held).
  Status ValidatePush(const transport::Message& msg,
                      std::vector<compress::ValidatedPayload>* payloads, bool* ahead) const;
  // kSync: handles the held pushes whose round has come.
  void ReleaseHeldPushes(std::vector<Reply>* out);
  void ApplyNow(PartitionState& p, const proto::PartitionSlice& slice, std::span<const float> g,
                const proto::Header& h);
  // Both move *msg out only to keep it (held, parked); see Handle.
  void HandlePush(const std::string& peer, transport::Message* pushed, std::vector<Reply>* out);
  void HandlePull(const std::string& peer, transport::Message* pulled, std::vector<Reply>* out);
  void HandleDone(const std::string& peer, const proto::Header& request, std::vector<Reply>* out);
  void HandleJoin(const std::string& peer, const proto::Header& request, std::vector<Reply>* out);
  void HandleTask(const std::string& peer, const proto::Header& request, std::vector<Reply>* out);
  void HandleMargins(const std::string& peer, const transport::Message& msg,
                     std::vector<Reply>* out);
  // Answers every MARGINS waiting for the round just completed.
  void AnswerMargins(std::vector<Reply>* out);
  Reply MakeMarginsReply(const std::string& peer, const proto::Header& request,
                         std::span<const float> sum);
  // Gives `worker`'s data-queue lease back, if this server keeps the queue.
  void ReturnLease(size_t worker);
  void CountQueue();
  // An excluded worker's PUSH, JOIN or WORKER_DONE takes it back (see Silent workers above).
  void TakeBack(size_t worker);
  // kSync, after a JOIN moved a clock up: applies the round in progress once every unfinished
  // worker's clock is past it, and moves versions up to the smallest clock (the rounds no
  // worker will push to any more are skipped).
  void FastForwardRounds();
  // kSync: applies p's round once every unfinished worker has pushed to it, i.e. once
  // `min_clock` (min_active_clock()) is past its version, or the workers still at its version
  // have pushed it in a chunk (PushedInChunks).
  void MaybeApplyRound(PartitionState& p, int64_t min_clock);
  // Adds p's deferred gradient to its accum (see PartitionState::deferred), if it has one.
  static void AddDeferred(PartitionState& p);
  // kSync: every unfinished worker whose clock is not past p's version has sent p in a chunk of
  // its push at that version.
  bool PushedInChunks(const PartitionState& p) const;
  // Forgets which chunks of `worker`'s push came in (its push completed, it finished, or its
  // clock moved past them: its chunks stay in their rounds).
  void ClearPartial(size_t worker);
  // Some chunks of `worker`'s push are in, and a partition still waits at its clock (those of an
  // excluded worker whose round every partition has passed no longer count).
  bool ChunksPending(size_t worker) const;
  // InvalidArgument for a PUSH marked partial or pull_back outside a dense model's sync rounds,
  // or listing no partitions or (unless `partitions_checked` by ValidatePartitions already) ones
  // not owned here.
  Status ValidateStreaming(const proto::Header& h, bool partitions_checked = false) const;
  // Answers an accepted (or already applied) push: PUSH_ACK, or with Header.pull_back the pull of
  // its partitions at clock + 1, now or once their round is applied (parked).
  void AnswerPush(const std::string& peer, const proto::Header& push, std::vector<Reply>* out);
  // kSync: the same for the sparse tables' round.
  void MaybeApplySparseRound(int64_t min_clock);
  // kSync: the round in progress and the pushes it has (the first owned partition's, or the
  // sparse tables' when no partition is owned here).
  int64_t RoundVersion() const;
  int RoundPushes() const;
  // kSync, after a worker stopped counting (done, excluded): applies each partition's round
  // that no counting worker is missing from.
  void ApplyRoundsWaitingForNobody();
  // The parameters to update in place: a fresh copy if a queued reply still reads them.
  std::span<float> Writable(PartitionState& p);
  void AnswerReadyPulls(std::vector<Reply>* out);
  // Whether a pull of request's partitions (and sparse slices) at `clock` can be answered now.
  bool PullReady(const proto::Header& request, int64_t clock) const;
  // kSync: whether every partition request lists has reached version `clock` (reads nothing
  // else of the header).
  bool PartitionsAt(const proto::Header& request, int64_t clock) const;
  // kAsync, kSsp: applies a push's sparse gradients now.
  void ApplySparseNow(const transport::Message& msg);
  Reply NewReply(const std::string& peer, const proto::Header& request,
                 proto::MessageKind kind) const;
  Reply MakePullReply(const std::string& peer, const transport::Message& request);
  // A pull reply with request's partitions as they are here, for a pull at `clock` (the
  // partitions' part of MakePullReply; a pull back answers a push this way, with no pull built).
  Reply MakePartitionsReply(const std::string& peer, const proto::Header& request, int64_t clock);
  Reply MakeError(const std::string& peer, const proto::Header& request, const Status& s);
  PartitionState* Find(uint32_t id);
  const PartitionState* Find(uint32_t id) const;

  ServerCoreConfig config_;
  uint64_t generation_ = 0;  // see generation()
  std::vector<PartitionState> owned_;
  std::vector<int> slot_of_partition_;  // partition id -> index in owned_, or -1
  // ValidatePartitions' scratch (so it, though const, is for the owning thread only, as every
  // method here): per slot, the last check that saw the partition listed; the checks made.
  mutable std::vector<uint64_t> listed_by_check_;
  mutable uint64_t partition_checks_ = 0;
  std::vector<bool> worker_done_;
  std::vector<bool> worker_excluded_;  // kSync: silent, not waited for (Exclude)
  std::vector<int64_t> clocks_;        // per worker: pushes accepted
  // kSync, per worker: valid pushes for a round this shard has not reached, held until it has
  // (after a restore, while other workers have not rejoined: see Joining above): one whole push,
  // or the chunks of one.
  std::vector<std::deque<HeldPush>> held_push_;
  // kSync, per worker: which owned partitions (by slot) of its push at its clock came in chunks
  // (empty until its first chunk), and how many.
  std::vector<std::vector<uint8_t>> partial_;
  std::vector<size_t> partial_count_;
  std::vector<float> scratch_;  // a decoded gradient (kAsync, kSsp with a codec)
  int workers_done_ = 0;
  std::vector<ParkedPull> pending_;
  proto::ServerStats stats_;
  std::optional<DataQueue> queue_;       // config_.keeps_data_queue
  std::optional<MarginRounds> margins_;  // config_.margin_cols > 0
  std::unique_ptr<SparseShard> sparse_;  // table->sparse() not empty
  SparseRound sparse_round_;
  bool forwarded_ = false;                   // inside HandleForwarded
  std::vector<PendingPull> margin_waiters_;  // MARGINS of the open round, to answer
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_SERVER_CORE_H_

// ServerCore: the state machine of one parameter server, with no sockets.
//
// It owns the partitions the placement assigns to its server index (parameters, optimizer
// state and the gradient accumulator of the current round) and turns each decoded request
// into replies. Synchronous (BSP) semantics: round v of a partition collects one push per
// active worker, all computed at version v; when the last one arrives the server applies
//   params <- optimizer(params, sum_i(n_i * g_i) / sum_i(n_i), lr)
// once, bumps the version to v+1 and answers the pulls parked until then. A worker that
// announces WORKER_DONE stops counting, so uneven progress never deadlocks a round.
//
// Every request is validated in full before any state changes: job name, sender rank, layout
// fingerprint, partition ids (owned here), element counts, codec, clock and duplicates. An
// invalid request changes nothing, is counted in stats().messages_dropped, and is answered
// with ERROR naming the problem.
//
// Thread-safety: not thread-safe; one thread (the server's socket thread) owns it.
#ifndef RINGTRAIN_PS_SERVER_CORE_H_
#define RINGTRAIN_PS_SERVER_CORE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/optim/optimizer.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/ring/partition_table.h"
#include "ringtrain/transport/message.h"

namespace ringtrain::ps {

struct ServerCoreConfig {
  std::string job;
  int server_index = 0;
  int num_workers = 1;
  std::shared_ptr<const ring::PartitionTable> table;
  std::unique_ptr<optim::Optimizer> optimizer;
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
  // (including answers to pulls parked earlier by other peers).
  void Handle(const std::string& peer, transport::Message msg, std::vector<Reply>* out);

  // Records a message that could not even be decoded (dropped without a reply).
  void CountUndecodable(uint64_t bytes);
  void CountReceived(uint64_t bytes);
  void CountSent(uint64_t bytes);

  const proto::ServerStats& stats() const { return stats_; }

  // Elements of all partitions owned here.
  int64_t owned_elements() const;

  // True once every worker has sent WORKER_DONE.
  bool finished() const { return workers_done_ == config_.num_workers; }

  // The current parameters and version of an owned partition (for tests and checkpoints).
  // REQUIRES: the partition is owned by this server.
  std::span<const float> params(uint32_t partition_id) const;
  int64_t version(uint32_t partition_id) const;

 private:
  struct PartitionState {
    uint32_t id = 0;
    std::vector<float> params;
    std::vector<float> optimizer_state;
    int64_t optimizer_steps = 0;      // updates applied (rounds with samples), Apply's step
    std::vector<float> accum;         // sum_i n_i * g_i of the current round
    int64_t version = 0;              // rounds applied
    int pushes = 0;                   // pushes in the current round
    uint64_t samples = 0;             // sum_i n_i of the current round
    float learning_rate = 0;          // rate of the current round's pushes
    std::vector<int64_t> last_clock;  // per worker: clock of its last accepted push
  };
  struct PendingPull {
    std::string peer;
    proto::Header request;
  };

  ServerCore(ServerCoreConfig config, std::vector<PartitionState> owned);

  Status ValidateCommon(const proto::Header& h) const;
  Status ValidatePartitions(const proto::Header& h) const;
  void HandlePush(const std::string& peer, transport::Message msg, std::vector<Reply>* out);
  void HandlePull(const std::string& peer, proto::Header request, std::vector<Reply>* out);
  void HandleDone(const std::string& peer, const proto::Header& request, std::vector<Reply>* out);
  void MaybeApplyRound(PartitionState& p);
  void AnswerReadyPulls(std::vector<Reply>* out);
  bool PullReady(const proto::Header& request) const;
  Reply NewReply(const std::string& peer, const proto::Header& request,
                 proto::MessageKind kind) const;
  Reply MakePullReply(const std::string& peer, const proto::Header& request);
  Reply MakeError(const std::string& peer, const proto::Header& request, const Status& s);
  PartitionState* Find(uint32_t id);
  const PartitionState* Find(uint32_t id) const;

  ServerCoreConfig config_;
  std::vector<PartitionState> owned_;
  std::vector<int> slot_of_partition_;  // partition id -> index in owned_, or -1
  std::vector<bool> worker_done_;
  int workers_done_ = 0;
  std::vector<PendingPull> pending_;
  proto::ServerStats stats_;
};

}  // namespace ringtrain::ps

#endif  // RINGTRAIN_PS_SERVER_CORE_H_

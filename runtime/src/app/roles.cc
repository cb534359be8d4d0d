#include "ringtrain/app/roles.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <span>

#include <zmq.hpp>

#include "ringtrain/app/credentials.h"
#include "ringtrain/app/header_check.h"
#include "ringtrain/app/job_plan.h"
#include "ringtrain/app/object_checkpoints.h"
#include "ringtrain/app/sparse_worker.h"
#include "ringtrain/app/wiring.h"
#include "ringtrain/data/idx_reader.h"
#include "ringtrain/data/shard.h"
#include "ringtrain/data/text_stream.h"
#include "ringtrain/data/uri.h"
#include "ringtrain/model/feature_block.h"
#include "ringtrain/ps/direct_peers.h"
#include "ringtrain/ps/server.h"
#include "ringtrain/transport/event_sink.h"
#include "ringtrain/transport/status_server.h"
#include "ringtrain/worker/block_gradient.h"
#include "ringtrain/worker/progress_recorder.h"
#include "ringtrain/worker/trainer.h"

namespace ringtrain::app {

namespace {

// The workers a server waits for, as of its last report: written by the server's thread,
// read by its status socket's.
class WaitingFor {
 public:
  void Set(const google::protobuf::RepeatedField<uint32_t>& workers) {
    std::lock_guard<std::mutex> lock(mu_);
    workers_ = workers;
  }
  google::protobuf::RepeatedField<uint32_t> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return workers_;
  }

 private:
  mutable std::mutex mu_;
  google::protobuf::RepeatedField<uint32_t> workers_;
};

// Dynamic sharding: task `position` of epoch `epoch` is the cut's task at that position of the
// epoch's order (data::EpochOrder of the tasks, with worker 0's seed: the same on every worker),
// read through the worker's text stream.
class TextTasks : public worker::TaskReader {
 public:
  TextTasks(std::vector<std::vector<data::Piece>> cut, data::TextStream* stream, uint64_t seed,
            bool shuffle)
      : cut_(std::move(cut)), stream_(stream), seed_(seed), shuffle_(shuffle) {}

  int64_t tasks() const override { return static_cast<int64_t>(cut_.size()); }

  Status Start(int64_t epoch, int64_t position) override {
    if (!order_.has_value() || order_epoch_ != epoch) {
      order_.emplace(tasks(), epoch, seed_, shuffle_, /*worker_index=*/0);
      order_epoch_ = epoch;
    }
    const int64_t task = order_->indices()[static_cast<size_t>(position)];
    return stream_->StartPieces(cut_[static_cast<size_t>(task)], epoch * tasks() + position);
  }

 private:
  std::vector<std::vector<data::Piece>> cut_;
  data::TextStream* stream_;
  uint64_t seed_;
  bool shuffle_;
  std::optional<data::EpochOrder> order_;
  int64_t order_epoch_ = -1;
};

// Dynamic sharding: the rows a worker trains on in an epoch, estimated for its schedule's steps:
// the records per stored byte of its own row share (worker 0's when its own has none) times the
// data's bytes over the workers, so every worker estimates about the same.
StatusOr<int64_t> DynamicRowsEstimate(storage::Storage& storage,
                                      const data::TextShardOptions& options,
                                      const data::TextShardPlan& own,
                                      const std::vector<std::vector<data::Piece>>& cut,
                                      int workers) {
  int64_t total = 0;
  for (const std::vector<data::Piece>& task : cut) {
    for (const data::Piece& p : task) total += p.whole ? p.object.size : p.end - p.begin;
  }
  data::TextShardPlan sample = own;
  if (sample.records == 0 || sample.bytes == 0) {
    data::TextShardOptions first = options;
    first.index = 0;
    RT_ASSIGN_OR_RETURN(sample, data::PlanTextShard(storage, first, /*count=*/true));
  }
  if (sample.bytes <= 0 || workers < 1) return 0;
  const double per_byte = static_cast<double>(sample.records) / static_cast<double>(sample.bytes);
  return static_cast<int64_t>(std::ceil(per_byte * static_cast<double>(total) / workers));
}

// Best effort: a process that cannot write its last words still exits with its code.
void WriteTerminationLog(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text << "\n";
}

void ReportFailure(transport::EventSink& sink, const job::PodContract& c, const Status& s) {
  proto::Event e;
  e.set_type(proto::FAILED);
  e.set_role(job::Name(c.role));
  e.set_index(static_cast<uint32_t>(c.index));
  e.set_message(s.ToString());
  sink.Send(e);
}

// With spec.parameterServers.replication: 1, the link to this server's backup (its successor)
// and the copy of its predecessor's shard; raises options->max_message_size so that whole
// shards (a copy's sync, this shard fetched back) fit. Without replication: empty.
StatusOr<ps::Replication> MakeReplication(const job::PodContract& c, const JobPlan& plan,
                                          std::span<const float> initial, zmq::context_t& context,
                                          ps::ServerCore* core, ps::ServerOptions* options) {
  // (options->credentials: this server's, for its link to the backup too)
  ps::Replication r;
  if (plan.replication == 0) return r;
  if (static_cast<int>(c.ps_endpoints.size()) != plan.num_ps) {
    return InvalidArgument(
        std::string(job::kEnvPsEndpoints) + ": replication needs every server's endpoint (got " +
        std::to_string(c.ps_endpoints.size()) + " of " + std::to_string(plan.num_ps) + ")");
  }
  const int successor = (c.index + 1) % plan.num_ps;
  const int predecessor = (c.index + plan.num_ps - 1) % plan.num_ps;
  const std::string who = "ps-" + std::to_string(c.index);
  auto log = [who](const std::string& m) { std::cerr << who << ": " << m << "\n"; };
  RT_ASSIGN_OR_RETURN(std::unique_ptr<ps::ServerCore> copy,
                      MakeServerCore(plan, predecessor, initial));
  // A whole shard travels in one message: parameters, optimizer state and a round's sums.
  const int64_t floats_per_param = 2 + core->config().optimizer->state_slots();
  constexpr int64_t kAllowance = int64_t{1} << 20;
  // A sparse table's rows travel in one frame per table, within the frames a sparse request
  // may carry (a larger table is not replicated: BackupLink::Sync logs why and keeps serving).
  const int64_t sparse = ps::LargestSparseFrame(*plan.table) + kAllowance;
  const int64_t own = std::max(core->owned_elements() * floats_per_param * 4 + kAllowance, sparse);
  const int64_t kept = std::max(copy->owned_elements() * floats_per_param * 4 + kAllowance, sparse);
  options->max_message_size = std::max(own, kept);
  ps::BackupLinkOptions link;
  link.server = c.index;
  link.successor = successor;
  link.successor_endpoint = c.ps_endpoints[static_cast<size_t>(successor)];
  link.max_message_size = own;
  link.log = log;
  link.credentials = options->credentials;
  RT_ASSIGN_OR_RETURN(r.backup, ps::BackupLink::Connect(context, std::move(link)));
  // The counters go into this server's own stats (the core outlives the copy).
  r.replica = std::make_unique<ps::ReplicaShard>(std::move(copy), &core->mutable_stats(), log);
  return r;
}

Status ServeParameterServer(const job::PodContract& c, const job::TrainingJob& job,
                            const std::atomic<int>* interrupted,
                            const CheckpointOptions& checkpoints, zmq::context_t& context,
                            transport::EventSink& sink,
                            std::shared_ptr<const auth::Credentials> credentials) {
  RT_RETURN_IF_ERROR(ValidateCheckpointOptions(checkpoints));
  // Servers size the model from the training images' header, so they read it too.
  StatusOr<DatasetShape> shape = ReadDatasetShape(job.spec);
  if (!shape.ok()) {
    return Status(shape.status().code(),
                  shape.status().message() +
                      " (parameter servers read the training images' header to size the model: "
                      "in pods, spec.parameterServers.volumeMounts must mount the data too)");
  }
  RT_ASSIGN_OR_RETURN(JobPlan plan, MakeJobPlan(job, *shape));
  RT_RETURN_IF_ERROR(CheckContract(c, plan));
  RT_RETURN_IF_ERROR(CheckHeadersFit(plan, OnThisHost(c.bind_endpoint)));
  RT_ASSIGN_OR_RETURN(std::vector<float> initial, InitialParameters(plan));
  RT_ASSIGN_OR_RETURN(std::unique_ptr<ps::ServerCore> core, MakeServerCore(plan, c.index, initial));
  ps::ServerOptions options;
  options.bind_endpoint = c.bind_endpoint;
  options.shared_memory = OnThisHost(c.bind_endpoint);
  // Workers on this host reach it directly too, when the job's pushes can go so, unless CURVE
  // must cover their traffic.
  if (credentials == nullptr && DirectLinksApply(plan)) {
    options.direct_path = ps::DirectPathOf(c.bind_endpoint);
  }
  options.interrupted = interrupted;
  const std::string who = "ps-" + std::to_string(c.index);
  options.worker_timeout = std::chrono::seconds(plan.worker_timeout_seconds);
  options.credentials = credentials;
  options.log = [who](const std::string& line) { std::cerr << who << ": " << line << "\n"; };
  std::unique_ptr<ps::ServerCheckpointer> checkpointer;
  std::optional<ps::RestoredCheckpoint> restored;
  if (checkpoints.enabled()) {
    RT_ASSIGN_OR_RETURN(restored, RestoreShard(checkpoints, plan, core.get()));
    if (restored.has_value()) {
      for (const std::string& skipped : restored->skipped) {
        std::cerr << who << ": checkpoint passed over: " << skipped << "\n";
      }
      std::cerr << who << ": restored its shard at step " << restored->manifest.step << " from "
                << restored->ref.path
                << (restored->manifest.final
                        ? " (final: the job had finished; every worker is done, nothing to serve)"
                        : "")
                << "\n";
    }
    CheckpointerHooks hooks;
    hooks.log = [who](const std::string& m) { std::cerr << who << ": " << m << "\n"; };
    // On the server's thread, as every other event of this sink.
    hooks.written = [&sink, &c](const ps::LastCheckpoint& written) {
      proto::Event e;
      e.set_type(proto::CHECKPOINT);
      e.set_role("ps");
      e.set_index(static_cast<uint32_t>(c.index));
      *e.mutable_checkpoint() = CheckpointInfoOf(written);
      sink.Send(e);
    };
    if (restored.has_value()) hooks.restored = LastCheckpointOf(*restored);
    RT_ASSIGN_OR_RETURN(checkpointer,
                        MakeServerCheckpointer(checkpoints, plan, *core, std::move(hooks)));
    std::cerr << who << ": checkpoints in " << ShardCheckpointDirectory(checkpoints, plan, c.index)
              << "\n";
    options.between_messages = [&checkpointer](const ps::ServerCore& served) {
      checkpointer->Tick(served);
    };
  }
  // The server's counters every second (PROGRESS), so that what a process did is known even
  // if it is killed before its FINISHED (ringtrain run adds up a shard's processes).
  // With them the workers its requests wait for, which the status socket answers too.
  auto next_report = std::chrono::steady_clock::now();
  WaitingFor waiting;
  options.between_messages =
      [&sink, &next_report, &waiting, index = c.index,
       tick = std::move(options.between_messages)](const ps::ServerCore& served) {
        if (tick) tick(served);
        const auto now = std::chrono::steady_clock::now();
        if (now < next_report) return;
        next_report = now + std::chrono::seconds(1);
        proto::Event report;
        report.set_type(proto::PROGRESS);
        report.set_role("ps");
        report.set_index(static_cast<uint32_t>(index));
        *report.mutable_server_stats() = served.stats();
        for (const int w : served.WorkersWaitedFor()) {
          report.add_waiting_for(static_cast<uint32_t>(w));
        }
        waiting.Set(report.waiting_for());
        sink.Send(report);
      };
  // The operator asks each server for its last checkpoint here (status.checkpoint). Declared
  // after the checkpointer, so it stops before the checkpointer goes.
  std::unique_ptr<transport::StatusServer> status_server;
  if (!c.status_bind.empty()) {
    RT_ASSIGN_OR_RETURN(status_server, transport::StatusServer::Start(
                                           context, c.status_bind, c.job_name,
                                           [cp = checkpointer.get(), &waiting] {
                                             proto::StatusReply reply = ServerStatusReply(cp);
                                             *reply.mutable_waiting_for() = waiting.Get();
                                             return reply;
                                           },
                                           credentials.get()));
  }
  RT_ASSIGN_OR_RETURN(ps::Replication replication,
                      MakeReplication(c, plan, initial, context, core.get(), &options));
  const bool replicated = replication.backup != nullptr;
  RT_ASSIGN_OR_RETURN(
      std::unique_ptr<ps::ParameterServer> server,
      ps::ParameterServer::Bind(context, options, std::move(core), std::move(replication)));
  std::cerr << "ps-" << c.index << ": serving " << server->core().stats().partitions_owned()
            << " of " << plan.table->partitions().size() << " partitions ("
            << server->core().owned_elements() << " parameters) on " << server->endpoint() << "\n";
  proto::Event ready;
  ready.set_type(proto::READY);
  ready.set_role("ps");
  ready.set_index(static_cast<uint32_t>(c.index));
  ready.set_endpoint(server->endpoint());
  if (restored.has_value()) {
    ready.set_restored_from(restored->ref.path);
    ready.set_restored_step(restored->manifest.step);
  }
  if (replicated) {
    // A replaced server continues from the copy its successor keeps, when that is as far as
    // its checkpoint (the copy has every acknowledged update; the checkpoint may be older).
    RT_ASSIGN_OR_RETURN(ps::FetchOutcome fetched, server->FetchShard());
    const std::string successor = "ps-" + std::to_string((c.index + 1) % plan.num_ps);
    if (fetched.restored) {
      std::cerr << who << ": restored its shard at step " << fetched.step << " from the copy on "
                << successor << "\n";
      ready.set_restored_from("the copy on " + successor);
      ready.set_restored_from_copy(true);
      ready.set_restored_step(fetched.step);
    } else {
      std::cerr << who << ": not restored from " << successor << ": " << fetched.why << "\n";
    }
  }
  sink.Send(ready);

  RT_RETURN_IF_ERROR(server->Serve());
  if (!server->core().finished()) {
    // Stopped by a signal while workers still need it: not a success, or a pod that is
    // evicted would read as Succeeded and never be replaced. Its state is saved first, so the
    // job started again continues from here.
    if (checkpointer != nullptr) {
      if (Status s = checkpointer->Stop(server->core(), checkpoints.stop_timeout); !s.ok()) {
        std::cerr << who << ": stopping without a checkpoint of the last steps: " << s.message()
                  << "\n";
      }
    }
    return Cancelled("parameter server stopped by a signal before every worker finished");
  }
  if (checkpointer != nullptr && !(restored.has_value() && restored->manifest.final)) {
    if (Status s = checkpointer->Finish(server->core(), checkpoints.final_timeout); !s.ok()) {
      return s.WithContext("training finished, but the final checkpoint was not written");
    }
  }

  const proto::ServerStats& stats = server->core().stats();
  std::cerr << "ps-" << c.index << ": finished; " << stats.ShortDebugString() << "\n";
  proto::Event done;
  done.set_type(proto::FINISHED);
  done.set_role("ps");
  done.set_index(static_cast<uint32_t>(c.index));
  *done.mutable_server_stats() = stats;
  sink.Send(done);
  return Status::Ok();
}

// Creates worker 0's output directory (before training, so a bad one fails at once) and
// returns it; "" when this process writes no model.
StatusOr<std::string> PrepareOutput(const job::PodContract& c, const job::TrainingJob& job,
                                    const WorkerOptions& options) {
  const std::string dir = OutputDirectoryFor(job, c);
  if (dir.empty()) {
    if (c.index == 0) {
      std::cerr << "worker-0: no spec.output: the model is not written out (its checkpoints hold "
                   "it: ringtrain export)\n";
    }
    return dir;
  }
  if (!options.write_model) {
    return FailedPrecondition("worker 0 has an output directory but no model writer");
  }
  // An object store's prefix needs no creating (the upload at the end makes the object).
  if (IsObjectLocation(dir)) return dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create the output directory " + dir + ": " + ec.message());
  return dir;
}

Status TrainWorker(const job::PodContract& c, const job::TrainingJob& job,
                   const WorkerOptions& worker_options, zmq::context_t& context,
                   transport::EventSink& sink,
                   std::shared_ptr<const auth::Credentials> credentials) {
  const job::TrainingJobSpec& spec = job.spec;
  if (job::IsSparseModel(spec.model.type)) {
    return TrainSparseWorker(c, job, worker_options, context, sink, std::move(credentials));
  }
  RT_ASSIGN_OR_RETURN(const std::string output_dir, PrepareOutput(c, job, worker_options));
  data::Dataset shard;  // idx: the worker's rows in memory
  std::optional<data::Dataset> test;
  // Text data is streamed through `storage` while the worker trains.
  std::optional<storage::Storage> storage;
  std::optional<data::TextShardOptions> text_options;
  data::TextShardPlan text_plan;
  std::optional<std::vector<std::vector<data::Piece>>> tasks_cut;  // dynamic sharding
  DatasetShape shape;
  int64_t global_rows = 0;
  // Feature-wise sharding: every worker reads every row, only its block of the columns.
  const bool by_feature = spec.dataset.sharding == job::Sharding::kFeature;
  std::optional<model::FeatureBlock> block;
  if (by_feature) block = model::FeatureBlockOf(spec.dataset.features, c.num_workers, c.index);
  if (IsTextFormat(spec.dataset)) {
    storage.emplace(StorageOptionsFor(spec.dataset, worker_options.storage));
    text_options = by_feature ? TextShardOptionsFor(spec.dataset, spec.dataset.train.uri, 1, 0)
                              : TextShardOptionsFor(spec.dataset, spec.dataset.train.uri,
                                                    c.num_workers, c.index);
    if (block.has_value()) {
      text_options->column_begin = block->begin;
      text_options->column_end = block->end;
    }
    // The counting pass: the rows of this worker's epoch (its steps) before it trains.
    RT_ASSIGN_OR_RETURN(text_plan, PlanWorkerShare(*storage, spec.dataset, *text_options,
                                                   "worker-" + std::to_string(c.index)));
    shape = ReadDatasetShape(spec).value();
    shape.train_rows = text_plan.records;
    global_rows = -1;
    if (spec.dataset.sharding == job::Sharding::kDynamic) {
      StatusOr<std::vector<std::vector<data::Piece>>> cut =
          data::CutTasks(*storage, *text_options, /*task_bytes=*/0);
      if (!cut.ok()) return cut.status().WithContext("spec.dataset.train");
      tasks_cut = std::move(*cut);
      StatusOr<int64_t> rows =
          DynamicRowsEstimate(*storage, *text_options, text_plan, *tasks_cut, c.num_workers);
      if (!rows.ok()) return rows.status().WithContext("spec.dataset.train");
      shape.train_rows = *rows;
    }
    if (c.index == 0 && spec.dataset.test.has_value()) {
      RT_ASSIGN_OR_RETURN(
          data::TextShard t,
          LoadTextShard(*storage, spec.dataset, spec.dataset.test->uri, 1, 0, "spec.dataset.test"));
      test = std::move(t.rows);
    }
  } else {
    RT_ASSIGN_OR_RETURN(data::Dataset train,
                        LoadDataFiles(spec.dataset.train, "spec.dataset.train"));
    global_rows = train.rows();
    shard = data::TakeRows(train, data::RowShard(global_rows, c.num_workers, c.index));
    train = data::Dataset();  // free the rest
    if (c.index == 0 && spec.dataset.test.has_value()) {
      RT_ASSIGN_OR_RETURN(test, LoadDataFiles(*spec.dataset.test, "spec.dataset.test"));
      if (test->cols() != shard.cols()) {
        return InvalidArgument("spec.dataset.test.images: " + spec.dataset.test->images +
                               " holds images of " + std::to_string(test->cols()) +
                               " pixels, but the training images " + spec.dataset.train.images +
                               " have " + std::to_string(shard.cols()) +
                               " (the model's input is sized from them)");
      }
    }
    shape.train_rows = global_rows;
    shape.input_dim = static_cast<int>(shard.cols());
  }
  RT_ASSIGN_OR_RETURN(JobPlan plan, MakeJobPlan(job, shape));
  RT_RETURN_IF_ERROR(CheckContract(c, plan));
  RT_RETURN_IF_ERROR(
      CheckHeadersFit(plan, std::all_of(c.ps_endpoints.begin(), c.ps_endpoints.end(), OnThisHost)));
  RT_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model, model::MakeModel(plan.model));
  RT_ASSIGN_OR_RETURN(optim::LearningRateSchedule schedule,
                      optim::LearningRateSchedule::Create(plan.schedule));

  worker::PsClientOptions client_options =
      ClientOptionsFor(plan, c.index, c.ps_endpoints, credentials);
  client_options.log = [index = c.index](const std::string& m) {
    std::cerr << "worker-" << index << ": " << m << "\n";
  };
  if (block.has_value()) {
    client_options.scope =
        worker::BlockGradient::Scope(*block, plan.model.input_dim, plan.model.num_classes);
  }
  RT_ASSIGN_OR_RETURN(std::unique_ptr<worker::PsClient> client,
                      worker::PsClient::Connect(context, std::move(client_options)));
  std::optional<worker::BlockGradient> block_gradient;
  if (block.has_value()) {
    block_gradient.emplace(worker::BlockGradientOptions{*block, plan.model.input_dim,
                                                        plan.model.num_classes, plan.margin_server,
                                                        /*owns_bias=*/c.index == 0},
                           client.get());
    std::cerr << "worker-" << c.index << ": feature-wise sharding: features [" << block->begin
              << ", " << block->end << ") of " << plan.model.input_dim
              << " of every row; the partial margins are summed on ps-" << plan.margin_server
              << "\n";
  }
  std::unique_ptr<data::BatchSource> batches;
  std::unique_ptr<worker::TaskReader> tasks;  // dynamic sharding; reads through `batches`
  if (text_options.has_value()) {
    data::TextStreamOptions stream;
    // Feature-wise, every worker reads the same rows in the same order: worker 0's.
    static_cast<data::StreamOptions&>(stream) =
        StreamOptionsFor(plan, spec.dataset, plan.train_rows, by_feature ? 0 : c.index);
    stream.shard = *text_options;
    stream.pieces = text_plan.pieces;
    const int64_t window = stream.window_rows;
    auto text = std::make_unique<data::TextStream>(&*storage, std::move(stream));
    std::cerr << "worker-" << c.index << ": " << text_plan.records << " rows, "
              << plan.steps_per_epoch << " steps per epoch, " << plan.table->partitions().size()
              << " partitions on " << c.num_ps << " servers\n"
              << "worker-" << c.index << ": streams " << text_plan.pieces.size() << " pieces ("
              << text_plan.bytes << " bytes) each epoch; shuffle window " << window
              << " rows; its rows take at most "
              << (text->memory_bytes() + (1 << 20) - 1) / (1 << 20) << " MiB\n";
    if (tasks_cut.has_value()) {
      std::cerr << "worker-" << c.index << ": dynamic sharding: " << tasks_cut->size()
                << " tasks an epoch, handed out by the data queue on ps-" << plan.queue_server
                << " (the rows and steps per epoch above are an estimate: the data's records "
                   "over the workers)\n";
      tasks =
          std::make_unique<TextTasks>(std::move(*tasks_cut), text.get(), plan.seed, plan.shuffle);
    }
    batches = std::move(text);
  } else {
    std::cerr << "worker-" << c.index << ": " << shard.rows() << " rows of " << global_rows << ", "
              << plan.steps_per_epoch << " steps per epoch, " << plan.table->partitions().size()
              << " partitions on " << c.num_ps << " servers\n";
    batches = std::make_unique<data::InMemoryBatches>(&shard, plan.batch_size, plan.seed,
                                                      plan.shuffle, c.index);
  }

  worker::TrainerOptions options = TrainerOptionsFor(plan, c.index);
  options.pull_final_model = !output_dir.empty();
  options.tasks = tasks.get();
  if (block_gradient.has_value()) options.block_gradient = &*block_gradient;
  // Worker 0 evaluates in the background with a model of its own.
  std::unique_ptr<model::Model> eval_model;
  if (test.has_value() && test->rows() > 0) {
    RT_ASSIGN_OR_RETURN(eval_model, model::MakeModel(plan.model));
    options.eval_model = eval_model.get();
  }
  // Progress is recorded for the operator, which pulls it from the status socket while the
  // worker runs and reads the final words from the termination log after it is gone.
  // Its rate times the workers that read other examples is the job's.
  worker::ProgressRecorder recorder(&sink, c.job_name, c.num_workers / job::WorkersPerExample(spec),
                                    job::GlobalBatchSize(spec));
  std::unique_ptr<transport::StatusServer> status_server;
  if (!c.status_bind.empty()) {
    RT_ASSIGN_OR_RETURN(status_server,
                        transport::StatusServer::Start(
                            context, c.status_bind, c.job_name,
                            [&recorder] { return recorder.Snapshot(); }, credentials.get()));
  }
  worker::Trainer trainer(options, model.get(), client.get(), batches.get(),
                          test.has_value() ? &*test : nullptr, &schedule, &recorder);
  RT_ASSIGN_OR_RETURN(worker::TrainerResult result, trainer.Run());
  if (result.already_done) {
    std::cerr << "worker-" << c.index << ": the servers say this worker finished at step "
              << result.steps << "; nothing to do\n";
    return Status::Ok();
  }
  if (result.start_step > 0) {
    std::cerr << "worker-" << c.index << ": continued from step " << result.start_step
              << " (the servers' clock for it)\n";
  }
  if (!c.termination_log.empty()) {
    WriteTerminationLog(c.termination_log,
                        job::FormatFinalProgress(worker::FinalProgressOf(recorder.Snapshot())));
  }
  if (result.skipped.count > 0) {
    std::cerr << "worker-" << c.index << ": skipped " << result.skipped.count
              << " bad records of spec.dataset.train (onBadRecord: skip) in each epoch; the "
                 "first: "
              << result.skipped.first << "\n";
  }
  std::cerr << "worker-" << c.index << ": finished " << result.steps << " steps, " << result.samples
            << " samples, last loss " << result.last_loss;
  if (result.test_accuracy >= 0) std::cerr << ", test accuracy " << result.test_accuracy;
  std::cerr << "\n";
  if (!output_dir.empty()) {
    storage::Storage output_storage(StorageOptionsFor(spec.dataset, worker_options.storage));
    StatusOr<std::string> path =
        WriteModelInto(output_dir, worker_options.write_model, plan, trainer.params(),
                       output_storage, JoinLocation(worker_options.staging_root, "model"));
    if (!path.ok()) {
      return path.status().WithContext("training finished, but the model was not written");
    }
    std::cerr << "worker-0: wrote the final model to " << *path << "\n";
  }
  return Status::Ok();
}

// The process's credentials and ZAP handler (declared before its sockets, destroyed after them:
// a CURVE server socket without a handler would admit anyone), and its event sink.
struct ProcessSecurity {
  std::shared_ptr<const auth::Credentials> credentials;
  std::unique_ptr<auth::ZapHandler> zap;
};

StatusOr<ProcessSecurity> SecureProcess(const job::PodContract& c, const job::TrainingJob& job,
                                        zmq::context_t& context) {
  ProcessSecurity p;
  RT_ASSIGN_OR_RETURN(p.credentials, LoadCredentials(c, job));
  const std::string who = job::ProcessName(c.role, c.index);
  RT_ASSIGN_OR_RETURN(p.zap,
                      StartZapHandler(context, p.credentials.get(), [who](const std::string& m) {
                        std::cerr << who << ": " << m << "\n";
                      }));
  return p;
}

// Runs one process of a job: its context, credentials and ZAP handler, its event sink, then
// `body`; a failure is reported (FAILED event, termination log) before it is returned.
Status RunProcess(const job::PodContract& contract, const job::TrainingJob& job,
                  const std::function<Status(zmq::context_t&, transport::EventSink&,
                                             std::shared_ptr<const auth::Credentials>)>& body) {
  zmq::context_t context(1);
  StatusOr<ProcessSecurity> security = SecureProcess(contract, job, context);
  if (!security.ok()) {
    if (!contract.termination_log.empty()) {
      WriteTerminationLog(contract.termination_log, security.status().ToString());
    }
    return security.status();
  }
  RT_ASSIGN_OR_RETURN(
      std::unique_ptr<transport::EventSink> sink,
      transport::MakeEventSink(context, contract.control_endpoint, security->credentials.get()));
  Status s = body(context, *sink, security->credentials);
  if (!s.ok()) {
    ReportFailure(*sink, contract, s);
    if (!contract.termination_log.empty()) {
      WriteTerminationLog(contract.termination_log, s.ToString());
    }
  }
  return s;
}

}  // namespace

Status RunParameterServer(const job::PodContract& contract, const job::TrainingJob& job,
                          const std::atomic<int>* interrupted,
                          const CheckpointOptions& checkpoints) {
  return RunProcess(contract, job,
                    [&](zmq::context_t& context, transport::EventSink& sink,
                        std::shared_ptr<const auth::Credentials> credentials) {
                      return ServeParameterServer(contract, job, interrupted, checkpoints, context,
                                                  sink, std::move(credentials));
                    });
}

Status RunWorker(const job::PodContract& contract, const job::TrainingJob& job,
                 const WorkerOptions& options) {
  return RunProcess(contract, job,
                    [&](zmq::context_t& context, transport::EventSink& sink,
                        std::shared_ptr<const auth::Credentials> credentials) {
                      return TrainWorker(contract, job, options, context, sink,
                                         std::move(credentials));
                    });
}

}  // namespace ringtrain::app

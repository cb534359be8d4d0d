// ringtrain: the one runtime binary.
//   ringtrain run JOB.yaml      train locally: parameter servers and workers as processes;
//                               the model goes to spec.output, --output DIR, or
//                               ./ringtrain-output/<job>/model.onnx
//   ringtrain export JOB.yaml   the model of the job's latest checkpoints, as ONNX
//   ringtrain eval JOB.yaml     the model of the job's latest checkpoints, on the test set
//   ringtrain validate JOB.yaml check a TrainingJob file
//   ringtrain generate ctr      write synthetic click-through data of a known model
//   ringtrain prepare movielens join MovieLens-100k into CSVs a click-through job reads
//   ringtrain crd               print the TrainingJob CRD (generated from the spec's field table)
//   ringtrain ps | worker       one process of a job; told what it is by RINGTRAIN_* variables
//                               (the pod contract, ringtrain/job/pod_contract.h)
//   ringtrain version
//
// Exit codes: 0 success, 1 failure, 2 invalid input (command line, spec, data files; also when
// a process of `run` exits 2), 130/143 interrupted.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "model_commands.h"
#include "ringtrain/app/checkpointing.h"
#include "ringtrain/app/header_check.h"
#include "ringtrain/app/job_plan.h"
#include "ringtrain/app/memory_check.h"
#include "ringtrain/app/object_checkpoints.h"
#include "ringtrain/app/output.h"
#include "ringtrain/app/roles.h"
#include "ringtrain/build_info.h"
#include "ringtrain/common/printable.h"
#include "ringtrain/data/ctr_generator.h"
#include "ringtrain/data/movielens.h"
#include "ringtrain/job/crd.h"
#include "ringtrain/job/memory_estimate.h"
#include "ringtrain/job/pod_contract.h"
#include "ringtrain/job/spec.h"
#include "ringtrain/job/yaml.h"
#include "ringtrain/launch/local_launcher.h"
#include "ringtrain/proto/library_log.h"
#include "ringtrain/storage/storage.h"

namespace {

// Where the text formats' data is read from: S3 credentials, region and endpoint from the
// environment, as AWS's tools read them (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_S3, ...).
ringtrain::storage::StorageOptions StorageFromEnvironment() {
  ringtrain::storage::StorageOptions o;
  o.s3 = ringtrain::storage::S3OptionsFromEnvironment(
      [](const char* name) -> const char* { return std::getenv(name); });
  return o;
}

// Where this process stages checkpoints on their way to and from an object store: its own
// directory under $TMPDIR (the store deletes what it stages).
std::string StagingRoot() {
  return (std::filesystem::temp_directory_path() /
          ("ringtrain-staging-" + std::to_string(getpid())))
      .string();
}

// Removes this process's staging directory (what is left there is empty directories) when the
// command returns.
struct StagingCleanup {
  ~StagingCleanup() {
    std::error_code ignored;
    std::filesystem::remove_all(StagingRoot(), ignored);
  }
};

constexpr int kExitFailure = 1;
constexpr int kExitInvalidInput = 2;

// Set by SIGINT/SIGTERM; the one global the process needs, read where loops can stop.
std::atomic<int> g_interrupted{0};

void OnSignal(int sig) { g_interrupted.store(sig); }

void InstallStopHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int ExitCodeFor(const ringtrain::Status& s) {
  switch (s.code()) {
    case ringtrain::StatusCode::kInvalidArgument:
    case ringtrain::StatusCode::kNotFound:
    case ringtrain::StatusCode::kDataLoss:
    case ringtrain::StatusCode::kUnimplemented:
    // Refused credentials (object storage, key files) stay refused however often a pod restarts.
    case ringtrain::StatusCode::kPermissionDenied:
      return kExitInvalidInput;
    case ringtrain::StatusCode::kCancelled:
      return 128 + (g_interrupted.load() != 0 ? g_interrupted.load() : SIGINT);
    case ringtrain::StatusCode::kOk:
    case ringtrain::StatusCode::kAlreadyExists:
    case ringtrain::StatusCode::kFailedPrecondition:
    case ringtrain::StatusCode::kOutOfRange:
    case ringtrain::StatusCode::kUnavailable:
    case ringtrain::StatusCode::kDeadlineExceeded:
    case ringtrain::StatusCode::kInternal:
    case ringtrain::StatusCode::kAborted:
      return kExitFailure;
  }
  return kExitFailure;
}

int Fail(const std::string& who, const ringtrain::Status& s) {
  std::cerr << who << ": error: " << ringtrain::Printable(s.message()) << "\n";
  return ExitCodeFor(s);
}

int Run(const std::string& file, const std::string& log_dir, const std::string& output_dir,
        bool no_progress, bool fresh, double replace_delay_seconds,
        ringtrain::launch::Transport transport, bool pin_workers) {
  const StagingCleanup cleanup;
  ringtrain::StatusOr<ringtrain::job::TrainingJob> job = ringtrain::job::LoadTrainingJobFile(file);
  if (!job.ok()) return Fail("ringtrain run", job.status());
  ringtrain::storage::Storage storage(
      ringtrain::app::StorageOptionsFor(job->spec.dataset, StorageFromEnvironment()));
  if (ringtrain::Status s = ringtrain::app::CheckDatasetFiles(job->spec.dataset, storage);
      !s.ok()) {
    std::cerr << "ringtrain run: error: " << ringtrain::Printable(file + ": " + s.message())
              << "\n";
    if (job->spec.dataset.train.images.find("fashion-mnist") != std::string::npos) {
      std::cerr << "  (the Fashion-MNIST example needs the Debian package "
                   "dataset-fashion-mnist: run `make deps`)\n";
    }
    if (!job->spec.volumes.empty()) {
      std::cerr << "  (spec.volumes are mounted in pods only: `ringtrain run` reads the dataset "
                   "paths on this machine)\n";
    }
    return ExitCodeFor(s);
  }
  // Every process on this machine: refused before any starts, with the numbers.
  ringtrain::StatusOr<ringtrain::app::DatasetShape> shape =
      ringtrain::app::ReadDatasetShape(job->spec);
  if (!shape.ok()) return Fail("ringtrain run", shape.status().WithContext(file));
  const ringtrain::job::MemoryEstimate estimate = ringtrain::app::EstimateFor(job->spec, *shape);
  if (ringtrain::Status s = ringtrain::job::CheckMemoryLimits(job->spec, estimate); !s.ok()) {
    return Fail("ringtrain run", s.WithContext(file));
  }
  if (ringtrain::Status s =
          ringtrain::app::CheckJobFits(job->spec, estimate, ringtrain::app::ReadMachineMemory());
      !s.ok()) {
    return Fail("ringtrain run", s.WithContext(file));
  }
  InstallStopHandlers();
  ringtrain::launch::LaunchOptions options;
  options.spec_path = std::filesystem::absolute(file).string();
  options.binary = std::filesystem::read_symlink("/proc/self/exe").string();
  options.log_dir = log_dir;
  // Worker 0 always writes the model: where asked, else where the spec says, else beside the
  // user (ringtrain-output/<job>), as an absolute path whatever the processes' directory.
  std::string output = output_dir;
  if (output.empty()) output = ringtrain::app::OutputDirectoryOf(*job);
  if (output.empty()) output = ringtrain::app::DefaultOutputDirectory(*job);
  options.output_dir = ringtrain::app::IsObjectLocation(output)
                           ? output
                           : std::filesystem::absolute(output).lexically_normal().string();
  options.storage = StorageFromEnvironment();
  options.staging_root = StagingRoot();
  options.interactive = !no_progress && isatty(STDOUT_FILENO) == 1;
  options.out = &std::cout;
  options.interrupted = &g_interrupted;
  options.fresh = fresh;
  options.replace_delay =
      std::chrono::milliseconds(static_cast<int64_t>(replace_delay_seconds * 1000));
  options.transport = transport;
  options.pin_workers = pin_workers;
  ringtrain::StatusOr<ringtrain::launch::RunSummary> summary =
      ringtrain::launch::RunLocal(*job, options);
  if (!summary.ok()) return Fail("ringtrain run", summary.status());
  const bool model_written =
      !summary->model_path.empty() && (ringtrain::app::IsObjectLocation(summary->model_path)
                                           ? storage.List(summary->model_path).ok()
                                           : std::filesystem::exists(summary->model_path));
  const bool sparse = ringtrain::job::IsSparseModel(job->spec.model.type);
  if (sparse && summary->checkpoint_dir.empty()) {
    std::cout << "ringtrain: the model is not written: a click-through model's rows are on the "
                 "servers, and it is exported from their final checkpoints (set "
                 "spec.checkpoint)\n";
  }
  if (!summary->checkpoint_dir.empty() && !model_written) {
    // A click-through model's rows are on the servers; and a dense model's worker 0 may have
    // died after its WORKER_DONE, before it wrote the model (its replacement finds the servers
    // done and has nothing to do): the servers' final checkpoints hold the same parameters.
    std::cout << (sparse ? "ringtrain: exporting the click-through model from the servers' final "
                           "checkpoints\n"
                         : "ringtrain: worker 0 did not write the model; exporting it from the "
                           "final checkpoints\n");
    ringtrain::cmd::ExportOptions fallback;
    fallback.output_file = ringtrain::app::ModelPathIn(options.output_dir);
    if (!ringtrain::app::IsObjectLocation(options.output_dir)) {
      std::error_code ignored;  // a directory that cannot be made fails the export, which says so
      std::filesystem::create_directories(options.output_dir, ignored);
    }
    fallback.storage = options.storage;
    fallback.staging_root = options.staging_root;
    if (ringtrain::Status s = ringtrain::cmd::ExportFromCheckpoints(*job, fallback, std::cout);
        s.ok()) {
      summary->model_path = fallback.output_file;
    } else {
      std::cerr << "ringtrain run: the model could not be exported: "
                << ringtrain::Printable(s.message()) << "\n";
    }
  }
  ringtrain::launch::PrintSummary(*summary, std::cout);
  return 0;
}

// `ringtrain export` and `eval`: `command` on the job in `file`.
int OnCheckpoints(
    const std::string& who, const std::string& file,
    const std::function<ringtrain::Status(const ringtrain::job::TrainingJob&)>& command) {
  const StagingCleanup cleanup;
  ringtrain::StatusOr<ringtrain::job::TrainingJob> job = ringtrain::job::LoadTrainingJobFile(file);
  if (!job.ok()) return Fail(who, job.status());
  if (ringtrain::Status s = command(*job); !s.ok()) return Fail(who, s);
  return 0;
}

// The memory each process needs, with the data's shape when the data can be read here.
int Validate(const std::string& file) {
  ringtrain::StatusOr<ringtrain::job::TrainingJob> job = ringtrain::job::LoadTrainingJobFile(file);
  if (!job.ok()) return Fail("ringtrain validate", job.status());
  std::cout << file << ": valid TrainingJob \"" << job->metadata.name << "\"\n";
  ringtrain::StatusOr<ringtrain::app::DatasetShape> shape =
      ringtrain::app::ReadDatasetShape(job->spec);
  if (!shape.ok()) {
    std::cout << "  memory: not estimated with the data ("
              << ringtrain::Printable(shape.status().message()) << ")\n";
    return 0;
  }
  const ringtrain::job::MemoryEstimate estimate = ringtrain::app::EstimateFor(job->spec, *shape);
  const ringtrain::app::MachineMemory machine = ringtrain::app::ReadMachineMemory();
  if (ringtrain::Status s = ringtrain::job::CheckMemoryLimits(job->spec, estimate); !s.ok()) {
    return Fail("ringtrain validate", s.WithContext(file));
  }
  for (const auto& [who, floor] : {std::pair{"each parameter server", &estimate.server},
                                   std::pair{"worker 0", &estimate.worker0}}) {
    if (ringtrain::Status s = ringtrain::app::CheckProcessFits(who, *floor, machine); !s.ok()) {
      return Fail("ringtrain validate", s.WithContext(file));
    }
  }
  std::cout << "  memory: at least " << ringtrain::job::FormatBytes(estimate.server.bytes)
            << " per parameter server, " << ringtrain::job::FormatBytes(estimate.worker0.bytes)
            << " per worker; " << ringtrain::job::FormatBytes(estimate.job_bytes)
            << " for the whole job on one machine (`ringtrain run`; this one has "
            << ringtrain::job::FormatBytes(machine.usable()) << ")\n";
  // Partitions too many for one message header (app/header_check.h), across hosts as a cluster
  // runs the job; a plan that cannot be made here is left to the processes, which say why.
  if (ringtrain::StatusOr<ringtrain::app::JobPlan> plan = ringtrain::app::MakeJobPlan(*job, *shape);
      plan.ok()) {
    if (ringtrain::Status s = ringtrain::app::CheckHeadersFit(*plan, /*shared_memory=*/false);
        !s.ok()) {
      return Fail("ringtrain validate", s.WithContext(file));
    }
    if (ringtrain::Status s = ringtrain::app::CheckHeadersFit(*plan, /*shared_memory=*/true);
        !s.ok()) {
      std::cout << "  on one host (`ringtrain run`): " << ringtrain::Printable(s.message()) << "\n";
    }
  }
  return 0;
}

// A pod (or a process of `run`) checks its own floor against its container's limit before it
// allocates anything. Data it cannot read is left to the role, which says why.
ringtrain::Status CheckThisProcessFits(const ringtrain::job::PodContract& c,
                                       const ringtrain::job::TrainingJob& job) {
  ringtrain::StatusOr<ringtrain::app::DatasetShape> shape =
      ringtrain::app::ReadDatasetShape(job.spec);
  if (!shape.ok()) return ringtrain::Status::Ok();
  const ringtrain::job::MemoryEstimate estimate = ringtrain::app::EstimateFor(job.spec, *shape);
  const bool server = c.role == ringtrain::job::Role::kParameterServer;
  const ringtrain::job::ProcessMemory& floor =
      server ? estimate.server : (c.index == 0 ? estimate.worker0 : estimate.worker);
  return ringtrain::app::CheckProcessFits(ringtrain::job::ProcessName(c.role, c.index), floor,
                                          ringtrain::app::ReadMachineMemory());
}

int RunRole(ringtrain::job::Role expected) {
  const StagingCleanup cleanup;
  const std::string who = std::string("ringtrain ") + ringtrain::job::Name(expected);
  ringtrain::StatusOr<ringtrain::job::PodContract> contract =
      ringtrain::job::FromEnv(ringtrain::job::ProcessEnvLookup());
  if (!contract.ok()) return Fail(who, contract.status());
  if (contract->role != expected) {
    return Fail(who, ringtrain::InvalidArgument(std::string("RINGTRAIN_ROLE is ") +
                                                ringtrain::job::Name(contract->role)));
  }
  ringtrain::StatusOr<ringtrain::job::TrainingJob> job =
      ringtrain::job::LoadTrainingJobFile(contract->spec_path);
  if (!job.ok()) return Fail(who, job.status());
  if (ringtrain::Status s = CheckThisProcessFits(*contract, *job); !s.ok()) return Fail(who, s);
  ringtrain::Status s;
  if (expected == ringtrain::job::Role::kParameterServer) {
    InstallStopHandlers();
    ringtrain::app::CheckpointOptions checkpoints = ringtrain::app::CheckpointOptionsFor(*job);
    ringtrain::app::UseObjectStorage(&checkpoints, *job, StorageFromEnvironment(), StagingRoot());
    s = ringtrain::app::RunParameterServer(*contract, *job, &g_interrupted, checkpoints);
  } else {
    ringtrain::app::WorkerOptions options;
    options.write_model = ringtrain::cmd::OnnxModelWriter(*job);
    options.storage = StorageFromEnvironment();
    options.staging_root = StagingRoot();
    s = ringtrain::app::RunWorker(*contract, *job, options);
  }
  if (!s.ok()) return Fail(who + "-" + std::to_string(contract->index), s);
  return 0;
}

// A server holds a connection per worker and per peer, and a hostile network may open more:
// the soft limit on open files (often 1024) is raised to the hard one, up to 65536.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t want = std::min<rlim_t>(limit.rlim_max, 65536);
  if (limit.rlim_cur >= want) return;
  limit.rlim_cur = want;
  (void)setrlimit(RLIMIT_NOFILE, &limit);  // best effort: the old limit still works
}

int GenerateCtrFile(const ringtrain::data::CtrGeneratorOptions& options, const std::string& out) {
  const ringtrain::StatusOr<ringtrain::data::CtrReport> report =
      ringtrain::data::GenerateCtr(options, out);
  if (!report.ok()) {
    std::cerr << "ringtrain generate ctr: " << report.status().message() << "\n";
    return report.status().code() == ringtrain::StatusCode::kInvalidArgument ? kExitInvalidInput
                                                                             : kExitFailure;
  }
  std::cout << "wrote " << report->rows << " rows to " << out << "\n"
            << "click rate             " << report->positive_rate << "\n"
            << "ground-truth log-loss  " << report->truth_log_loss << "\n"
            << "distinct keys          " << report->distinct_keys << "\n";
  return 0;
}

int PrepareMovieLensFiles(const std::string& from, const std::string& out) {
  const ringtrain::StatusOr<ringtrain::data::MovieLensReport> report =
      ringtrain::data::PrepareMovieLens(from, out);
  if (!report.ok()) {
    std::cerr << "ringtrain prepare movielens: " << report.status().message() << "\n";
    return report.status().code() == ringtrain::StatusCode::kInvalidArgument ||
                   report.status().code() == ringtrain::StatusCode::kNotFound
               ? kExitInvalidInput
               : kExitFailure;
  }
  std::cout << "wrote " << report->train_rows << " rows to " << out << "/train.csv and "
            << report->test_rows << " rows to " << out << "/test.csv\n"
            << "users " << report->users << ", items " << report->items
            << "; label 1 (rating >= 4): " << report->train_positive_rate << " of train, "
            << report->test_positive_rate << " of test\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ringtrain::proto::InstallLibraryLogHandler("ringtrain");
  RaiseOpenFileLimit();
  CLI::App app{"ringtrain: distributed training on parameter servers"};
  app.require_subcommand(1);
  std::string file;
  std::string log_dir;
  std::string output_dir;
  bool no_progress = false;
  bool fresh = false;
  bool no_pin = false;
  double replace_delay = 0;
  ringtrain::launch::Transport transport = ringtrain::launch::Transport::kIpc;
  ringtrain::cmd::ExportOptions export_options;
  ringtrain::cmd::EvalOptions eval_options;
  CLI::App* run =
      app.add_subcommand("run", "train a TrainingJob locally (PS and workers as processes)");
  run->add_option("file", file, "TrainingJob YAML file")->required();
  run->add_option("--log-dir", log_dir, "directory for per-process logs (default: a new temp dir)");
  run->add_flag("--no-progress", no_progress, "print progress lines instead of redrawing one");
  run->add_flag("--no-pin", no_pin,
                "leave the workers unpinned (by default each runs on one of the CPUs this "
                "process may use, in turn, when there are several)");
  run->add_flag("--fresh", fresh,
                "remove the job's checkpoints and train from step 0 (without it, a job with "
                "checkpoints continues from them)");
  run->add_option("--replace-delay", replace_delay,
                  "seconds to wait before replacing a failed parameter server; with replication "
                  "its successor serves its shard meanwhile, as in a cluster while a pod is "
                  "rescheduled (default 0: at once)")
      ->check(CLI::Range(0.0, 3600.0));
  run->add_option("--transport", transport,
                  "ipc (default): Unix sockets in a directory only you can enter, which stands in "
                  "for authentication at no cost; tcp: loopback TCP as in a cluster, with "
                  "CURVE (a key pair per process) unless spec.security.authentication is none")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ringtrain::launch::Transport>{
              {"ipc", ringtrain::launch::Transport::kIpc},
              {"tcp", ringtrain::launch::Transport::kTcp}},
          CLI::ignore_case));
  run->add_option("--output", output_dir,
                  "directory for the trained model, model.onnx (default: spec.output.path, "
                  "else ./ringtrain-output/<job>)");
  CLI::App* export_cmd =
      app.add_subcommand("export", "write the model of a job's latest checkpoints as ONNX");
  export_cmd->add_option("file", file, "TrainingJob YAML file")->required();
  export_cmd->add_option("--checkpoint", export_options.checkpoint_root,
                         "checkpoint directory (default: spec.checkpoint.path)");
  export_cmd->add_option("--output", export_options.output_file,
                         "the ONNX file (default: model.onnx in spec.output.path, else in "
                         "./ringtrain-output/<job>)");
  CLI::App* eval =
      app.add_subcommand("eval", "evaluate the model of a job's latest checkpoints on a test set");
  eval->add_option("file", file, "TrainingJob YAML file")->required();
  eval->add_option("--checkpoint", eval_options.checkpoint_root,
                   "checkpoint directory (default: spec.checkpoint.path)");
  eval->add_option("--test-images", eval_options.test.images,
                   "test images (default: spec.dataset.test.images)");
  eval->add_option("--test-labels", eval_options.test.labels,
                   "test labels (default: spec.dataset.test.labels)");
  CLI::App* generate = app.add_subcommand("generate", "write synthetic data");
  generate->require_subcommand(1);
  ringtrain::data::CtrGeneratorOptions ctr;
  std::string ctr_out;
  CLI::App* generate_ctr = generate->add_subcommand(
      "ctr",
      "click-through rows with Zipf-distributed categorical values and labels drawn from a "
      "known logistic model; prints its log-loss on the rows (the best a model can do)");
  generate_ctr->add_option("--out", ctr_out, "the file to write (.gz: gzip)")->required();
  generate_ctr->add_option("--rows", ctr.rows, "rows to write")->capture_default_str();
  generate_ctr->add_option("--fields", ctr.fields, "categorical fields per row (1-255)")
      ->capture_default_str();
  generate_ctr->add_option("--keys-per-field", ctr.keys_per_field, "each field's vocabulary")
      ->capture_default_str();
  generate_ctr->add_option("--zipf", ctr.zipf, "Zipf exponent of the values' frequencies")
      ->capture_default_str();
  generate_ctr
      ->add_option("--weight-scale", ctr.weight_scale,
                   "standard deviation of the ground-truth weights")
      ->capture_default_str();
  generate_ctr->add_option("--bias", ctr.bias, "the ground-truth bias")->capture_default_str();
  generate_ctr
      ->add_option("--weighted-values", ctr.weighted_values,
                   "only each field's N most frequent values carry a ground-truth weight, the "
                   "rarer ones 0 (0: all)")
      ->capture_default_str();
  generate_ctr->add_option("--seed", ctr.seed, "seed of the ground-truth weights (and the rows)")
      ->capture_default_str();
  generate_ctr->add_option("--row-seed", ctr.row_seed,
                           "seed of the rows, when not --seed (a test set of the same truth)");
  generate_ctr
      ->add_option("--format", ctr.format,
                   "libsvm (keys ascending, indexBase 0) or criteo (tab-separated, 26 fields)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ringtrain::data::CtrFormat>{
              {"libsvm", ringtrain::data::CtrFormat::kLibsvm},
              {"criteo", ringtrain::data::CtrFormat::kCriteo}},
          CLI::ignore_case));
  CLI::App* prepare = app.add_subcommand("prepare", "turn a public data set into training files");
  prepare->require_subcommand(1);
  std::string prepare_from;
  std::string prepare_out;
  CLI::App* prepare_movielens = prepare->add_subcommand(
      "movielens",
      "join MovieLens-100k's RecBole files (ml-100k.inter, .user, .item) into train.csv and "
      "test.csv for a click-through model (label: rating >= 4; fixed 80/20 split)");
  prepare_movielens->add_option("--from", prepare_from, "the directory holding ml-100k.*")
      ->required();
  prepare_movielens->add_option("--out", prepare_out, "the directory to write the CSVs to")
      ->required();
  CLI::App* validate = app.add_subcommand("validate", "check a TrainingJob file");
  validate->add_option("file", file, "TrainingJob YAML file")->required();
  CLI::App* crd = app.add_subcommand(
      "crd", "print the TrainingJob CustomResourceDefinition (kubectl apply -f - reads it)");
  CLI::App* ps = app.add_subcommand("ps", "run one parameter server (configured by RINGTRAIN_*)");
  CLI::App* worker = app.add_subcommand("worker", "run one worker (configured by RINGTRAIN_*)");
  CLI::App* version = app.add_subcommand("version", "print the version");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit prints the help, or CLI11's message for the misuse. Misuse is invalid input
    // (exit 2), not CLI11's own codes (106 a missing argument, 109 an unknown option, ...).
    return app.exit(e) == static_cast<int>(CLI::ExitCodes::Success) ? 0 : kExitInvalidInput;
  }

  if (run->parsed())
    return Run(file, log_dir, output_dir, no_progress, fresh, replace_delay, transport, !no_pin);
  if (export_cmd->parsed()) {
    return OnCheckpoints("ringtrain export", file, [&](const ringtrain::job::TrainingJob& job) {
      export_options.storage = StorageFromEnvironment();
      export_options.staging_root = StagingRoot();
      return ringtrain::cmd::ExportFromCheckpoints(job, export_options, std::cout);
    });
  }
  if (eval->parsed()) {
    return OnCheckpoints("ringtrain eval", file, [&](const ringtrain::job::TrainingJob& job) {
      eval_options.storage = StorageFromEnvironment();
      eval_options.staging_root = StagingRoot();
      return ringtrain::cmd::EvaluateCheckpoints(job, eval_options, std::cout);
    });
  }
  if (generate_ctr->parsed()) return GenerateCtrFile(ctr, ctr_out);
  if (prepare_movielens->parsed()) return PrepareMovieLensFiles(prepare_from, prepare_out);
  if (validate->parsed()) return Validate(file);
  if (crd->parsed()) {
    std::cout << ringtrain::job::CustomResourceDefinitionYaml();
    return 0;
  }
  if (ps->parsed()) return RunRole(ringtrain::job::Role::kParameterServer);
  if (worker->parsed()) return RunRole(ringtrain::job::Role::kWorker);
  if (version->parsed()) {
    std::cout << "ringtrain " << ringtrain::Version() << "\n";
    return 0;
  }
  return kExitFailure;
}

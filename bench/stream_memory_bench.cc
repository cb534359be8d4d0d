// Streaming memory benchmark (`make bench`; issue 13): a worker's memory stays bounded however
// large its data. Generates a CSV file of --gigabytes GiB (default 4) under /tmp, trains
// softmax on it for one epoch with the real binary (`ringtrain run`: 1 parameter server,
// --workers workers), samples every worker's VmRSS and VmHWM (/proc/<pid>/status) every 200 ms
// (every 5 ms in a run's first 3 s), and prints the machine, the data, the counting pass and
// training (timed by when the worker's log lines appear), the read rates, and per worker its
// peak RSS against
//   limit = baseline peak + the bound the worker states ("its rows take at most X MiB") + 64 MiB,
// where the baseline is the same job on a 1 MiB CSV (the binary, libraries, ZeroMQ, the model:
// what the process takes whatever the data). Exits non-zero when a run fails, the workers did
// not train on every row exactly once, or a worker's peak passes its limit. The temporary
// directory (data, logs) is removed at the end, also on failure or SIGINT/SIGTERM/SIGHUP.
// The file is read from the page cache (just written; the machine needs its size in free memory
// for that, else the rates are the disk's).
//   --gigabytes 0.2 (or --smoke): the quick mode (a few seconds).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ringtrain/build_info.h"
#include "ringtrain/job/pod_contract.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kClasses = 10;
constexpr int kBatch = 256;
constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kGiB = int64_t{1} << 30;
constexpr int64_t kAllowanceMiB = 64;
constexpr auto kSamplePeriod = std::chrono::milliseconds(200);
// The first seconds of a run (all of the baseline's) are sampled faster, so a short-lived
// process's peak is seen too.
constexpr auto kFastSamplePeriod = std::chrono::milliseconds(5);
constexpr double kFastSeconds = 3;

// A signal (SIGINT, SIGTERM, SIGHUP) stops the run and the generation; main then returns
// 128 + signal after removing the temporary directory.
volatile sig_atomic_t g_signal = 0;
volatile pid_t g_run_pid = 0;

void OnSignal(int signal) {
  g_signal = signal;
  if (g_run_pid > 0) kill(g_run_pid, SIGTERM);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double MiB(int64_t bytes) { return static_cast<double>(bytes) / kMiB; }

struct SplitMix {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

struct CsvFile {
  int64_t bytes = 0;
  int64_t rows = 0;
  double seconds = 0;
};

// Rows until the file holds at least `target` bytes. Features are x = m / 1000 with m uniform
// in [-4999, 4999] (printed as -4.999 .. 4.999); the label is argmax_c (W_c . m + noise_c)
// for a fixed integer W in [-3, 3] and uniform noise, so softmax regression can learn it.
bool WriteCsv(const std::string& path, int64_t target, int features, CsvFile* out,
              std::string* error) {
  const auto start = Clock::now();
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  SplitMix rng{20261205};
  std::vector<int> w(static_cast<size_t>(kClasses * features));
  for (int& v : w) v = static_cast<int>(rng.Next() % 7) - 3;
  std::vector<char> buffer(16 << 20);
  size_t used = 0;
  int64_t written = 0;
  auto flush = [&]() {
    size_t done = 0;
    while (done < used) {
      const ssize_t n = write(fd, buffer.data() + done, used - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        *error = "writing " + path + ": " + std::strerror(errno);
        return false;
      }
      done += static_cast<size_t>(n);
    }
    written += static_cast<int64_t>(used);
    used = 0;
    return true;
  };
  std::string header = "label";
  for (int j = 0; j < features; ++j) header += ",f" + std::to_string(j);
  header += '\n';
  std::memcpy(buffer.data(), header.data(), header.size());
  used = header.size();
  std::vector<int> m(static_cast<size_t>(features));
  std::vector<char> row(static_cast<size_t>(features) * 8 + 16);
  int64_t rows = 0;
  while (written + static_cast<int64_t>(used) < target) {
    if (g_signal != 0) {
      *error = "interrupted by signal " + std::to_string(g_signal);
      break;
    }
    char* p = row.data();
    for (int j = 0; j < features; j += 4) {
      uint64_t r = rng.Next();
      for (int k = j; k < std::min(j + 4, features); ++k, r >>= 16) {
        const int v = static_cast<int>((r & 0xffff) % 9999) - 4999;
        m[static_cast<size_t>(k)] = v;
        const int a = v < 0 ? -v : v;
        *p++ = ',';
        if (v < 0) *p++ = '-';
        *p++ = static_cast<char>('0' + a / 1000);
        *p++ = '.';
        *p++ = static_cast<char>('0' + a / 100 % 10);
        *p++ = static_cast<char>('0' + a / 10 % 10);
        *p++ = static_cast<char>('0' + a % 10);
      }
    }
    *p++ = '\n';
    int label = 0;
    int64_t best = INT64_MIN;
    for (int c = 0; c < kClasses; ++c) {
      const int* wc = w.data() + static_cast<size_t>(c * features);
      int64_t score = static_cast<int64_t>(rng.Next() % 80001) - 40000;
      for (int j = 0; j < features; ++j) score += wc[j] * m[static_cast<size_t>(j)];
      if (score > best) best = score, label = c;
    }
    const size_t length = static_cast<size_t>(p - row.data());
    if (used + length + 4 > buffer.size() && !flush()) break;
    char* q = buffer.data() + used;
    q = std::to_chars(q, q + 4, label).ptr;
    std::memcpy(q, row.data(), length);
    used = static_cast<size_t>(q - buffer.data()) + length;
    ++rows;
  }
  const bool ok = error->empty() && flush();
  if (close(fd) != 0 && ok) {
    *error = "closing " + path + ": " + std::strerror(errno);
    return false;
  }
  out->bytes = written;
  out->rows = rows;
  out->seconds = Seconds(Clock::now() - start);
  return ok;
}

std::string JobYaml(const std::string& name, const std::string& csv, int features, int workers) {
  std::ostringstream y;
  y << "apiVersion: ringtrain.io/v1alpha1\n"
       "kind: TrainingJob\n"
       "metadata: {name: "
    << name
    << "}\n"
       "spec:\n"
       "  model: {type: softmax}\n"
       "  dataset:\n"
       "    format: csv\n"
       "    features: "
    << features << "\n    classes: " << kClasses << "\n    train: {uri: '" << csv
    << "'}\n"
       "  training:\n"
       "    epochs: 1\n"
       "    batchSize: "
    << kBatch
    << "\n"
       "    optimizer: {type: sgd, learningRate: 0.1}\n"
       "  parameterServers: {replicas: 1}\n"
       "  workers: {replicas: "
    << workers << "}\n";
  return y.str();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// "Key:   123 kB" lines of /proc/<pid>/status, in KiB.
std::map<std::string, int64_t> ProcStatus(pid_t pid) {
  std::map<std::string, int64_t> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos || !line.ends_with(" kB")) continue;
    out[line.substr(0, colon)] = std::atoll(line.c_str() + colon + 1);
  }
  return out;
}

// Parent pid and CPU seconds (user + system) from /proc/<pid>/stat; false when gone.
bool ProcStat(pid_t pid, pid_t* ppid, double* cpu_seconds) {
  const std::string stat = ReadText("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  std::vector<std::string> f;
  while (in >> field && f.size() < 14) f.push_back(field);
  if (f.size() < 14) return false;
  *ppid = static_cast<pid_t>(std::atol(f[1].c_str()));
  *cpu_seconds = static_cast<double>(std::atoll(f[11].c_str()) + std::atoll(f[12].c_str())) /
                 static_cast<double>(sysconf(_SC_CLK_TCK));
  return true;
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return out;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    pid_t ppid = 0;
    double cpu = 0;
    if (ProcStat(pid, &ppid, &cpu) && ppid == parent) out.push_back(pid);
  }
  closedir(dir);
  return out;
}

// The role (argv[1]: "ps" or "worker", job::ProcessArgs) and index (RINGTRAIN_INDEX in the
// environment the launcher gives it) of a child of `ringtrain run`; false if not one yet.
bool Identify(pid_t pid, std::string* role, int* index) {
  const std::string cmdline = ReadText("/proc/" + std::to_string(pid) + "/cmdline");
  const size_t nul = cmdline.find('\0');
  if (nul == std::string::npos) return false;
  *role = cmdline.substr(nul + 1, cmdline.find('\0', nul + 1) - nul - 1);
  const std::string env = ReadText("/proc/" + std::to_string(pid) + "/environ");
  const std::string key = std::string(ringtrain::job::kEnvIndex) + "=";
  for (size_t at = 0; at < env.size();) {
    const size_t end = std::min(env.find('\0', at), env.size());
    if (env.compare(at, key.size(), key) == 0) {
      *index = std::atoi(env.c_str() + at + key.size());
      return *role == "ps" || *role == "worker";
    }
    at = end + 1;
  }
  return false;
}

struct Sample {
  double t;
  int64_t rss_kib;
  int64_t anon_kib;
};

struct Process {
  std::vector<pid_t> pids;  // incarnations, in order
  int64_t hwm_kib = 0;      // the largest VmHWM seen
  int64_t anon_peak_kib = 0;
  double cpu_seconds = 0;
  double first_seen = -1;
  std::vector<Sample> samples;
  // Workers: from the log, with the time each line appeared.
  size_t log_offset = 0;
  int64_t rows = -1, steps = -1, share_bytes = -1, bound_mib = -1, window = -1, trained = -1;
  double counted_at = -1, finished_at = -1, loss = NAN;
};

struct RunResult {
  bool ok = false;
  std::string failure;
  double wall = 0;
  int64_t tree_maxrss_kib = 0;  // wait4: the largest process of the run, exactly
  std::vector<Process> workers;
  std::vector<Process> servers;
};

void ReadLog(const std::string& path, double now, Process* w) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(w->log_offset));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written: read it whole next time
    w->log_offset += line.size() + 1;
    const size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const char* rest = line.c_str() + colon + 2;
    long long a = 0, b = 0;
    double loss = 0;
    if (std::sscanf(rest, "%lld rows, %lld steps per epoch", &a, &b) == 2) {
      w->rows = a, w->steps = b, w->counted_at = now;
    } else if (std::sscanf(rest, "streams %lld pieces (%lld bytes)", &a, &b) == 2) {
      w->share_bytes = b;
      if (const char* s = std::strstr(rest, "shuffle window ")) w->window = std::atoll(s + 15);
      if (const char* s = std::strstr(rest, "take at most ")) w->bound_mib = std::atoll(s + 13);
    } else if (std::sscanf(rest, "finished %lld steps, %lld samples, last loss %lf", &a, &b,
                           &loss) == 3) {
      w->finished_at = now, w->trained = b, w->loss = loss;
    }
  }
}

RunResult RunJob(const std::string& binary, const std::string& dir, const std::string& job,
                 int workers, double timeout) {
  RunResult r;
  r.workers.resize(static_cast<size_t>(workers));
  r.servers.resize(1);
  const std::string logs = dir + "/logs";
  const std::string run_log = dir + "/run.log";
  std::vector<std::string> args = {binary, "run",      "--no-progress", "--log-dir",
                                   logs,   "--output", dir + "/output", job};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log_fd = open(run_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    r.failure = "cannot create " + run_log;
    return r;
  }
  const auto start = Clock::now();
  const pid_t run = fork();
  if (run == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // the run (and so its processes) ends with the bench
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  g_run_pid = run;
  if (run < 0) {
    r.failure = std::string("fork: ") + std::strerror(errno);
    return r;
  }
  std::map<pid_t, Process*> known;
  int status = 0;
  rusage usage{};
  bool timed_out = false;
  for (auto tick = start;;) {
    const double now = Seconds(Clock::now() - start);
    for (const pid_t pid : ChildrenOf(run)) {
      if (known.count(pid) != 0) continue;
      std::string role;
      int index = -1;
      if (!Identify(pid, &role, &index)) continue;  // not exec'ed yet: next time
      auto& group = role == "ps" ? r.servers : r.workers;
      if (index < 0 || index >= static_cast<int>(group.size())) continue;
      Process& p = group[static_cast<size_t>(index)];
      p.pids.push_back(pid);
      if (p.first_seen < 0) p.first_seen = now;
      known[pid] = &p;
    }
    for (auto& [pid, p] : known) {
      const auto s = ProcStatus(pid);
      if (s.count("VmHWM") == 0) continue;  // gone (or a zombie)
      pid_t ppid = 0;
      double cpu = 0;
      if (ProcStat(pid, &ppid, &cpu)) p->cpu_seconds = cpu;
      p->hwm_kib = std::max(p->hwm_kib, s.at("VmHWM"));
      const int64_t anon = s.count("RssAnon") ? s.at("RssAnon") : 0;
      p->anon_peak_kib = std::max(p->anon_peak_kib, anon);
      p->samples.push_back({now, s.at("VmRSS"), anon});
    }
    for (int k = 0; k < workers; ++k) {
      ReadLog(logs + "/worker-" + std::to_string(k) + ".log", now,
              &r.workers[static_cast<size_t>(k)]);
    }
    if (wait4(run, &status, WNOHANG, &usage) == run) break;
    if (now > timeout || g_signal != 0) {
      timed_out = g_signal == 0;
      kill(run, SIGTERM);
      wait4(run, &status, 0, &usage);
      break;
    }
    // Never a burst of samples to catch up after a slow one.
    tick = std::max(tick + (now < kFastSeconds ? kFastSamplePeriod : kSamplePeriod),
                    Clock::now() + kFastSamplePeriod);
    std::this_thread::sleep_until(tick);
  }
  g_run_pid = 0;
  r.wall = Seconds(Clock::now() - start);
  r.tree_maxrss_kib = usage.ru_maxrss;
  for (int k = 0; k < workers; ++k) {  // the last lines
    ReadLog(logs + "/worker-" + std::to_string(k) + ".log", r.wall,
            &r.workers[static_cast<size_t>(k)]);
  }
  if (g_signal != 0) {
    r.failure = "interrupted by signal " + std::to_string(g_signal);
  } else if (timed_out) {
    r.failure = "ringtrain run did not finish within " + std::to_string(timeout) + " s";
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    r.failure = "ringtrain run failed (" +
                (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                   : "signal " + std::to_string(WTERMSIG(status))) +
                "); its output:\n" + ReadText(run_log);
  } else {
    r.ok = true;
  }
  for (int k = 0; k < workers && r.ok; ++k) {
    const Process& w = r.workers[static_cast<size_t>(k)];
    if (w.pids.empty() || w.bound_mib < 0 || w.finished_at < 0 || w.rows < 0) {
      r.ok = false;
      r.failure = "worker-" + std::to_string(k) +
                  (w.pids.empty() ? " was never seen running"
                                  : "'s log lacks the lines this benchmark reads (rows, bound, "
                                    "finished): " +
                                        logs + "/worker-" + std::to_string(k) + ".log");
    } else if (w.pids.size() > 1) {
      r.ok = false;
      r.failure = "worker-" + std::to_string(k) + " was replaced (it failed); see " + logs;
    } else if (w.trained != w.rows) {
      r.ok = false;
      r.failure = "worker-" + std::to_string(k) + " trained on " + std::to_string(w.trained) +
                  " samples in its epoch, but counted " + std::to_string(w.rows) + " rows";
    }
  }
  return r;
}

// RSS (MiB) at a fraction of the way from `from` to `to` (seconds since the run started).
double RssAt(const Process& p, double from, double to, double fraction) {
  const double t = from + (to - from) * fraction;
  const Sample* best = nullptr;
  for (const Sample& s : p.samples) {
    if (s.t < t) best = &s;  // at the line's own time the process may already be exiting
  }
  return best == nullptr ? 0 : static_cast<double>(best->rss_kib) / 1024;
}

void MachineLine() {
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    if (line.starts_with("model name")) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  int64_t mem_kib = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.starts_with("MemTotal:")) mem_kib = std::atoll(line.c_str() + 9);
  }
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("machine: %s, %ld cores, %.1f GiB memory; load average %.2f at start\n", cpu.c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), static_cast<double>(mem_kib) / (1 << 20), load[0]);
}

// Removes the temporary directory on every way out of main.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

int main(int argc, char** argv) {
  double gigabytes = 4;
  int features = 64;
  int workers = 2;
  double timeout = -1;
  std::string binary = RINGTRAIN_BINARY;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--gigabytes" && i + 1 < argc) {
      gigabytes = std::atof(argv[++i]);
    } else if (a == "--smoke") {
      gigabytes = 0.2;
    } else if (a == "--features" && i + 1 < argc) {
      features = std::atoi(argv[++i]);
    } else if (a == "--workers" && i + 1 < argc) {
      workers = std::atoi(argv[++i]);
    } else if (a == "--timeout" && i + 1 < argc) {
      timeout = std::atof(argv[++i]);
    } else if (a == "--binary" && i + 1 < argc) {
      binary = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: stream_memory_bench [--gigabytes G (GiB, default 4; 0.2: quick)] "
                   "[--features F] [--workers N] [--timeout S] [--binary PATH] [--smoke]\n");
      return 2;
    }
  }
  if (!(gigabytes > 0) || features < 1 || features > 100000 || workers < 1 || workers > 64) {
    std::fprintf(stderr,
                 "stream_memory_bench: --gigabytes > 0, --features 1..100000, "
                 "--workers 1..64\n");
    return 2;
  }
  const int64_t target = static_cast<int64_t>(gigabytes * kGiB);
  if (timeout <= 0) timeout = 600 + 300 * gigabytes;

  const fs::path tmp = "/tmp";
  std::error_code ec;
  const fs::space_info space = fs::space(tmp, ec);
  const int64_t need = target + kGiB + (1 << 20);  // the data, a 1 GiB margin, the baseline
  if (ec || static_cast<int64_t>(space.available) < need) {
    std::fprintf(stderr,
                 "stream_memory_bench: not enough disk space in %s: %.2f GiB needed (%.2f GiB "
                 "of data + 1 GiB margin), %.2f GiB available%s\n",
                 tmp.c_str(), static_cast<double>(need) / kGiB, static_cast<double>(target) / kGiB,
                 ec ? 0.0 : static_cast<double>(space.available) / kGiB,
                 ec ? (" (" + ec.message() + ")").c_str() : "");
    return 1;
  }
  char tmpl[] = "/tmp/ringtrain-stream-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::fprintf(stderr, "stream_memory_bench: mkdtemp: %s\n", std::strerror(errno));
    return 1;
  }
  TempDir temp{tmpl};
  const std::string csv = temp.path + "/train.csv";
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) signal(s, OnSignal);
  auto Failed = [] { return g_signal != 0 ? 128 + g_signal : 1; };

  std::printf("stream_memory_bench: ringtrain %s (%s)\n", ringtrain::Version(), binary.c_str());
  MachineLine();
  std::printf(
      "job: softmax, csv %d features, %d classes, 1 epoch, batch %d per worker, sync, sgd lr "
      "0.1, 1 parameter server, %d workers; default shuffle window\n",
      features, kClasses, kBatch, workers);

  // The baseline: what a worker takes whatever the data (binary, libraries, ZeroMQ, model).
  const std::string base_dir = temp.path + "/baseline";
  fs::create_directories(base_dir);
  CsvFile base_csv;
  std::string error;
  if (!WriteCsv(base_dir + "/train.csv", kMiB, features, &base_csv, &error)) {
    std::fprintf(stderr, "stream_memory_bench: %s\n", error.c_str());
    return Failed();
  }
  {
    std::ofstream(base_dir + "/job.yaml")
        << JobYaml("stream-memory-baseline", base_dir + "/train.csv", features, workers);
  }
  const RunResult base = RunJob(binary, base_dir, base_dir + "/job.yaml", workers, 300);
  if (!base.ok) {
    std::fprintf(stderr, "stream_memory_bench: FAILED: baseline run: %s\n", base.failure.c_str());
    return Failed();
  }

  CsvFile data;
  if (!WriteCsv(csv, target, features, &data, &error)) {
    std::fprintf(stderr, "stream_memory_bench: %s\n", error.c_str());
    return Failed();
  }
  std::printf(
      "data: %s, %.2f GiB (%lld bytes), %lld rows, ~%.0f bytes a row; written in %.1f s "
      "(%.0f MB/s)\n\n",
      csv.c_str(), static_cast<double>(data.bytes) / kGiB, static_cast<long long>(data.bytes),
      static_cast<long long>(data.rows),
      static_cast<double>(data.bytes) / static_cast<double>(data.rows), data.seconds,
      MiB(data.bytes) / data.seconds);
  const std::string big_dir = temp.path + "/run";
  fs::create_directories(big_dir);
  {
    std::ofstream(big_dir + "/job.yaml") << JobYaml("stream-memory-bench", csv, features, workers);
  }
  const RunResult big = RunJob(binary, big_dir, big_dir + "/job.yaml", workers, timeout);
  unlink(csv.c_str());  // as soon as it is no longer needed
  if (!big.ok) {
    std::fprintf(stderr, "stream_memory_bench: FAILED: %s\n", big.failure.c_str());
    return Failed();
  }

  // Times: a worker's counting pass is from its start to its "N rows, S steps" line, its
  // training from there to its "finished" line (each line timed when it appeared: +-0.2 s).
  std::printf(
      "run (MB = MiB; count s: from the worker's start to its row count, the counting pass; "
      "MB/s, rows/s: over its whole time; cpu s: its user + system time, both passes)\n");
  std::printf("  %-9s %10s %9s %9s %9s %9s %9s %9s %10s %8s %10s %9s\n", "worker", "rows",
              "share MB", "count s", "train s", "total s", "MB/s", "rows/s", "train MB/s", "cpu s",
              "MB/cpu s", "last loss");
  int64_t total_rows = 0;
  for (int k = 0; k < workers; ++k) {
    const Process& w = big.workers[static_cast<size_t>(k)];
    const double count = w.counted_at - w.first_seen;
    const double train = w.finished_at - w.counted_at;
    const double total = w.finished_at - w.first_seen;
    const double mb = MiB(w.share_bytes);
    total_rows += w.rows;
    std::printf(
        "  worker-%-2d %10lld %9.1f %9.1f %9.1f %9.1f %9.1f %9.0f %10.1f %8.1f %10.1f %9.4f\n", k,
        static_cast<long long>(w.rows), mb, count, train, total, mb / total,
        static_cast<double>(w.rows) / total, mb / train, w.cpu_seconds, mb / w.cpu_seconds, w.loss);
  }
  std::printf(
      "  %-9s %10lld %9.1f %9s %9s %9.1f %9.1f %9.0f %10s  (wall time of ringtrain run)\n\n", "all",
      static_cast<long long>(total_rows), MiB(data.bytes), "", "", big.wall,
      MiB(data.bytes) / big.wall, static_cast<double>(total_rows) / big.wall, "");
  if (total_rows != data.rows) {
    std::fprintf(stderr,
                 "stream_memory_bench: FAILED: the workers counted %lld rows, the file holds %lld "
                 "(every row must be read by exactly one worker)\n",
                 static_cast<long long>(total_rows), static_cast<long long>(data.rows));
    return 1;
  }

  std::printf(
      "memory per worker (MiB; peak = VmHWM, sampled every %lld ms, every %lld ms in a run's "
      "first %.0f s; limit = baseline peak + stated bound + %lld allowance; RSS x%%: VmRSS x%% "
      "of the way through training)\n",
      static_cast<long long>(kSamplePeriod.count()),
      static_cast<long long>(kFastSamplePeriod.count()), kFastSeconds,
      static_cast<long long>(kAllowanceMiB));
  std::printf("  %-9s %9s %7s %7s %7s %8s %9s %8s %8s %8s %8s %8s  %s\n", "worker", "baseline",
              "bound", "limit", "peak", "headroom", "anon peak", "RSS 10%", "RSS 50%", "RSS 90%",
              "RSS end", "window", "verdict");
  bool ok = true;
  for (int k = 0; k < workers; ++k) {
    const Process& w = big.workers[static_cast<size_t>(k)];
    const double baseline =
        static_cast<double>(base.workers[static_cast<size_t>(k)].hwm_kib) / 1024;
    const double limit = baseline + static_cast<double>(w.bound_mib + kAllowanceMiB);
    const double peak = static_cast<double>(w.hwm_kib) / 1024;
    const bool pass = peak <= limit;
    ok = ok && pass;
    std::printf(
        "  worker-%-2d %9.1f %7lld %7.1f %7.1f %8.1f %9.1f %8.1f %8.1f %8.1f %8.1f %8lld  %s\n", k,
        baseline, static_cast<long long>(w.bound_mib), limit, peak, limit - peak,
        static_cast<double>(w.anon_peak_kib) / 1024, RssAt(w, w.counted_at, w.finished_at, 0.1),
        RssAt(w, w.counted_at, w.finished_at, 0.5), RssAt(w, w.counted_at, w.finished_at, 0.9),
        RssAt(w, w.counted_at, w.finished_at, 1.0), static_cast<long long>(w.window),
        pass ? "ok" : "OVER");
  }
  std::printf("  %-9s %9.1f %7s %7s %7.1f  (not bounded here; for comparison)\n", "ps-0",
              static_cast<double>(base.servers[0].hwm_kib) / 1024, "", "",
              static_cast<double>(big.servers[0].hwm_kib) / 1024);
  std::printf(
      "  largest process of each run (wait4 ru_maxrss, exact): baseline %.1f MiB, this run %.1f "
      "MiB\n",
      static_cast<double>(base.tree_maxrss_kib) / 1024,
      static_cast<double>(big.tree_maxrss_kib) / 1024);
  std::printf("  baseline: %.2f MiB CSV (%lld rows), run in %.1f s; its workers stated %lld MiB\n",
              MiB(base_csv.bytes), static_cast<long long>(base_csv.rows), base.wall,
              static_cast<long long>(base.workers[0].bound_mib));
  if (!ok) {
    std::fprintf(stderr,
                 "stream_memory_bench: FAILED: a worker's peak RSS passed baseline peak + its "
                 "stated bound + %lld MiB (table above)\n",
                 static_cast<long long>(kAllowanceMiB));
    return Failed();
  }
  std::printf("\nstream_memory_bench: ok: every worker's peak RSS within its limit\n");
  return 0;
}

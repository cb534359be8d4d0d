// Reader benchmark (`make bench`): how fast a worker reads text training data — LibSVM and CSV,
// gzip and plain, from local files and from a real S3 server on loopback (SeaweedFS,
// tests/s3server) — through the path a worker takes (storage, gunzip, lines, records, dense
// rows: data::LoadTextShard with one worker). The floor, run side by side on the same gzip
// files: `zcat FILE > /dev/null`; the goal is at least 0.5x of its speed for gzip input.
// Numbers are MB/s of uncompressed text and records/s, medians of --trials runs.
//   --smoke: 2 MB files, one trial, no S3 (so `make test` proves the benchmark still runs).
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ringtrain/build_info.h"
#include "ringtrain/data/text_shard.h"
#include "ringtrain/storage/sigv4.h"
#include "ringtrain/storage/storage.h"
#include "s3_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using ringtrain::data::TextFormat;

constexpr int kLibsvmFeatures = 100;
constexpr int kCsvFeatures = 28;

std::string MakeLibsvm(size_t bytes, std::mt19937& rng) {
  std::string out;
  out.reserve(bytes + 1024);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  char buf[32];
  while (out.size() < bytes) {
    out += std::to_string(rng() % 10);
    int index = 0;
    for (int k = 0; k < 20; ++k) {
      index += 1 + static_cast<int>(rng() % 4);
      if (index > kLibsvmFeatures) break;
      std::snprintf(buf, sizeof buf, " %d:%.5g", index, static_cast<double>(value(rng)));
      out += buf;
    }
    out += '\n';
  }
  return out;
}

std::string MakeCsv(size_t bytes, std::mt19937& rng) {
  std::string out = "label";
  for (int j = 0; j < kCsvFeatures; ++j) out += ",f" + std::to_string(j);
  out += '\n';
  std::uniform_real_distribution<float> value(-10.0f, 10.0f);
  char buf[32];
  while (out.size() < bytes) {
    out += std::to_string(rng() % 10);
    for (int j = 0; j < kCsvFeatures; ++j) {
      std::snprintf(buf, sizeof buf, ",%.6g", static_cast<double>(value(rng)));
      out += buf;
    }
    out += '\n';
  }
  return out;
}

void WriteFile(const std::string& path, const std::string& bytes, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb6");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary) << bytes;
  }
}

std::string ReadAllFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Timing {
  double seconds = 0;
  int64_t records = 0;
};

Timing Read(ringtrain::storage::Storage& storage, const std::string& uri, TextFormat format) {
  ringtrain::data::TextShardOptions o;
  o.uri = uri;
  o.format = format;
  o.features = format == TextFormat::kLibsvm ? kLibsvmFeatures : kCsvFeatures;
  o.classes = 10;
  const auto start = Clock::now();
  auto shard = ringtrain::data::LoadTextShard(storage, o);
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!shard.ok()) {
    std::fprintf(stderr, "reader_bench: %s\n", shard.status().ToString().c_str());
    std::exit(1);
  }
  return {s, shard->rows.rows()};
}

double Zcat(const std::string& path) {
  const auto start = Clock::now();
  const int rc = std::system(("zcat '" + path + "' > /dev/null").c_str());
  if (rc != 0) {
    std::fprintf(stderr, "reader_bench: zcat %s failed\n", path.c_str());
    std::exit(1);
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool CreateBucket(const ringtrain::testing::S3Server& server, const std::string& bucket) {
  namespace st = ringtrain::storage;
  const std::string host = server.endpoint().substr(std::string("http://").size());
  st::HttpRequest r;
  r.method = "PUT";
  r.url = server.endpoint() + "/" + bucket;
  for (st::Header& h :
       st::SignV4({"PUT", host, "/" + bucket, {}, {}, std::string(st::kEmptySha256)},
                  {server.access_key(), server.secret_key(), ""}, server.region(), "s3",
                  std::chrono::system_clock::now())
           .headers) {
    r.headers.push_back(std::move(h));
  }
  st::HttpClient client{st::HttpOptions{}};
  auto answer = client.Send(r);
  return answer.ok() && answer->status == 200;
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  int trials = 3;
  size_t megabytes = 64;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") {
      smoke = true;
    } else if (a == "--trials" && i + 1 < argc) {
      trials = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--megabytes" && i + 1 < argc) {
      megabytes = static_cast<size_t>(std::max(1, std::atoi(argv[++i])));
    } else {
      std::fprintf(stderr, "usage: reader_bench [--trials N] [--megabytes N] [--smoke]\n");
      return 2;
    }
  }
  if (smoke) {
    trials = 1;
    megabytes = 2;
  }
  char tmpl[] = "/tmp/ringtrain-reader-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  std::mt19937 rng(1);
  const size_t bytes = megabytes << 20;
  struct Input {
    const char* name;
    TextFormat format;
    std::string text;
  };
  std::vector<Input> inputs = {{"LibSVM", TextFormat::kLibsvm, MakeLibsvm(bytes, rng)},
                               {"CSV", TextFormat::kCsv, MakeCsv(bytes, rng)}};
  for (const Input& in : inputs) {
    WriteFile(dir + "/" + in.name + ".txt", in.text, false);
    WriteFile(dir + "/" + in.name + ".gz", in.text, true);
  }
  std::printf(
      "reader: %zu MB of text per format, %d trial(s), medians; one worker's whole "
      "share (data::LoadTextShard: storage, gunzip, lines, records, dense rows)\n",
      megabytes, trials);
  std::printf("ringtrain %s; zlib %s; the floor: zcat\n\n", ringtrain::Version(), zlibVersion());

  ringtrain::storage::Storage local(ringtrain::storage::StorageOptions{});
  std::unique_ptr<ringtrain::testing::S3Server> server;
  std::unique_ptr<ringtrain::storage::Storage> s3;
  if (!smoke) {
    auto started = ringtrain::testing::S3Server::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "reader_bench: %s\n", started.status().ToString().c_str());
      return 1;
    }
    server = std::move(*started);
    if (!CreateBucket(*server, "bench")) {
      std::fprintf(stderr, "reader_bench: cannot create the bucket\n");
      return 1;
    }
    ringtrain::storage::StorageOptions o;
    o.s3.endpoint = server->endpoint();
    o.s3.region = server->region();
    o.s3.credentials = {server->access_key(), server->secret_key(), ""};
    s3 = std::make_unique<ringtrain::storage::Storage>(o);
    for (const Input& in : inputs) {
      for (const char* ext : {".txt", ".gz"}) {
        const std::string name = std::string(in.name) + ext;
        auto put = s3->Put("s3://bench/" + name, ReadAllFile(dir + "/" + name));
        if (!put.ok()) {
          std::fprintf(stderr, "reader_bench: %s\n", put.ToString().c_str());
          return 1;
        }
      }
    }
  }

  std::printf("  %-8s %-6s %-6s %10s %12s %12s %9s\n", "format", "file", "from", "MB/s",
              "records/s", "zcat MB/s", "vs zcat");
  for (const Input& in : inputs) {
    const double mb = static_cast<double>(in.text.size()) / (1 << 20);
    for (const bool gz : {true, false}) {
      const std::string name = std::string(in.name) + (gz ? ".gz" : ".txt");
      for (const bool remote : {false, true}) {
        if (remote && s3 == nullptr) continue;
        std::vector<double> seconds, floor;
        int64_t records = 0;
        for (int t = 0; t < trials; ++t) {
          const Timing r = remote ? Read(*s3, "s3://bench/" + name, in.format)
                                  : Read(local, dir + "/" + name, in.format);
          seconds.push_back(r.seconds);
          records = r.records;
          if (gz) floor.push_back(Zcat(dir + "/" + name));
        }
        const double s = Median(seconds);
        if (gz) {
          const double z = Median(floor);
          std::printf("  %-8s %-6s %-6s %10.1f %12.0f %12.1f %8.2fx\n", in.name, "gzip",
                      remote ? "s3" : "local", mb / s, static_cast<double>(records) / s, mb / z,
                      z / s);
        } else {
          std::printf("  %-8s %-6s %-6s %10.1f %12.0f %12s %9s\n", in.name, "plain",
                      remote ? "s3" : "local", mb / s, static_cast<double>(records) / s, "", "");
        }
      }
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}

#include "ringtrain/data/ctr_generator.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "ringtrain/common/hash.h"
#include "ringtrain/common/random.h"
#include "ringtrain/data/text_records.h"

namespace ringtrain::data {

namespace {

constexpr double kTwoPi = 6.283185307179586;

// A uniform double in (0, 1] from 53 random bits.
double Unit(uint64_t bits) { return (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53; }

double LogLossOf(double z, double y) {
  return std::log1p(std::exp(-std::fabs(z))) + std::max(z, 0.0) - y * z;
}

// Output to a plain or gzip file, buffered.
class Sink {
 public:
  static StatusOr<std::unique_ptr<Sink>> Open(const std::string& path) {
    auto sink = std::unique_ptr<Sink>(new Sink(path));
    const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    if (gz) {
      sink->gz_ = gzopen(path.c_str(), "wb1");  // fast: the data is made to be read back
      if (sink->gz_ == nullptr) return Unavailable("cannot write " + path);
    } else {
      sink->file_ = std::fopen(path.c_str(), "wb");
      if (sink->file_ == nullptr) return Unavailable("cannot write " + path);
    }
    return sink;
  }
  ~Sink() {
    if (gz_ != nullptr) gzclose(gz_);
    if (file_ != nullptr) std::fclose(file_);
  }
  Status Write(const std::string& bytes) {
    const bool ok = gz_ != nullptr
                        ? gzwrite(gz_, bytes.data(), static_cast<unsigned>(bytes.size())) ==
                              static_cast<int>(bytes.size())
                        : std::fwrite(bytes.data(), 1, bytes.size(), file_) == bytes.size();
    return ok ? Status::Ok() : Unavailable("writing " + path_ + " failed");
  }
  Status Close() {
    bool ok = true;
    if (gz_ != nullptr) ok = gzclose(gz_) == Z_OK;
    if (file_ != nullptr) ok = std::fclose(file_) == 0;
    gz_ = nullptr;
    file_ = nullptr;
    return ok ? Status::Ok() : Unavailable("closing " + path_ + " failed");
  }

 private:
  explicit Sink(std::string path) : path_(std::move(path)) {}
  std::string path_;
  gzFile gz_ = nullptr;
  FILE* file_ = nullptr;
};

}  // namespace

double TruthWeight(uint64_t seed, uint64_t key, double scale) {
  // Box-Muller from two uniforms drawn from (seed, key).
  const uint64_t a = Fmix64(key ^ Fmix64(seed ^ 0x5851f42d4c957f2dULL));
  const uint64_t b = Fmix64(a + 0x9e3779b97f4a7c15ULL);
  return scale * std::sqrt(-2.0 * std::log(Unit(a))) * std::cos(kTwoPi * Unit(b));
}

Status ValidateCtrOptions(const CtrGeneratorOptions& o) {
  if (o.rows < 1) return InvalidArgument("rows: must be >= 1");
  if (o.fields < 1 || o.fields > 255) return InvalidArgument("fields: must be in [1, 255]");
  if (o.keys_per_field < 1 || o.keys_per_field > (uint64_t{1} << 32)) {
    return InvalidArgument("keys per field: must be in [1, 2^32]");
  }
  if (!(o.zipf >= 0 && o.zipf <= 10)) return InvalidArgument("zipf: must be in [0, 10]");
  if (!(o.weight_scale > 0 && o.weight_scale <= 100)) {
    return InvalidArgument("weight scale: must be in (0, 100]");
  }
  if (!std::isfinite(o.bias) || std::fabs(o.bias) > 100) {
    return InvalidArgument("bias: must be in [-100, 100]");
  }
  if (o.format == CtrFormat::kCriteo && o.fields != kCriteoCategoricalColumns) {
    return InvalidArgument("fields: the criteo format has 26 categorical fields");
  }
  return Status::Ok();
}

StatusOr<CtrReport> GenerateCtr(const CtrGeneratorOptions& o, const std::string& path) {
  RT_RETURN_IF_ERROR(ValidateCtrOptions(o));
  RT_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, Sink::Open(path));
  // The Zipf distribution's cumulative weights over the ranks, shared by the fields.
  std::vector<double> cdf(o.keys_per_field);
  double total = 0;
  for (uint64_t r = 0; r < o.keys_per_field; ++r) {
    total += std::pow(static_cast<double>(r + 1), -o.zipf);
    cdf[r] = total;
  }
  std::vector<uint64_t> seen((o.keys_per_field * static_cast<uint64_t>(o.fields) + 63) / 64, 0);
  SplitMix64 rng(Fmix64(o.row_seed != 0 ? o.row_seed : o.seed));
  CtrReport report;
  report.rows = o.rows;
  double loss = 0;
  int64_t positives = 0;
  std::string out;
  std::vector<uint64_t> keys(static_cast<size_t>(o.fields));
  std::vector<std::string> values(static_cast<size_t>(o.fields));
  char hex[9];
  for (int64_t row = 0; row < o.rows; ++row) {
    double z = o.bias;
    for (int f = 0; f < o.fields; ++f) {
      const double u = Unit(rng.Next()) * total;
      const uint64_t rank =
          static_cast<uint64_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
      const uint64_t item = std::min(rank, o.keys_per_field - 1);
      const uint64_t bit = static_cast<uint64_t>(f) * o.keys_per_field + item;
      if ((seen[bit / 64] >> (bit % 64) & 1) == 0) {
        seen[bit / 64] |= uint64_t{1} << (bit % 64);
        ++report.distinct_keys;
      }
      // The item's value as Criteo writes them: 8 hex digits (of a hash, so that values carry
      // no order).
      std::snprintf(
          hex, sizeof(hex), "%08x",
          static_cast<unsigned>(Fmix64(o.seed ^ (uint64_t{static_cast<unsigned>(f)} << 40) ^
                                       (item * 0x9e3779b97f4a7c15ULL)) &
                                0xffffffffu));
      values[static_cast<size_t>(f)] = hex;
      keys[static_cast<size_t>(f)] = CriteoKey(f, hex);
      if (o.weighted_values == 0 || item < o.weighted_values) {
        z += TruthWeight(o.seed, keys[static_cast<size_t>(f)], o.weight_scale);
      }
    }
    const double p = 1.0 / (1.0 + std::exp(-z));
    const int label = Unit(rng.Next()) <= p ? 1 : 0;
    positives += label;
    loss += LogLossOf(z, label);
    out += label == 1 ? '1' : '0';
    if (o.format == CtrFormat::kLibsvm) {
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      for (const uint64_t k : keys) {
        out += ' ';
        out += std::to_string(k);
        out += ":1";
      }
      keys.resize(static_cast<size_t>(o.fields));
    } else {
      out.append(kCriteoIntegerColumns, '\t');
      for (const std::string& v : values) {
        out += '\t';
        out += v;
      }
    }
    out += '\n';
    if (out.size() >= (size_t{1} << 20)) {
      RT_RETURN_IF_ERROR(sink->Write(out));
      out.clear();
    }
  }
  RT_RETURN_IF_ERROR(sink->Write(out));
  RT_RETURN_IF_ERROR(sink->Close());
  report.positive_rate = static_cast<double>(positives) / static_cast<double>(o.rows);
  report.truth_log_loss = loss / static_cast<double>(o.rows);
  return report;
}

}  // namespace ringtrain::data

// A deterministic generator of click-through data with a known answer (`ringtrain generate
// ctr`): what the sparse models are checked against at any size.
//
// Each row has one categorical value per field (`fields` of them). Field f's value is drawn
// from a vocabulary of `keys_per_field` items with Zipf frequencies (item of rank r with
// probability proportional to 1 / (r + 1)^zipf, as the values of real categorical columns
// are: a few very common, a long tail seen once or twice) and written as 8 hex digits, as in
// Criteo's data. Its key is data::CriteoKey(f, hex) (text_records.h), so the same feature has
// the same key in both output formats. The label is drawn from the ground-truth logistic model
//   p(click) = sigmoid(bias + sum_f w(key_f)),  w(key) ~ Normal(0, weight_scale^2)
// with w a function of (seed, key) alone (TruthWeight). The report gives the ground-truth
// model's mean log-loss on the rows written: what a learned model's log-loss approaches from
// above as data grows.
//
// Formats: kLibsvm, "<label> <key>:1 ..." with keys ascending (read with indexBase 0); kCriteo,
// Criteo's tab-separated layout with the 13 integer columns empty (needs fields == 26). A path
// ending in ".gz" is written gzip-compressed.
//
// Everything is a function of the options: the same options write the same bytes.
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_DATA_CTR_GENERATOR_H_
#define RINGTRAIN_DATA_CTR_GENERATOR_H_

#include <cstdint>
#include <string>

#include "ringtrain/common/status.h"

namespace ringtrain::data {

enum class CtrFormat { kLibsvm, kCriteo };

struct CtrGeneratorOptions {
  int64_t rows = 100000;             // >= 1
  int fields = 26;                   // 1..255 (26 for kCriteo)
  uint64_t keys_per_field = 100000;  // 1..2^32: the vocabulary of each field
  double zipf = 1.05;                // >= 0; 0 = uniform
  double weight_scale = 0.5;         // > 0: the ground-truth weights' standard deviation
  double bias = -1.0;                // the ground-truth bias (sets the click rate)
  // Only the `weighted_values` most frequent values of each field carry a ground-truth weight;
  // the rarer ones weigh 0 (they carry no signal, as most of a hashed feature space does in
  // practice, so a model can come close to the truth without seeing each rare value often).
  // 0: every value is weighted.
  uint64_t weighted_values = 0;
  uint64_t seed = 1;      // of the ground-truth weights and the values' spelling
  uint64_t row_seed = 0;  // of the rows drawn; 0: `seed` (a test set: the same seed, another
                          // row seed)
  CtrFormat format = CtrFormat::kLibsvm;
};

struct CtrReport {
  int64_t rows = 0;
  double positive_rate = 0;    // labels 1 / rows
  double truth_log_loss = 0;   // the ground-truth model's mean log-loss on these rows
  uint64_t distinct_keys = 0;  // distinct (field, item) pairs that occur
};

// The ground-truth weight of `key`: Normal(0, scale^2) drawn from (seed, key) alone.
double TruthWeight(uint64_t seed, uint64_t key, double scale);

// InvalidArgument naming the option that is out of range.
Status ValidateCtrOptions(const CtrGeneratorOptions& options);

// Writes the rows to `path` (gzip when it ends in ".gz"). Errors: the options', and
// Unavailable naming the file when it cannot be written.
StatusOr<CtrReport> GenerateCtr(const CtrGeneratorOptions& options, const std::string& path);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_CTR_GENERATOR_H_

// Worker 0's final progress: the record it leaves in its termination log as it exits
// successfully, which Kubernetes copies into the pod's status and the operator turns into
// status.progress. One module writes and reads it, so the two sides cannot drift apart.
//
// The record is one JSON object:
//   {"step":S,"totalSteps":T,"epoch":E,"loss":L,"accuracy":A,"auc":U,"samplesPerSecond":R,
//    "globalBatchSize":B,"recordsSkipped":K}
// "accuracy" is present only once the test set was evaluated; "auc" (the test AUC of a
// click-through model, which has no accuracy) likewise; a non-finite loss, accuracy, AUC or
// rate is written as null (JSON has no NaN) and read back as absent (loss, accuracy, auc) or 0.
// "recordsSkipped" (bad records this worker passes over in an epoch, onBadRecord: skip) is
// written only when not 0. Every worker writes the record; the operator sums the counts.
//
// Thread-safety: values and pure functions.
#ifndef RINGTRAIN_JOB_FINAL_PROGRESS_H_
#define RINGTRAIN_JOB_FINAL_PROGRESS_H_

#include <cstdint>
#include <optional>
#include <string>

namespace ringtrain::job {

struct FinalProgress {
  int64_t step = 0;
  int64_t total_steps = 0;
  int epoch = 0;
  std::optional<double> loss;      // absent: none yet, or not finite
  std::optional<double> accuracy;  // test accuracy of the last evaluation; absent: none
  std::optional<double> auc;       // test AUC of the last evaluation (sparse models); absent: none
  double samples_per_second = 0;
  int64_t global_batch_size = 0;
  int64_t records_skipped = 0;

  bool operator==(const FinalProgress&) const = default;
};

// The record's text. Numbers are printed with 6 significant digits.
std::string FormatFinalProgress(const FinalProgress& progress);

// Reads a record back; nullopt when `text` is not one (a process's error message, say, which
// is what a failed process leaves instead). Fields of the wrong type read as absent or 0.
std::optional<FinalProgress> ParseFinalProgress(const std::string& text);

}  // namespace ringtrain::job

#endif  // RINGTRAIN_JOB_FINAL_PROGRESS_H_

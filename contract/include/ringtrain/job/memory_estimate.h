// What each process of a job needs in memory, estimated before anything is allocated, so that
// a job that cannot fit is refused with the numbers (instead of every server dying of
// std::bad_alloc a minute in).
//
// The estimate is a floor, not a forecast: it counts what the job certainly holds and leaves
// out what varies (allocator slack, ZeroMQ queues, the ring's uneven placement), so a job it
// refuses cannot run, and one it passes may still need more.
//   parameter server  its fair share of the parameters (P / servers) times: the parameters,
//                     the optimizer's state (momentum/Nesterov 1 value each, Adagrad 1, Adam 2;
//                     none when a codec moves momentum to the workers), the round's gradient
//                     sum (sync), one push being applied, the copy it keeps of its
//                     predecessor's shard (replication), the snapshot a checkpoint writes;
//                     plus a fixed base of 32 MiB (code, libraries, sockets)
//   worker            the parameters, the gradient, one encoded push, the codec's residual
//                     (error feedback) and local momentum (a codec with momentum), the
//                     activations of a batch (forward and backward); the training set while it
//                     is loaded (a byte and a float per pixel, then its shard as floats); worker
//                     0 also the test set; for libsvm and csv, which are streamed, instead the
//                     rows the stream holds (StreamedRows: its shuffle window, the blocks read
//                     ahead and a batch); plus the same base
// P comes from the model and the data's input dimension and classes. When the data's shape is
// unknown (the operator, which never reads data), the layers that depend on it count as empty,
// which keeps the estimate a floor.
//
// Thread-safety: pure functions.
#ifndef RINGTRAIN_JOB_MEMORY_ESTIMATE_H_
#define RINGTRAIN_JOB_MEMORY_ESTIMATE_H_

#include <cstdint>
#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/job/spec.h"

namespace ringtrain::job {

// The shape of the data, from the files' headers; 0 = not known.
struct DataShape {
  int64_t input_dim = 0;
  int64_t num_classes = 10;
  int64_t train_rows = 0;
  int64_t test_rows = 0;
};

// One process's floor, with what it is made of ("parameters 4.0 GiB, optimizer state 4.0 GiB").
struct ProcessMemory {
  uint64_t bytes = 0;
  std::string breakdown;
};

struct MemoryEstimate {
  uint64_t parameters = 0;  // of the whole model (a floor when the data's shape is unknown)
  ProcessMemory server;     // each parameter server
  ProcessMemory worker;     // each worker but worker 0
  ProcessMemory worker0;    // worker 0, which also evaluates on the test set
  // Every process of the job on one machine (`ringtrain run`).
  uint64_t job_bytes = 0;
};

MemoryEstimate EstimateMemory(const TrainingJobSpec& spec, const DataShape& shape);

// Streamed text data (libsvm, csv; data/text_stream.h): the rows of a worker's shuffle window,
// spec.dataset.shuffleBuffer or when 0 65536, or fewer so that they take at most 64 MiB; never
// fewer than a batch. One definition for the worker, `ringtrain run` and the operator.
int64_t ShuffleWindowRows(const DatasetSpec& dataset, int64_t batch_size);
// Rows per block the stream's reader hands over: 1024, or fewer so that a block takes at most
// 4 MiB (wide rows); and the blocks it reads ahead at most.
int64_t StreamBlockRows(const DatasetSpec& dataset);
inline constexpr int kStreamPrefetchBlocks = 8;

// "1.5 GiB", "512.0 MiB", "900 B".
std::string FormatBytes(uint64_t bytes);

// Fails (InvalidArgument, naming the field) when a role's floor exceeds its
// resources.limits.memory:
//   spec.parameterServers.resources.limits.memory: 1Gi is less than each parameter server needs:
//   at least 8.0 GiB (parameters 4.0 GiB, ...)
// Roles without a memory limit pass.
[[nodiscard]] Status CheckMemoryLimits(const TrainingJobSpec& spec, const MemoryEstimate& estimate);

}  // namespace ringtrain::job

#endif  // RINGTRAIN_JOB_MEMORY_ESTIMATE_H_

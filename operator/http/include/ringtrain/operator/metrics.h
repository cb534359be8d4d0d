// MetricsRegistry: the operator's Prometheus metrics (counters, gauges, histograms, and gauges
// computed at scrape time), rendered in the text exposition format 0.0.4.
//
//   MetricsRegistry registry;
//   Family<Counter>& reconciles = registry.AddCounterFamily(
//       "ringtrain_operator_reconcile_total", "Reconciles by result.", {"result"});
//   Counter& successes = reconciles.WithLabels({"success"});  // keep it: the lookup locks
//   successes.Inc();
//   registry.AddGaugeCallback("ringtrain_operator_jobs", "Jobs by phase.", {"phase"},
//                             [&cache] { return cache.JobsPerPhase(); });
//   std::string text = registry.Render();
//
// Ownership: the registry owns every metric and family. The references that the Add* methods
// and WithLabels return stay valid as long as the registry (metrics are never removed). The
// registry is neither copyable nor movable.
//
// Thread-safety: every method here may be called from any thread. Counter and Gauge updates
// are lock-free atomics; Histogram::Observe takes that histogram's own mutex; WithLabels
// takes its family's mutex (hot paths keep the returned reference); registration and Render
// take the registry's mutex only to copy the list of families, never while updating a value
// or calling a callback.
//
// Errors: names are fixed by the program, so misuse is a programmer error and aborts
// (RT_CHECK): an invalid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name
// ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", not "le" on a histogram), a name registered
// twice, a repeated label name, a wrong number of label values, a negative counter increment,
// histogram bounds that are not finite and strictly increasing.
#ifndef RINGTRAIN_OPERATOR_METRICS_H_
#define RINGTRAIN_OPERATOR_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ringtrain::op {

// Label values of one child of a family, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

// A monotonic count. Integer increments sum exactly up to 2^53.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // REQUIRES: delta >= 0 (not NaN).
  void Inc(double delta = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Inc(double delta = 1.0) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Dec(double delta = 1.0) { value_.fetch_sub(delta, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets, plus their sum and count (a duration metric:
// observe seconds). Renders as <name>_bucket{le="..."}, <name>_sum and <name>_count.
class Histogram {
 public:
  struct Snapshot {
    std::vector<double> upper_bounds;         // without the implicit +Inf
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };

  // REQUIRES: `upper_bounds` finite and strictly increasing (may be empty: only +Inf).
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // A value lands in the first bucket whose bound is >= value.
  void Observe(double value);
  // A consistent view: count equals the +Inf bucket.
  Snapshot Collect() const;

 private:
  const std::vector<double> upper_bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // GUARDED_BY(mu_): per bucket, not cumulative; last is +Inf
  double sum_ = 0;                // GUARDED_BY(mu_)
};

// Bounds in seconds for request and reconcile durations: 5 ms to 10 s.
std::vector<double> DefaultDurationBuckets();

// The children of one metric name, one per combination of label values, created at zero on
// first use. Metric is Counter, Gauge or Histogram.
template <typename Metric>
class Family {
 public:
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // REQUIRES: values.size() == label_names().size(). Any string is a valid label value.
  Metric& WithLabels(const LabelValues& values);
  const std::vector<std::string>& label_names() const { return label_names_; }

  // The children, ordered by label values.
  std::vector<std::pair<LabelValues, const Metric*>> Children() const;

 private:
  friend class MetricsRegistry;
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<Metric>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mu_;
  std::map<LabelValues, std::unique_ptr<Metric>> children_;  // GUARDED_BY(mu_)
};

// What a callback metric returns at scrape time: one value per combination of label values.
// (Counter callbacks use the same types.)
using GaugeSamples = std::vector<std::pair<LabelValues, double>>;
using GaugeCallback = std::function<GaugeSamples()>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Unlabeled metrics (rendered from registration on, at 0).
  Counter& AddCounter(const std::string& name, const std::string& help);
  Gauge& AddGauge(const std::string& name, const std::string& help);
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> upper_bounds);

  // Labeled families (only # HELP and # TYPE are rendered until a child exists).
  Family<Counter>& AddCounterFamily(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names);
  Family<Gauge>& AddGaugeFamily(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names);
  Family<Histogram>& AddHistogramFamily(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> upper_bounds);

  // A gauge whose samples `callback` computes at every Render, on the rendering thread and
  // outside the registry's locks (so it may use the registry). Samples render in the order
  // returned. The registry owns the callback; it must be thread-safe, and whatever it
  // captures must stay valid until the last Render.
  // REQUIRES: every returned sample has label_names.size() values (checked at Render).
  void AddGaugeCallback(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names, GaugeCallback callback);

  // A counter read from elsewhere at every Render (a count the program keeps anyway, e.g. in
  // atomics): as AddGaugeCallback, rendered with # TYPE counter. The callback must return
  // values that never decrease.
  void AddCounterCallback(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names, GaugeCallback callback);

  // Every metric, ordered by name, in the text exposition format 0.0.4
  // (content type "text/plain; version=0.0.4; charset=utf-8"). Exceptions from a gauge
  // callback propagate.
  std::string Render() const;

 private:
  struct Entry;
  // Validates the names (RT_CHECK) and returns an entry with no source set yet.
  static std::unique_ptr<Entry> NewEntry(const std::string& name, const std::string& help,
                                         const char* type,
                                         const std::vector<std::string>& label_names);
  // REQUIRES: the entry is complete; its name is not registered yet.
  void Insert(std::unique_ptr<Entry> entry);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;  // GUARDED_BY(mu_); by name
};

}  // namespace ringtrain::op

#endif  // RINGTRAIN_OPERATOR_METRICS_H_

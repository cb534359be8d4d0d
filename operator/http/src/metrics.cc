#include "ringtrain/operator/metrics.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "prometheus_text.h"
#include "ringtrain/common/check.h"

namespace ringtrain::op {

void Counter::Inc(double delta) {
  RT_CHECK(delta >= 0 && "counters only go up");
  value_.fetch_add(delta, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    RT_CHECK(std::isfinite(upper_bounds_[i]));
    RT_CHECK(i == 0 || upper_bounds_[i - 1] < upper_bounds_[i]);
  }
}

void Histogram::Observe(double value) {
  // NaN compares false with every bound and lands in +Inf, as in client_golang.
  const size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[bucket];
  sum_ += value;
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (const uint64_t count : counts_) {
    total += count;
    snapshot.cumulative_counts.push_back(total);
  }
  snapshot.sum = sum_;
  snapshot.count = total;
  return snapshot;
}

std::vector<double> DefaultDurationBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <typename Metric>
Metric& Family<Metric>::WithLabels(const LabelValues& values) {
  RT_CHECK(values.size() == label_names_.size() && "wrong number of label values");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = children_.find(values);
  if (it == children_.end()) it = children_.emplace(values, make_()).first;
  return *it->second;
}

template <typename Metric>
std::vector<std::pair<LabelValues, const Metric*>> Family<Metric>::Children() const {
  std::vector<std::pair<LabelValues, const Metric*>> children;
  std::lock_guard<std::mutex> lock(mu_);
  children.reserve(children_.size());
  for (const auto& [values, metric] : children_) children.emplace_back(values, metric.get());
  return children;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// One registered name. Exactly one of the four sources is set, before the entry is inserted
// into the registry; all are immutable from then on (the families synchronize themselves).
struct MetricsRegistry::Entry {
  std::string name;
  std::string help;
  const char* type = "";
  std::vector<std::string> label_names;
  std::unique_ptr<Family<Counter>> counters;
  std::unique_ptr<Family<Gauge>> gauges;
  std::unique_ptr<Family<Histogram>> histograms;
  GaugeCallback callback;

  void Render(std::string& out) const;
};

namespace {

void RenderHistogram(const std::string& name, const std::vector<std::string>& label_names,
                     const LabelValues& values, const Histogram::Snapshot& s, std::string& out) {
  for (size_t i = 0; i < s.cumulative_counts.size(); ++i) {
    const std::string le =
        i < s.upper_bounds.size() ? prom::FormatValue(s.upper_bounds[i]) : "+Inf";
    out += name + "_bucket" + prom::FormatLabels(label_names, values, le) + ' ' +
           std::to_string(s.cumulative_counts[i]) + '\n';
  }
  const std::string labels = prom::FormatLabels(label_names, values);
  out += name + "_sum" + labels + ' ' + prom::FormatValue(s.sum) + '\n';
  out += name + "_count" + labels + ' ' + std::to_string(s.count) + '\n';
}

}  // namespace

void MetricsRegistry::Entry::Render(std::string& out) const {
  out += "# HELP " + name + ' ' + prom::EscapeHelp(help) + '\n';
  out += "# TYPE " + name + ' ' + type + '\n';
  const auto sample = [&](const LabelValues& values, double value) {
    out += name + prom::FormatLabels(label_names, values) + ' ' + prom::FormatValue(value) + '\n';
  };
  if (counters != nullptr) {
    for (const auto& [values, counter] : counters->Children()) sample(values, counter->Value());
  } else if (gauges != nullptr) {
    for (const auto& [values, gauge] : gauges->Children()) sample(values, gauge->Value());
  } else if (histograms != nullptr) {
    for (const auto& [values, histogram] : histograms->Children()) {
      RenderHistogram(name, label_names, values, histogram->Collect(), out);
    }
  } else {
    for (const auto& [values, value] : callback()) {
      RT_CHECK(values.size() == label_names.size() && "gauge callback: wrong number of labels");
      sample(values, value);
    }
  }
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

std::unique_ptr<MetricsRegistry::Entry> MetricsRegistry::NewEntry(
    const std::string& name, const std::string& help, const char* type,
    const std::vector<std::string>& label_names) {
  RT_CHECK(prom::IsValidMetricName(name) && "invalid metric name");
  std::set<std::string> seen;
  for (const std::string& label : label_names) {
    RT_CHECK(prom::IsValidLabelName(label) && "invalid label name");
    RT_CHECK(seen.insert(label).second && "label name repeated");
  }
  auto entry = std::make_unique<Entry>();
  entry->name = name;
  entry->help = help;
  entry->type = type;
  entry->label_names = label_names;
  return entry;
}

void MetricsRegistry::Insert(std::unique_ptr<Entry> entry) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = entry->name;
  const bool inserted = entries_.emplace(name, std::move(entry)).second;
  RT_CHECK(inserted && "metric name registered twice");
}

Counter& MetricsRegistry::AddCounter(const std::string& name, const std::string& help) {
  return AddCounterFamily(name, help, {}).WithLabels({});
}

Gauge& MetricsRegistry::AddGauge(const std::string& name, const std::string& help) {
  return AddGaugeFamily(name, help, {}).WithLabels({});
}

Histogram& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                         std::vector<double> upper_bounds) {
  return AddHistogramFamily(name, help, {}, std::move(upper_bounds)).WithLabels({});
}

Family<Counter>& MetricsRegistry::AddCounterFamily(const std::string& name, const std::string& help,
                                                   std::vector<std::string> label_names) {
  auto entry = NewEntry(name, help, "counter", label_names);
  entry->counters.reset(
      new Family<Counter>(std::move(label_names), [] { return std::make_unique<Counter>(); }));
  Family<Counter>& family = *entry->counters;
  Insert(std::move(entry));
  return family;
}

Family<Gauge>& MetricsRegistry::AddGaugeFamily(const std::string& name, const std::string& help,
                                               std::vector<std::string> label_names) {
  auto entry = NewEntry(name, help, "gauge", label_names);
  entry->gauges.reset(
      new Family<Gauge>(std::move(label_names), [] { return std::make_unique<Gauge>(); }));
  Family<Gauge>& family = *entry->gauges;
  Insert(std::move(entry));
  return family;
}

Family<Histogram>& MetricsRegistry::AddHistogramFamily(const std::string& name,
                                                       const std::string& help,
                                                       std::vector<std::string> label_names,
                                                       std::vector<double> upper_bounds) {
  for (const std::string& label : label_names) {
    RT_CHECK(label != "le" && "\"le\" is reserved on histograms");
  }
  const Histogram check_bounds(upper_bounds);  // aborts on bad bounds now, not at first use
  auto entry = NewEntry(name, help, "histogram", label_names);
  entry->histograms.reset(
      new Family<Histogram>(std::move(label_names), [upper_bounds = std::move(upper_bounds)] {
        return std::make_unique<Histogram>(upper_bounds);
      }));
  Family<Histogram>& family = *entry->histograms;
  Insert(std::move(entry));
  return family;
}

void MetricsRegistry::AddGaugeCallback(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names,
                                       GaugeCallback callback) {
  RT_CHECK(callback != nullptr);
  auto entry = NewEntry(name, help, "gauge", label_names);
  entry->callback = std::move(callback);
  Insert(std::move(entry));
}

void MetricsRegistry::AddCounterCallback(const std::string& name, const std::string& help,
                                         std::vector<std::string> label_names,
                                         GaugeCallback callback) {
  RT_CHECK(callback != nullptr);
  auto entry = NewEntry(name, help, "counter", label_names);
  entry->callback = std::move(callback);
  Insert(std::move(entry));
}

std::string MetricsRegistry::Render() const {
  std::vector<const Entry*> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, entry] : entries_) entries.push_back(entry.get());
  }
  std::string out;
  for (const Entry* entry : entries) entry->Render(out);
  return out;
}

}  // namespace ringtrain::op

#include "ringtrain/operator/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace ringtrain::op {
namespace {

TEST(MetricsRegistryTest, EmptyRegistryRendersNothing) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRegistryTest, UnlabeledCounterRendersFromRegistration) {
  MetricsRegistry registry;
  Counter& counter = registry.AddCounter("ringtrain_operator_restarts_total", "Restarts.");
  EXPECT_EQ(registry.Render(),
            "# HELP ringtrain_operator_restarts_total Restarts.\n"
            "# TYPE ringtrain_operator_restarts_total counter\n"
            "ringtrain_operator_restarts_total 0\n");
  counter.Inc();
  counter.Inc(2);
  EXPECT_EQ(counter.Value(), 3);
  EXPECT_EQ(registry.Render(),
            "# HELP ringtrain_operator_restarts_total Restarts.\n"
            "# TYPE ringtrain_operator_restarts_total counter\n"
            "ringtrain_operator_restarts_total 3\n");
}

TEST(MetricsRegistryTest, LabeledFamilyRendersChildrenInLabelOrder) {
  MetricsRegistry registry;
  Family<Counter>& reconciles = registry.AddCounterFamily("ringtrain_operator_reconcile_total",
                                                          "Reconciles by result.", {"result"});
  EXPECT_EQ(registry.Render(),
            "# HELP ringtrain_operator_reconcile_total Reconciles by result.\n"
            "# TYPE ringtrain_operator_reconcile_total counter\n");
  reconciles.WithLabels({"success"}).Inc();
  reconciles.WithLabels({"error"}).Inc(2);
  reconciles.WithLabels({"success"}).Inc();
  EXPECT_EQ(&reconciles.WithLabels({"success"}), &reconciles.WithLabels({"success"}));
  EXPECT_EQ(registry.Render(),
            "# HELP ringtrain_operator_reconcile_total Reconciles by result.\n"
            "# TYPE ringtrain_operator_reconcile_total counter\n"
            "ringtrain_operator_reconcile_total{result=\"error\"} 2\n"
            "ringtrain_operator_reconcile_total{result=\"success\"} 2\n");
}

TEST(MetricsRegistryTest, SeveralLabelsKeepRegistrationOrderOfNames) {
  MetricsRegistry registry;
  Family<Gauge>& pods = registry.AddGaugeFamily("pods", "Pods.", {"role", "namespace"});
  pods.WithLabels({"worker", "a"}).Set(4);
  pods.WithLabels({"server", "b"}).Set(1);
  EXPECT_EQ(registry.Render(),
            "# HELP pods Pods.\n"
            "# TYPE pods gauge\n"
            "pods{role=\"server\",namespace=\"b\"} 1\n"
            "pods{role=\"worker\",namespace=\"a\"} 4\n");
}

TEST(MetricsRegistryTest, MetricsRenderSortedByName) {
  MetricsRegistry registry;
  registry.AddGauge("zeta", "Z.").Set(1);
  registry.AddCounter("alpha_total", "A.").Inc();
  registry.AddGauge("mid", "M.").Set(2);
  EXPECT_EQ(registry.Render(),
            "# HELP alpha_total A.\n# TYPE alpha_total counter\nalpha_total 1\n"
            "# HELP mid M.\n# TYPE mid gauge\nmid 2\n"
            "# HELP zeta Z.\n# TYPE zeta gauge\nzeta 1\n");
}

TEST(MetricsRegistryTest, GaugeGoesUpAndDownAndFormatsValues) {
  MetricsRegistry registry;
  Family<Gauge>& g = registry.AddGaugeFamily("g", "G.", {"case"});
  Gauge& updown = g.WithLabels({"a_updown"});
  updown.Inc(5);
  updown.Dec();
  updown.Dec(6);
  g.WithLabels({"b_fraction"}).Set(0.25);
  g.WithLabels({"c_small"}).Set(1e-7);
  g.WithLabels({"d_large"}).Set(1e20);
  g.WithLabels({"e_nan"}).Set(std::numeric_limits<double>::quiet_NaN());
  g.WithLabels({"f_inf"}).Set(std::numeric_limits<double>::infinity());
  g.WithLabels({"g_neg_inf"}).Set(-std::numeric_limits<double>::infinity());
  g.WithLabels({"h_million"}).Set(1000000);
  EXPECT_EQ(updown.Value(), -2);
  EXPECT_EQ(registry.Render(),
            "# HELP g G.\n"
            "# TYPE g gauge\n"
            "g{case=\"a_updown\"} -2\n"
            "g{case=\"b_fraction\"} 0.25\n"
            "g{case=\"c_small\"} 1e-07\n"
            "g{case=\"d_large\"} 1e+20\n"
            "g{case=\"e_nan\"} NaN\n"
            "g{case=\"f_inf\"} +Inf\n"
            "g{case=\"g_neg_inf\"} -Inf\n"
            "g{case=\"h_million\"} 1000000\n");
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  Family<Counter>& c = registry.AddCounterFamily(
      "esc_total", "Help with \\ backslash\nand newline \"as is\".", {"v"});
  c.WithLabels({"back\\slash \"quoted\"\nnext line"}).Inc();
  c.WithLabels({""}).Inc();
  c.WithLabels({"utf-8 \xc3\xa9"}).Inc();
  EXPECT_EQ(registry.Render(),
            "# HELP esc_total Help with \\\\ backslash\\nand newline \"as is\".\n"
            "# TYPE esc_total counter\n"
            "esc_total{v=\"\"} 1\n"
            "esc_total{v=\"back\\\\slash \\\"quoted\\\"\\nnext line\"} 1\n"
            "esc_total{v=\"utf-8 \xc3\xa9\"} 1\n");
}

TEST(MetricsRegistryTest, HistogramRendersCumulativeBucketsSumAndCount) {
  MetricsRegistry registry;
  Histogram& h = registry.AddHistogram("reconcile_seconds", "Reconcile durations.", {0.25, 1, 2.5});
  h.Observe(0.125);
  h.Observe(0.25);  // on a bound: that bucket (le is inclusive)
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(registry.Render(),
            "# HELP reconcile_seconds Reconcile durations.\n"
            "# TYPE reconcile_seconds histogram\n"
            "reconcile_seconds_bucket{le=\"0.25\"} 2\n"
            "reconcile_seconds_bucket{le=\"1\"} 3\n"
            "reconcile_seconds_bucket{le=\"2.5\"} 3\n"
            "reconcile_seconds_bucket{le=\"+Inf\"} 4\n"
            "reconcile_seconds_sum 7.875\n"
            "reconcile_seconds_count 4\n");
  const Histogram::Snapshot s = h.Collect();
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.cumulative_counts, (std::vector<uint64_t>{2, 3, 3, 4}));
}

TEST(MetricsRegistryTest, LabeledHistogramPutsLeLast) {
  MetricsRegistry registry;
  Family<Histogram>& h = registry.AddHistogramFamily("req_seconds", "R.", {"path"}, {1});
  h.WithLabels({"/metrics"}).Observe(0.5);
  EXPECT_EQ(registry.Render(),
            "# HELP req_seconds R.\n"
            "# TYPE req_seconds histogram\n"
            "req_seconds_bucket{path=\"/metrics\",le=\"1\"} 1\n"
            "req_seconds_bucket{path=\"/metrics\",le=\"+Inf\"} 1\n"
            "req_seconds_sum{path=\"/metrics\"} 0.5\n"
            "req_seconds_count{path=\"/metrics\"} 1\n");
}

TEST(MetricsRegistryTest, DefaultDurationBucketsAreIncreasing) {
  const std::vector<double> b = DefaultDurationBuckets();
  ASSERT_FALSE(b.empty());
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  MetricsRegistry registry;
  registry.AddHistogram("d_seconds", "D.", b).Observe(0.3);
}

TEST(MetricsRegistryTest, GaugeCallbackIsEvaluatedAtEachRender) {
  MetricsRegistry registry;
  std::atomic<int> running{2};
  int calls = 0;
  registry.AddGaugeCallback("ringtrain_operator_jobs", "Jobs by phase.", {"phase"}, [&] {
    ++calls;
    return GaugeSamples{{{"Running"}, static_cast<double>(running.load())}, {{"Pending"}, 0}};
  });
  EXPECT_EQ(registry.Render(),
            "# HELP ringtrain_operator_jobs Jobs by phase.\n"
            "# TYPE ringtrain_operator_jobs gauge\n"
            "ringtrain_operator_jobs{phase=\"Running\"} 2\n"
            "ringtrain_operator_jobs{phase=\"Pending\"} 0\n");
  running = 5;
  EXPECT_EQ(registry.Render(),
            "# HELP ringtrain_operator_jobs Jobs by phase.\n"
            "# TYPE ringtrain_operator_jobs gauge\n"
            "ringtrain_operator_jobs{phase=\"Running\"} 5\n"
            "ringtrain_operator_jobs{phase=\"Pending\"} 0\n");
  EXPECT_EQ(calls, 2);
}

TEST(MetricsRegistryTest, CounterCallbackRendersAsCounter) {
  MetricsRegistry registry;
  uint64_t reconciles = 7;
  registry.AddCounterCallback("ringtrain_operator_reconciles_total", "Reconciles.", {"result"},
                              [&] {
                                return GaugeSamples{{{"success"}, static_cast<double>(reconciles)}};
                              });
  EXPECT_EQ(registry.Render(),
            "# HELP ringtrain_operator_reconciles_total Reconciles.\n"
            "# TYPE ringtrain_operator_reconciles_total counter\n"
            "ringtrain_operator_reconciles_total{result=\"success\"} 7\n");
}

TEST(MetricsRegistryTest, GaugeCallbackMayUseTheRegistry) {
  MetricsRegistry registry;
  bool registered = false;
  registry.AddGaugeCallback("cb", "CB.", {}, [&registry, &registered] {
    // Runs outside the registry's locks: registering from here does not deadlock.
    if (!registered) registry.AddCounter("late_total", "Late.").Inc();
    registered = true;
    return GaugeSamples{{{}, 1}};
  });
  EXPECT_EQ(registry.Render(), "# HELP cb CB.\n# TYPE cb gauge\ncb 1\n");
  EXPECT_EQ(registry.Render(),
            "# HELP cb CB.\n# TYPE cb gauge\ncb 1\n"
            "# HELP late_total Late.\n# TYPE late_total counter\nlate_total 1\n");
}

TEST(MetricsRegistryTest, ConcurrentUpdatesSumExactly) {
  MetricsRegistry registry;
  Counter& counter = registry.AddCounter("c_total", "C.");
  Family<Counter>& family = registry.AddCounterFamily("f_total", "F.", {"shard"});
  Gauge& gauge = registry.AddGauge("g", "G.");
  Histogram& histogram = registry.AddHistogram("h_seconds", "H.", {0.5});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::atomic<bool> stop{false};
  std::thread scraper([&] {
    while (!stop.load()) EXPECT_FALSE(registry.Render().empty());
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& shard = family.WithLabels({std::to_string(t % 2)});
      for (int i = 0; i < kPerThread; ++i) {
        counter.Inc();
        shard.Inc();
        gauge.Inc();
        if (i % 2 == 0) gauge.Dec();
        histogram.Observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  stop = true;
  scraper.join();
  constexpr double kTotal = double{kThreads} * kPerThread;
  EXPECT_EQ(counter.Value(), kTotal);
  EXPECT_EQ(family.WithLabels({"0"}).Value() + family.WithLabels({"1"}).Value(), kTotal);
  EXPECT_EQ(gauge.Value(), kTotal / 2);
  const Histogram::Snapshot s = histogram.Collect();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kTotal));
  EXPECT_EQ(s.cumulative_counts[0], static_cast<uint64_t>(kTotal / 2));
  EXPECT_EQ(s.sum, kTotal / 2 * 0.25 + kTotal / 2 * 1.0);
  EXPECT_NE(registry.Render().find("c_total 160000\n"), std::string::npos);
}

TEST(MetricsRegistryTest, ConcurrentWithLabelsCreatesOneChild) {
  MetricsRegistry registry;
  Family<Counter>& family = registry.AddCounterFamily("x_total", "X.", {"k"});
  std::vector<Counter*> seen(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      seen[t] = &family.WithLabels({"same"});
      seen[t]->Inc();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (Counter* c : seen) EXPECT_EQ(c, seen[0]);
  EXPECT_EQ(family.Children().size(), 1u);
  EXPECT_EQ(seen[0]->Value(), 8);
}

TEST(MetricsRegistryTest, ConcurrentRegistrationAndRender) {
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        registry.AddCounter("m_" + std::to_string(t) + "_" + std::to_string(i) + "_total", "M.")
            .Inc();
        EXPECT_FALSE(registry.Render().empty());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string text = registry.Render();
  EXPECT_NE(text.find("m_3_49_total 1\n"), std::string::npos);
}

// Programmer errors abort.
class MetricsRegistryDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MetricsRegistryDeathTest, InvalidMetricName) {
  MetricsRegistry registry;
  EXPECT_DEATH(registry.AddCounter("1starts_with_digit", "h"), "invalid metric name");
  EXPECT_DEATH(registry.AddCounter("has-dash", "h"), "invalid metric name");
  EXPECT_DEATH(registry.AddGauge("", "h"), "invalid metric name");
  registry.AddGauge("ok:with_colon_9", "h");  // valid
}

TEST_F(MetricsRegistryDeathTest, InvalidLabelName) {
  MetricsRegistry registry;
  EXPECT_DEATH(registry.AddCounterFamily("a_total", "h", {"__reserved"}), "invalid label name");
  EXPECT_DEATH(registry.AddCounterFamily("a_total", "h", {"has:colon"}), "invalid label name");
  EXPECT_DEATH(registry.AddCounterFamily("a_total", "h", {"x", "x"}), "label name repeated");
  EXPECT_DEATH(registry.AddHistogramFamily("h_seconds", "h", {"le"}, {1}), "reserved");
}

TEST_F(MetricsRegistryDeathTest, DuplicateName) {
  MetricsRegistry registry;
  registry.AddCounter("dup_total", "h");
  EXPECT_DEATH(registry.AddGauge("dup_total", "h"), "registered twice");
}

TEST_F(MetricsRegistryDeathTest, WrongNumberOfLabelValues) {
  MetricsRegistry registry;
  Family<Counter>& family = registry.AddCounterFamily("w_total", "h", {"a", "b"});
  EXPECT_DEATH(family.WithLabels({"only one"}), "wrong number of label values");
}

TEST_F(MetricsRegistryDeathTest, CallbackWithWrongNumberOfLabels) {
  MetricsRegistry registry;
  registry.AddGaugeCallback("cb", "h", {"a"}, [] { return GaugeSamples{{{}, 1}}; });
  EXPECT_DEATH(static_cast<void>(registry.Render()), "wrong number of labels");
}

TEST_F(MetricsRegistryDeathTest, NegativeCounterIncrement) {
  MetricsRegistry registry;
  Counter& counter = registry.AddCounter("n_total", "h");
  EXPECT_DEATH(counter.Inc(-1), "counters only go up");
  EXPECT_DEATH(counter.Inc(std::nan("")), "counters only go up");
}

TEST_F(MetricsRegistryDeathTest, BadHistogramBounds) {
  MetricsRegistry registry;
  EXPECT_DEATH(registry.AddHistogram("b_seconds", "h", {1, 1}), "invariant violated");
  EXPECT_DEATH(registry.AddHistogram("b_seconds", "h", {2, 1}), "invariant violated");
  EXPECT_DEATH(registry.AddHistogram("b_seconds", "h", {std::numeric_limits<double>::infinity()}),
               "invariant violated");
}

}  // namespace
}  // namespace ringtrain::op

#include "ringtrain/job/final_progress.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace ringtrain::job {

namespace {

// JSON has no NaN or infinity: a diverged loss is written as null.
nlohmann::json Number(double v) {
  if (!std::isfinite(v)) return nullptr;
  // 6 significant digits, as the record has always been written.
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return nlohmann::json::parse(buf);
}

template <typename T>
std::optional<T> Field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<T>();
}

}  // namespace

std::string FormatFinalProgress(const FinalProgress& p) {
  nlohmann::ordered_json j;
  j["step"] = p.step;
  j["totalSteps"] = p.total_steps;
  j["epoch"] = p.epoch;
  j["loss"] = p.loss ? Number(*p.loss) : nullptr;
  if (p.accuracy) j["accuracy"] = Number(*p.accuracy);
  if (p.auc) j["auc"] = Number(*p.auc);
  j["samplesPerSecond"] = Number(p.samples_per_second);
  j["globalBatchSize"] = p.global_batch_size;
  if (p.records_skipped != 0) j["recordsSkipped"] = p.records_skipped;
  return j.dump();
}

std::optional<FinalProgress> ParseFinalProgress(const std::string& text) {
  if (text.empty() || text.front() != '{') return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("step")) return std::nullopt;
  FinalProgress p;
  p.step = Field<int64_t>(j, "step").value_or(0);
  p.total_steps = Field<int64_t>(j, "totalSteps").value_or(0);
  p.epoch = Field<int>(j, "epoch").value_or(0);
  p.loss = Field<double>(j, "loss");
  p.accuracy = Field<double>(j, "accuracy");
  p.auc = Field<double>(j, "auc");
  p.samples_per_second = Field<double>(j, "samplesPerSecond").value_or(0);
  p.global_batch_size = Field<int64_t>(j, "globalBatchSize").value_or(0);
  p.records_skipped = Field<int64_t>(j, "recordsSkipped").value_or(0);
  return p;
}

}  // namespace ringtrain::job

#include "ringtrain/model/sparse_model.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "deep_fm.h"
#include "fm_terms.h"
#include "ringtrain/common/check.h"

namespace ringtrain::model {

namespace {

constexpr int kMaxEmbeddingSize = 1024;
constexpr int kMaxHiddenLayers = 16;
constexpr int kMaxLayerUnits = 65536;
constexpr int kMaxFields = 255;

float Sigmoid(float z) {
  return z >= 0 ? 1.0f / (1.0f + std::exp(-z)) : std::exp(z) / (1.0f + std::exp(z));
}

void CheckShapes(const SparseModel& m, std::span<const float> rows, const data::SparseBatch& batch,
                 const BatchKeys& keys) {
  RT_CHECK(rows.size() == keys.keys.size() * static_cast<size_t>(m.row_dim()));
  RT_CHECK(keys.slot.size() == batch.keys.size());
  RT_CHECK(batch.offsets.size() == batch.labels.size() + 1);
}

// The models share this: the dense part is one bias, and the logit of a row is the bias plus
// a function of its entries' rows (RowLogit), whose gradient RowBackward adds to row_grad.
class BiasedModel : public SparseModel {
 public:
  BiasedModel() : tensors_{TensorInfo{"bias", {1}, 0, 1}} {}
  const std::vector<TensorInfo>& dense_tensors() const override { return tensors_; }
  int64_t num_dense() const override { return 1; }
  void InitializeDense(uint64_t /*seed*/, float* dense) const override { dense[0] = 0.0f; }

  void Logits(const float* dense, std::span<const float> rows, const data::SparseBatch& batch,
              const BatchKeys& keys, std::vector<float>* logits) override {
    CheckShapes(*this, rows, batch, keys);
    logits->resize(static_cast<size_t>(batch.rows()));
    for (int64_t r = 0; r < batch.rows(); ++r) {
      (*logits)[static_cast<size_t>(r)] = dense[0] + RowLogit(rows, batch, keys, r);
    }
  }

  double LossAndGradient(const float* dense, std::span<const float> rows,
                         const data::SparseBatch& batch, const BatchKeys& keys, float* dense_grad,
                         std::span<float> row_grad) override {
    CheckShapes(*this, rows, batch, keys);
    RT_CHECK(row_grad.size() == rows.size());
    std::fill(row_grad.begin(), row_grad.end(), 0.0f);
    dense_grad[0] = 0.0f;
    const int64_t n = batch.rows();
    if (n == 0) return 0.0;
    const float inv = 1.0f / static_cast<float>(n);
    double loss = 0.0;
    for (int64_t r = 0; r < n; ++r) {
      const float z = dense[0] + RowLogit(rows, batch, keys, r);
      const float y = batch.labels[static_cast<size_t>(r)];
      loss += LogLoss(z, y);
      const float dz = (Sigmoid(z) - y) * inv;  // d(mean loss)/dz
      dense_grad[0] += dz;
      RowBackward(rows, batch, keys, r, dz, row_grad);
    }
    return loss / static_cast<double>(n);
  }

 protected:
  virtual float RowLogit(std::span<const float> rows, const data::SparseBatch& batch,
                         const BatchKeys& keys, int64_t r) = 0;
  virtual void RowBackward(std::span<const float> rows, const data::SparseBatch& batch,
                           const BatchKeys& keys, int64_t r, float dz,
                           std::span<float> row_grad) = 0;

 private:
  std::vector<TensorInfo> tensors_;
};

class LogisticModel final : public BiasedModel {
 public:
  int row_dim() const override { return 1; }

 protected:
  float RowLogit(std::span<const float> rows, const data::SparseBatch& batch, const BatchKeys& keys,
                 int64_t r) override {
    float z = 0.0f;
    for (int64_t e = batch.offsets[static_cast<size_t>(r)];
         e < batch.offsets[static_cast<size_t>(r) + 1]; ++e) {
      z += rows[keys.slot[static_cast<size_t>(e)]] * batch.values[static_cast<size_t>(e)];
    }
    return z;
  }
  void RowBackward(std::span<const float> /*rows*/, const data::SparseBatch& batch,
                   const BatchKeys& keys, int64_t r, float dz, std::span<float> row_grad) override {
    for (int64_t e = batch.offsets[static_cast<size_t>(r)];
         e < batch.offsets[static_cast<size_t>(r) + 1]; ++e) {
      row_grad[keys.slot[static_cast<size_t>(e)]] += dz * batch.values[static_cast<size_t>(e)];
    }
  }
};

class FmModel final : public BiasedModel {
 public:
  explicit FmModel(int k) : k_(k), sums_(static_cast<size_t>(k)) {}
  int row_dim() const override { return 1 + k_; }

 protected:
  float RowLogit(std::span<const float> rows, const data::SparseBatch& batch, const BatchKeys& keys,
                 int64_t r) override {
    return internal::FmRowTerm(k_, rows, batch, keys, r, sums_.data());
  }

  // sums_ still holds the row's s_f from RowLogit (LossAndGradient calls it just before).
  void RowBackward(std::span<const float> rows, const data::SparseBatch& batch,
                   const BatchKeys& keys, int64_t r, float dz, std::span<float> row_grad) override {
    internal::FmRowGradient(k_, rows, batch, keys, r, dz, sums_.data(), row_grad);
  }

 private:
  const int k_;
  std::vector<float> sums_;  // scratch: s_f of the row in progress
};

}  // namespace

void IndexKeys(const data::SparseBatch& batch, BatchKeys* out) {
  RT_CHECK(out != nullptr);
  out->keys.assign(batch.keys.begin(), batch.keys.end());
  std::sort(out->keys.begin(), out->keys.end());
  out->keys.erase(std::unique(out->keys.begin(), out->keys.end()), out->keys.end());
  out->slot.resize(batch.keys.size());
  for (size_t e = 0; e < batch.keys.size(); ++e) {
    out->slot[e] = static_cast<uint32_t>(
        std::lower_bound(out->keys.begin(), out->keys.end(), batch.keys[e]) - out->keys.begin());
  }
}

double LogLoss(float z, float y) {
  // log(1 + e^-|z|) + max(z, 0) - y z: the log-loss of either label, stable for any z.
  const double zd = z;
  return std::log1p(std::exp(-std::fabs(zd))) + std::max(zd, 0.0) - static_cast<double>(y) * zd;
}

const char* SparseModelKindName(SparseModelKind kind) {
  switch (kind) {
    case SparseModelKind::kLogistic:
      return "logistic";
    case SparseModelKind::kFm:
      return "fm";
    case SparseModelKind::kDeepFm:
      return "deepfm";
  }
  return "unknown";
}

Status ValidateSparseModelConfig(const SparseModelConfig& config) {
  const bool embeds = config.kind != SparseModelKind::kLogistic;
  const bool deep = config.kind == SparseModelKind::kDeepFm;
  if (!embeds && config.embedding_size != 0) {
    return InvalidArgument("embedding_size: logistic has no embeddings (got " +
                           std::to_string(config.embedding_size) + ")");
  }
  if (embeds && (config.embedding_size < 1 || config.embedding_size > kMaxEmbeddingSize)) {
    return InvalidArgument("embedding_size: must be in [1, " + std::to_string(kMaxEmbeddingSize) +
                           "] (got " + std::to_string(config.embedding_size) + ")");
  }
  if (deep != !config.hidden_layers.empty()) {
    return InvalidArgument(std::string("hidden_layers: ") +
                           (deep ? "deepfm needs at least one" : "only deepfm has them"));
  }
  if (config.hidden_layers.size() > static_cast<size_t>(kMaxHiddenLayers)) {
    return InvalidArgument("hidden_layers: at most " + std::to_string(kMaxHiddenLayers));
  }
  for (const int units : config.hidden_layers) {
    if (units < 1 || units > kMaxLayerUnits) {
      return InvalidArgument("hidden_layers: units must be in [1, " +
                             std::to_string(kMaxLayerUnits) + "] (got " + std::to_string(units) +
                             ")");
    }
  }
  if (config.num_fields < 1 || config.num_fields > (deep ? kMaxFields : 1)) {
    return InvalidArgument("num_fields: must be in [1, " + std::to_string(deep ? kMaxFields : 1) +
                           "] (got " + std::to_string(config.num_fields) + ")");
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<SparseModel>> MakeSparseModel(const SparseModelConfig& config) {
  RT_RETURN_IF_ERROR(ValidateSparseModelConfig(config));
  std::unique_ptr<SparseModel> model;
  switch (config.kind) {
    case SparseModelKind::kLogistic:
      model = std::make_unique<LogisticModel>();
      break;
    case SparseModelKind::kFm:
      model = std::make_unique<FmModel>(config.embedding_size);
      break;
    case SparseModelKind::kDeepFm:
      model = internal::MakeDeepFm(config);
      break;
  }
  return model;
}

}  // namespace ringtrain::model

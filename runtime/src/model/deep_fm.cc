#include "deep_fm.h"

#include <algorithm>
#include <cmath>

#include "fm_terms.h"
#include "ringtrain/common/check.h"
#include "ringtrain/data/matrix.h"
#include "ringtrain/model/init.h"
#include "ringtrain/model/mlp_tower.h"

namespace ringtrain::model::internal {
namespace {

// The tower's initial weights: a stream of the seed of its own.
constexpr uint64_t kTowerSeedStream = 0xdeef;

float Sigmoid(float z) {
  return z >= 0 ? 1.0f / (1.0f + std::exp(-z)) : std::exp(z) / (1.0f + std::exp(z));
}

class DeepFmModel final : public SparseModel {
 public:
  DeepFmModel(int k, int fields, const std::vector<int>& hidden)
      : k_(k), fields_(fields), tower_(fields * k, hidden, 1, /*offset=*/1, "deep.") {
    tensors_.push_back({"bias", {1}, 0, 1});
    for (const TensorInfo& t : tower_.tensors()) tensors_.push_back(t);
  }

  int row_dim() const override { return 1 + k_; }
  const std::vector<TensorInfo>& dense_tensors() const override { return tensors_; }
  int64_t num_dense() const override { return 1 + tower_.num_params(); }
  void InitializeDense(uint64_t seed, float* dense) const override {
    dense[0] = 0.0f;
    tower_.Initialize(DeriveSeed(seed, kTowerSeedStream), dense);
  }

  void Logits(const float* dense, std::span<const float> rows, const data::SparseBatch& batch,
              const BatchKeys& keys, std::vector<float>* logits) override {
    Forward(dense, rows, batch, keys);
    logits->assign(z_.begin(), z_.end());
  }

  double LossAndGradient(const float* dense, std::span<const float> rows,
                         const data::SparseBatch& batch, const BatchKeys& keys, float* dense_grad,
                         std::span<float> row_grad) override {
    RT_CHECK(row_grad.size() == rows.size());
    std::fill(row_grad.begin(), row_grad.end(), 0.0f);
    std::fill_n(dense_grad, num_dense(), 0.0f);
    const int64_t n = batch.rows();
    if (n == 0) return 0.0;
    Forward(dense, rows, batch, keys);
    const float inv = 1.0f / static_cast<float>(n);
    double loss = 0.0;
    dout_.resize(n, 1);
    for (int64_t r = 0; r < n; ++r) {
      const float z = z_[static_cast<size_t>(r)];
      const float y = batch.labels[static_cast<size_t>(r)];
      loss += LogLoss(z, y);
      const float dz = (Sigmoid(z) - y) * inv;  // d(mean loss)/dz
      dense_grad[0] += dz;
      dout_(r, 0) = dz;
      FmRowGradient(k_, rows, batch, keys, r, dz, sums_.row(r).data(), row_grad);
    }
    tower_.Backward(dense, x_, &dout_, dense_grad, &dx_);
    // The tower's input was each field's sum of v x: its gradient goes back to every entry.
    const size_t width = static_cast<size_t>(1 + k_);
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t e = batch.offsets[static_cast<size_t>(r)];
           e < batch.offsets[static_cast<size_t>(r) + 1]; ++e) {
        const auto at = static_cast<size_t>(e);
        const float x = batch.values[at];
        const float* d = dx_.row(r).data() + static_cast<size_t>(batch.fields[at]) * k_;
        float* grad = row_grad.data() + keys.slot[at] * width + 1;
        for (int f = 0; f < k_; ++f) grad[f] += d[f] * x;
      }
    }
    return loss / static_cast<double>(n);
  }

 private:
  // z_ per row; sums_ (each row's s_f, for the FM gradient); x_, the tower's input: field f's
  // sum_e v_e x_e in columns [f k, (f + 1) k).
  void Forward(const float* dense, std::span<const float> rows, const data::SparseBatch& batch,
               const BatchKeys& keys) {
    RT_CHECK(rows.size() == keys.keys.size() * static_cast<size_t>(row_dim()));
    RT_CHECK(keys.slot.size() == batch.keys.size());
    const int64_t n = batch.rows();
    const size_t width = static_cast<size_t>(1 + k_);
    sums_.resize(n, k_);
    x_.setZero(n, int64_t{fields_} * k_);
    z_.resize(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      z_[static_cast<size_t>(r)] =
          dense[0] + FmRowTerm(k_, rows, batch, keys, r, sums_.row(r).data());
      for (int64_t e = batch.offsets[static_cast<size_t>(r)];
           e < batch.offsets[static_cast<size_t>(r) + 1]; ++e) {
        const auto at = static_cast<size_t>(e);
        RT_CHECK(batch.fields[at] < static_cast<uint32_t>(fields_));
        const float x = batch.values[at];
        const float* v = rows.data() + keys.slot[at] * width + 1;
        float* in = x_.row(r).data() + static_cast<size_t>(batch.fields[at]) * k_;
        for (int f = 0; f < k_; ++f) in[f] += v[f] * x;
      }
    }
    if (n == 0) return;
    const RowMatrixXf& deep = tower_.Forward(dense, x_);
    for (int64_t r = 0; r < n; ++r) z_[static_cast<size_t>(r)] += deep(r, 0);
  }

  const int k_;
  const int fields_;
  MlpTower tower_;
  std::vector<TensorInfo> tensors_;
  std::vector<float> z_;
  RowMatrixXf sums_;
  RowMatrixXf x_;
  RowMatrixXf dout_;
  RowMatrixXf dx_;
};

}  // namespace

std::unique_ptr<SparseModel> MakeDeepFm(const SparseModelConfig& config) {
  return std::make_unique<DeepFmModel>(config.embedding_size, config.num_fields,
                                       config.hidden_layers);
}

}  // namespace ringtrain::model::internal

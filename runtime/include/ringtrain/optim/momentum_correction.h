// Momentum correction (Lin et al. 2018, "Deep Gradient Compression"): with a lossy gradient
// codec, momentum must run on the workers, before encoding, or the servers' momentum amplifies
// the codec's error (measured here: onebit with server-side momentum loses 10-25 points on
// Fashion-MNIST; with momentum on the workers it matches uncompressed training).
//
// The worker keeps a velocity u per parameter and, for each step with samples, turns its
// gradient g into what it pushes:
//   g' = g + weight_decay * params;  u <- momentum * u + g';  push u   (nesterov: g' + momentum*u)
// and the servers apply the pushes with plain SGD. In sync mode with equal batches the update is
// the same as server-side momentum SGD: the mean of the workers' velocities is the velocity of
// the mean gradient.
//
// With top-k and error feedback the worker also masks the velocity of the elements it sent.
//
// Thread-safety: pure functions; LocalMomentum::Apply works on caller-owned buffers.
#ifndef RINGTRAIN_OPTIM_MOMENTUM_CORRECTION_H_
#define RINGTRAIN_OPTIM_MOMENTUM_CORRECTION_H_

#include <span>
#include <vector>

#include "ringtrain/compress/codec.h"
#include "ringtrain/optim/optimizer.h"

namespace ringtrain::optim {

struct LocalMomentum {
  double momentum = 0;  // 0 = off
  bool nesterov = false;
  double weight_decay = 0;
  // Momentum factor masking (Lin et al. 2018), for top-k with error feedback: once an element
  // has been sent, its velocity restarts from 0, so the residual and the velocity do not both
  // carry the same past gradients.
  bool mask_sent = false;

  bool enabled() const { return momentum > 0 || weight_decay > 0; }

  // Zeroes velocity[i] wherever residual[i] == 0 (the elements top-k has just sent; an unsent
  // element keeps a non-zero residual unless everything it accumulated cancelled out).
  // REQUIRES: same sizes.
  static void MaskSent(std::span<const float> residual, std::span<float> velocity);

  // Turns grad into the pushed update in place, advancing velocity (same size, zero at first).
  // REQUIRES: grad, params and velocity have the same size.
  void Apply(std::span<float> grad, std::span<const float> params, std::span<float> velocity) const;
};

// The one rule for when momentum moves to the workers: with a codec other than kNone and an
// optimizer of kind kMomentum or kNesterov, moves momentum and weight decay out of *server
// (which becomes plain SGD) into the returned worker part, masking sent elements for kTopK with
// error feedback. Otherwise *server is left alone and the returned part is disabled.
LocalMomentum SplitForMomentumCorrection(OptimizerConfig* server, compress::CodecType codec,
                                         bool error_feedback);

}  // namespace ringtrain::optim

#endif  // RINGTRAIN_OPTIM_MOMENTUM_CORRECTION_H_

"""Class competition under (per-class normalised) gradient descent, and minority directional noise.

Francazi, Baity-Jesi, Lucchi (2023), "A Theoretical Analysis of the Learning Dynamics under Class
Imbalance": under GD a step can raise the loss of the minority class when the majority gradient
points against it (their "minority initial drop"); normalising each class's gradient (PCNGD)
removes this for two classes; under SGD the minority class's minibatch gradient is the noisier in
direction, because it averages fewer samples.

Conventions:
- `per_class_grads` g [C, P]: g_k = ∇_θ ℓ_k, the gradient of class k's *mean* loss ℓ_k (flattened
  over all parameters). The training objective is the mean loss over samples,
  L = Σ_j π_j ℓ_j, so ∇L = Σ_j π_j g_j. (If you hold the class contributions c_j = π_j g_j
  instead, pass c_j / π_j.)
- Per-class normalised GD (PCNGD, dynamics.optimizers.per_class_normalize):
  θ ← θ − η Σ_j g_j/‖g_j‖ (classes with g_j = 0 contribute nothing; a positive per-class weight
  does not change the direction, so contributions or means give the same step).
- η is the learning rate of one step.
"""
import numpy as np
from scipy.special import gammaln, xlog1py, xlogy

from theory import checks

METHODS = ("gd", "per_class_normalized")
COUNT_MODELS = ("fixed", "binomial", "poisson")


def _grads(per_class_grads):
    g = np.asarray(per_class_grads, dtype=np.float64)
    if g.ndim != 2:
        raise ValueError(f"per_class_grads must be [C, P], got shape {g.shape}")
    return g


def update_direction(per_class_grads, class_probs=None, method="gd"):
    """The step direction d (θ ← θ − η d) of GD or PCNGD from per-class gradients: [P].

    Francazi et al. 2023: GD on the mean loss, d = Σ_j π_j g_j (needs class_probs);
    PCNGD, d = Σ_j g_j/‖g_j‖ (zero gradients skipped).
    """
    checks.choice("method", method, METHODS)
    g = _grads(per_class_grads)
    if method == "gd":
        if class_probs is None:
            raise ValueError("method 'gd' needs class_probs (∇L = Σ_j π_j g_j)")
        return checks.class_probs(class_probs, size=g.shape[0]) @ g
    norms = np.linalg.norm(g, axis=1)
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return inv @ g


def first_order_loss_change(per_class_grads, learning_rate, class_probs=None, method="gd"):
    """Predicted change of each class's loss over one step, to first order in η: [C].

    Francazi et al. 2023 (GD and PCNGD analysis): Δℓ_k = ℓ_k(θ − η d) − ℓ_k(θ) = −η g_k·d + O(η²).
    - 'gd': Δℓ_k = −η (π_k ‖g_k‖² + Σ_{j≠k} π_j g_k·g_j). The minority loss rises when the
      majority term Σ_{j≠k} π_j g_k·g_j < −π_k ‖g_k‖², i.e. its gradient conflicts with a
      majority gradient more than π_j/π_k times smaller in projection.
    - 'per_class_normalized': Δℓ_k = −η ‖g_k‖ (1 + Σ_{j≠k} cos(g_k, g_j)). With two classes this is
      −η‖g_k‖(1 + cos) ≤ 0: for small η PCNGD never raises either class's loss. With C > 2 it can
      (if Σ_{j≠k} cos < −1).
    The O(η²) remainder is ½ η² dᵀ∇²ℓ_k d; the sign prediction holds for η small enough that it
    does not flip the sign of the first-order term.
    """
    g = _grads(per_class_grads)
    d = update_direction(g, class_probs, method)
    return -float(learning_rate) * (g @ d)


def gradient_cosines(per_class_grads):
    """Cosine between every pair of class gradients: [C, C] (0 where a gradient vanishes)."""
    g = _grads(per_class_grads)
    norms = np.linalg.norm(g, axis=1)
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    gram = g @ g.T
    return gram * inv[:, None] * inv[None, :]


def expected_class_counts(class_probs, batch_size):
    """m_k = B π_k, the expected number of class-k samples in a uniformly drawn batch of size B: [C]."""
    return float(batch_size) * checks.class_probs(class_probs)


def per_class_gradient_statistics(per_sample_grads, labels, num_classes):
    """Full-batch per-class gradients and per-sample spreads from per-sample gradients.

    Inputs: per_sample_grads [N, P] (gradient of each sample's loss), labels [N].
    Returns (mean_grads [C, P], spreads [C]) with mean_grads[k] = ḡ_k the mean over class k and
    spreads[k]² = σ_k² = mean_i ‖∇ℓ_i − ḡ_k‖² over class k (total variance; 0 for empty classes).
    These are the inputs of `minibatch_gradient_cosine` (noise_to_signal = σ_k / ‖ḡ_k‖).
    """
    grads = np.asarray(per_sample_grads, dtype=np.float64)
    labels = np.asarray(labels)
    if grads.ndim != 2 or labels.shape != (grads.shape[0],):
        raise ValueError("per_sample_grads must be [N, P] and labels [N]")
    means = np.zeros((num_classes, grads.shape[1]))
    spreads = np.zeros(num_classes)
    for k in range(num_classes):
        gk = grads[labels == k]
        if gk.shape[0] == 0:
            continue
        means[k] = gk.mean(axis=0)
        spreads[k] = np.sqrt(np.mean(np.sum((gk - means[k]) ** 2, axis=1)))
    return means, spreads


def _cosine_given_count(n, ratio_sq, class_size):
    """cos ≈ 1/sqrt(1 + ρ²/n · fpc), fpc the finite-population correction (N_k − n)/(N_k − 1)."""
    fpc = 1.0 if class_size is None else np.clip((class_size - n) / max(class_size - 1.0, 1.0), 0.0, 1.0)
    return 1.0 / np.sqrt(1.0 + ratio_sq * fpc / n)


def minibatch_gradient_cosine(expected_counts, noise_to_signal, count_model="binomial", batch_size=None,
                              class_sizes=None):
    """Expected cosine between class k's minibatch gradient and its full-batch gradient: [C].

    Francazi et al. 2023 (SGD analysis, directional noise of the per-class gradients). Derivation
    and assumptions: a batch holds n_k samples of class k; class k's minibatch gradient (mean of
    its n_k per-sample gradients, or any positive multiple: the cosine ignores scale) is
    ĝ_k = ḡ_k + ξ̄ with E ξ̄ = 0 and E‖ξ̄‖² = σ_k²/n_k (σ_k² the per-sample gradient variance,
    i.i.d. draws). If the noise is spread over many directions (effective dimension P_eff ≫ 1),
    ‖ξ̄‖² concentrates at σ_k²/n_k and ḡ_k·ξ̄ = O(‖ḡ_k‖ σ_k/√(n_k P_eff)) is negligible, so

        cos(ĝ_k, ḡ_k) ≈ 1 / sqrt(1 + ρ_k²/n_k),   ρ_k = σ_k/‖ḡ_k‖ (`noise_to_signal`),

    with corrections O(ρ_k/√(n_k P_eff)). The minority class, with smaller m_k, has the lower
    cosine. The count n_k is modelled as
    - 'fixed': n_k = m_k (`expected_counts`; good for m_k ≫ 1 or class-stratified batches);
    - 'binomial': n_k ~ Binomial(B, m_k/B) (uniform sampling with replacement; needs batch_size);
    - 'poisson': n_k ~ Poisson(m_k);
    and the cosine is averaged over batches that contain class k (n_k ≥ 1): a batch without
    class k has no class-k gradient. class_sizes N_k (optional) applies the without-replacement
    correction σ²/n · (N_k − n)/(N_k − 1) (samples distinct within a batch).
    """
    checks.choice("count_model", count_model, COUNT_MODELS)
    m = np.atleast_1d(np.asarray(expected_counts, dtype=np.float64))
    rho = np.broadcast_to(np.asarray(noise_to_signal, dtype=np.float64), m.shape)
    if np.any(m <= 0) or np.any(rho < 0):
        raise ValueError("expected_counts must be > 0 and noise_to_signal >= 0")
    sizes = None
    if class_sizes is not None:
        sizes = np.broadcast_to(np.asarray(class_sizes, dtype=np.float64), m.shape)
    out = np.empty(m.shape)
    for k in range(m.size):
        size_k = None if sizes is None else sizes[k]
        if count_model == "fixed":
            out[k] = _cosine_given_count(m[k], rho[k] ** 2, size_k)
            continue
        if count_model == "binomial":
            if batch_size is None:
                raise ValueError("count_model 'binomial' needs batch_size")
            size, q = int(batch_size), min(m[k] / float(batch_size), 1.0)
            n = np.arange(0, size + 1, dtype=np.float64)
            log_w = (gammaln(size + 1.0) - gammaln(n + 1) - gammaln(size - n + 1)
                     + xlogy(n, q) + xlog1py(size - n, -q))
        else:
            n = np.arange(0.0, np.ceil(m[k] + 20 * np.sqrt(m[k]) + 40))
            log_w = xlogy(n, m[k]) - m[k] - gammaln(n + 1)
        w = np.exp(log_w[1:])
        out[k] = np.sum(w * _cosine_given_count(n[1:], rho[k] ** 2, size_k)) / np.sum(w)
    return out

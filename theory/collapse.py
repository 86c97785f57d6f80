"""Neural-collapse geometry: simplex ETF, SELI, minority collapse, UFM global minimisers.

Pure numpy/scipy; no import of `dynamics`. Every prediction is a closed form or the
numerical solution of a stated convex program, never fitted to a simulation.

Conventions (shared by every function here)
- Row convention: classifiers are the rows of W [C, D]; class means are the rows of
  M [C, D]. A Gram matrix is G = X Xᵀ [C, C]; class order is the caller's (the library
  orders classes by frequency, class 0 the most frequent).
- Comparison of geometries uses Frobenius-normalised Grams: Ĝ = G / ‖G‖_F, and
  `gram_distance(A, B) = ‖Â − B̂‖_F` (in [0, 2]; invariant to a global scale, which the
  unregularised problems leave free).
- Class means: the predicted class-mean Grams here are of the class means *as they come
  out of the model*, with no centring. In SELI they are already centred on the
  UNWEIGHTED mean of the class means (Σ_k μ_k = 0, shown in `seli_geometry`), but NOT on
  the weighted (per-sample) global mean. Use `center_gram(G, weights)` to centre a
  Gram on any mean (e.g. the per-sample mean, weights = class_counts / N) so that
  theory and measurement use the same centring. In the balanced case both coincide.
- Unconstrained-features model (UFM) with per-sample features: the imbalanced
  predictions (SELI, regularised-UFM minority collapse, imbalanced square loss) are for
  one feature per SAMPLE (or, equivalently, per-class features penalised / stepped with
  multiplicity n_k). Per-class features trained by plain GD on an n_k-weighted loss
  converge (cross-entropy, no regularisation) to the simplex ETF, not to SELI: the
  max-margin limit ignores loss weights.
"""

from typing import NamedTuple, Optional, Union

import numpy as np
import scipy  # its submodules load when first used (scipy.optimize: 0.2 s at every launch otherwise)

# --------------------------------------------------------------------------- Grams


def gram(x_CxD: np.ndarray) -> np.ndarray:
    """Gram matrix X Xᵀ of the rows of X; leading batch axes allowed ([..., C, D] -> [..., C, C])."""
    x = np.asarray(x_CxD, dtype=np.float64)
    return x @ np.swapaxes(x, -1, -2)


def normalize_gram(gram_CxC: np.ndarray) -> np.ndarray:
    """Gram divided by its Frobenius norm (over the last two axes); a zero Gram stays zero.

    Written with array operators and methods only, so that a jax array (traced inside jit) passes
    through as one: dynamics.metrics.collapse records its Grams with this same function. numpy
    input (or a list) is computed in float64.
    """
    g = np.asarray(gram_CxC, dtype=np.float64) if isinstance(gram_CxC, (np.ndarray, list, tuple)) else gram_CxC
    norm = (g * g).sum(axis=(-2, -1), keepdims=True) ** 0.5
    return g / (norm + (norm == 0))


def normalized_gram(x_CxD: np.ndarray) -> np.ndarray:
    """Frobenius-normalised Gram X Xᵀ / ‖X Xᵀ‖_F of the rows of X [..., C, D]."""
    return normalize_gram(gram(x_CxD))


def gram_distance(gram_a: np.ndarray, gram_b: np.ndarray) -> np.ndarray:
    """‖A/‖A‖_F − B/‖B‖_F‖_F between two Grams [..., C, C] (broadcasts over leading axes).

    The kind of normalised-Gram distance Thrampoulidis et al. 2022 plot to track
    convergence to SELI; 0 = same geometry up to a global scale.
    """
    diff = normalize_gram(gram_a) - normalize_gram(gram_b)
    return (diff * diff).sum(axis=(-2, -1)) ** 0.5  # operators only: jax arrays pass (normalize_gram)


def center_gram(gram_CxC: np.ndarray, weights: Optional[np.ndarray] = None) -> np.ndarray:
    """Gram of the vectors x_k − Σ_j w_j x_j, computed from the Gram alone.

    (I − 1wᵀ) G (I − w1ᵀ), with w = weights / Σ weights (uniform when None, i.e. the
    unweighted mean of the class vectors; pass class_counts for the per-sample mean).
    """
    g = np.asarray(gram_CxC, dtype=np.float64)
    c = g.shape[-1]
    w = np.full(c, 1.0 / c) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    proj = np.eye(c) - np.outer(np.ones(c), w)  # rows: e_k − w
    return proj @ g @ proj.T


def cosines(gram_CxC: np.ndarray) -> np.ndarray:
    """Cosine matrix G_ij / sqrt(G_ii G_jj) from a Gram; 0 where a vector is zero."""
    g = np.asarray(gram_CxC, dtype=np.float64)
    d = np.sqrt(np.clip(np.diagonal(g, axis1=-2, axis2=-1), 0.0, None))
    denom = d[..., :, None] * d[..., None, :]
    return np.divide(g, denom, out=np.zeros_like(g), where=denom > 0)


# --------------------------------------------------------------------------- ETF


def simplex_etf_gram(num_classes: int) -> np.ndarray:
    """Gram of the unit-norm simplex ETF: (C/(C−1)) (I − 11ᵀ/C) [C, C].

    Unit diagonal, off-diagonal cosines −1/(C−1) (Papyan, Han, Donoho 2020, Definition 1).
    """
    c = int(num_classes)
    if c < 2:
        raise ValueError(f"num_classes must be >= 2, got {c}")
    return (c / (c - 1.0)) * (np.eye(c) - np.full((c, c), 1.0 / c))


def simplex_etf(num_classes: int, dim: Optional[int] = None) -> np.ndarray:
    """Unit-norm simplex-ETF vectors as rows [C, dim], dim >= C − 1 (default C − 1).

    Rows span the first C − 1 coordinates (zero-padded beyond); their Gram is
    `simplex_etf_gram(C)` (Papyan, Han, Donoho 2020, Definition 1).
    """
    c = int(num_classes)
    dim = c - 1 if dim is None else int(dim)
    if dim < c - 1:
        raise ValueError(f"a simplex ETF of {c} classes needs dim >= {c - 1}, got {dim}")
    evals, evecs = np.linalg.eigh(simplex_etf_gram(c))
    top = evecs[:, 1:] * np.sqrt(np.clip(evals[1:], 0.0, None))  # drop the 0 eigenvalue (1 direction)
    out = np.zeros((c, dim))
    out[:, : c - 1] = top
    return out


# --------------------------------------------------------------------------- SELI


class SELIGeometry(NamedTuple):
    """SELI prediction (Thrampoulidis et al. 2022). Scale: logits interpolate Ẑ exactly.

    classifier_gram: W Wᵀ = U Λ Uᵀ = (Ẑ Ẑᵀ)^{1/2} [C, C].
    class_mean_gram: Gram of the class embeddings (every sample of a class has the same
      embedding in SELI) [C, C]; uncentred, equal to the rows/columns of V Λ Vᵀ at one
      sample per class; Σ_k μ_k = 0 (centred on the unweighted mean of class means).
    class_logits: [C, C], row k = logits ⟨w_j, μ_k⟩ of a class-k sample = (I − 11ᵀ/C) e_k.
    singular_values: the C − 1 nonzero singular values of Ẑ (diagonal of Λ), descending.
    """

    classifier_gram: np.ndarray
    class_mean_gram: np.ndarray
    class_logits: np.ndarray
    singular_values: np.ndarray


def simplex_encoded_labels(class_counts: np.ndarray) -> np.ndarray:
    """The simplex-encoded label (SEL) matrix Ẑ = (I − 11ᵀ/C) Y [C, N] of Thrampoulidis et al. 2022, samples sorted by class.

    Explicit and O(C·N): for small N only (tests); `seli_geometry` never builds it.
    """
    counts = np.asarray(class_counts)
    c = counts.size
    labels = np.repeat(np.arange(c), counts.astype(int))
    y = np.eye(c)[:, labels]
    return y - y.mean(axis=0, keepdims=True)


def seli_geometry(class_counts: np.ndarray) -> SELIGeometry:
    """SELI Grams for imbalanced cross-entropy UFM without regularisation.

    Thrampoulidis, Kini, Vakilian, Behnia 2022, "Imbalance Trouble": the SEL matrix
    Ẑ = (I − 11ᵀ/C) Y has SVD Ẑ = U Λ Vᵀ; solutions of the UF-SVM (the direction that
    CE with vanishing ridge regularisation, and GD on unregularised CE, selects) follow
    SELI: W Wᵀ = U Λ Uᵀ, Hᵀ H = V Λ Vᵀ, W H = Ẑ (their SELI definition and main
    theorem; requires feature dim d >= C − 1).

    Computed without forming Ẑ: with D = diag(n), Ẑ = A Q where A = (I − 11ᵀ/C) D^{1/2}
    [C, C] and Q = D^{-1/2} Y has orthonormal rows. If A = U Λ Ṽᵀ then V = Qᵀ Ṽ, so
      G_W = U Λ Uᵀ,   G_M = D^{-1/2} Ṽ Λ Ṽᵀ D^{-1/2}
    (G_M[a, b] = ⟨h_i, h_j⟩ for any i in class a, j in class b). Counts may be real
    (class frequencies): normalised Grams are invariant to scaling all counts.
    Balanced counts give G_W ∝ G_M ∝ simplex-ETF Gram. Σ_k μ_k = 0 because
    Ṽᵀ D^{1/2} 1 ∝ Λ^{-1} Uᵀ (I − 11ᵀ/C) 1 = 0; the per-sample mean Σ_k n_k μ_k ≠ 0
    under imbalance.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts <= 0):
        raise ValueError(f"class_counts must be a 1-d array of >= 2 positive numbers, got {counts}")
    c = counts.size
    centring = np.eye(c) - np.full((c, c), 1.0 / c)
    sqrt_n = np.sqrt(counts)
    a = centring * sqrt_n[None, :]
    u, s, vt = np.linalg.svd(a)
    u, s, vt = u[:, : c - 1], s[: c - 1], vt[: c - 1]  # rank C − 1 (kernel: D^{-1/2} 1)
    classifier_gram = (u * s) @ u.T
    v = vt.T / sqrt_n[:, None]
    class_mean_gram = (v * s) @ v.T
    return SELIGeometry(classifier_gram, class_mean_gram, centring.copy(), s)


# --------------------------------------------------------------------------- UFM closed forms


class UFMSolution(NamedTuple):
    """A global minimiser of a regularised UFM, as one realisation (unique up to rotation).

    classifiers: W [C, r] (rows w_k); class_means: M [C, r] (rows μ_k; every sample of
    class k has feature μ_k); bias: b [C]; classifier_gram = W Wᵀ; class_mean_gram = M Mᵀ;
    class_logits [C, C]: row k = W μ_k + b; objective: the minimal objective value;
    collapsed_to_zero: W = 0 and H = 0 at the minimiser; zero_threshold: the value of
    sqrt(λ_W λ_H) at and above which the zero solution is the global minimiser.
    """

    classifiers: np.ndarray
    class_means: np.ndarray
    bias: np.ndarray
    classifier_gram: np.ndarray
    class_mean_gram: np.ndarray
    class_logits: np.ndarray
    objective: float
    collapsed_to_zero: bool
    zero_threshold: float


def _factor_from_logits(z_prime: np.ndarray, lam_w: float, lam_h: float):
    """Balanced factorisation of Z' = W M'ᵀ minimising λ_W/2‖W‖² + λ_H/2‖M'‖² (= √(λ_Wλ_H)‖Z'‖_*)."""
    u, s, vt = np.linalg.svd(z_prime)
    keep = s > 1e-12 * max(1.0, s.max(initial=0.0))
    u, s, vt = u[:, keep], s[keep], vt[keep]
    scale = (lam_h / lam_w) ** 0.25
    w = u * np.sqrt(s) * scale
    m_prime = vt.T * np.sqrt(s) / scale
    if not keep.any():
        w = np.zeros((z_prime.shape[0], 1))
        m_prime = np.zeros((z_prime.shape[1], 1))
    return w, m_prime


def ufm_square_loss(
    class_counts: np.ndarray,
    weight_decay_w: float,
    weight_decay_h: float,
    bias: Union[str, float] = "none",
) -> UFMSolution:
    """Global minimiser of the square-loss UFM with weight decay (closed form up to an SVD).

    Objective (per-sample features h_i, N = Σ n_k, one-hot targets y_i):
      (1/2N) Σ_i ‖W h_i + b − y_i‖² + λ_W/2 ‖W‖_F² + λ_H/2 Σ_i ‖h_i‖² + λ_b/2 ‖b‖².
    bias: "none" (b = 0), "free" (b unregularised) or a float λ_b > 0 (balanced only).

    Derivation (Tirer & Bruna 2022; Zhou et al. 2022, Thm 3.1; Han et al. 2022 for the
    central path): λ_H > 0 makes features collapse to class means; with M' = M D^{1/2},
    λ_W/2‖W‖² + λ_H/2‖M'‖² ≥ √(λ_Wλ_H) ‖W M'ᵀ‖_* (equality for a balanced factorisation,
    needs d >= rank), so Z' = W M'ᵀ solves a nuclear-norm-regularised least squares whose
    solution is singular-value soft-thresholding at N√(λ_Wλ_H) of
      B = D^{1/2} (no bias),  B = D^{1/2} (I − q qᵀ), q = √n/√N (free bias).
    No bias: Z = diag(max(1 − N√(λ_Wλ_H)/√n_k, 0)) — orthogonal frame; a class with
    n_k ≤ N² λ_W λ_H gets w_k = μ_k = 0. Free bias, balanced: Z ∝ I − 11ᵀ/C (simplex
    ETF), b = 1/C. Regularised bias (balanced, n per class, τ = √(nλ_Wλ_H)):
      Z = α(I − 11ᵀ/C) + β 11ᵀ/C, α = max(1 − Cτ, 0), β = max(1 − Cτ(1+λ_b)/λ_b, 0),
      b = (1 − β)/(C(1 + λ_b)) 1.
    Grams: W Wᵀ = √(λ_H/λ_W) U S Uᵀ, M Mᵀ = √(λ_W/λ_H) D^{-1/2} V S Vᵀ D^{-1/2}
    (Z' = U S Vᵀ). The solution is zero iff √(λ_Wλ_H) ≥ σ_max(B)/N (`zero_threshold`);
    balanced, no/free bias: C√(nλ_Wλ_H) ≥ 1.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    lam_w, lam_h = float(weight_decay_w), float(weight_decay_h)
    if lam_w <= 0 or lam_h <= 0:
        raise ValueError("weight_decay_w and weight_decay_h must be > 0 for a closed form")
    c, n_total = counts.size, counts.sum()
    sqrt_n = np.sqrt(counts)
    tau = np.sqrt(lam_w * lam_h)
    threshold = n_total * tau
    if isinstance(bias, str) and bias == "none":
        target = np.diag(sqrt_n)
        lam_b = None
    elif isinstance(bias, str) and bias == "free":
        q = sqrt_n / np.sqrt(n_total)
        target = np.diag(sqrt_n) @ (np.eye(c) - np.outer(q, q))
        lam_b = 0.0
    elif isinstance(bias, str):
        raise ValueError(f"bias must be 'none', 'free' or a float λ_b > 0, got {bias!r}")
    else:
        lam_b = float(bias)
        if lam_b <= 0 or not np.allclose(counts, counts[0]):
            raise ValueError("a regularised bias (float) has a closed form only for λ_b > 0 and balanced counts")
        target = None

    if target is not None:
        u, s, vt = np.linalg.svd(target)
        s_thr = np.clip(s - threshold, 0.0, None)
        z_prime = (u * s_thr) @ vt
        zero_threshold = s.max() / n_total
    else:  # balanced, regularised bias: closed form in the two isotypic components.
        n = counts[0]
        t = np.sqrt(n) * tau * c
        alpha = max(1.0 - t, 0.0)
        beta = max(1.0 - t * (1.0 + lam_b) / lam_b, 0.0)
        z = alpha * (np.eye(c) - 1.0 / c) + beta / c
        z_prime = z * np.sqrt(n)
        zero_threshold = 1.0 / (c * np.sqrt(n))  # β reaches 0 before α; W = H = 0 once α = 0
        gamma = (1.0 - beta) / (c * (1.0 + lam_b))

    w, m_prime = _factor_from_logits(z_prime, lam_w, lam_h)
    m = m_prime / sqrt_n[:, None]
    z = w @ m.T  # [C(classifier), C(class)]
    if lam_b is None:
        b = np.zeros(c)
    elif lam_b == 0.0:
        b = (counts - z @ counts) / n_total  # optimal free bias: mean residual
    else:
        b = np.full(c, gamma)
    logits = z.T + b[None, :]
    resid = logits - np.eye(c)
    objective = (
        0.5 / n_total * np.sum(counts[:, None] * resid**2)
        + 0.5 * lam_w * np.sum(w**2)
        + 0.5 * lam_h * np.sum(counts[:, None] * m**2)
        + (0.5 * lam_b * np.sum(b**2) if lam_b else 0.0)
    )
    return UFMSolution(
        classifiers=w,
        class_means=m,
        bias=b,
        classifier_gram=w @ w.T,
        class_mean_gram=m @ m.T,
        class_logits=logits,
        objective=float(objective),
        collapsed_to_zero=bool(np.allclose(w, 0.0)),
        zero_threshold=float(zero_threshold),
    )


def ufm_cross_entropy_balanced(
    num_classes: int, n_per_class: float, weight_decay_w: float, weight_decay_h: float
) -> UFMSolution:
    """Global minimiser of the balanced cross-entropy UFM with weight decay (closed form).

    Objective: (1/N) Σ_i CE(W h_i + b, y_i) + λ_W/2 ‖W‖_F² + λ_H/2 Σ_i ‖h_i‖² (+ any bias
    penalty: the optimal bias is a constant vector, 0 if penalised, and leaves CE unchanged).
    Zhu et al. 2021 (Theorem 3.1): minimisers are simplex ETFs with collapsed features,
    μ_k ∝ w_k. Via the same nuclear-norm reduction as `ufm_square_loss`
    (τ = √(nλ_Wλ_H)), Z = W Mᵀ = α(I − 11ᵀ/C) with α minimising
    log(1 + (C−1)e^{−α}) + τ(C−1)α, i.e.
      α = log(1/τ − (C − 1))  if τ < 1/C,  else α = 0 (W = H = 0).
    W Wᵀ = √(nλ_H/λ_W) α (I − 11ᵀ/C), M Mᵀ = √(λ_W/(nλ_H)) α (I − 11ᵀ/C). Needs d >= C − 1.
    """
    c, n = int(num_classes), float(n_per_class)
    lam_w, lam_h = float(weight_decay_w), float(weight_decay_h)
    tau = np.sqrt(n * lam_w * lam_h)
    alpha = float(np.log(1.0 / tau - (c - 1))) if tau < 1.0 / c else 0.0
    centring = np.eye(c) - 1.0 / c
    w, m_prime = _factor_from_logits(alpha * np.sqrt(n) * centring, lam_w, lam_h)
    m = m_prime / np.sqrt(n)
    logits = m @ w.T
    ce = np.mean(scipy.special.logsumexp(logits, axis=1) - np.diag(logits))
    objective = ce + 0.5 * lam_w * np.sum(w**2) + 0.5 * lam_h * n * np.sum(m**2)
    return UFMSolution(
        classifiers=w,
        class_means=m,
        bias=np.zeros(c),
        classifier_gram=w @ w.T,
        class_mean_gram=m @ m.T,
        class_logits=logits,
        objective=float(objective),
        collapsed_to_zero=alpha == 0.0,
        zero_threshold=1.0 / (c * np.sqrt(n)),
    )


# --------------------------------------------------------------------------- minority collapse
#
# Two groups: K_A majority classes with n_A samples each, K_B minority classes with n_B,
# R = n_A / n_B. Within-class features collapse (convex loss), so the program is over
# class features h_k and classifiers w_k; relaxed to the Gram X of [h_1..h_K, w_1..w_K]
# it is convex (Fang et al. 2021, convex relaxation of the layer-peeled model; exact for
# d >= 2K). The program is invariant under permuting classes within a group, so (by
# convexity) a symmetric optimum exists, and a symmetric PSD X splits into three blocks:
#   majority contrasts (a 2x2 PSD block ⊗ (I − 11ᵀ/K_A)), minority contrasts (a 2x2 PSD
#   block ⊗ (I − 11ᵀ/K_B)), and group means (a 4x4 PSD block).
# Parameterisation used here (20 numbers, every symmetric optimum is reachable):
#   h_k = a_A P_A e_k ⊕ m_hA (k majority),   h_k = a_B P_B e_k ⊕ m_hB (k minority),
#   w_k = b_A P_A e_k ⊕ m_wA,                w_k = b_B P_B e_k ⊕ m_wB,
# with a_·, b_· scalars (the contrast block is rank one at the optimum: the loss only
# sees ⟨contrast_h, contrast_w⟩ and is decreasing in it) and m_· in R⁴.
# Minority classifier cosine = (|m_wB|² − b_B²/K_B) / (|m_wB|² + (1 − 1/K_B) b_B²); it is
# 1 iff b_B = 0 (minority collapse).
# Threshold (derived here, for both programs below: KKT of the convex program at the collapsed
# optimum, a_B = b_B = 0): the
# B-contrast block of the dual slack is [[c_H, −g/2], [−g/2, c_W]] ⊗ P_B with
#   g = −Σ_{k,j∈B} (∂f/∂Z)_kj (P_B)_kj = (K_B − 1) ω_B   (ω_B: loss weight of a minority
#   class; exact at the collapsed point, where minority logits tie),
# and c_H, c_W the costs per unit of a_B², b_B²; collapse iff g ≤ 2 sqrt(c_H c_W).


class TwoGroupSolution(NamedTuple):
    """Symmetric optimum of a two-group (majority/minority) program.

    classifiers [K, D], class_means [K, D] (rows; majority classes first), their Grams,
    minority_cosine (cosine between two minority classifiers), objective.
    """

    classifiers: np.ndarray
    class_means: np.ndarray
    classifier_gram: np.ndarray
    class_mean_gram: np.ndarray
    minority_cosine: float
    objective: float


def _two_group_basis(ka: int, kb: int) -> np.ndarray:
    """Basis [10, K, K+4]: index 0 majority contrast, 1 minority contrast, 2-5 m_A, 6-9 m_B."""
    k = ka + kb
    basis = np.zeros((10, k, k + 4))
    basis[0, :ka, :ka] = np.eye(ka) - 1.0 / ka
    basis[1, ka:, ka:k] = np.eye(kb) - 1.0 / kb
    for j in range(4):
        basis[2 + j, :ka, k + j] = 1.0
        basis[6 + j, ka:, k + j] = 1.0
    return basis


def _ce_rows(z: np.ndarray, row_weights: np.ndarray):
    """Σ_k ω_k CE(z_k, k) and its gradient in z (row k: features of class k)."""
    z_max = z.max(axis=1, keepdims=True)
    e = np.exp(z - z_max)
    total = e.sum(axis=1, keepdims=True)
    lse = (z_max + np.log(total))[:, 0]
    loss = float(np.sum(row_weights * (lse - np.diag(z))))
    grad = row_weights[:, None] * (e / total - np.eye(z.shape[0]))
    return loss, grad


def _solve_two_group(ka, kb, row_weights, *, energy=None, penalty=None, collapsed=False,
                     restarts=2, seed=0, theta0=None):
    """Minimise the two-group program over the symmetric parameterisation above.

    energy=(E_H, E_W): Fang et al. constraints (1/K)Σ‖h_k‖² = E_H, (1/K)Σ‖w_k‖² = E_W,
    enforced by rescaling (both are active at the optimum: the loss falls with scale).
    penalty=(λ_W, λ_H, m [K]): + λ_W/2 Σ‖w_k‖² + λ_H/2 Σ m_k ‖h_k‖².
    collapsed: fix a_B = b_B = 0. L-BFGS from `restarts` random starts (plus theta0 if
    given); the best is kept. Returns (TwoGroupSolution, parameters).
    """
    k = ka + kb
    free = np.ones(10, bool)
    if collapsed:
        free[1] = False
    basis = _two_group_basis(ka, kb).reshape(10, -1)[free]  # [P, K*D]
    n_par = basis.shape[0]
    shape = (k, k + 4)

    def fun(theta):
        h = (theta[:n_par] @ basis).reshape(shape)
        w = (theta[n_par:] @ basis).reshape(shape)
        if energy is not None:
            e_h, e_w = np.sum(h * h) / k, np.sum(w * w) / k
            if e_h <= 0 or e_w <= 0:
                return np.inf, np.zeros_like(theta)
            s_h, s_w = np.sqrt(energy[0] / e_h), np.sqrt(energy[1] / e_w)
            hs, ws = s_h * h, s_w * w
            loss, g = _ce_rows(hs @ ws.T, row_weights)
            g_hs, g_ws = g @ ws, g.T @ hs
            grad_h = s_h * (g_hs - (np.sum(g_hs * h) / (k * e_h)) * h)
            grad_w = s_w * (g_ws - (np.sum(g_ws * w) / (k * e_w)) * w)
        else:
            lam_w, lam_h, mult = penalty
            loss, g = _ce_rows(h @ w.T, row_weights)
            loss += 0.5 * lam_w * np.sum(w * w) + 0.5 * lam_h * np.sum(mult[:, None] * h * h)
            grad_h = g @ w + lam_h * mult[:, None] * h
            grad_w = g.T @ h + lam_w * w
        return loss, np.concatenate([basis @ grad_h.ravel(), basis @ grad_w.ravel()])

    rng = np.random.default_rng(seed)
    starts = [rng.normal(size=2 * n_par) for _ in range(restarts)]
    if theta0 is not None:
        starts.insert(0, np.asarray(theta0, dtype=np.float64))
    best = None
    for start in starts:
        res = scipy.optimize.minimize(
            fun, start, jac=True, method="L-BFGS-B",
            options=dict(maxiter=20000, maxcor=30, ftol=1e-15, gtol=1e-11),
        )
        if best is None or res.fun < best.fun:
            best = res
    h = (best.x[:n_par] @ basis).reshape(shape)
    w = (best.x[n_par:] @ basis).reshape(shape)
    if energy is not None:
        h = h * np.sqrt(energy[0] / (np.sum(h * h) / k))
        w = w * np.sqrt(energy[1] / (np.sum(w * w) / k))
    cos = cosines(w @ w.T)[ka, ka + 1]
    return TwoGroupSolution(w, h, w @ w.T, h @ h.T, float(cos), float(best.fun)), best.x


def _check_groups(num_major, num_minor, ratio):
    ka, kb = int(num_major), int(num_minor)
    if ka < 1 or kb < 2:
        raise ValueError(f"need num_major >= 1 and num_minor >= 2, got {ka}, {kb}")
    if ratio <= 0:
        raise ValueError(f"imbalance ratio must be > 0, got {ratio}")
    return ka, kb


def layer_peeled_solution(
    num_major: int, num_minor: int, ratio: float, energy_h: float, energy_w: float, *, seed: int = 0
) -> TwoGroupSolution:
    """Optimum of Fang et al. 2021's layer-peeled model (LPM) with two class groups.

    Fang, He, Long, Su 2021 (PNAS), layer-peeled model with cross-entropy:
      min (1/N) Σ_k n_k CE(W h_k, k)  s.t. (1/K) Σ_k ‖h_k‖² ≤ E_H, (1/K) Σ_k ‖w_k‖² ≤ E_W,
    with n_k = R n_B (majority) or n_B (minority); features already collapsed within
    class (exact for a convex loss). Solved over the symmetric block parameterisation
    (see the module comment above `TwoGroupSolution`); the program is convex in the Gram
    (their SDP relaxation), so the symmetric optimum is a global one (d >= 2K).
    Depends on the energies only through E_H·E_W.
    """
    ka, kb = _check_groups(num_major, num_minor, ratio)
    weights = np.r_[np.full(ka, ratio), np.ones(kb)] / (ka * ratio + kb)
    return _solve_two_group(ka, kb, weights, energy=(float(energy_h), float(energy_w)), seed=seed)[0]


def layer_peeled_minority_cosine(
    ratios: np.ndarray, num_major: int, num_minor: int, energy_h: float, energy_w: float
) -> np.ndarray:
    """Minority-classifier cosine of the LPM optimum for each imbalance ratio R (Fang et al. 2021).

    Numerical solution of the convex program (`layer_peeled_solution`); 1 means
    minority collapse. Agrees with an unstructured solve to ~1e-8 in the cosine
    (tests); convergence is slower (flat direction) within a few % of R*.
    """
    ratios = np.atleast_1d(np.asarray(ratios, dtype=np.float64))
    return np.array([
        layer_peeled_solution(num_major, num_minor, r, energy_h, energy_w).minority_cosine for r in ratios
    ])


def _lpm_collapse_margin(ka, kb, ratio, energy_h, energy_w, theta0=None):
    """(K_B − 1) S / (K sqrt(E_H E_W) g) − 1 at the collapsed LPM optimum; >= 0 iff collapse is optimal.

    With constraints, c_H = μ_H (K_B − 1)/K and c_W = μ_W (K_B − 1)/K, and the multipliers
    follow from scaling the features (or classifiers): μ_H E_H = μ_W E_W = S/2 with
    S = −⟨∂f/∂Z, Z⟩. So 2 sqrt(c_H c_W) = (K_B − 1) S / (K sqrt(E_H E_W)).
    Returns (margin, parameters of the collapsed optimum) for warm starts.
    """
    weights = np.r_[np.full(ka, ratio), np.ones(kb)] / (ka * ratio + kb)
    sol, theta = _solve_two_group(
        ka, kb, weights, energy=(energy_h, energy_w), collapsed=True,
        restarts=1 if theta0 is not None else 2, theta0=theta0,
    )
    z = sol.class_means @ sol.classifiers.T
    _, grad = _ce_rows(z, weights)
    s = -np.sum(grad * z)
    p_b = np.eye(kb) - 1.0 / kb
    g = -np.sum(grad[ka:, ka:] * p_b)  # = (K_B − 1) ω_B at the collapsed point
    k = ka + kb
    return (kb - 1) * s / (k * np.sqrt(energy_h * energy_w)) / g - 1.0, theta


def layer_peeled_collapse_threshold(
    num_major: int, num_minor: int, energy_h: float, energy_w: float,
    *, ratio_max: float = 1e6, rtol: float = 1e-6,
) -> float:
    """Imbalance ratio R* beyond which the LPM's minority classifiers collapse (cosine = 1).

    Fang et al. 2021 prove collapse as R → ∞ (their minority-collapse theorem) and show
    it at finite R numerically, without a closed form for the onset. R* here is this
    project's own: the root in R of the KKT condition of the convex program at the collapsed optimum (see
    `_lpm_collapse_margin`): for R ≥ R* the optimum has b_B = 0 exactly, for R < R* it
    does not. Bracketed by doubling R from 1, then Brent's method on log R to relative
    tolerance `rtol` (each collapsed optimum is solved to ~1e-10). Returns inf if there
    is no collapse up to ratio_max. (At R = 1 the optimum is the ETF: no collapse.)
    """
    ka, kb = _check_groups(num_major, num_minor, 1.0)
    eh, ew = float(energy_h), float(energy_w)
    cache = {}

    def margin(log_r):
        value, cache["theta"] = _lpm_collapse_margin(ka, kb, np.exp(log_r), eh, ew, cache.get("theta"))
        return value

    lo, hi = 0.0, np.log(2.0)
    if margin(lo) >= 0:
        return 1.0
    while margin(hi) < 0:
        lo, hi = hi, hi + np.log(2.0)
        if hi > np.log(ratio_max):
            return float("inf")
    root = scipy.optimize.brentq(margin, lo, hi, rtol=rtol, xtol=1e-12)
    return float(np.exp(root))


def regularized_ufm_solution(
    num_major: int, num_minor: int, n_minor: float, ratio: float,
    weight_decay_w: float, weight_decay_h: float, *, seed: int = 0,
) -> TwoGroupSolution:
    """Optimum of the cross-entropy UFM with weight decay, two class groups.

    Objective (per-sample features, N = K_A n_A + K_B n_B, n_A = R n_B):
      (1/N) Σ_i CE(W h_i, y_i) + λ_W/2 ‖W‖_F² + λ_H/2 Σ_i ‖h_i‖²
    (Zhu et al. 2021's UFM, no bias; imbalanced as in Hong & Ling 2023). Features collapse
    within class; the program over Z = W Mᵀ is convex (nuclear-norm form), so the
    symmetric optimum found numerically over the block parameterisation is global.
    """
    ka, kb = _check_groups(num_major, num_minor, ratio)
    counts = np.r_[np.full(ka, ratio * n_minor), np.full(kb, float(n_minor))]
    weights = counts / counts.sum()
    return _solve_two_group(
        ka, kb, weights, penalty=(float(weight_decay_w), float(weight_decay_h), counts), seed=seed
    )[0]


def regularized_ufm_minority_cosine(
    ratios: np.ndarray, num_major: int, num_minor: int, n_minor: float,
    weight_decay_w: float, weight_decay_h: float,
) -> np.ndarray:
    """Minority-classifier cosine of the regularised CE UFM optimum for each ratio R (numerical)."""
    ratios = np.atleast_1d(np.asarray(ratios, dtype=np.float64))
    return np.array([
        regularized_ufm_solution(num_major, num_minor, n_minor, r, weight_decay_w, weight_decay_h).minority_cosine
        for r in ratios
    ])


def regularized_ufm_collapse_threshold(
    num_major: int, num_minor: int, n_minor: float, weight_decay_w: float, weight_decay_h: float
) -> float:
    """Closed-form R* for the regularised CE UFM: minority classifiers collapse iff R ≥ R*.

    KKT at the collapsed optimum (module comment): g = (K_B − 1) n_B/N,
    c_H = λ_H n_B (K_B − 1)/2, c_W = λ_W (K_B − 1)/2, so collapse iff
      n_B ≤ N² λ_W λ_H,  i.e.  R ≥ R* = (1/sqrt(n_B λ_W λ_H) − K_B) / K_A
    (N = n_B (K_A R + K_B)). Same form as the class-wise zero threshold of the square
    loss (`ufm_square_loss`, no bias). Derived here (not from Fang et al. 2021, whose
    layer-peeled model has norm constraints and no closed-form onset); the published
    counterpart is the sharp minority-collapse threshold of Hong & Ling 2023, "Neural
    Collapse for Unconstrained Feature Model under Cross-entropy Loss with Imbalanced
    Data", for the same regularised two-group UFM (not checked term by term against it). If R* ≤ 1 the whole solution is
    already zero at R = 1 (balanced zero threshold C sqrt(nλ_Wλ_H) ≥ 1).
    """
    ka, kb = _check_groups(num_major, num_minor, 1.0)
    return float((1.0 / np.sqrt(n_minor * weight_decay_w * weight_decay_h) - kb) / ka)

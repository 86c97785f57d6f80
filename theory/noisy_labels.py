"""Early learning, then memorisation, of noisy labels by a linear classifier on a two-cluster mixture
(Liu, Niles-Weed, Razavian, Fernandez-Granda 2020, "Early-Learning Regularization Prevents
Memorization of Noisy Labels", Sec. 3 and App. A).

The paper's setting (Sec. 3): x ~ N(±v, σ² I_p), ||v|| = 1, the two clusters equally likely; a
share of the labels is wrong; a linear softmax classifier Θ ∈ R^{2×p} (no bias) trained by full-batch
gradient descent on the cross-entropy. With θ = Θ_1 − Θ_2, labels ε = ±1 (true ε*) and x = ε*(v − σz),
z ~ N(0, I_p), the loss is (1/n) Σ log(1 + exp(−ε_i θ·x_i)) (App. A.1).

What the paper states (cited, not re-derived):
- Theorem 1 (informal; formal in App. A): for Δ ∈ (0, 1), σ ≤ σ_Δ and p/n ∈ (1 − Δ/2, 1), with
  probability 1 − o(1) as n, p → ∞ there is T = Ω(1/η) such that early learning succeeds (for t < T,
  −∇L(Θ_t) is well correlated with v; at T the accuracy on the wrongly labelled examples is higher
  than at initialisation), the gradient coefficients of the clean examples shrink while those of the
  wrong ones grow, and as t → ∞ the classifier memorises every noisy label. (Δ is the probability that
  a label is redrawn uniformly, so a share Δ/2 of the labels is wrong.)
- App. A: Proposition 3 (−∇L·v/||∇L|| ≥ 1/6 for t < T, T the first step with θ_t·v ≥ 1/10),
  Theorem 4 (accuracy on the mislabelled examples ≤ .5001 at θ_0, > .9999 at θ_T), Proposition 5 (the
  mean squared coefficient (tanh(θ·x_i) − ε_i)² falls by > .05 on the clean examples and rises by
  > .05 on the wrong ones between 0 and T), Theorem 6 (the noisy classes are linearly separable with
  probability → 1 when liminf p/n > 1 − Δ/2; its proof bounds the probability that they are not by
  2 P[Bin(n, Δ/2) ≤ n − p]), and then gradient descent on the logistic loss memorises every label
  (their ref. 37, Soudry et al. 2018).
- In the proof of Theorem 4: for a fixed θ, a fresh sample is classified correctly with probability
  Φ(θ·v / (σ ||θ||)).
(The paper's App. A.1 writes the gradient's coefficient as tanh(θ·x) − ε; for the logistic loss above it
is tanh(θ·x / 2) − ε, which is what this module uses.)

Our own derivation (not in the paper): the n → ∞ limit at fixed p of the same gradient descent. With
a = θ·v, b = ||θ − a v||, r = ||θ||, w = a − σ r u (u ~ N(0, 1): the margin ε*θ·x of a fresh sample),
T = E tanh(w/2), S = E sech²(w/2) and ρ the share of wrong labels, Stein's lemma on
E[z tanh(θ·x/2)] gives the population gradient of the loss above,
    ∇L(θ) = (1/2) [ (T − (1 − 2ρ)) v + (σ²/2) S θ ],
so gradient descent with step η on Θ (a step 2η on θ, since ∇_{Θ_1} = −∇_{Θ_2} = ∇_θ) reads
    a ← a − η [T − (1 − 2ρ) + (σ²/2) S a],    b ← b [1 − η (σ²/2) S].
In this limit every training sample is a fresh sample: a clean one is fitted, and a wrong one predicted
as its true class, with probability Φ(a / (σ r)); the squared gradient coefficient ||p − y||² =
(tanh(ε θ·x / 2) − 1)²/2 averages E(1 − tanh(w/2))²/2 over the clean samples and E(1 + tanh(w/2))²/2
over the wrong ones. There is no memorisation at n = ∞ (a → the fixed point where
T + (σ²/2) S a = 1 − 2ρ); at p ~ n the simulation follows this curve through early learning and then
leaves it as it memorises (Theorem 6). The expectations over u are Gauss–Hermite sums.
"""
import numpy as np
import scipy  # its submodules load when first used

QUADRATURE_NODES = 80


def _gauss_hermite():
    """Nodes and weights of E_{u ~ N(0, 1)} f(u) ≈ Σ w_k f(u_k)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    return nodes, weights / weights.sum()


NODES, WEIGHTS = _gauss_hermite()


def _half_tanh_moments(w):
    """(E tanh(w/2), E sech²(w/2)) over the quadrature nodes w [nodes] (sech² = 1 − tanh²: no overflow)."""
    tanh = np.tanh(w / 2)
    return WEIGHTS @ tanh, WEIGHTS @ (1.0 - tanh**2)


def population_trajectory(steps, learning_rate: float, sigma: float, noise_rate: float, a0: float, b0: float):
    """(a_t, b_t) [len(steps)] of gradient descent at step size η = learning_rate on Θ in the n → ∞ limit
    (module docstring, own derivation), from a0 = θ_0·v, b0 = ||θ_0 − a0 v|| at the given (sorted,
    integer) steps. noise_rate: ρ, the share of wrong labels."""
    steps = np.asarray(steps, dtype=np.int64)
    a, b = float(a0), float(b0)
    out_a, out_b = np.empty(len(steps)), np.empty(len(steps))
    t = 0
    for k, target in enumerate(steps):
        while t < target:
            T, S = _half_tanh_moments(a - sigma * np.hypot(a, b) * NODES)
            a, b = a - learning_rate * (T - (1 - 2 * noise_rate) + 0.5 * sigma**2 * S * a), \
                b * (1 - learning_rate * 0.5 * sigma**2 * S)
            t += 1
        out_a[k], out_b[k] = a, b
    return out_a, out_b


def population_fixed_point(sigma: float, noise_rate: float) -> float:
    """The a where the n → ∞ gradient descent comes to rest (b → 0 there, r = a): the root of
    E tanh(w/2) + (σ²/2) E sech²(w/2) a = 1 − 2ρ, w = a (1 − σu) (own derivation, module docstring)."""
    def excess(a):
        T, S = _half_tanh_moments(a * (1 - sigma * NODES))
        return T + 0.5 * sigma**2 * S * a - (1 - 2 * noise_rate)

    return float(scipy.optimize.brentq(excess, 1e-12, 1e3))


def accuracy(a, b, sigma: float):
    """Φ(a / (σ r)), r = hypot(a, b): a fresh sample's chance to be classified as its true cluster (Liu et
    al., proof of Theorem 4); at n = ∞ also the clean fit and the wrong samples' true-class prediction."""
    return scipy.stats.norm.cdf(np.asarray(a) / (sigma * np.hypot(a, b)))


def squared_residuals(a, b, sigma: float):
    """(clean, wrong) [len(a)]: the mean of ||p − y||² over the clean and the wrongly labelled samples at
    n = ∞ (module docstring, own derivation)."""
    a, b = np.atleast_1d(a)[:, None], np.atleast_1d(b)[:, None]
    tanh = np.tanh((a - sigma * np.hypot(a, b) * NODES) / 2)
    return ((1 - tanh) ** 2 / 2) @ WEIGHTS, ((1 + tanh) ** 2 / 2) @ WEIGHTS


def noisy_gradient_share(a, b, sigma: float, noise_rate: float):
    """ρ R_wrong / (ρ R_wrong + (1 − ρ) R_clean): the wrong samples' share of the summed squared gradient
    coefficients at n = ∞ (own derivation; Liu et al.'s "gradients from correct examples vanish")."""
    clean, wrong = squared_residuals(a, b, sigma)
    return noise_rate * wrong / (noise_rate * wrong + (1 - noise_rate) * clean)


def nonseparable_bound(num_samples: int, input_dim: int, noise_rate: float) -> float:
    """Liu et al., proof of Theorem 6: P[the noisy classes are not linearly separable] ≤
    2 P[Bin(n, Δ/2) ≤ n − p], with Δ/2 = noise_rate the share of wrong labels (≥ 1: no bound)."""
    return min(1.0, 2.0 * scipy.stats.binom.cdf(num_samples - input_dim, num_samples, noise_rate))


def linearly_separable(x_NxD, labels_N) -> bool:
    """Whether a θ (no bias) has ε_i θ·x_i ≥ 1 for all i, ε_i = ±1 from labels in {0, 1}: a linear program
    (Theorem 6's event; on separable data gradient descent on the logistic loss fits every label)."""
    signs = 1.0 - 2.0 * np.asarray(labels_N, np.float64)
    x = np.asarray(x_NxD, np.float64)
    result = scipy.optimize.linprog(np.zeros(x.shape[1]), A_ub=-signs[:, None] * x, b_ub=-np.ones(len(signs)),
                              bounds=(None, None), method="highs")
    return bool(result.status == 0)

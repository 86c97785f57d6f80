"""Per-class loss curves of two linear softmax models under gradient, sign and normalised flow.

Kunstner, Yadav, Milligan, Schmidt, Bietti (2024), "Heavy-Tailed Class Imbalance and Why Adam
Outperforms Gradient Descent on Language Models", continuous-time analysis of a simple imbalanced
linear softmax problem: under gradient flow ℓ_k(t) = Θ(1/(π_k t)), under sign flow the loss decays
at a rate that does not depend on π_k. They state these rates; the exact curves here (the margin
equation, the sign and normalised flows, time to threshold) are this module's own derivations on
the 'orthogonal' model, a separable problem of that kind. The 'unigram' model is not in their
analysis: it is this project's non-separable counterpart (its loss tends to −log π_k, as a
next-token model without context), and everything about it here is derived here.

Conventions shared by every function here (what a simulated History must match):
- `class_probs` π [C]: class frequencies N_k / N, normalised here to sum to 1. Classes keep the
  order they are given in (the project orders them by frequency, 0 = most frequent).
- Training objective: the mean cross-entropy over all samples, L = Σ_k π_k ℓ_k, no weight decay,
  no label smoothing, constant learning rate.
- "Loss of class k", ℓ_k: the mean over the samples of class k of −log softmax(logits)_k, i.e. a
  History's per_class_loss[m, l, k] (train split). Returned arrays are [T, C]: time × class.
- Time: continuous time t = learning_rate × step, for gradient descent (θ ← θ − η∇L), sign
  descent (θ ← θ − η sign ∇L) and normalised GD (θ ← θ − η ∇L/‖∇L‖, one global norm).
- Flows: 'gd' dθ/dt = −∇L; 'sign' dθ/dt = −sign(∇L) elementwise; 'normalized'
  dθ/dt = −∇L/‖∇L‖ (Frobenius norm over all parameters).

Models:
- 'orthogonal': logits = W x, W ∈ R^{C×C}, no bias, W(0) = 0; every sample of class k has input
  x = e_k. Column k of W only sees class k, so the problem splits into C problems.
- 'unigram': logits = w ∈ R^C for every sample (a bias-only model); w(0) = 0 unless
  `init_logits` is given. The optimum is softmax(w) = π, where ℓ_k = −log π_k, so the slow
  quantity is the excess loss ℓ_k + log π_k.
"""
import math

import numpy as np
import scipy  # its submodules load when first used
from scipy.special import logsumexp

from theory import checks

FLOWS = ("gd", "sign", "normalized")
MODELS = ("orthogonal", "unigram")

# Unigram gradient flow: a degree-7 polynomial for the normaliser on each step, a degree-6 one for
# the error estimate; error allowed per step in log softmax(w): _LOGP_TOL, or _EXCESS_RTOL times
# the largest |excess| once that is small (so that small excesses keep their relative accuracy).
_DEGREE = 7
_LOGP_TOL = 1e-9
_EXCESS_RTOL = 1e-6
# Below this |z| the functions J_m(z) come from a Taylor series (forward recurrence above it).
_SERIES_RADIUS = 2.0
_SERIES_TERMS = 18
_MAX_STEPS = 20000


# ----------------------------------------------------------------------------- orthogonal model


def orthogonal_gd_margin(scaled_time, num_classes):
    """Logit margin m = a − b of one class under gradient flow, as a function of s = π_k t.

    Derived here (exact solution of the orthogonal model; Kunstner et al. 2024 state the rate
    ℓ_k = Θ(1/(π_k t)) it implies, not this closed form). From W(0) = 0, column k of W keeps the form a e_k + b (1 − e_k). Gradient flow gives
    da/dt = π_k (1 − p), db/dt = −π_k (1 − p)/(C − 1), with p = 1/(1 + (C−1)e^{−m}), so
    dm/dt = π_k C / (e^m + C − 1) and, integrating from m = 0,

        e^m − 1 + (C − 1) m = C π_k t.

    Equivalently ℓ_k = log(1 + 1/ω(L)), L = (C π_k t + 1)/(C − 1) − log(C − 1), with ω the Wright
    omega function (ω + log ω = L; scipy.special.wrightomega), since e^m = (C − 1) ω(L). We solve
    expm1(m) + (C − 1) m = C s by Halley's method from the upper bound min(log1p(C s), C s/(C − 1)):
    4 iterations reach machine precision for every s ≥ 0 and C ≥ 2.
    """
    s = np.asarray(scaled_time, dtype=np.float64)
    c = int(num_classes)
    if c < 2:
        raise ValueError("num_classes must be >= 2")
    k = c - 1.0
    b = c * s
    finite = np.isfinite(b)
    if not np.all(finite):  # s = inf (normalised flow past τ ~ 1e308): m = inf, loss 0
        m = np.full(b.shape, np.inf)
        m[finite] = orthogonal_gd_margin(s[finite], c)
        return m
    m = np.minimum(np.log1p(b), b / k)
    for _ in range(4):
        em1 = np.expm1(m)
        f = em1 + k * m - b
        f1 = em1 + 1.0 + k
        ratio = f / f1
        m = m - ratio / (1.0 - 0.5 * ratio * (em1 + 1.0) / f1)
    return m


def _orthogonal_loss_from_margin(m, num_classes):
    return np.log1p((num_classes - 1.0) * np.exp(-m))


def orthogonal_gd_tail(class_probs, times):
    """Late-time law of the orthogonal model under gradient flow: ℓ_k(t) ≈ (C − 1)/(C π_k t).

    Kunstner et al. 2024 state ℓ_k = Θ(1/(π_k t)) under gradient flow; the constant (C − 1)/C and
    the error term are derived here. Exactly,
    ℓ_k = log(1 + (C−1)/(C π_k t + 1 − (C−1) m)) with m from `orthogonal_gd_margin`, so the relative
    error of the tail is O(log(C π_k t)/(π_k t)): it holds once π_k t ≫ log(C π_k t).
    Returns [T, C] (inf where π_k t = 0).
    """
    pi = checks.class_probs(class_probs, min_classes=2)
    t = checks.times(times)
    c = pi.size
    with np.errstate(divide="ignore"):
        return (c - 1.0) / (c * np.outer(t, pi))


def _orthogonal_scaled_gradnorm(u, pi):
    """(1 + τ)‖∇L‖_F on the gradient-flow path at gradient-flow time τ = e^u − 1 (zero init).

    Column k of ∇L is π_k (p_k − e_k) with true-class probability p_k and (1 − p_k)/(C − 1) on every
    other logit, so ‖∇L‖_F² = C/(C − 1) Σ_k π_k² (1 − p_k)². As τ → ∞, π_k (1 − p_k) τ → (C − 1)/C,
    so (1 + τ)‖∇L‖_F → √((C − 1) C₊ / C), C₊ the number of classes with π_k > 0; that limit is
    used past τ = e^600 (relative error < 1e-250).
    """
    c = pi.size
    if u > 600.0:
        return math.sqrt((c - 1.0) * np.count_nonzero(pi) / c)
    tau = math.expm1(u)
    m = orthogonal_gd_margin(pi * tau, c)
    one_minus_p = (c - 1.0) / (np.exp(m) + c - 1.0)
    return math.sqrt(c / (c - 1.0)) * float(np.linalg.norm((1.0 + tau) * pi * one_minus_p))


def _orthogonal_clock_end(pi):
    """u = log(1 + τ) past which (1 + τ)‖∇L‖_F equals its limit to ~1e-13 (every class in its tail)."""
    return 36.0 + math.log(1.0 / float(np.min(pi[pi > 0])))


def _orthogonal_normalized_log_tau(pi, times):
    """log(1 + τ(t)), τ the gradient-flow time reached by normalised flow at times t.

    dτ/dt = 1/‖∇L(τ)‖_F, integrated in u = log(1 + τ) with DOP853 (rtol 1e-9) up to the u where
    every class is in its 1/τ tail; from there on du/dt is constant (u grows linearly in t,
    τ like e^{t/√(C−1)}).
    """
    uniq, inv = np.unique(times, return_inverse=True)
    u_out = np.zeros_like(uniq)
    if uniq[-1] == 0:
        return u_out[inv]
    u_end = _orthogonal_clock_end(pi)
    event = lambda _, u: u[0] - u_end
    event.terminal = True
    sol = scipy.integrate.solve_ivp(lambda _, u: [1.0 / _orthogonal_scaled_gradnorm(u[0], pi)], (0.0, uniq[-1]),
                              [0.0], method="DOP853", t_eval=uniq, events=event, rtol=1e-9, atol=1e-13)
    if not sol.success:
        raise RuntimeError(f"normalised-flow integration failed: {sol.message}")
    n = sol.t.size
    u_out[:n] = sol.y[0]
    if n < uniq.size:
        t_end = float(sol.t_events[0][0])
        u_out[n:] = u_end + (uniq[n:] - t_end) / _orthogonal_scaled_gradnorm(u_end + 1.0, pi)
    return u_out[inv]


def orthogonal_per_class_loss(class_probs, times, flow="gd"):
    """Loss of each class of the orthogonal linear softmax model: [T, C].

    Kunstner et al. 2024's continuous-time rates (gd: Θ(1/(π_k t)); sign: independent of π_k) on
    the orthogonal model; the exact curves below, and the 'normalized' flow, are derived here.
    Model: logits W e_k for every sample of class k, W ∈ R^{C×C}, no bias, W(0) = 0, objective
    L = Σ_k π_k ℓ_k; ℓ_k(t) = −log softmax(W(t) e_k)_k = log(1 + (C − 1) e^{−m_k(t)}) with m_k the
    margin of the true logit over the C − 1 (equal) others. ℓ_k(0) = log C.

    - 'gd' (dW/dt = −∇L): m_k solves e^m − 1 + (C−1) m = C π_k t (see `orthogonal_gd_margin`), so
      ℓ_k is one universal function of π_k t, with tail (C − 1)/(C π_k t) (`orthogonal_gd_tail`).
      A class with π_k = 0 never moves.
    - 'sign' (dW/dt = −sign ∇L): the gradient of column k is −π_k(1 − p) on the true logit and
      +π_k(1 − p)/(C − 1) on the others, with 0 < p < 1 at all times, so its sign never changes:
      a = t, b = −t, m = 2t and ℓ_k = log(1 + (C − 1) e^{−2t}), the same for every π_k > 0.
      Discrete sign descent moves a by +η and b by −η at every step, so m_n = 2ηn and it lies on
      the flow at t = η·step exactly (not only to O(η)): the flow's velocity is constant along the
      path, so Euler steps are exact. Float32 simulations leave the curve once p rounds to 1
      (ℓ ≈ 1e-7): the true-logit gradient becomes 0 and m grows at rate 1 instead of 2.
    - 'normalized' (dW/dt = −∇L/‖∇L‖_F): the same path as gradient flow, run with the clock
      dt = ‖∇L(τ)‖_F dτ (τ: gradient-flow time), ‖∇L‖_F² = C/(C−1) Σ_k π_k² (1 − p_k)². So
      ℓ_k(t) = ℓ_gd(π_k τ(t)), τ(t) from dτ/dt = 1/‖∇L(τ)‖_F (DOP853, rtol 1e-9). The classes
      are coupled only through the global norm. Late, ‖∇L‖_F ≈ √(C−1)/τ, so τ ∝ e^{t/√(C−1)} and
      ℓ_k ≈ (C−1)/(C π_k τ(t)): the time to reach a loss ε grows like √(C−1)·log(1/(π_k ε)),
      logarithmically in 1/π_k (between GD's 1/π_k and sign flow's independence of π_k).

    Cost: 'gd' and 'sign' are closed form; 'normalized' integrates one scalar ODE whose right-hand
    side solves all C margins (~1 s of CPU for C = 10^4).
    """
    checks.choice("flow", flow, FLOWS)
    pi = checks.class_probs(class_probs, min_classes=2)
    t = checks.times(times)
    c = pi.size
    if flow == "gd":
        return _orthogonal_loss_from_margin(orthogonal_gd_margin(np.outer(t, pi), c), c)
    if flow == "sign":
        m = np.where(pi[None, :] > 0, 2.0 * t[:, None], 0.0)
        return _orthogonal_loss_from_margin(m, c)
    with np.errstate(over="ignore", invalid="ignore"):
        tau = np.expm1(_orthogonal_normalized_log_tau(pi, t))
        s = np.where(pi[None, :] > 0, np.outer(tau, pi), 0.0)
    return _orthogonal_loss_from_margin(orthogonal_gd_margin(s, c), c)


def _orthogonal_time_to_loss(pi, threshold, flow):
    c = pi.size
    if not threshold > 0:
        raise ValueError("threshold must be > 0 for the orthogonal model (its loss never reaches 0)")
    if threshold >= math.log(c):
        return np.zeros_like(pi)
    m_star = math.log(c - 1.0) - math.log(math.expm1(threshold))  # margin where ℓ = threshold
    if flow == "sign":
        return np.where(pi > 0, m_star / 2.0, np.inf)
    s_star = (math.expm1(m_star) + (c - 1.0) * m_star) / c  # π_k t at that margin
    with np.errstate(divide="ignore"):
        tau = np.where(pi > 0, s_star / pi, np.inf)
    if flow == "gd":
        return tau
    # normalised flow: t(τ_k) = ∫_0^{τ_k} ‖∇L(τ)‖_F dτ, integrated in u = log(1 + τ); constant
    # integrand past the clock end (see _orthogonal_normalized_log_tau).
    finite = np.isfinite(tau)
    uniq, inv = np.unique(np.log1p(tau[finite]), return_inverse=True)
    u_end = _orthogonal_clock_end(pi)
    inside = uniq <= u_end
    ends = np.concatenate([uniq[inside], [u_end]])
    sol = scipy.integrate.solve_ivp(lambda u, _: [_orthogonal_scaled_gradnorm(u, pi)], (0.0, ends[-1]), [0.0],
                              method="DOP853", t_eval=ends, rtol=1e-9, atol=1e-13)
    if not sol.success:
        raise RuntimeError(f"normalised-flow integration failed: {sol.message}")
    slope = _orthogonal_scaled_gradnorm(u_end + 1.0, pi)
    t_u = np.concatenate([sol.y[0][:-1], sol.y[0][-1] + (uniq[~inside] - u_end) * slope])
    out = np.full_like(pi, np.inf)
    out[finite] = t_u[inv]
    return out


# ----------------------------------------------------------------------------- unigram model


def _j_integrals(z, degree, sorted_desc=False):
    """J_m(z) = ∫_0^1 e^{(1−θ) z} θ^m dθ = m! φ_{m+1}(z) for m = 0..degree, z ≤ 0: [degree+1, n].

    |z| ≥ 2: forward recurrence J_0 = expm1(z)/z, J_m = (m J_{m−1} − 1)/z (relative error
    amplified by at most 8!/2^7 ≈ 300 for degree 7). |z| < 2: Taylor series of J_degree,
    J_d(z) = Σ_i d! z^i/(i + d + 1)!, then the stable backward recurrence J_{m−1} = (1 + z J_m)/m.
    With sorted_desc (|z| non-increasing) the two regimes are a prefix and a suffix (no copies).
    """
    n = z.size
    out = np.empty((degree + 1, n))
    if sorted_desc:
        split = int(np.searchsorted(-np.abs(z), -_SERIES_RADIUS, side="right"))
        large, small = slice(0, split), slice(split, n)
        any_large, any_small = split > 0, split < n
    else:
        large = np.abs(z) >= _SERIES_RADIUS
        small = ~large
        any_large, any_small = bool(large.any()), bool(small.any())
    if any_large:
        zl = z[large]
        j = np.expm1(zl) / zl
        out[0, large] = j
        for m in range(1, degree + 1):
            j = (m * j - 1.0) / zl
            out[m, large] = j
    if any_small:
        zs = z[small]
        coef = [math.factorial(degree) / math.factorial(i + degree + 1) for i in range(_SERIES_TERMS)]
        j = np.full(zs.shape, coef[-1])
        for a in reversed(coef[:-1]):
            j *= zs
            j += a
        out[degree, small] = j
        for m in range(degree, 0, -1):
            j = (1.0 + zs * j) / m
            out[m - 1, small] = j
    return out


class _UnigramGradientFlow:
    """Gradient flow dw/dt = π − softmax(w) of the bias-only model (see `unigram_per_class_loss`).

    Exact per class given the normaliser: with c(t) = logsumexp(w(t)) and x_k = e^{−w_k},
    dx_k/dt = −π_k x_k + e^{−c(t)} is linear. On a step [t_n, t_n + H], writing
    ψ(u) = e^{c(t_n) − c(t_n + u)} and p = softmax(w(t_n)):

        p_k(t_n + σ) = p_k ψ(σ) / r_k(σ),   r_k(σ) = e^{−π_k σ} + p_k ∫_0^σ e^{−π_k(σ−u)} ψ(u) du,

    and Σ_k p_k(t_n + σ) = 1 for all σ is one scalar equation for ψ. ψ is a polynomial of degree 7
    on each step, fixed by collocation at Chebyshev–Lobatto nodes (Newton on 7 unknowns); the
    integrals are exact (J_m functions), so classes with π_k H ≫ 1 (the stiff ones) cost nothing
    in accuracy. A degree-6 solution on the same step estimates the error; steps are accepted when
    the two differ by ≤ min(1e-9, 1e-6 · max_k |excess_k|) in every log p_k (absolute early, relative
    to the excess late), and grow geometrically once classes converge.
    Classes are sorted by decreasing π internally.
    """

    def __init__(self, pi, init_logits):
        self.order = np.argsort(-pi, kind="stable")
        self.pi = pi[self.order]
        self.log_pi = np.log(self.pi)
        w0 = np.asarray(init_logits, dtype=np.float64)[self.order]
        self.logp = w0 - logsumexp(w0)
        self.t = 0.0
        self.starts, self.widths, self.logps, self.coefs = [], [], [], []
        self.nodes = (1.0 - np.cos(np.arange(1, _DEGREE + 1) * np.pi / _DEGREE)) / 2.0
        p = np.exp(self.logp)
        self.width = 0.05 / max(float(np.max(self.pi)), float(np.max(p)))

    # -- one step ----------------------------------------------------------------------------
    def _kernels(self, sigma, width, degree):
        """E [n, C] = e^{−π σ_i}; G [n, degree+1, C] = ∫_0^{σ_i} e^{−π(σ_i − u)} (u/width)^m du."""
        e = np.empty((sigma.size, self.pi.size))
        g = np.empty((sigma.size, degree + 1, self.pi.size))
        for i, s in enumerate(sigma):
            z = -self.pi * s
            e[i] = np.exp(z)
            if s == 0.0:
                g[i] = 0.0
                continue
            jm = _j_integrals(z, degree, sorted_desc=True)
            scale = s * (s / width) ** np.arange(degree + 1)
            g[i] = jm * scale[:, None]
        return e, g

    def _collocate(self, p, e, g, nodes, degree, guess):
        """Newton for ψ's coefficients b (b_0 = 1) from Σ_k p_k(σ_i) = 1 at the given nodes.

        e, g: kernels at those nodes (columns m ≤ degree used). Returns (b, log p(end) − log p(start))
        at every node, [n, C] (the last node is the step end), or None if Newton fails.
        """
        g = g[:, : degree + 1, :]
        vander = nodes[:, None] ** np.arange(degree + 1)[None, :]
        b = np.zeros(degree + 1)
        b[0] = 1.0
        b[1 : len(guess) + 1] = guess[:degree]
        previous = np.inf
        for _ in range(30):
            r = e + p * np.matmul(b, g)
            if np.any(r <= 0):
                return None
            s = (p / r).sum(axis=1)
            psi = vander @ b
            res = psi * s - 1.0
            size = float(np.max(np.abs(res)))
            # converged to round-off: tiny, or no longer shrinking once small
            if size < 1e-15 or (size < 1e-11 and size > 0.25 * previous):
                break
            previous = size
            a = (p / r) ** 2
            jac = vander[:, 1:] * s[:, None] - psi[:, None] * np.matmul(g[:, 1:, :], a[:, :, None])[:, :, 0]
            try:
                b[1:] -= np.linalg.solve(jac, res)
            except np.linalg.LinAlgError:
                return None
        else:
            return None
        if np.any(psi <= 0):
            return None
        return b, np.log(psi)[:, None] - np.log(r)

    def step(self, t_stop=np.inf):
        """Take one accepted step (not beyond t_stop); returns its (start, width).

        ψ of degree 7 is collocated at the 7 Chebyshev–Lobatto nodes of the step; the error estimate
        is its distance to the degree-6 ψ collocated at 6 of the same nodes (the kernels are shared).
        """
        p = np.exp(self.logp)
        nodes = self.nodes
        low_rows = np.delete(np.arange(_DEGREE), _DEGREE // 2)
        grid = np.linspace(0.0, 1.0, 9)
        slope = -float(np.sum(p * (self.pi - p)))  # ψ'(0) = −dc/dt
        excess = float(np.max(np.abs(self.log_pi - self.logp)))
        tol = min(_LOGP_TOL, max(_EXCESS_RTOL * excess, 1e-14))
        while True:
            width = min(self.width, t_stop - self.t)
            e, g = self._kernels(nodes * width, width, _DEGREE)
            low = self._collocate(p, e[low_rows], g[low_rows], nodes[low_rows], _DEGREE - 1, [slope * width])
            high = None if low is None else self._collocate(p, e, g, nodes, _DEGREE, low[0][1:])
            ok = high is not None
            if ok:
                psi_low = np.polynomial.polynomial.polyval(grid, low[0])
                psi_high = np.polynomial.polynomial.polyval(grid, high[0])
                ok = np.all(psi_low > 0) and np.all(psi_high > 0)
            if not ok:
                self.width = width * 0.25
                if self.width < 1e-14 * max(self.t, 1.0):
                    raise RuntimeError("unigram gradient flow: step size underflow")
                continue
            err = max(float(np.max(np.abs(high[1][-1] - low[1][-1]))),
                      2.0 * float(np.max(np.abs(np.log(psi_high) - np.log(psi_low)))))
            factor = min(4.0, max(0.2, 0.9 * (tol / max(err, 1e-300)) ** (1.0 / _DEGREE)))
            if err <= tol:
                break
            self.width = width * factor
            if self.width < 1e-14 * max(self.t, 1.0):
                raise RuntimeError("unigram gradient flow: step size underflow")
        landing = width >= t_stop - self.t
        self.starts.append(self.t)
        self.widths.append(width)
        self.logps.append(self.logp)
        self.coefs.append(high[0])
        self.node_logp = self.logp[None, :] + high[1]  # log p at starts[-1] + nodes * width
        self.logp = self.node_logp[-1] - logsumexp(self.node_logp[-1])
        self.t = t_stop if landing else self.t + width
        # a step shortened to land on t_stop says nothing about how long the next one may be
        self.width = width * factor if width >= self.width else min(self.width, width * factor)
        return self.starts[-1], width

    def run_to(self, t_end):
        while self.t < t_end:
            self.step(t_end)
            if len(self.starts) > _MAX_STEPS:
                raise RuntimeError("unigram gradient flow: too many steps")

    # -- dense output -------------------------------------------------------------------------
    def logp_in_step(self, n, sigma):
        """log softmax(w) at times starts[n] + sigma (sigma: [k] within the step): [k, C] (sorted classes)."""
        sigma = np.asarray(sigma, dtype=np.float64)
        b, width, logp0 = self.coefs[n], self.widths[n], self.logps[n]
        e, g = self._kernels(sigma, width, _DEGREE)
        r = e + np.exp(logp0) * np.matmul(b, g)
        psi = np.polynomial.polynomial.polyval(sigma / width, b)
        return logp0[None, :] + np.log(psi)[:, None] - np.log(r)

    def logp_classes(self, steps, sigma, classes):
        """log p_k at times starts[steps] + sigma, one class each (arrays [K], sorted classes): [K]."""
        steps, classes = np.asarray(steps), np.asarray(classes)
        sigma = np.asarray(sigma, dtype=np.float64)
        coefs = np.asarray(self.coefs)[steps]  # [K, d+1]
        width = np.asarray(self.widths)[steps]
        logp0 = np.asarray(self.logps)[steps, classes]
        z = -self.pi[classes] * sigma
        jm = _j_integrals(z, _DEGREE)  # [d+1, K]
        powers = (sigma / width)[None, :] ** np.arange(_DEGREE + 1)[:, None]  # [d+1, K]
        integral = sigma * np.sum(coefs.T * powers * jm, axis=0)
        r = np.exp(z) + np.exp(logp0) * integral
        psi = np.sum(coefs.T * powers, axis=0)
        return logp0 + np.log(psi) - np.log(r)

    def logp_at(self, times):
        """log softmax(w(t)) for sorted classes, t ≤ self.t: [T, C]."""
        out = np.empty((times.size, self.pi.size))
        starts = np.asarray(self.starts)
        idx = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, None)
        for n in np.unique(idx):
            sel = np.nonzero(idx == n)[0]
            if len(self.starts) == 0:
                out[sel] = self.logp
                continue
            sigma = np.minimum(times[sel] - starts[n], self.widths[n])
            out[sel] = self.logp_in_step(n, sigma)
        return out

    def unsort(self, arr):
        out = np.empty_like(arr)
        out[..., self.order] = arr
        return out


def _unigram_init(pi, init_logits):
    if init_logits is None:
        return np.zeros_like(pi)
    w0 = np.asarray(init_logits, dtype=np.float64)
    if w0.shape != pi.shape or not np.all(np.isfinite(w0)):
        raise ValueError(f"init_logits must be finite with shape {pi.shape}, got {w0.shape}")
    return w0


def _unigram_gd_logp(pi, w0, t):
    flow = _UnigramGradientFlow(pi, w0)
    order = np.argsort(t)
    flow.run_to(float(t[order[-1]]))
    out = np.empty((t.size, pi.size))
    out[order] = flow.logp_at(t[order])
    return flow.unsort(out)


# -- sign flow: exact piecewise solution ----------------------------------------------------


class _UnigramSignFlow:
    """Filippov solution of dw/dt = sign(π − softmax(w)), in closed form between events.

    Classes with p_k < π_k ("up") move at +1, those with p_k > π_k ("down") at −1, and a class
    that reaches p_k = π_k slides on that surface (w_k = c + log π_k, c = logsumexp w). With
    A_U = Σ_{free up} e^{w_k(0)}, A_D = Σ_{free down} e^{w_k(0)} and Π = Σ_{free} π_k,
    e^{c(t)} = (A_U e^t + A_D e^{−t}) / Π. A free up-class has log p_k = w_k(0) + X(t) with
    X = t − c = log Π − log(A_U + A_D e^{−2t}) increasing; a down-class log p_k = w_k(0) + Y(t),
    Y = −t − c = log Π − log(A_U e^{2t} + A_D) decreasing. So up-classes reach their target in
    increasing order of a_k = log π_k − w_k(0), down-classes in decreasing order, each event time
    solving a linear equation in e^{2t}. Since Σ_free (p_k − π_k) = 0, the last up- and down-classes
    slide together.
    """

    def __init__(self, pi, w0):
        self.pi = pi
        self.w0 = w0 - np.max(w0)
        logp0 = self.w0 - logsumexp(self.w0)
        self.a = np.log(pi) - self.w0
        gap = np.log(pi) - logp0
        self.up = gap > 1e-13
        self.down = gap < -1e-13
        up_idx = np.nonzero(self.up)[0]
        down_idx = np.nonzero(self.down)[0]
        up_idx = up_idx[np.argsort(self.a[up_idx], kind="stable")]
        down_idx = down_idx[np.argsort(-self.a[down_idx], kind="stable")]
        ew = np.exp(self.w0)
        # suffix sums over the still-free classes (no cancellation)
        au = np.concatenate([np.cumsum(ew[up_idx][::-1])[::-1], [0.0]])
        ad = np.concatenate([np.cumsum(ew[down_idx][::-1])[::-1], [0.0]])
        pu = np.concatenate([np.cumsum(pi[up_idx][::-1])[::-1], [0.0]])
        pd = np.concatenate([np.cumsum(pi[down_idx][::-1])[::-1], [0.0]])
        self.slide_time = np.zeros(pi.size)  # classes on target at t = 0 slide from the start
        # states: (A_U, A_D, Π) valid from event_times[j] on
        event_times, states = [0.0], [(au[0], ad[0], pu[0] + pd[0])]
        iu = idn = 0
        nu, nd = up_idx.size, down_idx.size
        t = 0.0
        while iu < nu and idn < nd:
            a_u, a_d, pf = au[iu], ad[idn], pu[iu] + pd[idn]
            # X(t) = a_up: e^{-2t} = (Π e^{−a} − A_U)/A_D ; Y(t) = a_down: e^{2t} = (Π e^{−a} − A_D)/A_U
            ku, kd = up_idx[iu], down_idx[idn]
            xu = (pf * math.exp(-self.a[ku]) - a_u) / a_d
            tu = -0.5 * math.log(xu) if xu > 0 else np.inf
            xd = (pf * math.exp(-self.a[kd]) - a_d) / a_u
            td = 0.5 * math.log(xd) if xd > 0 else np.inf
            if tu <= td:
                t = max(t, tu)
                self.slide_time[ku] = t
                iu += 1
            else:
                t = max(t, td)
                self.slide_time[kd] = t
                idn += 1
            event_times.append(t)
            states.append((au[iu], ad[idn], pu[iu] + pd[idn]))
        # one side is exhausted: the rest of the other side is on target at the same moment
        self.slide_time[up_idx[iu:]] = t
        self.slide_time[down_idx[idn:]] = t
        self.end_time = t
        self.event_times = np.asarray(event_times)
        self.states = np.asarray(states)

    def _state(self, t):
        j = np.searchsorted(self.event_times, t, side="right") - 1
        return self.states[j].T  # A_U, A_D, Π (each [T])

    def logp_at(self, t):
        a_u, a_d, pf = self._state(t)
        out = np.broadcast_to(np.log(self.pi), (t.size, self.pi.size)).copy()
        live = (t < self.end_time) & (a_u > 0) & (a_d > 0)
        if np.any(live):
            tl = t[live][:, None]
            x = np.log(pf[live])[:, None] - np.log(a_u[live][:, None] + a_d[live][:, None] * np.exp(-2 * tl))
            logp = np.where(self.up[None, :], self.w0[None, :] + x, self.w0[None, :] + x - 2 * tl)
            slid = self.slide_time[None, :] <= tl
            moving = (self.up | self.down)[None, :] & ~slid
            out[live] = np.where(moving, logp, out[live])
        return out

    def time_to_excess(self, threshold):
        """First time with |ℓ_k + log π_k| ≤ threshold; the approach is monotone, so it stays there."""
        out = np.zeros(self.pi.size)
        if self.event_times.size < 2:
            return out
        starts = self.event_times[:-1]
        a_u, a_d, pf = self.states[:-1].T
        # X = t − c at the start of each interval (non-decreasing), Y = −t − c (non-increasing)
        x_start = np.log(pf) - np.log(a_u + a_d * np.exp(-2 * starts))
        y_start = x_start - 2 * starts
        with np.errstate(divide="ignore", invalid="ignore"):
            for mask, sign in ((self.up, 1.0), (self.down, -1.0)):
                idx = np.nonzero(mask)[0]
                if idx.size == 0:
                    continue
                # up: excess = a_k − X, reached when X = a_k − thr; down: −excess = Y − a_k, Y = a_k + thr
                target = self.a[idx] - sign * threshold
                if sign > 0:
                    j = np.searchsorted(x_start, target, side="right") - 1
                else:
                    j = np.searchsorted(-y_start, -target, side="right") - 1
                j = np.clip(j, 0, starts.size - 1)
                if sign > 0:
                    x = (pf[j] * np.exp(-target) - a_u[j]) / a_d[j]
                    t_hit = -0.5 * np.log(x)
                else:
                    x = (pf[j] * np.exp(-target) - a_d[j]) / a_u[j]
                    t_hit = 0.5 * np.log(x)
                t_hit = np.where(np.isfinite(t_hit), np.maximum(t_hit, starts[j]), np.inf)
                out[idx] = np.minimum(t_hit, self.slide_time[idx])
        return out


# -- normalised flow: gradient flow re-timed by arclength -----------------------------------

def _arclength_steps(flow, on_step=None):
    """Run gradient flow to ‖π − p‖ < 1e-13, integrating ‖π − p‖ over each step.

    ‖π − p‖ is known at the step start and at the 7 collocation nodes, which together are the
    Chebyshev–Lobatto points of degree 7; it is integrated through that interpolant. Returns
    per-step antiderivatives S_n(σ) (S_n(0) = 0) and the cumulative arclength at step
    boundaries [n_steps + 1]. on_step(n) is called after each step.
    """
    x = np.concatenate([[0.0], flow.nodes])
    antiderivs, lengths = [], [0.0]
    gnorm = float(np.linalg.norm(flow.pi - np.exp(flow.logp)))
    while gnorm > 1e-13:
        g0 = gnorm
        _, width = flow.step()
        norms = np.concatenate([[g0], np.linalg.norm(flow.pi[None, :] - np.exp(flow.node_logp), axis=1)])
        gnorm = float(norms[-1])
        cheb = np.polynomial.Chebyshev.fit(x * width, norms, deg=_DEGREE, domain=[0.0, width])
        antiderivs.append(cheb.integ(lbnd=0.0))
        lengths.append(lengths[-1] + float(antiderivs[-1](width)))
        if on_step is not None:
            on_step(len(flow.starts) - 1)
        if len(flow.starts) > _MAX_STEPS:
            raise RuntimeError("unigram normalised flow: too many steps")
    return antiderivs, np.asarray(lengths)


def _unigram_normalized_logp(pi, w0, t):
    flow = _UnigramGradientFlow(pi, w0)
    antiderivs, lengths = _arclength_steps(flow)
    out = np.empty((t.size, pi.size))
    for i, ti in enumerate(t):
        if ti >= lengths[-1]:
            out[i] = flow.logp
            continue
        n = int(np.searchsorted(lengths, ti, side="right")) - 1
        target = ti - lengths[n]
        sigma = scipy.optimize.brentq(lambda s: antiderivs[n](s) - target, 0.0, flow.widths[n],
                                xtol=1e-300, rtol=4 * np.finfo(float).eps)
        out[i] = flow.logp_in_step(n, [sigma])[0]
    return flow.unsort(out)


def _scan_step(flow, n, log_pi, threshold, last, samples):
    """Record, per class, the last sample of step n (its 7 nodes) where |excess| > threshold."""
    exc = np.abs(log_pi[None, :] - flow.node_logp)
    for j, c in enumerate(flow.nodes):
        samples.append((n, c * flow.widths[n]))
        last[exc[j] > threshold] = len(samples) - 1
    return float(np.max(exc[-1]))


def _refine_crossings(flow, log_pi, threshold, last, samples):
    """Gradient-flow time of the last crossing of |excess| = threshold, per class (bisection)."""
    out = np.zeros(log_pi.size)
    classes = np.nonzero(last >= 0)[0]
    if classes.size == 0:
        return out
    hi_samples = [samples[i + 1] for i in last[classes]]
    steps = np.array([n for n, _ in hi_samples])
    hi = np.array([s for _, s in hi_samples])
    lo = np.array([samples[i][1] if samples[i][0] == n else 0.0 for i, n in zip(last[classes], steps)])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = np.abs(log_pi[classes] - flow.logp_classes(steps, mid, classes)) > threshold
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    out[classes] = np.asarray(flow.starts)[steps] + hi
    return out


def _unigram_gd_time_to_excess(pi, w0, threshold, normalized):
    """Last time |excess_k| > threshold under gradient flow, or normalised flow via arclength.

    Gradient flow is stepped until every |excess| < threshold/10 at a step end (linearised, the
    coupling can then move a class by at most Σ_j π_j |e_j| < threshold/10); |excess| is sampled
    at the 7 collocation nodes of every step and the last crossing is bisected on the dense
    solution. A dip below the
    threshold and back between two samples would be missed.
    """
    flow = _UnigramGradientFlow(pi, w0)
    log_pi = np.log(flow.pi)
    last = np.where(np.abs(log_pi - flow.logp) > threshold, 0, -1)
    samples = [(0, 0.0)]
    if normalized:
        antiderivs, lengths = _arclength_steps(
            flow, on_step=lambda n: _scan_step(flow, n, log_pi, threshold, last, samples))
    else:
        while not flow.starts or np.max(np.abs(log_pi - flow.logp)) >= threshold / 10.0:
            flow.step()
            _scan_step(flow, len(flow.starts) - 1, log_pi, threshold, last, samples)
            if len(flow.starts) > _MAX_STEPS:
                raise RuntimeError("unigram gradient flow: too many steps before the threshold")
    tau = _refine_crossings(flow, log_pi, threshold, last, samples)
    if not normalized:
        return flow.unsort(tau)
    starts = np.asarray(flow.starts)
    t_norm = np.zeros_like(tau)
    for k in np.nonzero(tau > 0)[0]:
        n = int(np.searchsorted(starts, tau[k], side="right")) - 1
        t_norm[k] = lengths[n] + float(antiderivs[n](tau[k] - starts[n]))
    return flow.unsort(t_norm)


def unigram_per_class_loss(class_probs, times, flow="gd", init_logits=None):
    """Loss ℓ_k = −log softmax(w(t))_k of each class of the bias-only (unigram) model: [T, C].

    Not in Kunstner et al. 2024: this project's bias-only counterpart of their orthogonal model
    (non-separable: ℓ_k tends to −log π_k, not 0); the flows below are derived here.
    Logits w ∈ R^C for every sample, w(0) = init_logits (default 0, i.e. p = 1/C), objective
    L(w) = −Σ_k π_k log softmax(w)_k, gradient ∇L = softmax(w) − π. ℓ_k → −log π_k; the excess
    loss ℓ_k + log π_k = log(π_k/p_k) is what converges slowly. It can be negative: at uniform init
    a class with π_k < 1/C starts below its floor and its loss *rises* to −log π_k.

    - 'gd' (dw/dt = π − p): integrated exactly class by class given the normaliser (see
      _UnigramGradientFlow; float64; agrees with LSODA/DOP853 references at rtol 1e-11 to
      ~1e-10 in ℓ_k; small excesses keep ~1e-6 relative accuracy down to ~1e-9, below which the
      float64 resolution of log p_k, ~1e-16·|log p_k|, takes over). Early on a rare class
      (π_k < 1/C) falls hyperbolically, dp_k/dt ≈ −p_k² while p_k ≫ π_k, which takes a time
      ~1/π_k. Late-time law: near p = π the Hessian is H = diag(π) − ππᵀ and the excess vector e
      (e_k = ℓ_k + log π_k; Σ_k π_k e_k = 0 to first order) obeys
          de_k/dt = −π_k e_k + Σ_j π_j² e_j,   i.e.  de/dt = −(I − 1πᵀ) diag(π) e.
      Its decay rates are the nonzero eigenvalues of H, which interlace the sorted π
      (π_(1) ≤ λ_1 ≤ π_(2) ≤ … ≤ λ_{C−1} ≤ π_(C)); the mode of rate λ has components
      v_i ∝ 1/(π_i − λ). For a dense (Zipf-like) spectrum the mode of a rare class k has λ ≈ π_k
      and sits mostly on class k, so its excess decays like e^{−π_k t}; the rarest class decays at
      exactly λ_1 ∈ [π_min, π_(2)]. A frequent class relaxes fast and is then slaved to the slow
      modes (amplitude ∝ 1/π_i), so in the end every excess decays at the rate of the slowest
      class. Consequence for `time_to_loss`: the time to excess ε grows with 1/π_k, but its
      log-log slope against π_k is shallower than −1 and flattens as ε → 0 (measured for C = 64,
      Zipf exponent 1, classes with π_k < 1/C: −0.38 at ε = 1e-2, −0.22 at ε = 1e-6), unlike the
      orthogonal model's exact −1.
    - 'sign' (dw/dt = sign(π − p), Filippov solution, closed form between events; see
      _UnigramSignFlow): each free logit moves at unit speed towards its target and a class whose
      p_k reaches π_k stays there (excess exactly 0). From uniform init all free "up" classes
      (p_k < π_k) share one probability p_U(t), all free "down" classes one p_D(t), with
      p_U/p_D = e^{2t}; since |dc/dt| ≤ 1 and a free down class implies a free up class,
          ½ log(1/(C π_k)) ≤ t_k ≤ ½ log(π_max/π_k)   for π_k < 1/C,
          ½ log(C π_k)     ≤ t_k ≤ ½ log(π_k/π_min)   for π_k > 1/C,
      and every class is on its floor by ½ log(π_max/π_min): logarithmic in the frequencies.
      Discrete sign descent equals the flow at t = η·step until the first class arrives;
      afterwards the arrived logits flip sign step after step around their target, so the
      discrete excess keeps a floor of order η instead of 0. Measured (Zipf 1, C = 8–256): the
      discrete loss stays within ~3η of the flow except within ±0.1 of the final landing time
      ½ log(π_max/π_min), where the last classes arrive together and the gap shrinks only like √η
      (0.035 at η = 2e-3, C = 64); after it, within ~1η (the floor).
    - 'normalized' (dw/dt = (π − p)/‖π − p‖): the gradient-flow path re-timed by its arclength,
      t(τ) = ∫_0^τ ‖π − p‖ dτ'. That length is finite, so every class reaches its floor by the
      finite time L_∞ = t(∞) (and does so together, in the order gradient flow reaches it);
      past L_∞ the returned state is the optimum up to ‖π − p‖ < 1e-13. Discrete normalised GD
      instead oscillates around the optimum at a distance ~η once t ≈ L_∞.
    """
    checks.choice("flow", flow, FLOWS)
    pi = checks.class_probs(class_probs, min_classes=2, positive=True)
    t = checks.times(times)
    w0 = _unigram_init(pi, init_logits)
    if flow == "gd":
        logp = _unigram_gd_logp(pi, w0, t)
    elif flow == "sign":
        logp = _UnigramSignFlow(pi, w0).logp_at(t)
    else:
        logp = _unigram_normalized_logp(pi, w0, t)
    return -logp


def unigram_excess_loss(class_probs, times, flow="gd", init_logits=None):
    """ℓ_k(t) + log π_k for the unigram model: [T, C] (→ 0; see `unigram_per_class_loss`)."""
    pi = checks.class_probs(class_probs, min_classes=2, positive=True)
    return unigram_per_class_loss(pi, times, flow, init_logits) + np.log(pi)[None, :]


def time_to_loss(class_probs, threshold, flow="gd", model="orthogonal", init_logits=None):
    """Time at which each class reaches a loss threshold: [C] (inf if never).

    The times behind Kunstner et al. 2024's rates, derived here. Orthogonal model: exactly
    t_k ∝ 1/π_k under 'gd' (log-log slope −1), independent of π_k under 'sign' (slope 0),
    ~√(C−1) log(1/(π_k ε)) under 'normalized'. Unigram model: see `unigram_per_class_loss` (the
    'gd' slope is shallower than −1 because the classes are coupled through the normaliser;
    'sign' times are logarithmic in the frequencies).
    - model='orthogonal': first t with ℓ_k(t) ≤ threshold (ℓ_k decreases from log C to 0; 0 if
      threshold ≥ log C). Closed form for 'gd' (t_k = s*/π_k with s* from the margin equation)
      and 'sign' (t_k = m*/2, m* = log(C−1) − log(e^threshold − 1)); one quadrature for
      'normalized'. threshold must be > 0.
    - model='unigram': the time after which the excess |ℓ_k + log π_k| stays ≤ threshold for good
      (the excess need not be monotone). 'sign' is exact and allows threshold = 0 (the time the
      class lands on its floor). 'gd'/'normalized' scan the integrated path (7 samples per step),
      bisect the last crossing on the dense solution, and stop once every |excess| <
      threshold/10; threshold must be > 0.
    Time unit: t = learning_rate × step.
    """
    checks.choice("flow", flow, FLOWS)
    checks.choice("model", model, MODELS)
    threshold = float(threshold)
    if not threshold >= 0:
        raise ValueError("threshold must be >= 0")
    if model == "orthogonal":
        return _orthogonal_time_to_loss(checks.class_probs(class_probs, min_classes=2), threshold, flow)
    pi = checks.class_probs(class_probs, min_classes=2, positive=True)
    w0 = _unigram_init(pi, init_logits)
    if flow == "sign":
        return _UnigramSignFlow(pi, w0).time_to_excess(threshold)
    if not threshold > 0:
        raise ValueError("threshold must be > 0 for unigram 'gd'/'normalized' (their floor is reached as t → ∞)")
    return _unigram_gd_time_to_excess(pi, w0, threshold, normalized=(flow == "normalized"))

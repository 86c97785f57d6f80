"""Checks of theory/collapse.py against exact identities and direct numerical minimisation.

Tolerances are set from measured errors (noted next to each) with a margin of >= 3x, except the
normalised-GD runs, whose error depends on the seed and still shrinks with steps: there the
largest over the seeds tested, with >= 1.5x.
"""

import numpy as np
import pytest
import scipy.optimize
import scipy.special

from theory import collapse as tc


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_blas():
    """These tests do thousands of tiny matrix products: multithreaded OpenBLAS on a
    shared 2-core machine made them ~50x slower (measured), so pin BLAS to one thread."""
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield


# ----------------------------------------------------------------------------- helpers


def _ce_direction(z_CxN, labels, sample_weights):
    """dL/dZ for L = Σ_i w_i CE(Z[:, i], y_i), rescaled so its largest entry is 1.

    Computed in log space, so the direction stays exact when the loss underflows
    (normalised GD drives margins to hundreds within a few thousand steps).
    """
    idx = np.arange(z_CxN.shape[1])
    logp = z_CxN - scipy.special.logsumexp(z_CxN, axis=0)
    log_off = logp.copy()
    log_off[labels, idx] = -np.inf
    log_mag = log_off.copy()
    log_mag[labels, idx] = scipy.special.logsumexp(log_off, axis=0)  # log(1 − p_y)
    log_mag += np.log(sample_weights)[None, :]
    g = np.exp(log_mag - log_mag.max())
    g[labels, idx] *= -1.0
    return g


def _normalized_gd_ufm(class_counts, dim, steps, lr, per_class_features=False, seed=0):
    """Normalised GD on the unregularised cross-entropy UFM; returns (W [C, d], class means [C, d])."""
    counts = np.asarray(class_counts)
    c = counts.size
    rng = np.random.default_rng(seed)
    if per_class_features:  # one feature per class, loss weighted by n_k, plain GD metric.
        labels, weights, n_feat = np.arange(c), counts.astype(float), c
    else:  # one feature per sample.
        labels = np.repeat(np.arange(c), counts)
        weights, n_feat = np.ones(labels.size), labels.size
    w = 0.1 * rng.normal(size=(c, dim))
    h = 0.1 * rng.normal(size=(dim, n_feat))
    for _ in range(steps):
        g = _ce_direction(w @ h, labels, weights)
        g_w, g_h = g @ h.T, w.T @ g
        norm = np.sqrt(np.sum(g_w**2) + np.sum(g_h**2))
        w -= lr * g_w / norm
        h -= lr * g_h / norm
    means = np.stack([h[:, labels == k].mean(axis=1) for k in range(c)])
    return w, means


# ----------------------------------------------------------------------------- Grams, ETF


@pytest.mark.parametrize("c", [2, 3, 5, 10])
def test_simplex_etf_gram_properties(c):
    g = tc.simplex_etf_gram(c)
    off = g[~np.eye(c, dtype=bool)]
    np.testing.assert_allclose(np.diag(g), 1.0, atol=1e-14)
    np.testing.assert_allclose(off, -1.0 / (c - 1), atol=1e-14)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-13)
    assert np.linalg.matrix_rank(g, tol=1e-10) == c - 1
    for dim in (c - 1, c + 3):
        x = tc.simplex_etf(c, dim)
        assert x.shape == (c, dim)
        np.testing.assert_allclose(tc.gram(x), g, atol=1e-12)
    with pytest.raises(ValueError):
        tc.simplex_etf(c, c - 2)


def test_gram_helpers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5, 4))  # batch axes [2, 3], C=5, D=4
    g = tc.gram(x)
    assert g.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(np.linalg.norm(tc.normalized_gram(x), axis=(-2, -1)), 1.0, atol=1e-13)
    np.testing.assert_allclose(tc.gram_distance(g, 7.0 * g), 0.0, atol=1e-13)
    d = tc.gram_distance(g, tc.simplex_etf_gram(5))
    assert d.shape == (2, 3) and np.all(d > 0) and np.all(d <= 2.0)
    assert tc.gram_distance(np.zeros((3, 3)), tc.simplex_etf_gram(3)) == pytest.approx(1.0)
    # center_gram == Gram of explicitly centred vectors (unweighted and weighted means).
    m = rng.normal(size=(5, 4))
    weights = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    np.testing.assert_allclose(tc.center_gram(tc.gram(m)), tc.gram(m - m.mean(0)), atol=1e-12)
    mc = m - (weights / weights.sum()) @ m
    np.testing.assert_allclose(tc.center_gram(tc.gram(m), weights), tc.gram(mc), atol=1e-12)
    np.testing.assert_allclose(np.diag(tc.cosines(tc.gram(m))), 1.0, atol=1e-14)


# ----------------------------------------------------------------------------- SELI


@pytest.mark.parametrize("c,n", [(2, 1), (3, 7), (5, 2), (10, 100)])
def test_seli_balanced_is_simplex_etf(c, n):
    seli = tc.seli_geometry(np.full(c, n))
    etf = tc.simplex_etf_gram(c)
    assert tc.gram_distance(seli.classifier_gram, etf) <= 1e-10  # measured ~1e-15
    assert tc.gram_distance(seli.class_mean_gram, etf) <= 1e-10


@pytest.mark.parametrize("counts", [[5, 5, 1, 1], [20, 5, 2, 1], [3, 1, 1]])
def test_seli_matches_explicit_svd_of_sel_matrix(counts):
    counts = np.asarray(counts)
    z = tc.simplex_encoded_labels(counts)  # [C, N]
    u, s, vt = np.linalg.svd(z, full_matrices=False)
    r = counts.size - 1
    g_w = (u[:, :r] * s[:r]) @ u[:, :r].T
    g_h = (vt[:r].T * s[:r]) @ vt[:r]  # [N, N]
    first = np.r_[0, np.cumsum(counts)[:-1]]  # one sample per class
    seli = tc.seli_geometry(counts)
    np.testing.assert_allclose(seli.classifier_gram, g_w, atol=1e-10)
    np.testing.assert_allclose(seli.class_mean_gram, g_h[np.ix_(first, first)], atol=1e-10)
    np.testing.assert_allclose(seli.singular_values, s[:r], rtol=1e-10)
    # Embeddings collapse within class: V Λ Vᵀ is constant on class blocks.
    labels = np.repeat(np.arange(counts.size), counts)
    np.testing.assert_allclose(g_h, seli.class_mean_gram[np.ix_(labels, labels)], atol=1e-10)
    # Centred on the unweighted mean of class means, not on the per-sample mean.
    np.testing.assert_allclose(seli.class_mean_gram.sum(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(seli.classifier_gram.sum(axis=1), 0.0, atol=1e-10)
    assert np.abs(seli.class_mean_gram @ counts).max() > 1e-3
    # Invariant (after normalisation) to scaling the counts into frequencies.
    freq = tc.seli_geometry(counts / counts.sum())
    assert tc.gram_distance(freq.classifier_gram, seli.classifier_gram) <= 1e-12
    assert tc.gram_distance(freq.class_mean_gram, seli.class_mean_gram) <= 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_normalized_gd_on_imbalanced_ufm_reaches_seli(seed):
    counts = np.array([20, 5, 2, 1])
    seli = tc.seli_geometry(counts)
    etf = tc.simplex_etf_gram(4)
    # SELI is far from the ETF here (0.45 for W, 0.41 for the class means).
    assert tc.gram_distance(seli.classifier_gram, etf) > 0.4
    assert tc.gram_distance(seli.class_mean_gram, etf) > 0.4
    w, means = _normalized_gd_ufm(counts, dim=6, steps=1500, lr=0.05, seed=seed)
    # Measured after 1500 steps, seeds 0 / 1 / 2 / 3: W 0.0029 / 0.0043 / 0.0051 / 0.0041, class
    # means 0.0024 each (after 1000 steps: 0.0053 / 0.0055); asserted 0.01 and 0.0075.
    assert tc.gram_distance(tc.gram(w), seli.classifier_gram) <= 0.01
    assert tc.gram_distance(tc.gram(means), seli.class_mean_gram) <= 0.0075


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_class_features_without_multiplicity_reach_etf_not_seli(seed):
    # Documented convention: SELI needs per-sample features; per-class features with an
    # n_k-weighted loss and a plain GD metric go to the ETF (max-margin ignores weights).
    counts = np.array([20, 5, 2, 1])
    w, means = _normalized_gd_ufm(counts, dim=6, steps=1500, lr=0.05, per_class_features=True, seed=seed)
    etf = tc.simplex_etf_gram(4)
    # measured seeds 0 / 1 / 2 / 3: 0.0015 / 0.0019 / 0.0067 / 0.0048 (still converging at 1500 steps)
    assert tc.gram_distance(tc.gram(w), etf) <= 0.01
    assert tc.gram_distance(tc.gram(w), tc.seli_geometry(counts).classifier_gram) > 0.4


# ----------------------------------------------------------------------------- square loss


def _square_loss_numeric(counts, dim, lam_w, lam_h, lam_b, seed=0, restarts=2):
    """Direct L-BFGS minimisation of the per-sample square-loss UFM objective."""
    c, n_total = counts.size, int(counts.sum())
    labels = np.repeat(np.arange(c), counts)
    targets = np.eye(c)[labels]
    n_w, n_h = c * dim, n_total * dim

    def fun(theta):
        w = theta[:n_w].reshape(c, dim)
        h = theta[n_w:n_w + n_h].reshape(n_total, dim)
        b = theta[n_w + n_h:] if lam_b is not None else np.zeros(c)
        resid = h @ w.T + b - targets
        f = 0.5 / n_total * np.sum(resid**2) + 0.5 * lam_w * np.sum(w**2) + 0.5 * lam_h * np.sum(h**2)
        g = resid / n_total
        grad_b = g.sum(0)
        if lam_b:
            f += 0.5 * lam_b * np.sum(b**2)
            grad_b = grad_b + lam_b * b
        if lam_b is None:
            grad_b = np.zeros(c)
        return f, np.concatenate([(g.T @ h + lam_w * w).ravel(), (g @ w + lam_h * h).ravel(), grad_b])

    rng = np.random.default_rng(seed)
    best = None
    for _ in range(restarts):
        res = scipy.optimize.minimize(
            fun, 0.5 * rng.normal(size=n_w + n_h + c), jac=True, method="L-BFGS-B",
            options=dict(maxiter=20000, ftol=1e-15, gtol=1e-12),
        )
        best = res if best is None or res.fun < best.fun else best
    w = best.x[:n_w].reshape(c, dim)
    h = best.x[n_w:n_w + n_h].reshape(n_total, dim)
    means = np.stack([h[labels == k].mean(0) for k in range(c)])
    return best.fun, tc.gram(w), tc.gram(means)


@pytest.mark.parametrize(
    "counts,bias,lam_b,lam",
    [
        ([3, 3, 3], "none", None, 1e-2),
        ([3, 3, 3], "free", 0.0, 1e-2),
        ([3, 3, 3], 0.5, 0.5, 2e-2),
        ([6, 3, 1], "none", None, 1e-2),
        ([6, 3, 1], "none", None, 0.1),  # class 2 (n=1) at zero: n_k <= N² λ_W λ_H
        ([6, 3, 1], "free", 0.0, 1e-2),
    ],
)
def test_square_loss_closed_form_matches_numerical_minimum(counts, bias, lam_b, lam):
    counts = np.asarray(counts)
    lam_w, lam_h = lam, 2 * lam
    sol = tc.ufm_square_loss(counts, lam_w, lam_h, bias)
    f, g_w, g_m = _square_loss_numeric(counts, 4, lam_w, lam_h, lam_b)
    # Measured: objective gap <= 1e-14 relative, Gram entries <= 2e-6.
    assert sol.objective <= f + 1e-12
    assert sol.objective == pytest.approx(f, rel=1e-9)
    np.testing.assert_allclose(g_w, sol.classifier_gram, atol=2e-5)
    np.testing.assert_allclose(g_m, sol.class_mean_gram, atol=2e-5)
    if bias == "none" and lam == 0.1:
        dead = counts <= counts.sum() ** 2 * lam_w * lam_h
        assert dead.tolist() == [False, False, True]
        np.testing.assert_allclose(np.diag(sol.classifier_gram)[dead], 0.0, atol=1e-12)


def test_square_loss_balanced_geometry_and_zero_threshold():
    c, n = 4, 5
    counts = np.full(c, n)
    # Free bias: simplex ETF; no bias: orthogonal frame.
    free = tc.ufm_square_loss(counts, 1e-3, 1e-3, "free")
    assert tc.gram_distance(free.classifier_gram, tc.simplex_etf_gram(c)) <= 1e-10
    np.testing.assert_allclose(free.bias, 1.0 / c, atol=1e-12)
    none = tc.ufm_square_loss(counts, 1e-3, 1e-3, "none")
    assert tc.gram_distance(none.classifier_gram, np.eye(c)) <= 1e-10
    # Zero solution iff sqrt(λ_W λ_H) >= 1/(C sqrt(n)).
    crit = 1.0 / (c * np.sqrt(n))
    assert none.zero_threshold == pytest.approx(crit)
    assert tc.ufm_square_loss(counts, crit * 1.01, crit * 1.01, "none").collapsed_to_zero
    assert not tc.ufm_square_loss(counts, crit * 0.99, crit * 0.99, "none").collapsed_to_zero


# ----------------------------------------------------------------------------- balanced CE


@pytest.mark.parametrize("lam_w,lam_h", [(1e-3, 1e-3), (1e-2, 5e-3), (0.1, 0.1)])
def test_balanced_cross_entropy_closed_form_matches_numerical_minimum(lam_w, lam_h):
    c, n, dim = 4, 3, 4
    labels = np.repeat(np.arange(c), n)

    def fun(theta):
        w, h = theta[: c * dim].reshape(c, dim), theta[c * dim:].reshape(c * n, dim)
        z = h @ w.T
        lse = scipy.special.logsumexp(z, axis=1)
        f = np.mean(lse - z[np.arange(c * n), labels]) + 0.5 * lam_w * np.sum(w**2) + 0.5 * lam_h * np.sum(h**2)
        g = (np.exp(z - lse[:, None]) - np.eye(c)[labels]) / (c * n)
        return f, np.concatenate([(g.T @ h + lam_w * w).ravel(), (g @ w + lam_h * h).ravel()])

    res = scipy.optimize.minimize(
        fun, np.random.default_rng(0).normal(size=c * dim * (1 + n)), jac=True, method="L-BFGS-B",
        options=dict(maxiter=20000, ftol=1e-15, gtol=1e-12),
    )
    w, h = res.x[: c * dim].reshape(c, dim), res.x[c * dim:].reshape(c * n, dim)
    sol = tc.ufm_cross_entropy_balanced(c, n, lam_w, lam_h)
    assert sol.objective == pytest.approx(res.fun, rel=1e-9)  # measured 1e-15
    np.testing.assert_allclose(tc.gram(w), sol.classifier_gram, atol=1e-5)  # measured 7e-7
    np.testing.assert_allclose(tc.gram(h.reshape(c, n, dim).mean(1)), sol.class_mean_gram, atol=1e-5)
    assert tc.gram_distance(sol.classifier_gram, tc.simplex_etf_gram(c)) <= 1e-10
    assert tc.ufm_cross_entropy_balanced(c, n, 1.0, 1.0).collapsed_to_zero  # τ = sqrt(3) >= 1/C


# ----------------------------------------------------------------------------- minority collapse


def test_layer_peeled_balanced_is_etf():
    sol = tc.layer_peeled_solution(2, 3, 1.0, 1.0, 1.0)
    assert sol.minority_cosine == pytest.approx(-0.25, abs=1e-6)  # measured 1.4e-9
    assert tc.gram_distance(sol.classifier_gram, tc.simplex_etf_gram(5)) <= 1e-6  # measured 3.4e-9


def test_layer_peeled_minority_cosine_is_monotone_and_collapses_beyond_threshold():
    ka, kb, e_h, e_w = 2, 3, 1.0, 1.0
    r_star = tc.layer_peeled_collapse_threshold(ka, kb, e_h, e_w)
    assert 3.0 < r_star < 5.0  # measured 4.0643
    below = tc.layer_peeled_minority_cosine(np.array([1.0, 2.0, 3.0, 0.97 * r_star]), ka, kb, e_h, e_w)
    above = tc.layer_peeled_minority_cosine(np.array([1.05 * r_star, 3.0 * r_star]), ka, kb, e_h, e_w)
    assert np.all(np.diff(below) > 0.05)  # measured steps >= 0.27
    assert below[-1] < 1 - 1e-2  # measured 1 − cos = 0.092 at 0.97 R*
    assert np.all(above >= 1 - 1e-8)  # measured 1 − cos <= 2e-16
    # Larger energy budgets delay the collapse (Fang et al. 2021, Sec. on mitigation).
    assert tc.layer_peeled_collapse_threshold(ka, kb, 2.0, 1.0) > r_star


def _two_group_direct(ka, kb, n_minor, ratio, lam_w, lam_h, seed=0):
    """Unstructured minimisation of the regularised CE UFM (class features with multiplicity)."""
    k = ka + kb
    counts = np.r_[np.full(ka, ratio * n_minor), np.full(kb, float(n_minor))]
    weights = counts / counts.sum()

    def fun(theta):
        w, h = theta[: k * k].reshape(k, k), theta[k * k:].reshape(k, k)
        z = h @ w.T
        lse = scipy.special.logsumexp(z, axis=1)
        f = np.sum(weights * (lse - np.diag(z))) + 0.5 * lam_w * np.sum(w**2) + 0.5 * lam_h * np.sum(counts[:, None] * h**2)
        g = weights[:, None] * (np.exp(z - lse[:, None]) - np.eye(k))
        return f, np.concatenate([(g.T @ h + lam_w * w).ravel(), (g @ w + lam_h * counts[:, None] * h).ravel()])

    res = scipy.optimize.minimize(
        fun, np.random.default_rng(seed).normal(size=2 * k * k), jac=True, method="L-BFGS-B",
        options=dict(maxiter=20000, ftol=1e-15, gtol=1e-12),
    )
    return res.fun


def test_regularized_ufm_threshold_matches_numerical_program():
    ka, kb, n_minor, lam = 2, 3, 10.0, 5e-3
    r_star = tc.regularized_ufm_collapse_threshold(ka, kb, n_minor, lam, lam)
    assert r_star == pytest.approx((1 / np.sqrt(n_minor * lam * lam) - kb) / ka)  # 30.12
    cos = tc.regularized_ufm_minority_cosine(np.array([0.5, 0.9, 1.1, 2.0]) * r_star, ka, kb, n_minor, lam, lam)
    assert np.all(np.diff(cos[:2]) > 0)
    assert cos[1] < 1 - 1e-2  # measured 1 − cos = 0.21 at 0.9 R*
    assert np.all(cos[2:] >= 1 - 1e-8)  # measured <= 5e-16
    # The symmetric block parameterisation loses nothing: same optimum as a direct
    # minimisation over unstructured W, H (measured gap ~1e-16).
    for ratio in (0.5 * r_star, 1.1 * r_star):
        sym = tc.regularized_ufm_solution(ka, kb, n_minor, ratio, lam, lam).objective
        assert sym == pytest.approx(_two_group_direct(ka, kb, n_minor, ratio, lam, lam), rel=1e-8)


def _layer_peeled_direct(ka, kb, ratio, energy_h, energy_w, seed=0):
    """Unstructured minimisation of the LPM over H, W in R^{K x 2K} (constraints by rescaling)."""
    k = ka + kb
    d = 2 * k
    weights = np.r_[np.full(ka, ratio), np.ones(kb)] / (ka * ratio + kb)

    def fun(theta):
        h, w = theta[: k * d].reshape(k, d), theta[k * d:].reshape(k, d)
        e_h, e_w = np.sum(h * h) / k, np.sum(w * w) / k
        s_h, s_w = np.sqrt(energy_h / e_h), np.sqrt(energy_w / e_w)
        z = (s_h * h) @ (s_w * w).T
        lse = scipy.special.logsumexp(z, axis=1)
        f = np.sum(weights * (lse - np.diag(z)))
        g = weights[:, None] * (np.exp(z - lse[:, None]) - np.eye(k))
        g_h, g_w = s_w * g @ w, s_h * g.T @ h
        g_h = s_h * (g_h - np.sum(g_h * h) / (k * e_h) * h)
        g_w = s_w * (g_w - np.sum(g_w * w) / (k * e_w) * w)
        return f, np.concatenate([g_h.ravel(), g_w.ravel()])

    rng = np.random.default_rng(seed)
    best = None
    for _ in range(2):
        res = scipy.optimize.minimize(
            fun, rng.normal(size=2 * k * d), jac=True, method="L-BFGS-B",
            options=dict(maxiter=20000, ftol=1e-15, gtol=1e-11),
        )
        best = res if best is None or res.fun < best.fun else best
    w = best.x[k * d:].reshape(k, d)
    return best.fun, tc.cosines(tc.gram(w))[ka, ka + 1]


@pytest.mark.parametrize("ratio", [3.0, 6.0])
def test_layer_peeled_symmetric_reduction_matches_unstructured_solve(ratio):
    # R* = 4.06 for (2, 3, E=1): one point on each side. Measured: objective gap <= 4e-16,
    # cosine gap 2e-8 (3.0) and 2e-15 (6.0).
    sol = tc.layer_peeled_solution(2, 3, ratio, 1.0, 1.0)
    f, cos = _layer_peeled_direct(2, 3, ratio, 1.0, 1.0)
    assert sol.objective == pytest.approx(f, rel=1e-9)
    assert sol.minority_cosine == pytest.approx(cos, abs=1e-6)

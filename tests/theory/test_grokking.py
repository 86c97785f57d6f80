"""theory/grokking.py: the predictors are what they claim, and a direct GD simulation of the
diagonal net (Lyu et al. 2024, arXiv:2311.18817) agrees with them.

Tolerances come from measurements (seed 0 instances below, numpy float64 GD):
  regression, d=40, n=20, 3-sparse, alpha in {2, 3}, lambda in {0.05, 0.1},
  eta = 0.5 / (8 alpha^2 lambda_max(x x^T / n)):
    plateau (first step with train MSE < 1e-3 mean y^2, step 80) vs kernel test MSE (1.7729):
      rel. diff 0.10-0.13%
    measured / predicted transition step: 1.049, 1.106, 1.090
      (transition_step with alpha_rich=1, the paper's leading order: 3.66, 3.85, 2.80)
    test MSE at 2.5 x predicted step, minus sparse (0): 1.0%, 2.9%, 2.4% of the kernel MSE
    max |simulated - predicted_test_error| along the run: 6.8%, 13.2%, 13.4% of the kernel MSE
  classification, d=100, n=50, x in {-1,1}^d, y = sign of 3 coordinates, alpha = 2,
  lambda in {0.01, 0.03}, eta = 0.5 / (2 alpha^2 lambda_max(x x^T / n)):
    plateau (step 1000) vs l2 max-margin 0-1 error (0.2615): 0.2520 for both
    measured / predicted transition step: 0.885, 0.879 (seeds 1, 2, 1000 test points: 0.69-0.83)
      (transition_step with alpha_rich=1: 2.84, 3.11)
    0-1 error at 1.6 x predicted step: 0.007, 0.0025 (sparse: 0.000)
"""
import numpy as np
import pytest
import scipy.special

from theory import grokking   # module import: `test_error` must not be collected by pytest


# ---------------------------------------------------------------- instances and the simulation

def regression_instance(seed=0, d=40, n=20, k=3, n_test=2000):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    theta_star = np.zeros(d)
    theta_star[:k] = rng.choice([-1.0, 1.0], k)
    x_test = rng.standard_normal((n_test, d))
    return x, x @ theta_star, x_test, x_test @ theta_star


def classification_instance(seed=0, d=100, n=50, k=3, n_test=2000):
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], (n, d))
    w = rng.choice([-1.0, 1.0], k)
    x_test = rng.choice([-1.0, 1.0], (n_test, d))
    return x, np.sign(x[:, :k] @ w), x_test, np.sign(x_test[:, :k] @ w)


def simulate(x, y, x_test, y_test, alphas, lams, etas, num_steps, every, task):
    """Full-batch GD on f = <u*u - v*v, x> + (lam/2)(|u|^2 + |v|^2), one member per (alpha, lam,
    eta), u = v = alpha at step 0. Returns steps [L], test error [L, M], train error [L, M]
    (MSE or 0-1), and mean_j u_j v_j [L, M]."""
    n = x.shape[0]
    alphas, lams, etas = (np.asarray(a, dtype=np.float64)[:, None] for a in (alphas, lams, etas))
    u = alphas * np.ones((1, x.shape[1]))
    v = u.copy()
    steps, test_err, train_err, uv = [], [], [], []
    for step in range(num_steps + 1):
        theta = u * u - v * v
        out = theta @ x.T
        if step % every == 0:
            pred = theta @ x_test.T
            if task == "regression":
                test_err.append(np.mean((pred - y_test) ** 2, 1))
                train_err.append(np.mean((out - y) ** 2, 1))
            else:
                signed = pred * y_test
                test_err.append(np.mean((signed < 0) + 0.5 * (signed == 0), 1))
                train_err.append(np.mean(out * y <= 0, 1))
            steps.append(step)
            uv.append(np.mean(u * v, 1))
        if task == "regression":
            dout = (out - y) / n
        else:
            dout = -y * scipy.special.expit(-out * y) / n
        grad = dout @ x                                     # dL/dtheta   [M, D]
        u, v = u - etas * (2 * grad * u + lams * u), v - etas * (-2 * grad * v + lams * v)
    return np.array(steps), np.array(test_err), np.array(train_err), np.array(uv)


def first_step_below(steps, values, level, after=0):
    idx = np.nonzero((values <= level) & (steps > after))[0]
    return steps[idx[0]] if len(idx) else np.inf


# ---------------------------------------------------------------- the predictors

def test_test_error_definitions():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
    assert grokking.test_error(np.array([1.0, 0.0]), x, np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.25)
    labels = np.array([1.0, -1.0, -1.0, 1.0])          # signed margins of [1, 0]: 1, 0, -1, 1
    assert grokking.test_error(np.zeros(2), x, labels, "classification") == 0.5
    assert grokking.test_error(np.array([1.0, 0.0]), x, labels, "classification") == pytest.approx(0.375)
    with pytest.raises(ValueError, match="valid tasks"):
        grokking.test_error(np.zeros(2), x, labels, "ranking")


def test_regression_predictors():
    x, y, x_test, y_test = regression_instance()
    theta_k = grokking.kernel_predictor(x, y)
    theta_s = grokking.sparse_predictor(x, y)
    np.testing.assert_allclose(x @ theta_k, y, atol=1e-10)
    np.testing.assert_allclose(x @ theta_s, y, atol=1e-8)
    coef = np.linalg.lstsq(x.T, theta_k, rcond=None)[0]            # min-l2: in the row space
    np.testing.assert_allclose(x.T @ coef, theta_k, atol=1e-10)
    assert np.abs(theta_s).sum() < np.abs(theta_k).sum()
    assert grokking.test_error(theta_s, x_test, y_test) < 1e-12      # exact recovery at n=20, d=40, k=3
    assert grokking.test_error(theta_k, x_test, y_test) > 1.0


def test_classification_predictors():
    x, y, x_test, y_test = classification_instance()
    theta_k = grokking.kernel_predictor(x, y, "classification")
    theta_s = grokking.sparse_predictor(x, y, "classification")
    margins_k, margins_s = y * (x @ theta_k), y * (x @ theta_s)
    assert margins_k.min() == pytest.approx(1.0, abs=1e-9)
    assert margins_s.min() == pytest.approx(1.0, abs=1e-8)
    # hard-margin SVM KKT: theta = sum_i a_i y_i x_i with a >= 0 on the margin-1 points only
    on_margin = margins_k < 1 + 1e-7
    a = np.linalg.lstsq((y[on_margin, None] * x[on_margin]).T, theta_k, rcond=None)[0]
    assert a.min() > -1e-8
    np.testing.assert_allclose((y[on_margin, None] * x[on_margin]).T @ a, theta_k, atol=1e-8)
    assert np.abs(theta_s).sum() <= np.abs(theta_k).sum() + 1e-9
    assert grokking.test_error(theta_s, x_test, y_test, "classification") < 0.01
    assert grokking.test_error(theta_k, x_test, y_test, "classification") > 0.2


def test_hypentropy_paths_interpolate_between_the_predictors():
    x, y, _, _ = regression_instance()
    theta_k, theta_s = grokking.kernel_predictor(x, y), grokking.sparse_predictor(x, y)
    np.testing.assert_allclose(grokking.hypentropy_interpolant(x, y, 30.0), theta_k, atol=1e-6)
    np.testing.assert_allclose(grokking.hypentropy_interpolant(x, y, 1e-4), theta_s, atol=2e-3)  # 5.1e-4
    xc, yc, _, _ = classification_instance()
    theta_k, theta_s = (grokking.kernel_predictor(xc, yc, "classification"),
                        grokking.sparse_predictor(xc, yc, "classification"))
    np.testing.assert_allclose(grokking.hypentropy_max_margin(xc, yc, 30.0), theta_k, atol=1e-5)
    np.testing.assert_allclose(grokking.hypentropy_max_margin(xc, yc, 1e-6), theta_s, atol=1e-2)  # 3.4e-3
    # theta(beta, m) = m theta(beta / sqrt(m), 1)
    np.testing.assert_allclose(grokking.hypentropy_max_margin(xc, yc, 0.3, 4.0),
                               4.0 * grokking.hypentropy_max_margin(xc, yc, 0.15), atol=1e-8)


def test_regularised_predictor_is_the_lasso():
    x, y, _, _ = regression_instance()
    lam = 0.05
    theta = grokking.regularised_predictor(x, y, lam)
    corr = x.T @ (y - x @ theta) / x.shape[0]                  # lasso KKT with penalty lam/2 |.|_1
    support = np.abs(theta) > 1e-8
    np.testing.assert_allclose(corr[support], lam / 2 * np.sign(theta[support]), atol=1e-6)
    assert np.abs(corr[~support]).max() <= lam / 2 + 1e-6


def test_transition_step_formula():
    assert grokking.transition_step(np.e ** 3, 0.1, 0.01, 1.0) == pytest.approx(3 / -np.log1p(-1e-3))
    steps = grokking.transition_step(np.array([2.0, 4.0]), 0.05, 1e-3, 0.5)
    np.testing.assert_allclose(steps, np.log([4.0, 8.0]) / 5e-5, rtol=1e-4)
    np.testing.assert_allclose(grokking.effective_scale(steps, np.array([2.0, 4.0]), 0.05, 1e-3), 0.5)


# ---------------------------------------------------------------- simulation vs prediction

def test_regression_simulation_matches_the_predictions():
    x, y, x_test, y_test = regression_instance()
    n = x.shape[0]
    err_k = grokking.test_error(grokking.kernel_predictor(x, y), x_test, y_test)
    err_s = grokking.test_error(grokking.sparse_predictor(x, y), x_test, y_test)
    beta_c = grokking.rich_scale(x, y, x_test, y_test)
    alphas, lams = np.array([2.0, 2.0, 3.0]), np.array([0.05, 0.1, 0.1])
    etas = 0.5 / (8 * alphas ** 2 * np.linalg.eigvalsh(x @ x.T / n).max())
    predicted = grokking.transition_step(alphas, lams, etas, beta_c)
    steps, test_err, train_err, uv = simulate(x, y, x_test, y_test, alphas, lams, etas,
                                              int(2.5 * predicted.max()), 20, "regression")
    for m in range(len(alphas)):
        fitted = first_step_below(steps, train_err[:, m], 1e-3 * np.mean(y ** 2))
        assert fitted < 0.02 * predicted[m]                           # fits long before: measured <= 0.0084
        plateau = test_err[steps == fitted, m][0]
        assert plateau == pytest.approx(err_k, rel=0.01)              # measured <= 0.13%
        measured = first_step_below(steps, test_err[:, m], 0.5 * (err_k + err_s), after=fitted)
        assert 0.9 <= measured / predicted[m] <= 1.25                 # measured 1.05-1.11
        final = test_err[np.searchsorted(steps, 2.5 * predicted[m], side='right') - 1, m]
        assert final - err_s <= 0.05 * (err_k - err_s)                # measured <= 2.9%
        # u_j v_j shrinks only by weight decay: beta(step)^2 (measured rel. diff <= 9.7e-4)
        np.testing.assert_allclose(uv[:, m], grokking.effective_scale(steps, alphas[m], lams[m], etas[m]) ** 2,
                                   rtol=3e-3)
        # the whole curve after the fit, against the hypentropy path
        check = steps[(steps >= fitted) & (steps <= 2.5 * predicted[m])][::150]
        curve = grokking.predicted_test_error(check, x, y, x_test, y_test, alphas[m], lams[m], etas[m])
        assert np.abs(curve - test_err[np.searchsorted(steps, check), m]).max() <= 0.2 * err_k  # <= 13.7%


def test_classification_simulation_matches_the_predictions():
    x, y, x_test, y_test = classification_instance()
    n = x.shape[0]
    task = "classification"
    err_k = grokking.test_error(grokking.kernel_predictor(x, y, task), x_test, y_test, task)
    err_s = grokking.test_error(grokking.sparse_predictor(x, y, task), x_test, y_test, task)
    alphas, lams = np.array([2.0, 2.0]), np.array([0.01, 0.03])
    etas = 0.5 / (2 * alphas ** 2 * np.linalg.eigvalsh(x @ x.T / n).max())
    beta_c = np.array([grokking.rich_scale(x, y, x_test, y_test, task, lam) for lam in lams])
    predicted = grokking.transition_step(alphas, lams, etas, beta_c)
    steps, test_err, train_err, _ = simulate(x, y, x_test, y_test, alphas, lams, etas,
                                             int(1.6 * predicted.max()), 50, task)
    for m in range(len(alphas)):
        fitted = first_step_below(steps, train_err[:, m], 0.0)
        assert fitted < 0.02 * predicted[m]                           # measured <= 0.0065
        plateau = test_err[steps == 1000, m][0]                      # ~ 20 x the fitting time
        assert abs(plateau - err_k) <= 0.03                          # measured 0.0095
        measured = first_step_below(steps, test_err[:, m], 0.5 * (err_k + err_s), after=fitted)
        assert 0.75 <= measured / predicted[m] <= 1.1                 # measured 0.88, 0.88
        final = test_err[np.searchsorted(steps, 1.6 * predicted[m], side='right') - 1, m]
        assert final <= err_s + 0.03                                  # measured 0.007, 0.0025

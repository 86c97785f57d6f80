"""theory/noisy_labels.py against direct numpy computations on the paper's mixture (Liu et al. 2020, Sec. 3)."""
import numpy as np

from theory import noisy_labels as theory


def mixture(n, p, sigma, noise_rate, rng):
    """x = ε*(v − σz), v = e_1; labels ε in ±1 with round(noise_rate n) of them wrong."""
    true = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    x = true[:, None] * (np.eye(p)[0] - sigma * rng.standard_normal((n, p)))
    wrong = rng.permutation(n)[:int(round(noise_rate * n))]
    labels = true.copy()
    labels[wrong] *= -1
    return x, labels, true


def test_population_trajectory_is_large_n_gradient_descent():
    """At n >> p, gradient descent θ ← θ − η (1/n) Σ x_i (tanh(θ·x_i / 2) − ε_i) (a step η on Θ) follows the
    n → ∞ recursion: measured max |Δa| 0.003, |Δb| 0.013 (b: 1.5 -> 0.68) at n = 40000, p = 10 over 40 steps
    (a: 0 -> 0.80, its fixed point)."""
    rng = np.random.default_rng(0)
    sigma, rho, lr = 0.3, 0.3, 0.5
    x, labels, _ = mixture(40000, 10, sigma, rho, rng)
    theta = np.zeros(10)
    theta[1] = 1.5  # a0 = 0, b0 = 1.5
    steps = np.arange(41)
    a, b = theory.population_trajectory(steps, lr, sigma, rho, 0.0, 1.5)
    for t in steps:
        assert abs(theta[0] - a[t]) < 0.006 and abs(np.linalg.norm(theta[1:]) - b[t]) < 0.02, t
        theta = theta - lr * x.T @ (np.tanh(x @ theta / 2) - labels) / len(labels)
    assert a[-1] > 0.75


def test_accuracy_and_residuals_are_fresh_sample_averages():
    """Φ(a / σr) and the mean ||p − y||² of clean and wrong samples, against 200000 fresh samples of a fixed θ:
    measured gaps <= 0.0003 (tolerance 0.005: the 200000 samples' sampling error)."""
    rng = np.random.default_rng(1)
    sigma, theta = 0.5, np.array([0.8, 0.6, -0.3])
    x, labels, true = mixture(200000, 3, sigma, 0.0, rng)
    margin = true * (x @ theta)
    a, b = theta[0], np.linalg.norm(theta[1:])
    np.testing.assert_allclose(np.mean(margin > 0), theory.accuracy(a, b, sigma), atol=0.005)
    clean, wrong = theory.squared_residuals(a, b, sigma)
    np.testing.assert_allclose(np.mean((1 - np.tanh(margin / 2)) ** 2 / 2), clean[0], atol=0.005)
    np.testing.assert_allclose(np.mean((1 + np.tanh(margin / 2)) ** 2 / 2), wrong[0], atol=0.005)


def test_separability_and_theorem_6_bound():
    """p close to n with 30% wrong labels: Theorem 6's bound is small and the labels are separable; at p = 2
    they are not (a linear program either way)."""
    rng = np.random.default_rng(2)
    assert theory.nonseparable_bound(200, 160, 0.3) < 0.01 and theory.nonseparable_bound(200, 100, 0.3) == 1.0
    x, labels, _ = mixture(200, 160, 0.1, 0.3, rng)
    assert theory.linearly_separable(x, (1 - labels) / 2)
    x, labels, _ = mixture(200, 2, 0.1, 0.3, rng)
    assert not theory.linearly_separable(x, (1 - labels) / 2)

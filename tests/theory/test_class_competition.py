"""theory/class_competition.py on hand-made cases, a real one-step model and sampled minibatches."""
import numpy as np
import pytest

from theory import class_competition as cc


def test_hand_made_two_class_case():
    # majority gradient (1, 0) with weight 0.9; minority (−0.5, 0.3) conflicts with it
    g = np.array([[1.0, 0.0], [-0.5, 0.3]])
    pi = np.array([0.9, 0.1])
    gd = cc.first_order_loss_change(g, 0.1, pi, "gd")
    d = 0.9 * g[0] + 0.1 * g[1]
    np.testing.assert_allclose(gd, -0.1 * (g @ d))
    assert gd[0] < 0 < gd[1]  # GD raises the minority loss
    pc = cc.first_order_loss_change(g, 0.1, method="per_class_normalized")
    cos = cc.gradient_cosines(g)[0, 1]
    np.testing.assert_allclose(pc, -0.1 * np.linalg.norm(g, axis=1) * (1 + cos))
    assert np.all(pc < 0)  # PCNGD lowers both
    # with three classes PCNGD can raise a loss: Σ_{j≠k} cos(g_k, g_j) < −1
    g3 = np.array([[1.0, 0.0], [-1.0, 0.2], [-1.0, -0.2]])
    assert cc.first_order_loss_change(g3, 0.1, method="per_class_normalized")[0] > 0


def two_class_regression(seed=0):
    """Linear model f(x) = θ·x, square loss; the minority's target direction conflicts with the majority's."""
    rng = np.random.default_rng(seed)
    n_major, n_minor, dim = 90, 10, 5
    x_major = rng.normal(size=(n_major, dim)) + np.array([2.0, 0, 0, 0, 0])
    x_minor = rng.normal(size=(n_minor, dim)) + np.array([2.0, 0.5, 0, 0, 0])
    y_major = x_major @ np.array([1.0, 0, 0, 0, 0])
    y_minor = x_minor @ np.array([-1.0, 0.5, 0, 0, 0])
    return [(x_major, y_major), (x_minor, y_minor)], np.array([0.9, 0.1]), np.zeros(dim)


def class_losses_and_grads(data, theta):
    losses, grads = [], []
    for x, y in data:
        r = x @ theta - y
        losses.append(0.5 * np.mean(r**2))
        grads.append(x.T @ r / len(y))
    return np.array(losses), np.array(grads)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", ["gd", "per_class_normalized"])
def test_predicted_sign_matches_a_real_first_step(method, seed):
    data, pi, theta = two_class_regression(seed)
    losses, grads = class_losses_and_grads(data, theta)
    for eta in (1e-3, 1e-2):
        predicted = cc.first_order_loss_change(grads, eta, pi, method)
        step = cc.update_direction(grads, pi, method)
        actual = class_losses_and_grads(data, theta - eta * step)[0] - losses
        np.testing.assert_array_equal(np.sign(actual), np.sign(predicted))
        # the remainder is exactly ½ η² dᵀ H_k d for a quadratic loss: second order in η. Measured
        # max relative remainder / η, seeds 0 / 1 / 2: GD 2.23 / 2.02 / 2.47, PCNGD 0.47 / 0.23 / 0.28
        assert np.max(np.abs(actual - predicted) / np.abs(predicted)) < 3 * eta
    if method == "gd":
        assert predicted[1] > 0  # the minority's loss goes up under GD
    else:
        assert np.all(predicted < 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_minibatch_cosine_matches_sampled_batches(seed):
    # Per-sample gradients ḡ_k + isotropic Gaussian noise in P = 400 dims, noise-to-signal ρ = 2,
    # batches of 20 drawn with replacement from π = (0.9, 0.1). Measured |Δ| 0.0010 / 0.0001 /
    # 0.0008 (seeds 1 / 2 / 3); the Monte-Carlo error of the minority's mean over ~8800 batches is
    # ~0.002, so asserted ≤ 0.006.
    rng = np.random.default_rng(seed)
    dim, batch, trials, rho = 400, 20, 10000, 2.0
    pi = np.array([0.9, 0.1])
    mean = rng.normal(size=(2, dim))
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    labels = rng.choice(2, size=(trials, batch), p=pi)
    measured = np.empty(2)
    for k in range(2):
        n = np.count_nonzero(labels == k, axis=1)
        n = n[n > 0]  # batches without class k give no class-k gradient
        # the mean of n i.i.d. N(0, ρ²/P · I) per-sample deviations is N(0, ρ²/(nP) · I)
        g = mean[k] + rng.normal(size=(n.size, dim)) * (rho / np.sqrt(dim * n))[:, None]
        measured[k] = np.mean(g @ mean[k] / np.linalg.norm(g, axis=1))
    counts = cc.expected_class_counts(pi, batch)
    predicted = cc.minibatch_gradient_cosine(counts, rho, "binomial", batch_size=batch)
    np.testing.assert_allclose(measured, predicted, atol=0.006)
    assert predicted[1] < predicted[0] and measured[1] < measured[0]  # the minority is noisier
    fixed = cc.minibatch_gradient_cosine([18.0, 2.0], rho, "fixed")
    np.testing.assert_allclose(fixed, 1 / np.sqrt(1 + rho**2 / np.array([18.0, 2.0])))


def test_minibatch_cosine_count_models_and_finite_population():
    m = np.array([50.0, 5.0, 0.5])
    binom = cc.minibatch_gradient_cosine(m, 1.5, "binomial", batch_size=100)
    poisson = cc.minibatch_gradient_cosine(m, 1.5, "poisson")
    np.testing.assert_allclose(binom, poisson, atol=0.002)  # Poisson limit of the binomial: measured 0.0009
    assert np.all(np.diff(binom) < 0)
    # a batch holding the whole class (n = N_k, no replacement) sees the exact gradient
    np.testing.assert_allclose(cc.minibatch_gradient_cosine([8.0], 3.0, "fixed", class_sizes=[8]), 1.0)


def test_per_class_gradient_statistics():
    rng = np.random.default_rng(2)
    grads = rng.normal(size=(30, 4))
    labels = np.repeat([0, 1, 2], 10)
    means, spreads = cc.per_class_gradient_statistics(grads, labels, 4)
    for k in range(3):
        gk = grads[labels == k]
        np.testing.assert_allclose(means[k], gk.mean(axis=0))
        np.testing.assert_allclose(spreads[k] ** 2, np.mean(np.sum((gk - gk.mean(0)) ** 2, axis=1)))
    assert spreads[3] == 0 and np.all(means[3] == 0)


def test_unknown_names_raise():
    g = np.eye(2)
    with pytest.raises(ValueError, match="gd, per_class_normalized"):
        cc.first_order_loss_change(g, 0.1, [0.5, 0.5], method="adam")
    with pytest.raises(ValueError, match="fixed, binomial, poisson"):
        cc.minibatch_gradient_cosine([1.0], 1.0, "exact")
    with pytest.raises(ValueError):
        cc.first_order_loss_change(g, 0.1, method="gd")  # GD needs the class frequencies

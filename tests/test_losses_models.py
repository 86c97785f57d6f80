import jax
import jax.numpy as jnp
import numpy as np

from dynamics import losses
from dynamics.models import build_model


def test_cross_entropy_and_square_match_their_formulas():
    logits = jnp.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    labels = jnp.array([0, 2])
    expected = -np.log(np.exp([2.0, 0.5]) / np.array([np.exp([2, 0, -1]).sum(), 3 * np.exp(0.5)]))
    np.testing.assert_allclose(losses.cross_entropy(logits, labels), expected, rtol=1e-6)
    np.testing.assert_allclose(losses.square_loss(logits, labels), [0.5 * (1 + 0 + 1), 0.5 * 3 * 0.25], rtol=1e-6)


def test_per_class_mean_and_weights():
    values = jnp.array([1.0, 3.0, 10.0, 0.0])
    labels = jnp.array([0, 0, 1, 1])
    np.testing.assert_allclose(losses.per_class_mean(values, labels, 3), [2.0, 5.0, np.nan])  # no sample: NaN
    counts = jnp.array([90.0, 10.0])
    for p in (0.0, 0.5, 1.0):
        w = losses.class_weights(counts, p)
        np.testing.assert_allclose(jnp.sum(counts / 100 * w), 1.0, rtol=1e-6)
    w = losses.class_weights(counts, 1.0)
    np.testing.assert_allclose(w[1] / w[0], 9.0, rtol=1e-5)


def test_reweighted_objective_is_the_weighted_mean():
    cfg = dict(name="cross_entropy", reweight_exponent=1.0, logit_adjustment=0.0, spectral_decoupling=0.0)
    logits = jnp.zeros((4, 2))
    labels = jnp.array([0, 0, 0, 1])
    counts = jnp.array([3.0, 1.0])
    # w = (2/3, 2): the mean of w_y * log 2 over the four samples is log 2.
    np.testing.assert_allclose(losses.training_loss(cfg, logits, labels, counts), np.log(2), rtol=1e-6)


def test_models_shapes_features_and_classifier():
    x = jnp.ones((5, 8, 8, 1))
    linear = build_model(dict(name="linear", init_scale=1.0, use_bias=False, init="lecun_normal"), x, 4)
    params = linear.init(jax.random.PRNGKey(0))
    assert linear.apply(params, x).shape == (5, 4)
    np.testing.assert_allclose(linear.apply(params, x), x.reshape(5, -1) @ linear.classifier(params).T, rtol=1e-5)
    mlp = build_model(dict(name="mlp", init_scale=1.0, hidden=(16, 8), use_bias=True, init="lecun_normal",
                                trainable="all"), x, 4)
    params = mlp.init(jax.random.PRNGKey(0))
    assert mlp.features(params, x).shape == (5, 8) and mlp.classifier(params).shape == (4, 8)

"""Each optimizer's first two updates against its equation, computed by hand."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics.optimizers import build_optimizer, schedule_factor, validate_optimizer
from dynamics.errors import ConfigError

THETA = np.array([1.0, -2.0])
G1, G2 = np.array([0.5, -0.25]), np.array([-1.0, 2.0])


def opt(name, **kw):
    base = dict(name=name, learning_rate=0.1, momentum=0.0, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0,
                schedule="constant", warmup_steps=0, rho=0.05, max_norm=0.0)
    base.update(kw)
    return base


def two_steps(config):
    tx = build_optimizer(config, num_steps=10)
    state = tx.init(jnp.asarray(THETA))
    u1, state = tx.update(jnp.asarray(G1), state, jnp.asarray(THETA))
    u2, _ = tx.update(jnp.asarray(G2), state, jnp.asarray(THETA + u1))
    return np.asarray(u1), np.asarray(u2)


@pytest.mark.parametrize("config, expected", [
    (opt("gd"), (-0.1 * G1, -0.1 * G2)),
    (opt("gd", weight_decay=0.5), (-0.1 * (G1 + 0.5 * THETA), None)),
    (opt("heavy_ball", momentum=0.9), (-0.1 * G1, -0.1 * (0.9 * G1 + G2))),
    (opt("sign"), (-0.1 * np.sign(G1), -0.1 * np.sign(G2))),
    # Kunstner et al. 2024's Sign_M: heavy-ball momentum on sign(g), m_1 = sign(g_1), m_2 = 0.9 m_1 + sign(g_2)
    (opt("sign", momentum=0.9), (-0.1 * np.sign(G1), -0.1 * (0.9 * np.sign(G1) + np.sign(G2)))),
    # signum (Bernstein et al. 2018): the sign of an EMA, m_1 = 0.1 g_1, m_2 = 0.09 g_1 + 0.1 g_2
    (opt("signum", momentum=0.9), (-0.1 * np.sign(0.1 * G1), -0.1 * np.sign(0.09 * G1 + 0.1 * G2))),
    (opt("normalized_gd"), (-0.1 * G1 / np.linalg.norm(G1), -0.1 * G2 / np.linalg.norm(G2))),
    # NormSGD_M: m_2 = 0.9 g_1/||g_1|| + g_2/||g_2||
    (opt("normalized_gd", momentum=0.9), (-0.1 * G1 / np.linalg.norm(G1),
                                          -0.1 * (0.9 * G1 / np.linalg.norm(G1) + G2 / np.linalg.norm(G2)))),
    # ScaledSign: ||g||_1 sign(g); ||G1||_1 = 0.75, ||G2||_1 = 3
    (opt("scaled_sign"), (-0.1 * 0.75 * np.array([1.0, -1.0]), -0.1 * 3.0 * np.array([-1.0, 1.0]))),
    (opt("scaled_sign", momentum=0.9), (-0.1 * 0.75 * np.array([1.0, -1.0]),
                                        -0.1 * (0.9 * 0.75 * np.array([1.0, -1.0]) + 3.0 * np.array([-1.0, 1.0])))),
    # AdaGrad (PyTorch's, s_0 = 0): s_1 = g_1², s_2 = g_1² + g_2²; step g/(√s + eps)
    (opt("adagrad", eps=1e-10), (-0.1 * G1 / (np.abs(G1) + 1e-10), -0.1 * G2 / (np.sqrt(G1**2 + G2**2) + 1e-10))),
])
def test_update_matches_equation(config, expected):
    u1, u2 = two_steps(config)
    np.testing.assert_allclose(u1, expected[0], rtol=1e-6)
    if expected[1] is not None:
        np.testing.assert_allclose(u2, expected[1], rtol=1e-6)


def test_adam_and_adamw_match_kingma_ba():
    b1, b2, eps, lr, wd = 0.9, 0.999, 1e-8, 0.1, 0.01
    m = (1 - b1) * G1
    v = (1 - b2) * G1**2
    adam_step = m / (1 - b1) / (np.sqrt(v / (1 - b2)) + eps)  # = sign(G1) on the first step
    u1, _ = two_steps(opt("adamw", weight_decay=wd))
    np.testing.assert_allclose(u1, -lr * (adam_step + wd * THETA), rtol=1e-5)
    g = G1 + wd * THETA  # coupled L2 for adam
    u1, _ = two_steps(opt("adam", weight_decay=wd))
    np.testing.assert_allclose(u1, -lr * np.sign(g), rtol=1e-5)
    u1, u2 = two_steps(opt("adam"))
    m2 = b1 * m + (1 - b1) * G2
    v2 = b2 * v + (1 - b2) * G2**2
    np.testing.assert_allclose(u2, -lr * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps), rtol=1e-5)


def test_per_class_normalized_gd_gives_equal_norm_class_contributions():
    """Francazi et al. 2023: the direction is Σ_k g_k/||g_k||, so every class contributes a unit vector."""
    per_class = jnp.array([[30.0, 40.0], [0.0, 0.1]])  # a dominant and a tiny class gradient
    tx = build_optimizer(opt("per_class_normalized_gd", learning_rate=1.0), num_steps=10)
    update, _ = tx.update(per_class, tx.init(jnp.zeros(2)), jnp.zeros(2))
    contributions = -np.asarray(update) - np.array([0.0, 1.0])  # remove the tiny class's unit vector
    np.testing.assert_allclose(contributions, [0.6, 0.8], rtol=1e-6)
    assert np.isclose(np.linalg.norm(contributions), 1.0) and np.isclose(np.linalg.norm([0.0, 1.0]), 1.0)


def test_scaled_sign_and_normalized_gd_take_the_norm_over_all_parameters():
    """Kunstner et al. 2024's code computes ||g||_1 (ScaledSign) and ||g||_2 (NormSGD) over every parameter."""
    grads = {"b": jnp.array([3.0]), "w": jnp.array([-4.0, 0.0])}
    params = jax.tree.map(jnp.zeros_like, grads)
    for name, expected in (("scaled_sign", {"b": [-7.0], "w": [7.0, 0.0]}),
                           ("normalized_gd", {"b": [-0.6], "w": [0.8, 0.0]})):
        tx = build_optimizer(opt(name, learning_rate=1.0), num_steps=10)
        update, _ = tx.update(grads, tx.init(params), params)
        for key in grads:
            np.testing.assert_allclose(update[key], expected[key], rtol=1e-6)


def test_schedules():
    warm = schedule_factor("warmup", 4, 100)
    np.testing.assert_allclose([warm(0), warm(3), warm(50)], [0.25, 1.0, 1.0])
    cos = schedule_factor("cosine", 0, 100)
    np.testing.assert_allclose([cos(0), cos(50), cos(100)], [1.0, 0.5, 0.0], atol=1e-6)


@pytest.mark.parametrize("bad, message", [
    (dict(name="lion"), "valid choices"),
    (dict(learning_rate=0.0), "learning_rate must be > 0"),
    (dict(learning_rate=float("inf")), "finite"),
    (dict(momentum=1.5), "momentum must be <="),
])
def test_bad_optimizer_configs(bad, message):
    config = opt("gd")
    config.update(bad)
    with pytest.raises(ConfigError, match=message):
        validate_optimizer(config)

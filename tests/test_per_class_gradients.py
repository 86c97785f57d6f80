"""Per-class gradient norms of a dense head in closed form (dynamics.metrics.head_per_class_grad_norms)
equal the general path's (per-sample gradients summed per class, dynamics.metrics.per_class_gradients)
to float32 precision: for the linear model (the whole gradient; with and without bias, cross-entropy
and square loss) and for an MLP's last layer."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics import losses, metrics
from dynamics.models import MODELS

N, D, C = 150, 12, 9  # N not a multiple of the closed form's chunk; class C-1 has no sample


def problem(seed: int):
    kx, ky = jax.random.split(jax.random.PRNGKey(seed))
    x = jax.random.uniform(kx, (N, D))  # U[0, 1]: a shared input mean, as heavy_tail_linear
    y = jax.random.randint(ky, (N,), 0, C - 1)
    return x, y


@functools.partial(jax.jit, static_argnums=(0, 4, 5))
def general(model, params, x, y, loss_name, select=lambda g: g):
    def sample_loss(p, xi, yi):
        return losses.LOSSES[loss_name](model.apply(p, xi[None])[0], yi)

    return metrics.tree_norm_per_class(select(metrics.per_class_gradients(sample_loss, params, x, y, C)))


closed_form = jax.jit(metrics.head_per_class_grad_norms, static_argnums=(0, 4, 5))


@pytest.mark.parametrize("loss_name, use_bias", [("cross_entropy", True), ("square", False)])
@pytest.mark.slow
def test_linear_model_closed_form_equals_per_sample_gradients(loss_name, use_bias):
    worst = 0.0
    for seed in range(2):
        x, y = problem(seed)
        model = MODELS["linear"](x[:1], C, use_bias=use_bias)
        params = jax.tree.map(lambda p: 3.0 * p, model.init(jax.random.PRNGKey(10 + seed)))  # confident logits
        assert metrics.has_dense_head_only(model, params)
        closed = closed_form(model, params, x, y, loss_name, C)
        reference = general(model, params, x, y, loss_name)
        assert float(closed[C - 1]) == 0.0 and float(reference[C - 1]) == 0.0  # no sample: no gradient
        np.testing.assert_allclose(closed, reference, rtol=1e-6, atol=1e-9)
        worst = max(worst, float(jnp.max(jnp.abs(closed - reference) / jnp.maximum(reference, 1e-30))))
    # measured worst relative difference over seeds 0-4 (float32, CPU): 1.2e-7 (cross-entropy, bias),
    # 1.5e-7 (cross-entropy, no bias), 2.1e-7 (square, bias), 1.2e-7 (square, no bias)
    assert worst < 1e-6


def test_mlp_head_closed_form_equals_its_block_of_the_general_path():
    x, y = problem(0)
    model = MODELS["mlp"](x[:1], C, hidden=(16,))
    params = model.init(jax.random.PRNGKey(3))
    assert not metrics.has_dense_head_only(model, params)  # evaluate keeps the general path for it
    closed = closed_form(model, params, x, y, "cross_entropy", C)
    reference = general(model, params, x, y, "cross_entropy", select=lambda g: g["head"])
    np.testing.assert_allclose(closed, reference, rtol=1e-6, atol=1e-9)


def test_evaluate_uses_the_closed_form_for_the_linear_model():
    """The record per_class_grad_norm of the linear model is the closed form's; NaN for an absent class."""
    x, y = problem(1)
    model = MODELS["linear"](x[:1], C)
    params = model.init(jax.random.PRNGKey(0))
    data = type("Data", (), dict(x=x, y=y, x_test=None, class_counts=jnp.bincount(y, length=C)))
    config = {"loss": {"name": "cross_entropy", "reweight_exponent": 0.0, "logit_adjustment": 0.0, "spectral_decoupling": 0.0},
              "train": {"per_class_grad_norm": True, "extra_metrics": ()}}
    record = jax.jit(lambda p: metrics.evaluate(model, config, p, data)["per_class_grad_norm"])(params)
    assert np.isnan(record[C - 1])
    np.testing.assert_allclose(record[:-1], general(model, params, x, y, "cross_entropy")[:-1], rtol=1e-6)

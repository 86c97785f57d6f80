"""The per-class Hessian spectrum metric (dynamics/metrics/curvature.py) against exact Hessians, and
SAM (dynamics/optimizers.py) against a step computed by hand."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from dynamics import losses
from dynamics.data import Dataset
from dynamics.errors import ConfigError
from dynamics.metrics import EXTRA_METRICS
from dynamics.models import mlp
from dynamics.optimizers import build_optimizer, sam_gradient


@pytest.mark.slow
def test_lanczos_extremes_match_the_exact_hessian_of_each_class():  # ~3.5 s CPU, mostly compiling the metric
    """λ_min and λ_max of ∇²L_k over all 64 parameters of a ReLU MLP (Gaussian inputs, classes of 25, 10, 4,
    1 and 0 samples) from 20 Lanczos steps match jax.hessian's eigenvalues to 1e-4 relative (measured:
    <= 5e-7, float32), the one-sample class's low-rank Hessian included (its Krylov space runs out: the
    restart); the class without a sample reads NaN; each density integrates to ~1."""
    x = jax.random.normal(jax.random.PRNGKey(1), (40, 6))
    counts = np.array([25, 10, 4, 1, 0])
    y = jnp.asarray(np.repeat(np.arange(5), counts).astype(np.int32))
    model = mlp(x[:1], 5, hidden=(5,))
    params = model.init(jax.random.PRNGKey(0))
    config = {"seed": 3, "loss": {"name": "cross_entropy"},
              "train": {"lanczos_iterations": 20, "lanczos_probes": 2, "density_bins": 32}}
    out = jax.jit(lambda p: EXTRA_METRICS["class_hessian_spectrum"](model, p, Dataset(x=x, y=y, class_counts=counts),
                                                                     config))(params)
    flat, unravel = ravel_pytree(params)
    class_weights = jax.nn.one_hot(y, 5) / np.maximum(counts, 1)
    hessians = jax.jit(jax.vmap(jax.hessian(lambda t, w: jnp.sum(w * losses.cross_entropy(model.apply(unravel(t), x), y))),
                                in_axes=(None, 1)))(flat, class_weights)
    for k in range(4):
        exact = np.linalg.eigvalsh(np.asarray(hessians[k], np.float64))
        assert exact[0] < 0 < exact[-1]  # a saddle at initialisation: both signs present
        np.testing.assert_allclose(out["class_hessian_min"][k], exact[0], rtol=1e-4)
        np.testing.assert_allclose(out["class_hessian_max"][k], exact[-1], rtol=1e-4)
    assert np.isnan(out["class_hessian_max"][4]) and np.isnan(out["class_hessian_min"][4])
    assert np.isnan(out["class_hessian_density"][4]).all()
    grid, density = np.asarray(out["class_hessian_density_grid"][:4]), np.asarray(out["class_hessian_density"][:4])
    mass = np.sum(density, axis=1) * (grid[:, 1] - grid[:, 0])  # SLQ weights sum to 1 per probe
    np.testing.assert_allclose(mass, 1.0, atol=0.05)


def test_a_one_point_density_grid_is_refused_in_one_line():
    config = {"seed": 0, "loss": {"name": "cross_entropy"},
              "train": {"lanczos_iterations": 10, "lanczos_probes": 1, "density_bins": 1}}
    with pytest.raises(ConfigError, match="train.density_bins must be >= 2"):
        EXTRA_METRICS["class_hessian_spectrum"](None, {}, None, config)


def test_sam_steps_match_the_hand_computed_steps():
    """Two SAM steps (Foret et al. 2021, alg. 1; base: SGD with momentum β) on L(θ) = ½ θᵀAθ, A = diag(1, 4),
    from θ_0 = (1, -2): g = Aθ, ε = ρ g/||g||, m ← βm + A(θ + ε), θ ← θ − η m, against numpy."""
    a = np.array([1.0, 4.0])
    grad_fn = lambda theta: a * theta
    opt = dict(name="sam", learning_rate=0.1, momentum=0.9, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0,
               schedule="constant", warmup_steps=0, rho=0.3)
    tx = build_optimizer(opt, num_steps=10)
    theta, expected, m = jnp.array([1.0, -2.0]), np.array([1.0, -2.0]), 0.0
    state = tx.init(theta)
    for _ in range(2):
        g = a * expected
        m = 0.9 * m + a * (expected + 0.3 * g / np.linalg.norm(g))
        expected = expected - 0.1 * m
        updates, state = tx.update(sam_gradient(grad_fn, theta, grad_fn(theta), opt["rho"]), state, theta)
        theta = theta + updates
        np.testing.assert_allclose(theta, expected, rtol=1e-6)
    zero = sam_gradient(grad_fn, theta, jnp.zeros(2), 0.3)  # g = 0: no perturbation, no NaN
    np.testing.assert_array_equal(zero, grad_fn(theta))

"""theory/lazy_rich.py: the linearised network's kernel predictor against gradient descent run in function space."""
import numpy as np

from theory import lazy_rich


def test_kernel_regression_is_gd_on_the_training_outputs_and_tends_to_the_interpolant():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(12, 30))
    k_train, y, step = features @ features.T, rng.choice([-1.0, 1.0], 12), 0.01
    f = np.zeros(12)
    for _ in range(200):                                    # f <- f - step K (f - y), from f = 0
        f -= step * k_train @ (f - y)
    np.testing.assert_allclose(k_train @ lazy_rich.kernel_regression(k_train, y, 200, step), f, atol=1e-9)
    limit = lazy_rich.kernel_regression(k_train, y)
    np.testing.assert_allclose(k_train @ limit, y, atol=1e-9)  # interpolates (P < features)
    np.testing.assert_allclose(lazy_rich.kernel_regression(k_train, y, 10**6, step), limit, atol=1e-8)

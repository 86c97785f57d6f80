"""The kernel-distance metric (dynamics.metrics.kernel): the empirical NTK against closed forms, and the
kernel distance / kernel-target alignment it logs (Fort et al. 2020; Kumar et al. 2024)."""
import numpy as np
import pytest

from dynamics import config, models, train
from dynamics.data import build_dataset
from dynamics.metrics import kernel


def test_ntk_of_the_diagonal_net_is_8_alpha_squared_x_x_at_init_and_the_metric_starts_at_zero():
    """f = <u*u - v*v, x> at u = v = alpha: K(x, x') = 8 alpha^2 <x, x'> (Lyu et al. 2024's kernel regime),
    so the kernel distance at step 0 is 0 and the alignment is cos(X X^T, Y Y^T)."""
    c = config.defaults(data="sparse_classification", model="diagonal_linear").to_dict()
    c["model"]["init_scale"], c["train"]["kernel_probe_size"] = 1.5, 16
    data = build_dataset(c["data"])
    model = models.build_model(c["model"], data.x[:1], data.num_classes)
    params = train.initial_params(model, c)
    x = data.x[:16].astype(np.float64)
    np.testing.assert_allclose(kernel.empirical_ntk(model, params, data.x[:16], data.x[:16]),
                               8 * 1.5**2 * x @ x.T, rtol=1e-5, atol=1e-4)
    out = kernel.kernel_distance(model, params, data, c)
    labels = np.eye(2)[data.y[:16]] - 0.5
    gram, target = x @ x.T, labels @ labels.T
    assert abs(float(out["kernel_distance"])) < 1e-6
    assert float(out["kernel_alignment"]) == pytest.approx(
        np.sum(gram * target) / (np.linalg.norm(gram) * np.linalg.norm(target)), rel=1e-5)


def test_ntk_counts_only_trained_parameters():
    """lazy_two_layer trains w alone (w0 and alpha are frozen): its trace NTK at init is half the closed-form
    kernel of f, K_f(x, x') = N^-1 sum_i (1 + z_i(x))(1 + z_i(x')) (x . x' + d) / d, z_i = (W_i . x + sqrt(d) b_i) / sqrt(d)."""
    c = config.defaults(data="boolean_monomial", model="lazy_two_layer").to_dict()
    c["data"].update(num_samples=6, input_dim=4)
    c["model"].update(width=6, init_scale=3.0)
    data = build_dataset(c["data"])
    model = models.build_model(c["model"], data.x[:1], data.num_classes)
    params = train.initial_params(model, c)
    x = np.asarray(data.x, np.float64)
    w = np.asarray(params["w0"], np.float64) / 3.0
    z = (x @ w[:-1] + 2.0 * w[-1]) / 2.0
    k_f = (1 + z) @ (1 + z).T / 6 * (x @ x.T + 4) / 4
    np.testing.assert_allclose(kernel.empirical_ntk(model, params, data.x, data.x), k_f / 2, rtol=1e-5, atol=1e-5)

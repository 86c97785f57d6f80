"""The kernel-distance metric (dynamics.metrics.kernel): the empirical NTK against a closed form, and the
kernel distance / kernel-target alignment it logs (Fort et al. 2020; Kumar et al. 2024)."""
import numpy as np
import pytest

from dynamics import config, models, train
from dynamics.data import build_dataset
from dynamics.metrics import kernel


def test_ntk_counts_only_trained_parameters_and_the_metric_starts_at_zero():
    """lazy_two_layer trains w alone (w0 and alpha are frozen): its trace NTK at init is half the closed-form
    kernel of f, K_f(x, x') = N^-1 sum_i (1 + z_i(x))(1 + z_i(x')) (x . x' + d) / d with
    z_i = (W_i . x + sqrt(d) b_i) / sqrt(d). At step 0 the kernel distance is 0 and the alignment is
    cos(K, Y Y^T), Y the one-hot labels centred."""
    c = config.defaults(data="boolean_monomial", model="lazy_two_layer").to_dict()
    c["data"].update(num_samples=6, input_dim=4)
    c["model"].update(width=6, init_scale=3.0)
    data = build_dataset(c["data"])
    model = models.build_model(c["model"], data.x[:1], data.num_classes)
    params = train.initial_params(model, c)
    x = np.asarray(data.x, np.float64)
    w = np.asarray(params["w0"], np.float64) / 3.0
    z = (x @ w[:-1] + 2.0 * w[-1]) / 2.0
    gram = (1 + z) @ (1 + z).T / 6 * (x @ x.T + 4) / 4 / 2
    np.testing.assert_allclose(kernel.empirical_ntk(model, params, data.x, data.x), gram, rtol=1e-5, atol=1e-5)
    out = kernel.kernel_distance(model, params, data, c)
    labels = np.eye(2)[data.y] - 0.5
    target = labels @ labels.T
    assert abs(float(out["kernel_distance"])) < 1e-6
    assert float(out["kernel_alignment"]) == pytest.approx(
        np.sum(gram * target) / (np.linalg.norm(gram) * np.linalg.norm(target)), rel=1e-4)

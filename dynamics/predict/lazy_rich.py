"""Lazy-to-rich grokking (Kumar, Bordelon, Gershman, Pehlevan 2024): the kernel predictor that a lazy network
sits on, and how far each member's kernel moved.

`data_records` computes, once at the end of a run, the empirical NTK of the member's own network at its
initial parameters on the training and test inputs (dynamics.metrics.kernel.tangent_features;
dynamics.train.initial_params) and the test error and squared error of the kernel predictor
(theory/lazy_rich.py), the alpha -> infinity limit of GD on the square loss and Kumar et al.'s plateau, at
the run's last step and in the limit of infinitely many steps. The History then carries them, so agreement
rows and the figure need the History alone.
"""
import functools
import json

import numpy as np

from theory import grokking as grokking_theory
from theory import lazy_rich

RECORDS = ("kernel_test_error", "kernel_test_squared_error", "kernel_limit_test_error")
LAZY_DISTANCE = 1e-4  # a member whose NTK moved less than this by the end (1 - cos(K_T, K_0)) stayed lazy
# |final test 0-1 error - kernel predictor's| of the members that stayed lazy: the margin
# tests/test_lazy_rich_claims.py asserts; measured <= 0.004 (small variant, seeds 0-4), <= 0.010 (full config).
PLATEAU_TOLERANCE = 0.02


def has_prediction(config: dict) -> bool:
    """Kumar et al.'s setting: the centred alpha-scaled two-layer net, full-batch GD on the square loss."""
    return (config["model"]["name"] == "lazy_two_layer" and config["loss"]["name"] == "square"
            and config["optimizer"]["name"] == "gd" and config["train"]["batch_size"] == 0)


@functools.lru_cache(maxsize=8)
def _initial_kernel(key: str):
    """(trace NTK [P + M, P] at the initial parameters between the training then test inputs and the
    training inputs, signed labels [P], [M]) of a member described by key = json of (data config, model
    config, seed). The model's kernel at init does not depend on its output scale (u = w / alpha starts at W),
    so the members of an alpha sweep share it: the key leaves alpha out and the work is done once per seed."""
    import jax
    import jax.numpy as jnp

    from dynamics.data import build_dataset
    from dynamics.metrics.kernel import tangent_features
    from dynamics.models import build_model
    from dynamics.train import initial_params

    data_config, model_config, seed = json.loads(key)
    data = build_dataset(data_config)
    model = build_model(model_config, data.x[:1], data.num_classes)
    params = initial_params(model, {"seed": seed, "model": model_config})
    features = jax.jit(lambda p, x: tangent_features(model, p, x))(params, jnp.concatenate([data.x, data.x_test]))
    features = np.asarray(features, np.float64)
    return features @ features[:data.x.shape[0]].T, 2.0 * data.y - 1.0, 2.0 * data.y_test - 1.0


def data_records(config: dict, build_data) -> dict:
    """The init-NTK kernel predictor of the member's data (y = 2 * class - 1) at the run's last step T
    (theory.lazy_rich.kernel_regression with the member's GD step: the square loss (f - y)^2/4 + 1/4 of
    logits [-f/2, f/2] moves the training outputs by -eta K (f - y) / P, K the trace NTK) and in the limit:
    {kernel_test_error: 0-1 error of sign f at T, kernel_test_squared_error: mean (f - y)^2 at T,
    kernel_limit_test_error: the min-norm interpolant's 0-1 error}; {} without the prediction.
    The dataset is rebuilt from the config inside the cached kernel computation (build_data is not called)."""
    if not has_prediction(config):
        return {}
    model_config = {**config["model"], "init_scale": 1.0}
    gram, y, y_test = _initial_kernel(json.dumps([config["data"], model_config, config["seed"]]))
    num = y.shape[0]
    at_end = lazy_rich.kernel_regression(gram[:num], y, config["train"]["num_steps"],
                                         config["optimizer"]["learning_rate"] / num)
    limit = lazy_rich.kernel_regression(gram[:num], y)
    error = lambda c, task: grokking_theory.test_error(c, gram[num:], y_test, task)
    return {"kernel_test_error": error(at_end, "classification"),
            "kernel_test_squared_error": error(at_end, "regression"),
            "kernel_limit_test_error": error(limit, "classification")}


def kernel_prediction(history, i: int):
    """Member i's kernel predictor {test_error, squared_error (at the last step), limit_error}, or None."""
    if not has_prediction(history.member_config(i)) or not all(name in history.records for name in RECORDS):
        return None
    error, squared, limit = (float(history.records[name][i, -1]) for name in RECORDS)
    return {"test_error": error, "squared_error": squared, "limit_error": limit}


def squared_test_error(history, i: int):
    """Member i's test mean (f - y)^2 [L], from the recorded square loss (f - y)^2/4 + 1/4 of logits [-f/2, f/2]."""
    return 4.0 * (history.records["test_mean_loss"][i] - 0.25)


def agreement_rows(history) -> list:
    """For every member that stayed lazy (kernel distance < LAZY_DISTANCE at the end, train.extra_metrics
    'kernel_distance'): its final test 0-1 error against the kernel predictor's."""
    from dynamics.predict import row

    rows = []
    for i in range(len(history.members)):
        predicted = kernel_prediction(history, i)
        if predicted is None or "kernel_distance" not in history.records:
            continue
        if history.records["kernel_distance"][i, -1] < LAZY_DISTANCE:
            final = 1.0 - float(history.records["test_accuracy"][i, -1])
            rows.append(row(i, "lazy kernel plateau", "test error: |final - init-NTK kernel predictor's|",
                            abs(final - predicted["test_error"]), PLATEAU_TOLERANCE))
    return rows

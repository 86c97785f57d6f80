"""Class competition (Francazi, Baity-Jesi, Lucchi 2023), predicted from the History alone: the
first step's change of every class's loss, to first order, from the recorded Gram matrix of the
per-class gradients (extra metric 'class_gradient_gram'), and the cosine between each class's
minibatch gradient and its full-batch gradient under SGD, from the recorded noise-to-signal ratios
(extra metric 'sgd_gradient_cosine'). The maths is theory/class_competition.py; nothing is fitted.
"""
from typing import Optional

import numpy as np

from dynamics import losses
from dynamics.predict.flows import class_probs
from theory import class_competition

METHODS = {"gd": "gd", "per_class_normalized_gd": "per_class_normalized"}
# Tolerances stated in agreement.csv, the margins tests/test_theory_agreement.py asserts:
# first step, max_k |Δℓ_sim − Δℓ_pred| / |Δℓ_pred| (measured 0.017–0.040 over GD and PCNGD, W = 0 and
# random inits, seeds 0–4: the second-order terms of one step);
FIRST_STEP_TOLERANCE = 0.05
# SGD cosine at step 0, max_k |measured − predicted| (measured 0.008–0.013 at B = 8 and 128, seeds
# 0–2; the Monte-Carlo error of the metric's 256 batches is ~0.01).
SGD_COSINE_TOLERANCE = 0.03


def why_no_first_step(history, i: int) -> Optional[str]:
    """None if member i's first step has a first-order prediction, else the reason (one line)."""
    config = history.member_config(i)
    opt, loss = config["optimizer"], config["loss"]
    if "class_gradient_gram" not in history.records:
        return "needs the extra metric class_gradient_gram"
    if not {0, 1} <= set(np.asarray(history.step).tolist()):
        return "needs steps 0 and 1 logged"
    if config["train"]["batch_size"] != 0 or opt["name"] not in METHODS:
        return "first-order prediction: full-batch gd or per_class_normalized_gd"
    if opt["schedule"] != "constant" or opt["weight_decay"] != 0:
        return "first-order prediction: constant schedule, no weight decay"
    if losses.modifications(loss):
        return "first-order prediction: the plain loss (the Gram matrix is of its gradients)"
    return None


def _gram_vectors(gram_CxC) -> np.ndarray:
    """Vectors (rows) with the given Gram matrix: enough for class_competition's inner products."""
    values, vectors = np.linalg.eigh(np.asarray(gram_CxC, np.float64))
    return vectors * np.sqrt(np.maximum(values, 0.0))[None, :]


def first_step_changes(history, i: int) -> tuple:
    """(predicted, simulated) change of each class's loss over step 0 → 1 of member i [C]: the
    first-order prediction −η g_k·d (theory.class_competition.first_order_loss_change) from the Gram
    matrix recorded at step 0. Needs `why_no_first_step` to be None."""
    config = history.member_config(i)
    steps = list(np.asarray(history.step).tolist())
    first, second = steps.index(0), steps.index(1)
    grads = _gram_vectors(history.records["class_gradient_gram"][i, first])
    predicted = class_competition.first_order_loss_change(
        grads, float(config["optimizer"]["learning_rate"]), class_probs(history, i),
        METHODS[config["optimizer"]["name"]])
    losses = np.asarray(history.records["per_class_loss"][i], np.float64)
    return predicted, losses[second] - losses[first]


def sgd_cosines(history, i: int, log_index: int = 0) -> tuple:
    """(predicted, measured) cosine of each class's minibatch gradient with its full-batch one [C] at
    logged step `log_index` of SGD member i: theory.class_competition.minibatch_gradient_cosine for
    its batch size from the recorded ρ_k (binomial class counts, finite-population correction with
    the class sizes), and the metric 'sgd_gradient_cosine' (NaN for a class in no batch)."""
    counts = np.asarray(history.class_counts[i], np.float64)
    size = history.member_config(i)["train"]["batch_size"] or int(counts.sum())
    rho = np.asarray(history.records["gradient_noise_to_signal"][i, log_index], np.float64)
    predicted = class_competition.minibatch_gradient_cosine(size * counts / counts.sum(), rho, "binomial",
                                                            batch_size=size, class_sizes=counts)
    return predicted, np.asarray(history.records["sgd_gradient_cosine"][i, log_index], np.float64)


def agreement_rows(history) -> list:
    """First step of every full-batch GD / PCNGD member with the Gram metric; SGD cosine at step 0 of
    every minibatch member with the cosine metric (dynamics.predict.row)."""
    from dynamics.predict import row

    rows = []
    for i in range(len(history.members)):
        if why_no_first_step(history, i) is None:
            predicted, simulated = first_step_changes(history, i)
            rows.append(row(i, "first-order first step", "Δℓ_k over step 0 → 1: max relative error",
                            np.max(np.abs(simulated - predicted) / np.abs(predicted)), FIRST_STEP_TOLERANCE))
        if "sgd_gradient_cosine" in history.records and history.member_config(i)["train"]["batch_size"] > 0:
            predicted, measured = sgd_cosines(history, i)
            rows.append(row(i, "minibatch gradient cosine 1/sqrt(1 + ρ_k²/n_k)",
                            "sgd_gradient_cosine at step 0: max absolute error",
                            np.nanmax(np.abs(measured - predicted)), SGD_COSINE_TOLERANCE))
    return rows

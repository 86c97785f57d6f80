"""Grokking: what the History says about fitting and generalising, and the theory beside it.

- members.csv columns (`member_columns`): each member's fit step, generalisation step and grokking
  time (Power et al. 2022), and per-class versions (`per_class_grokking_times`).
- XOR clusters (Xu et al. 2024): the Bayes-optimal test accuracy (theory/xor_clusters.py), from
  the member's config.
- Diagonal linear network (Lyu et al. 2024, Sec. 3.2.3): the kernel (l2 max-margin) predictor's
  test error on the plateau, the sparse (l1 max-margin) predictor's at the end, and the predicted
  transition step log(alpha / alpha_rich) / (-log(1 - eta lambda)) (theory/grokking.py). What
  these need from the member's data (the predictors' test errors, the training data's rich scale
  alpha_rich) is computed once at the end of the run by `data_records` and kept in the History
  (dynamics.predict.with_data_records), so the predictions and the figure read the History alone.
"""
import numpy as np

from dynamics.history import first_step_reaching
from theory import grokking as grokking_theory
from theory.xor_clusters import bayes_accuracy

GROKKING_ACCURACY = 0.99  # the accuracy that counts as fitted (train) or generalised (test)
DIAGONAL_RECORDS = ("kernel_test_error", "sparse_test_error", "rich_scale")

# Tolerances of the agreement table: the margins tests/test_grokking_claims.py asserts on
# configs/grokking_diagonal.py:small over data seeds 0-2 (measured there over seeds 0-3; and on the
# full config's 6 members, configs/grokking_diagonal.py's docstring).
FIT_SHARE_TOLERANCE = 0.005  # fit step / predicted transition step: measured <= 0.0016
PLATEAU_TOLERANCE = 0.02  # |plateau test error - kernel predictor's|: measured <= 0.0115 (full: <= 0.010)
FINAL_TOLERANCE = 0.025  # |final test error - sparse predictor's|: measured <= 0.0155 (full: <= 0.0015)
# |log(measured / predicted transition step)|: the test asserts the ratio in [0.55, 1.0]; measured
# 0.67-0.87 (|log| <= 0.40; full config 0.87-0.94); the tolerance is the test's lower bound, log(1/0.55).
TRANSITION_TOLERANCE = float(np.log(1 / 0.55))
# Bayes accuracy - final test accuracy on XOR clusters (the test asserts >= Bayes - 0.02):
# measured 0.000-0.006 over seeds 0-11 (stratified) on configs/grokking_xor.py:small.
BAYES_TOLERANCE = 0.02


def grokking_steps(history, i: int) -> dict:
    """fit_step / generalization_step: the first logged steps where member i's train / test accuracy
    reaches GROKKING_ACCURACY (NaN: never); grokking_time: their difference (Power et al. 2022)."""
    fit = first_step_reaching(history.step, history.records["accuracy"][i], GROKKING_ACCURACY)
    general = first_step_reaching(history.step, history.records["test_accuracy"][i], GROKKING_ACCURACY)
    return {"fit_step": fit, "generalization_step": general, "grokking_time": general - fit}


def member_columns(history) -> dict:
    """members.csv's grokking columns {name: [M]} (runs with a test split), else {}."""
    if "accuracy" not in history.records or "test_accuracy" not in history.records:
        return {}
    rows = [grokking_steps(history, i) for i in range(len(history.members))]
    return {name: [r[name] for r in rows] for name in ("fit_step", "generalization_step", "grokking_time")}


def per_class_grokking_times(history, i: int):
    """Per-class fit and generalisation steps of member i: first logged steps where the class's
    train / test accuracy reaches GROKKING_ACCURACY (NaN: never, or no sample of the class in that
    split). Returns (fit [C], general [C]).

    All NaN if the member never fits its whole training set: a network that predicts one class
    everywhere has 100% test accuracy on that class, which is not generalisation."""
    num_classes = history.class_counts.shape[-1]
    if not np.isfinite(first_step_reaching(history.step, history.records["accuracy"][i], GROKKING_ACCURACY)):
        return np.full(num_classes, np.nan), np.full(num_classes, np.nan)
    fit = first_step_reaching(history.step, history.records["per_class_accuracy"][i], GROKKING_ACCURACY, axis=0)
    general = first_step_reaching(history.step, history.records["test_per_class_accuracy"][i], GROKKING_ACCURACY,
                                  axis=0)
    return fit, general


def classes_never_generalised(history, i: int) -> tuple:
    """(classes of member i with a test sample that never reach GROKKING_ACCURACY on it, classes with a
    test sample); a class with no test sample (its test record all NaN) has no verdict and is left out.
    (0, 0) if the member never fits its training set (per_class_grokking_times)."""
    fit, general = per_class_grokking_times(history, i)
    if np.all(np.isnan(fit)):
        return 0, 0
    tested = np.isfinite(history.records["test_per_class_accuracy"][i]).any(axis=0)
    return int((tested & ~np.isfinite(general)).sum()), int(tested.sum())


def xor_bayes_accuracy(history, i: int):
    """The Bayes-optimal (clean) test accuracy of member i's XOR cluster data, or None for other data."""
    data = history.member_config(i)["data"]
    return bayes_accuracy(data["mean_norm"]) if data["name"] == "xor_clusters" else None


def has_diagonal_prediction(config: dict) -> bool:
    """Lyu et al.'s setting: the diagonal linear net, full-batch GD with a constant step and weight
    decay > 0, on the logistic loss (cross-entropy on logits [0, f])."""
    opt = config["optimizer"]
    return (config["model"]["name"] == "diagonal_linear" and config["loss"]["name"] == "cross_entropy"
            and opt["name"] == "gd" and opt["weight_decay"] > 0 and opt["schedule"] == "constant"
            and config["train"]["batch_size"] == 0)


def data_records(config: dict, build_data) -> dict:
    """What the diagonal network's prediction needs from the member's dataset (build_data() ->
    Dataset; classification: y = 2 * class - 1): the kernel and sparse predictors' test 0-1 errors
    and the training data's rich scale alpha_rich at the member's weight decay. {} for a config
    without that prediction."""
    if not has_diagonal_prediction(config):
        return {}
    data = build_data()
    x, y = data.x.astype(np.float64), 2.0 * data.y - 1.0
    x_test, y_test = data.x_test.astype(np.float64), 2.0 * data.y_test - 1.0
    task = "classification"
    error = lambda theta: grokking_theory.test_error(theta, x_test, y_test, task)
    return {"kernel_test_error": error(grokking_theory.kernel_predictor(x, y, task)),
            "sparse_test_error": error(grokking_theory.sparse_predictor(x, y, task)),
            "rich_scale": grokking_theory.rich_scale(x, y, task, config["optimizer"]["weight_decay"])}


def diagonal_prediction(history, i: int):
    """Member i's kernel / sparse test errors and predicted transition step {kernel_error,
    sparse_error, transition_step}, or None when it has none (or the History predates the records)."""
    config = history.member_config(i)
    if not has_diagonal_prediction(config) or not all(name in history.records for name in DIAGONAL_RECORDS):
        return None
    kernel, sparse, rich = (float(history.records[name][i, -1]) for name in DIAGONAL_RECORDS)
    step = grokking_theory.transition_step(config["model"]["init_scale"], config["optimizer"]["weight_decay"],
                                           config["optimizer"]["learning_rate"], rich)
    return {"kernel_error": kernel, "sparse_error": sparse, "transition_step": float(step)}


def diagonal_measurements(history, i: int, prediction: dict) -> dict:
    """Read off member i's curves: fit step (train accuracy 1), plateau error (test error at the
    geometric middle of fit step and predicted transition), transition step (first step after the
    fit with test error past the midpoint of the two predictors' errors: below it for grokking, above
    it for misgrokking, where the sparse predictor is the worse one), final test error."""
    steps, test_error = history.step, 1.0 - history.records["test_accuracy"][i]
    fit = first_step_reaching(steps, history.records["accuracy"][i], 1.0)
    plateau_step = np.sqrt(max(fit, 1.0) * prediction["transition_step"])
    plateau = float(test_error[min(np.searchsorted(steps, plateau_step), len(steps) - 1)])
    after = steps > fit
    midpoint = 0.5 * (prediction["kernel_error"] + prediction["sparse_error"])
    worse_late = 1.0 if prediction["sparse_error"] > prediction["kernel_error"] else -1.0  # misgrokking: +1
    measured = first_step_reaching(steps[after], worse_late * test_error[after], worse_late * midpoint)
    return {"fit_step": fit, "plateau_error": plateau, "transition_step": measured, "final_error": float(test_error[-1])}


def agreement_rows(history) -> list:
    """Per member: the XOR Bayes accuracy against the final test accuracy; the diagonal network's
    fit before the transition, kernel plateau, sparse end and transition step."""
    from dynamics.predict import row

    rows = []
    for i in range(len(history.members)):
        bayes = xor_bayes_accuracy(history, i)
        if bayes is not None and "test_accuracy" in history.records:
            rows.append(row(i, "xor bayes accuracy", "final test accuracy: Bayes - measured",
                            abs(bayes - float(history.records["test_accuracy"][i, -1])), BAYES_TOLERANCE))
        predicted = diagonal_prediction(history, i)
        if predicted is None:
            continue
        measured = diagonal_measurements(history, i, predicted)
        ratio = measured["transition_step"] / predicted["transition_step"]
        rows += [row(i, "diagonal transition step", "fit step / predicted transition step",
                     measured["fit_step"] / predicted["transition_step"], FIT_SHARE_TOLERANCE),
                 row(i, "diagonal kernel plateau", "test error: |plateau - kernel predictor's|",
                     abs(measured["plateau_error"] - predicted["kernel_error"]), PLATEAU_TOLERANCE),
                 row(i, "diagonal sparse end", "test error: |final - sparse predictor's|",
                     abs(measured["final_error"] - predicted["sparse_error"]), FINAL_TOLERANCE),
                 row(i, "diagonal transition step", "|log(measured / predicted step)|",
                     abs(np.log(ratio)) if np.isfinite(ratio) else np.inf, TRANSITION_TOLERANCE)]
    return rows

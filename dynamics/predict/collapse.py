"""Neural-collapse geometry predicted for the members of a History, and its agreement with them.

From the History alone (config, class counts, and the records of the extra metric
'neural_collapse': normalised classifier and class-mean Grams, minority cosine, loss, parameter
norm), with the maths of theory/collapse.py; nothing is fitted:
- the geometry the unconstrained-features model (UFM) reaches: the simplex ETF (Papyan, Han,
  Donoho 2020; with weight decay the global minimiser, Zhu et al. 2021), SELI under imbalance
  without regularisation (Thrampoulidis et al. 2022), the closed-form square-loss minimiser;
- the distance of any member's recorded Grams to SELI at its class counts (also for real networks);
- minority collapse in the weight-decayed two-group UFM: the optimum's minority-classifier cosine
  and the threshold ratio R* beyond which it is 1 (theory.collapse.regularized_ufm_collapse_threshold,
  this project's derivation; cf. Hong & Ling 2023, and Fang et al. 2021 for the phenomenon).
"""
from typing import Optional

import numpy as np

from dynamics import losses

from theory import collapse as theory

# Tolerances stated in agreement.csv, the margins tests/test_collapse_ufm.py asserts:
# normalised-Gram distance to the ETF (classifiers and class means): the 0.05 target of the issue
# that added these configs (measured 0.0023-0.0050 with weight decay at step 400, seeds 0-3; 0.024
# without, seed 0, step 400; 0.016 / 0.034 for seeds 0 / 1 at step 3000 in configs/collapse_ufm.py);
ETF_TOLERANCE = 0.05
# to SELI (normalised GD, float32; measured 0.0041-0.0053 at η = 0.05, step 1000, seeds 0-1;
# 0.003-0.005 at η = 0.0125, step 3000);
SELI_TOLERANCE = 0.02
# to the closed-form square-loss minimiser (measured <= 2.6e-4 at step 400, seeds 0-1);
SQUARE_LOSS_TOLERANCE = 1e-3
# relative gap of the regularised objective L + λ/2 ‖θ‖² to the closed-form minimum (measured
# <= 4e-5 for the balanced cross-entropy UFM, <= 1.2e-7 for the square loss, step 400);
OBJECTIVE_TOLERANCE = {"cross_entropy": 1e-3, "square": 1e-4}
# |final minority cosine − the optimum's| in the two-group UFM (measured 1e-5 / 1.3e-5 at R = 5 / 16
# after 1500 steps; <= 2e-4 at R <= 8 and R >= 12 after 3000 steps; near R* convergence slows:
# 0.004 at R = 9 and 0.023 at R = 9.99, outside).
MINORITY_COSINE_TOLERANCE = 0.01
# The dynamics each prediction is stated for: full-batch (normalised) GD on the plain loss.
OPTIMIZERS = ("gd", "normalized_gd")


def why_no_prediction(config: dict) -> Optional[str]:
    """None if a UFM member with this resolved config has a predicted geometry, else the reason."""
    opt, loss = config["optimizer"], config["loss"]
    if config["model"]["name"] != "ufm" or config["data"]["name"] != "ufm":
        return "UFM geometry: the ufm model on ufm data"
    if "neural_collapse" not in config["train"]["extra_metrics"]:
        return "needs the extra metric neural_collapse"
    if config["train"]["batch_size"] != 0 or opt["name"] not in OPTIMIZERS or opt["schedule"] != "constant":
        return "UFM geometry: full-batch gd or normalized_gd at a constant step size"
    if losses.modifications(loss):
        return "UFM geometry: the plain loss"
    return None


def seli_grams(class_counts_C) -> tuple:
    """(classifier Gram, class-mean Gram centred on the per-sample mean) of SELI at these counts
    (theory.collapse.seli_geometry; the ETF when balanced), centred as the metric centres."""
    counts = np.asarray(class_counts_C, np.float64)
    seli = theory.seli_geometry(counts)
    return seli.classifier_gram, theory.center_gram(seli.class_mean_gram, counts)


def predicted_grams(history, i: int) -> Optional[tuple]:
    """(name, classifier Gram, class-mean Gram centred on the per-sample mean) predicted for UFM
    member i, or None when theory/collapse.py has no prediction for its setting (two_group members
    have theirs in `minority_cosines`).

    cross-entropy, no weight decay: SELI (Thrampoulidis et al. 2022; the ETF when balanced);
    cross-entropy with weight decay, balanced: the ETF (Zhu et al. 2021, Thm 3.1);
    square loss with weight decay (no bias): the closed-form minimiser (ufm_square_loss).
    """
    config = history.member_config(i)
    if why_no_prediction(config) is not None or config["data"]["law"] == "two_group":
        return None
    counts = np.asarray(history.class_counts[i], np.float64)
    loss, lam = config["loss"]["name"], float(config["optimizer"]["weight_decay"])
    balanced = np.all(counts == counts[0])
    if loss == "cross_entropy" and lam == 0.0:
        return ("ETF" if balanced else "SELI"), *seli_grams(counts)
    if loss == "cross_entropy" and balanced:
        sol = theory.ufm_cross_entropy_balanced(len(counts), counts[0], lam, lam)
        return "ETF", sol.classifier_gram, theory.center_gram(sol.class_mean_gram, counts)
    if loss == "square" and lam > 0.0:
        sol = theory.ufm_square_loss(counts, lam, lam, "none")
        return "square-loss minimiser", sol.classifier_gram, theory.center_gram(sol.class_mean_gram, counts)
    return None


def gram_distances(history, i: int, grams: tuple) -> tuple:
    """(classifier, class-mean) normalised-Gram distances [L] of member i's records to `grams`."""
    gram_w, gram_m = grams
    return (theory.gram_distance(history.records["nc_classifier_gram"][i], gram_w),
            theory.gram_distance(history.records["nc_class_mean_gram"][i], gram_m))


def distances_to_prediction(history, i: int) -> Optional[tuple]:
    """(name, classifier distance [L], class-mean distance [L]) to member i's predicted geometry."""
    predicted = predicted_grams(history, i)
    if predicted is None:
        return None
    name, *grams = predicted
    return (name, *gram_distances(history, i, grams))


def seli_distances(history, i: int) -> tuple:
    """(classifier, class-mean) distances [L] of member i's Grams to SELI at its class counts (any
    model with the metric; NaN when a class has no training sample: SELI needs every class)."""
    counts = np.asarray(history.class_counts[i], np.float64)
    if np.any(counts <= 0):
        nan = np.full(len(history.step), np.nan)
        return nan, nan
    return gram_distances(history, i, seli_grams(counts))


def objective_gap(history, i: int) -> Optional[float]:
    """|L + λ/2 ‖θ‖² − minimum| / minimum at member i's last record, for the settings with a closed-form
    minimum (balanced cross-entropy and square loss, weight decay λ_W = λ_H = λ, per-sample features
    as in the closed forms), else None."""
    config = history.member_config(i)
    name = (predicted_grams(history, i) or (None,))[0]
    lam = float(config["optimizer"]["weight_decay"])
    if name is None or lam == 0.0 or config["data"]["features"] != "per_sample":
        return None
    counts = np.asarray(history.class_counts[i], np.float64)
    if config["loss"]["name"] == "square":
        minimum = theory.ufm_square_loss(counts, lam, lam, "none").objective
    else:
        minimum = theory.ufm_cross_entropy_balanced(len(counts), counts[0], lam, lam).objective
    objective = history.records["loss"][i, -1] + 0.5 * lam * history.records["param_norm"][i, -1] ** 2
    return float(abs(objective - minimum) / abs(minimum))


def two_group_shape(history, i: int) -> tuple:
    """(K_A, K_B, N, realised ratio n_A/n_B, n_B) of a two_group member."""
    counts = np.asarray(history.class_counts[i], np.float64)
    kb = int(history.member_config(i)["data"]["minority_classes"])
    ka = len(counts) - kb
    return ka, kb, counts.sum(), counts[:ka].mean() / counts[-1], counts[-1]


def minority_collapse_threshold(num_major: int, num_minor: int, num_samples: float, weight_decay: float) -> float:
    """R* at a fixed total N: collapse iff n_B <= N² λ_W λ_H (theory.collapse.regularized_ufm_collapse_threshold
    evaluated at the minority count n_B = N² λ², where R = R*)."""
    n_minor = num_samples**2 * weight_decay**2
    return theory.regularized_ufm_collapse_threshold(num_major, num_minor, n_minor, weight_decay, weight_decay)


def minority_members(history) -> list:
    """The two_group members with a prediction (weight decay > 0), in order."""
    out = []
    for i in range(len(history.members)):
        config = history.member_config(i)
        if (why_no_prediction(config) is None and config["data"]["law"] == "two_group"
                and config["loss"]["name"] == "cross_entropy" and config["optimizer"]["weight_decay"] > 0):
            out.append(i)
    return out


def minority_cosine(ratio: float, num_major: int, num_minor: int, num_samples: float, weight_decay: float) -> float:
    """The cosine between minority classifiers at the regularised UFM's optimum at ratio R and total N
    (theory.collapse.regularized_ufm_minority_cosine; 1 from R* on)."""
    n_minor = num_samples / (num_major * ratio + num_minor)
    return float(theory.regularized_ufm_minority_cosine(ratio, num_major, num_minor, n_minor,
                                                        weight_decay, weight_decay)[0])


def minority_cosine_curve(num_major: int, num_minor: int, num_samples: float, weight_decay: float,
                          r_max: float, points: int = 16) -> tuple:
    """(ratios, cosines) of the optimum from R = 1 to r_max: solved numerically on a geometric grid
    below R*, and 1 from R* on (the KKT threshold)."""
    r_star = minority_collapse_threshold(num_major, num_minor, num_samples, weight_decay)
    grid = np.geomspace(1.0, min(r_star, r_max), points)[:-1] if r_star > 1.0 else np.zeros(0)
    cosines = np.array([minority_cosine(r, num_major, num_minor, num_samples, weight_decay) for r in grid])
    if r_star < r_max:
        grid, cosines = np.r_[grid, max(r_star, 1.0), r_max], np.r_[cosines, 1.0, 1.0]
    return grid, cosines


def minority_cosines(history, i: int) -> tuple:
    """(R*, predicted final cosine, measured final cosine) of two_group member i."""
    lam = float(history.member_config(i)["optimizer"]["weight_decay"])
    ka, kb, n_total, ratio, _ = two_group_shape(history, i)
    predicted = minority_cosine(ratio, ka, kb, n_total, lam)
    return minority_collapse_threshold(ka, kb, n_total, lam), predicted, float(history.records["minority_cosine"][i, -1])


def agreement_rows(history) -> list:
    """Final Gram distances to the predicted geometry and the objective's gap to its minimum for the
    UFM members; the final minority cosine against the optimum's for the two_group members."""
    from dynamics.predict import row

    rows = []
    for i in range(len(history.members)):
        predicted = predicted_grams(history, i)
        if predicted is None:
            continue
        name, d_w, d_m = distances_to_prediction(history, i)
        tolerance = {"ETF": ETF_TOLERANCE, "SELI": SELI_TOLERANCE, "square-loss minimiser": SQUARE_LOSS_TOLERANCE}[name]
        rows.append(row(i, name, "classifier Gram: final normalised distance", d_w[-1], tolerance))
        rows.append(row(i, name, "class-mean Gram: final normalised distance", d_m[-1], tolerance))
        gap = objective_gap(history, i)
        if gap is not None:
            loss = history.member_config(i)["loss"]["name"]
            rows.append(row(i, f"{name} (minimum)", "L + λ/2 ‖θ‖²: final relative gap", gap,
                            OBJECTIVE_TOLERANCE[loss]))
    for i in minority_members(history):
        r_star, predicted, measured = minority_cosines(history, i)
        rows.append(row(i, f"regularised UFM optimum (R* = {r_star:.2f})", "minority cosine: final |gap|",
                        abs(measured - predicted), MINORITY_COSINE_TOLERANCE))
    return rows

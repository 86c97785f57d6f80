"""Noisy labels (Liu et al. 2020): early learning, then memorisation, and the theory beside them.

- members.csv columns (`member_columns`, runs that log label_noise_fit): the peak share of wrong labels
  predicted as their true class and its step, the memorisation step (the first step after that peak
  where half the wrong labels are fitted), and how the per-class memorisation steps follow frequency.
- Linear classifier on two Gaussian clusters (configs/noisy_labels_linear.py), plain cross-entropy:
  theory/noisy_labels.py's n → ∞ gradient descent (own derivation), started from the member's own
  recorded θ_0, against the early-learning phase (the steps where that theory has made at most
  EARLY_SHARE of its way to its fixed point); and Theorem 6: the member's noisy training set is
  linearly separable (a linear program on its data, `data_records`), so every wrong label ends memorised.
- With ELR (elr_lambda > 0) on the same data: the wrong labels end unmemorised (Liu et al., App. B).
"""
import numpy as np
import scipy  # scipy.stats loads when first used

from dynamics import losses
from dynamics.history import first_step_reaching
from theory import noisy_labels as theory

MEMORISED = 0.5  # the memorisation step: the first logged step where this share of the wrong labels is fitted
EARLY_SHARE = 0.9  # the early-learning phase: theory's θ·v within this share of its way to the fixed point
SEPARABLE = "noisy_labels_separable"  # data record: 1 if the member's noisy training set is linearly separable

# Tolerances of the agreement table: the margins tests/test_noisy_labels_claims.py asserts on
# configs/noisy_labels_linear.py:small over seeds 0-2, measured there over seeds 0-5 (init, data and noise
# seeds together). The early-phase gaps are finite-n effects (n = 200, p = 160) plus the test set's and
# the 60 wrong labels' sampling (one wrong label is 0.017).
ALIGNMENT_TOLERANCE = 0.06  # max |θ·v − theory| / theory's fixed point over the early phase: measured <= 0.045
ACCURACY_TOLERANCE = 0.06  # max |test accuracy − Φ(θ·v / σ||θ||)| over the early phase: measured <= 0.041
NOISY_TRUE_TOLERANCE = 0.15  # max |wrong labels predicted as true class − theory| (early phase): measured <= 0.111
SHARE_TOLERANCE = 0.03  # max |noisy share of Σ||p − y||² − theory| over the early phase: measured <= 0.017
MEMORISATION_TOLERANCE = 0.02  # 1 − the final share of wrong labels fitted (separable data): measured 0 (6/6 separable)
ELR_TOLERANCE = 0.02  # the final share of wrong labels fitted with ELR: measured 0


def early_peak(history, i: int) -> int:
    """The log index where member i predicts the most wrong labels as their true class."""
    true = history.records["noisy_true_mean"][i]
    return int(np.argmax(np.where(np.isnan(true), -np.inf, true)))


def memorisation_steps(history, i: int, record: str = "noisy_fit_mean"):
    """The first logged step after the early-learning peak (early_peak) where the record (a share of wrong
    labels fitted: [L], or per class [L, C]) reaches MEMORISED; NaN: never."""
    k = early_peak(history, i)
    return first_step_reaching(history.step[k:], history.records[record][i][k:], MEMORISED, axis=0)


def member_columns(history) -> dict:
    """members.csv's noisy-label columns {name: [M]} (runs that log label_noise_fit), else {}:
    peak_noisy_true (and its step), memorisation_step, and memorisation_vs_frequency, the Spearman
    correlation over classes between the number of wrong labels of a true class (∝ its frequency) and its
    memorisation step (> 0: the rare classes' wrong labels are memorised first; NaN with two classes)."""
    if "noisy_true_mean" not in history.records:
        return {}
    members = range(len(history.members))
    peaks = [early_peak(history, i) for i in members]
    correlation = [scipy.stats.spearmanr(history.records["noisy_count"][i, 0], memorisation_steps(history, i, "noisy_fit"),
                                   nan_policy="omit")[0] if history.class_counts.shape[-1] > 2 else np.nan
                   for i in members]
    return {"peak_noisy_true": [history.records["noisy_true_mean"][i, k] for i, k in zip(members, peaks)],
            "peak_noisy_true_step": history.step[peaks],
            "memorisation_step": [memorisation_steps(history, i) for i in members],
            "memorisation_vs_frequency": correlation}


def has_theory(config: dict) -> bool:
    """The paper's linear setting: two Gaussian clusters, a linear classifier without bias, full-batch GD
    at a constant step size on the cross-entropy (ELR allowed: its members get their own row)."""
    opt, loss = config["optimizer"], config["loss"]
    return (config["data"]["name"] == "two_gaussians" and config["data"]["label_noise"] != "none"
            and config["model"]["name"] == "linear" and not config["model"]["use_bias"]
            and loss["name"] == "cross_entropy" and not losses.modifications(loss, allowed=("regularizer",))
            and opt["name"] == "gd" and opt["weight_decay"] == 0 and opt["schedule"] == "constant"
            and config["train"]["batch_size"] == 0)


def uses_elr(config: dict) -> bool:
    return config["loss"]["regularizer"] == "elr" and config["loss"]["elr_lambda"] > 0


def data_records(config: dict, build_data) -> dict:
    """{SEPARABLE: 1.0 or 0.0} for a member in the paper's setting (build_data() -> its Dataset), else {}."""
    if not has_theory(config):
        return {}
    data = build_data()
    return {SEPARABLE: float(theory.linearly_separable(data.x, data.y))}


def early_prediction(history, i: int) -> dict:
    """Member i's theory curves over history.step and the early-learning phase mask, or None when it has
    none (ELR, another setting, or a History without the records)."""
    config = history.member_config(i)
    rec = history.records
    if not has_theory(config) or uses_elr(config) or "alignment" not in rec or "noisy_true_mean" not in rec:
        return None
    sigma, rho, lr = config["data"]["sigma"], config["data"]["noise_rate"], config["optimizer"]["learning_rate"]
    a0, r0 = float(rec["alignment"][i, 0]), float(rec["classifier_norm"][i, 0])
    b0 = np.sqrt(max(r0**2 - a0**2, 0.0))
    a, b = theory.population_trajectory(history.step, lr, sigma, rho, a0, b0)
    fixed = theory.population_fixed_point(sigma, rho)
    return {"alignment": a, "classifier_norm": np.hypot(a, b), "accuracy": theory.accuracy(a, b, sigma),
            "noisy_gradient_share": theory.noisy_gradient_share(a, b, sigma, rho), "fixed_alignment": fixed,
            "early": np.abs(a - a0) <= EARLY_SHARE * abs(fixed - a0)}


def agreement_rows(history) -> list:
    from dynamics.predict import row

    rows, rec = [], history.records
    for i in range(len(history.members)):
        config = history.member_config(i)
        if not has_theory(config) or "noisy_fit_mean" not in rec:
            continue
        if uses_elr(config):
            rows.append(row(i, "ELR prevents memorisation (Liu et al. App. B)", "wrong labels fitted at the end",
                            rec["noisy_fit_mean"][i, -1], ELR_TOLERANCE))
            continue
        pred = early_prediction(history, i)
        if pred is not None:
            early = pred["early"]
            gap = lambda name, predicted: np.max(np.abs(rec[name][i][early] - predicted[early]))
            rows += [row(i, "n → ∞ gradient descent, early phase", "alignment θ·v / fixed point",
                         gap("alignment", pred["alignment"]) / abs(pred["fixed_alignment"]), ALIGNMENT_TOLERANCE),
                     row(i, "n → ∞ gradient descent, early phase", "test accuracy",
                         gap("test_accuracy", pred["accuracy"]), ACCURACY_TOLERANCE),
                     row(i, "n → ∞ gradient descent, early phase", "wrong labels predicted as true class",
                         gap("noisy_true_mean", pred["accuracy"]), NOISY_TRUE_TOLERANCE),
                     row(i, "n → ∞ gradient descent, early phase", "wrong labels' share of Σ||p − y||²",
                         gap("noisy_gradient_share", pred["noisy_gradient_share"]), SHARE_TOLERANCE)]
        if SEPARABLE in rec and rec[SEPARABLE][i, -1] == 1.0:
            rows.append(row(i, "memorisation on separable data (Theorem 6)", "1 − wrong labels fitted at the end",
                            1.0 - rec["noisy_fit_mean"][i, -1], MEMORISATION_TOLERANCE))
    return rows

"""Gradient starvation (Pezeshki et al. 2021), predicted from the History alone: the responses to the
two features of the 'two_features' data (record 'feature_response', metric 'feature_responses')
under the linearised dynamics, eq. (1) of theory/gradient_starvation.py stepped as GD, and its fixed
point (with each class's margin there).

Our model in the paper's terms (own derivation): a 2-class linear softmax model without bias,
logits z = W x. Its binary logit ŷ = z_0 − z_1 = θ·x with θ = w_0 − w_1, and GD on W at step η with
decoupled weight decay wd and the logit penalty sd/2 ‖z‖² is GD on θ at step 2η of the mean
cross-entropy plus (λ_L2/2) ‖θ‖² and (λ_SD/2) ŷ², with λ_L2 = wd/2 and λ_SD = sd/2 (the penalty on
w_0 + w_1 does not touch ŷ). So GD's responses follow eq. (1) stepped at h = 2η (its flow's time
is t = 2η × step). Nothing is fitted: the strengths and U come from the data's config and class
counts, z(0) is the recorded response at step 0 (the initialisation's).
"""
from typing import Optional

import numpy as np

from dynamics import losses

from theory import gradient_starvation

# Tolerances stated in agreement.csv, the margins tests/test_gradient_starvation.py asserts:
# GD against eq. (1) stepped at h = 2η, max over logged steps and features of |z_sim − z_pred| / max|z_pred|
# (measured up to 1.6e-5 over both configs, their small variants and the tests' random inits, seeds
# 0-2: the simulation's float32 rounding, growing with the number of steps);
STEPS_TOLERANCE = 5e-5
# the end point against the fixed point z*, max_j |z_j(end) − z_j*| / max|z*| (measured up to 5.9e-4
# over the same runs, at the paper's t = 500 where the L2 member at s_1 = 6 is still approaching z*).
FIXED_POINT_TOLERANCE = 1e-3


def why_no_prediction(config: dict) -> Optional[str]:
    """None if member's config has the linearised prediction, else the reason (one line)."""
    model, loss, opt, train = config["model"], config["loss"], config["optimizer"], config["train"]
    if config["data"]["name"] != "two_features" or "feature_responses" not in train["extra_metrics"]:
        return "needs data two_features and the extra metric feature_responses"
    if model["name"] not in ("linear", "linear_no_bias") or model.get("use_bias", False):
        return "the linear regime: model linear_no_bias (or linear with use_bias=False)"
    if loss["name"] != "cross_entropy" or losses.modifications(loss, allowed=("spectral_decoupling",)):
        return "needs the plain cross-entropy (spectral decoupling allowed)"
    if opt["name"] != "gd" or opt["schedule"] != "constant" or opt["momentum"] != 0 or train["batch_size"] != 0:
        return "the flow is full-batch gd with a constant step"
    return None


def penalties(config: dict) -> tuple:
    """(λ_L2, λ_SD) of eq. (1) for the member's weight decay and spectral decoupling (module doc)."""
    return config["optimizer"]["weight_decay"] / 2.0, config["loss"]["spectral_decoupling"] / 2.0


def features(history, i: int) -> tuple:
    """(U [N, 2], strengths s [2]) of member i's data (theory.gradient_starvation.toy_features)."""
    data = history.member_config(i)["data"]
    return gradient_starvation.toy_features((data["strength_1"], data["strength_2"]), data["coupling"],
                                            history.class_counts[i])


def predicted_responses(history, i: int, flow: bool = False) -> np.ndarray:
    """z [L, 2] at member i's logged steps from its recorded z at step 0: eq. (1) stepped as GD at
    h = 2η (theory.gradient_starvation.response_steps), or with flow=True its gradient flow at
    t = 2η × step (response_flow; GD departs from it by O(η))."""
    config = history.member_config(i)
    loadings, strengths = features(history, i)
    z0 = np.asarray(history.records["feature_response"][i, 0], np.float64)
    step_size = 2.0 * config["optimizer"]["learning_rate"]
    if flow:
        return gradient_starvation.response_flow(step_size * np.asarray(history.step, np.float64), z0, strengths,
                                                 loadings, *penalties(config))
    return gradient_starvation.response_steps(history.step, z0, step_size, strengths, loadings, *penalties(config))


def fixed_point(history, i: int) -> Optional[np.ndarray]:
    """z* [2] of member i, or None without a penalty (plain cross-entropy has no fixed point)."""
    l2, sd = penalties(history.member_config(i))
    if l2 <= 0 and sd <= 0:
        return None
    loadings, strengths = features(history, i)
    return gradient_starvation.steady_state(strengths, loadings, l2, sd)


def predicted_class_margins(history, i: int) -> Optional[np.ndarray]:
    """Each class's mean margin y ŷ at member i's fixed point [2], or None without one."""
    target = fixed_point(history, i)
    if target is None:
        return None
    loadings, _ = features(history, i)
    labels = np.repeat(np.arange(2), np.asarray(history.class_counts[i], np.int64))
    return gradient_starvation.class_margins(target, loadings, labels, 2)


def agreement_rows(history) -> list:
    """Per member with a prediction: the flow over all logged steps; the end point against z*."""
    from dynamics.predict import row

    rows = []
    for i in range(len(history.members)):
        if why_no_prediction(history.member_config(i)) is not None or "feature_response" not in history.records:
            continue
        simulated = np.asarray(history.records["feature_response"][i], np.float64)
        predicted = predicted_responses(history, i)
        rows.append(row(i, "linearised GD (theory/gradient_starvation.py eq. 1 at h = 2η)",
                        "feature_response: max |z_sim − z_pred| / max |z_pred|",
                        np.max(np.abs(simulated - predicted)) / np.max(np.abs(predicted)), STEPS_TOLERANCE))
        target = fixed_point(history, i)
        if target is not None:
            rows.append(row(i, "fixed point z* of eq. 1", "feature_response at the end: max |z − z*| / max |z*|",
                            np.max(np.abs(simulated[-1] - target)) / np.max(np.abs(target)), FIXED_POINT_TOLERANCE))
    return rows

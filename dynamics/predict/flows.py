"""Theory curves for the members of a History, computed from the History alone, and their agreement.

Each prediction uses only what the History holds: the member's resolved config (history.config
with history.members[i] put in), its class counts (π_k = N_k/N), the logged steps and the member's
learning rate (time t = learning_rate × step). Nothing is fitted. Which theory applies follows
from the config:

- model 'unigram' (bias-only softmax), cross-entropy, optimizer gd | sign | normalized_gd:
  theory.softmax_flow.unigram_per_class_loss with flow gd | sign | normalized; compared on the
  excess loss ℓ_k + log π_k (ℓ_k itself tends to −log π_k).
- model 'linear_no_bias' (or 'linear' with use_bias=False), init_scale=0, on barcode inputs (x = e_y,
  input_mean=0):
  the orthogonal model, theory.softmax_flow.orthogonal_per_class_loss; compared on ℓ_k.
- model 'deep_linear', square loss, gd, barcode inputs: theory.deep_linear.per_class_error with
  a0 = model.init_scale. Exact for init='aligned'; for init='random' the same curve is returned as
  a reference (`exact` False): how far a random start departs from the aligned one. Also each
  class's learning time (`learning_times`, Saxe et al. 2014).
Every case also needs full-batch training, a constant schedule, no weight decay, momentum 0 and
the plain loss (no reweighting, no logit adjustment). Otherwise there is no prediction, and
`prediction` says why.
"""
from typing import NamedTuple, Optional

import numpy as np

from dynamics import losses

from theory import deep_linear, softmax_flow

# ε of `agreement`: losses (or excesses) whose predicted size is below ε nats are compared in
# absolute terms, |ℓ_sim − ℓ_th| / ε. Float32 training resolves losses to ~1e-6 nats; the ε keeps
# classes whose excess crosses 0 (unigram) or whose loss has all but vanished from dominating.
AGREEMENT_FLOOR = 1e-2
# Unigram sign descent leaves the sign flow within ±this (in time t) of the flow's final landing
# time ½ log(π_max/π_min), where the last classes land together and the gap shrinks only like
# √η (theory/softmax_flow.py, unigram_per_class_loss); `member_agreement` leaves that window out.
SIGN_LANDING_WINDOW = 0.1
LEARNED_FRACTION = 0.5  # deep linear: class k is learned when its output reaches this share of its target
FLOWS = {"gd": "gd", "sign": "sign", "normalized_gd": "normalized"}


class Prediction(NamedTuple):
    """A member's predicted per_class_loss [L, C] at the History's steps.

    compare: 'loss' (compare ℓ_k) or 'excess' (compare ℓ_k + log π_k); exact: False for a
    reference curve whose assumptions the member breaks on purpose (deep_linear init='random').
    excluded_steps [L] bool: logged steps left out of the agreement (see SIGN_LANDING_WINDOW).
    """

    name: str
    per_class_loss: np.ndarray
    compare: str
    exact: bool
    excluded_steps: np.ndarray


def class_probs(history, i: int) -> np.ndarray:
    counts = np.asarray(history.class_counts[i], dtype=np.float64)
    return counts / counts.sum()


def times(history, i: int) -> np.ndarray:
    """Continuous time t = learning_rate × step of member i's logged steps [L]."""
    return float(history.member_config(i)["optimizer"]["learning_rate"]) * np.asarray(history.step, np.float64)


def why_no_prediction(config: dict) -> Optional[str]:
    """None if a theory applies to this resolved config, else the reason (one line)."""
    model, loss, opt, data = config["model"], config["loss"], config["optimizer"], config["data"]
    if config["train"]["batch_size"] != 0:
        return "minibatch training (the theories are for full-batch flows)"
    if opt["schedule"] != "constant" or opt["weight_decay"] != 0 or opt["momentum"] != 0:
        return "needs a constant schedule, no weight decay and momentum 0"
    if losses.modifications(loss):
        return "needs the plain loss (no reweighting or logit adjustment)"
    barcodes = data.get("name") == "synthetic" and data.get("inputs") == "barcodes" and data.get("input_mean") == 0
    if model["name"] == "unigram":
        if loss["name"] != "cross_entropy" or opt["name"] not in FLOWS:
            return "unigram theory: cross-entropy with gd, sign or normalized_gd"
        return None
    if model["name"] in ("linear", "linear_no_bias"):
        if model.get("use_bias", False) or model["init_scale"] != 0 or not barcodes:
            return "orthogonal theory: linear without bias, init_scale 0, barcode inputs with input_mean 0"
        if loss["name"] != "cross_entropy" or opt["name"] not in FLOWS:
            return "orthogonal theory: cross-entropy with gd, sign or normalized_gd"
        return None
    if model["name"] == "deep_linear":
        if loss["name"] != "square" or opt["name"] != "gd" or not barcodes or not model["init_scale"] > 0:
            return "deep linear theory: square loss, gd, init_scale > 0, barcode inputs with input_mean 0"
        return None
    return f"no theory for model {model['name']!r}"


def prediction(history, i: int) -> Optional[Prediction]:
    """Member i's theory curve at the logged steps, or None (see `why_no_prediction`)."""
    config = history.member_config(i)
    if why_no_prediction(config) is not None:
        return None
    pi, t = class_probs(history, i), times(history, i)
    model, opt = config["model"], config["optimizer"]
    none_excluded = np.zeros(t.shape, bool)
    if model["name"] == "unigram" and not np.all(pi > 0):
        return None  # a class with no sample: the unigram flow's optimum log π_k does not exist
    if model["name"] == "unigram":
        flow = FLOWS[opt["name"]]
        excluded = none_excluded
        if flow == "sign":
            landing = 0.5 * np.log(pi.max() / pi.min())
            excluded = np.abs(t - landing) <= SIGN_LANDING_WINDOW
        return Prediction(f"unigram {flow} flow", softmax_flow.unigram_per_class_loss(pi, t, flow), "excess",
                          True, excluded)
    if model["name"] in ("linear", "linear_no_bias"):
        flow = FLOWS[opt["name"]]
        return Prediction(f"orthogonal {flow} flow", softmax_flow.orthogonal_per_class_loss(pi, t, flow), "loss",
                          True, none_excluded)
    aligned = model["init"] == "aligned"
    return Prediction("aligned sigmoids" + ("" if aligned else " (reference)"),
                      deep_linear.per_class_error(pi, t, model["init_scale"]), "loss", aligned, none_excluded)


def agreement(simulated, predicted, floor: float = AGREEMENT_FLOOR) -> float:
    """max over logged steps and classes of |sim − theory| / max(|theory|, floor); arrays [L, C].
    A class with no sample (its simulated loss NaN) is left out."""
    simulated, predicted = np.asarray(simulated, np.float64), np.asarray(predicted, np.float64)
    return float(np.nanmax(np.abs(simulated - predicted) / np.maximum(np.abs(predicted), floor)))


def compared_curves(history, i: int, predicted: Prediction) -> tuple:
    """(simulated, predicted) [L', C] on the compared quantity (loss or excess), excluded steps dropped."""
    sim = np.asarray(history.records["per_class_loss"][i], np.float64)
    th = predicted.per_class_loss
    if predicted.compare == "excess":
        log_pi = np.log(class_probs(history, i))[None, :]
        sim, th = sim + log_pi, th + log_pi
    keep = ~predicted.excluded_steps
    return sim[keep], th[keep]


def member_agreement(history, i: int, floor: float = AGREEMENT_FLOOR, predicted: Prediction = None) -> Optional[float]:
    """`agreement` of member i with its prediction (None without one); see `compared_curves`.
    Pass `predicted` (from `prediction`) to avoid computing it again."""
    predicted = predicted or prediction(history, i)
    if predicted is None:
        return None
    return agreement(*compared_curves(history, i, predicted), floor)


def max_gap_in_steps(history, i: int, predicted: Prediction = None) -> Optional[float]:
    """max |sim − theory| (compared quantity, excluded steps dropped) in units of the step size η."""
    predicted = predicted or prediction(history, i)
    if predicted is None:
        return None
    sim, th = compared_curves(history, i, predicted)
    lr = float(history.member_config(i)["optimizer"]["learning_rate"])
    return float(np.nanmax(np.abs(sim - th)) / lr)


def crossing_times(times_L, values_LxC, threshold: float, stays: bool = False) -> np.ndarray:
    """Per class, the time a logged curve reaches `threshold` from above: [C] (NaN if never).

    stays=False: the first crossing (values ≤ threshold), interpolated linearly in (log t, value)
    between the two logged points around it (linearly in t if the earlier one is t = 0).
    stays=True: the time after which values stay ≤ threshold up to the last logged step (the
    last crossing). 0 where the curve starts (and, with stays, remains) below.
    """
    t = np.asarray(times_L, np.float64)
    v = np.asarray(values_LxC, np.float64)
    below = v <= threshold
    if stays:
        above = ~below
        last_above = np.where(above.any(0), v.shape[0] - 1 - np.argmax(above[::-1], axis=0), -1)
        hit = np.where(below[-1], last_above + 1, -1)  # first index of the final run below
    else:
        hit = np.where(below.any(0), np.argmax(below, axis=0), -1)
    out = np.full(v.shape[1], np.nan)
    for k in np.flatnonzero(hit >= 0):
        j = hit[k]
        if j == 0:
            out[k] = 0.0
            continue
        t0, t1, v0, v1 = t[j - 1], t[j], v[j - 1, k], v[j, k]
        frac = (v0 - threshold) / (v0 - v1) if v0 != v1 else 1.0
        if t0 > 0:
            out[k] = float(np.exp(np.log(t0) + frac * (np.log(t1) - np.log(t0))))
        else:
            out[k] = t0 + frac * (t1 - t0)
    return out


def threshold_kind(history, i: int) -> str:
    """What member i's time to threshold measures: 'excess' |ℓ_k + log π_k| for the unigram model
    (its loss tends to −log π_k, not 0), else 'loss' ℓ_k."""
    return "excess" if history.member_config(i)["model"]["name"] == "unigram" else "loss"


def threshold_times(history, i: int, kind: str, level: float) -> np.ndarray:
    """Measured times [C] (t = η·step) after which member i's loss (kind 'loss') or |excess| (kind
    'excess') stays ≤ `level`: the last crossing, so that GD's oscillations at large step sizes do
    not count an early dip (NaN if it never does)."""
    values = np.asarray(history.records["per_class_loss"][i], np.float64)
    if kind == "excess":
        values = np.abs(values + np.log(class_probs(history, i))[None, :])
    return crossing_times(times(history, i), values, level, stays=True)


def predicted_threshold_times(history, i: int, kind: str, level: float) -> Optional[tuple]:
    """(label, times [C]) at which the flow of member i's optimizer reaches `level`
    (theory.softmax_flow.time_to_loss): the unigram flow for kind 'excess', else the orthogonal
    model's, labelled a reference when member i is not the orthogonal model. None for an optimizer
    without a flow (or the normalised one), and for 'excess' without a unigram prediction."""
    flow = FLOWS.get(history.member_config(i)["optimizer"]["name"])
    if flow is None or flow == "normalized":
        return None
    pi = class_probs(history, i)
    predicted = prediction(history, i)
    if kind == "excess":
        if predicted is None:
            return None
        return f"{flow} flow", softmax_flow.time_to_loss(pi, level, flow, "unigram")
    reference = predicted is None or not predicted.name.startswith("orthogonal")
    label = f"orthogonal-model {flow} flow" + (" (reference)" if reference else "")
    return label, softmax_flow.time_to_loss(pi, level, flow, "orthogonal")


def loglog_slope(class_probs_C, times_C) -> float:
    """Least-squares slope of log t_k against log π_k over the classes with 0 < t_k < ∞ (NaN if < 2)."""
    pi, t = np.asarray(class_probs_C, np.float64), np.asarray(times_C, np.float64)
    ok = np.isfinite(t) & (t > 0) & (pi > 0)
    if np.unique(pi[ok]).size < 2:
        return float("nan")
    return float(np.polyfit(np.log(pi[ok]), np.log(t[ok]), 1)[0])


def learning_times(history, i: int, fraction: float = LEARNED_FRACTION) -> tuple:
    """Saxe et al. 2014 for a deep_linear member i: (predicted, measured) times t = η·step [C] at which
    each class's output reaches `fraction` of its target, i.e. its square loss falls to ½(1 − f)².
    predicted: theory.deep_linear.learning_times with a0 = model.init_scale (exact for the aligned
    init; inf for a class with no sample); measured: the first crossing, interpolated between logged
    steps (NaN if never, or no sample)."""
    scale = history.member_config(i)["model"]["init_scale"]
    predicted = deep_linear.learning_times(class_probs(history, i), scale, fraction=fraction)
    level = 0.5 * (1.0 - fraction) ** 2
    return predicted, crossing_times(times(history, i), history.records["per_class_loss"][i], level)


def learning_time_error(history, i: int) -> float:
    """max over the classes with samples of |t_sim − t_th| / t_th (`learning_times`); inf if one of
    them is not learned by the last logged step."""
    predicted, measured = learning_times(history, i)
    present = np.asarray(history.class_counts[i]) > 0
    error = np.abs(measured[present] - predicted[present]) / predicted[present]
    return float(np.inf) if np.isnan(error).any() else float(np.max(error))


# Tolerances stated in agreement.csv, the margins tests/test_theory_agreement.py asserts (measured
# values there): the gradient / normalised flows by max relative error (`agreement`), the sign
# flows by the largest gap in units of the step size (`max_gap_in_steps`), since discrete sign
# descent stays within about one step of the flow however long it runs.
RELATIVE_TOLERANCE = 0.02
SIGN_GAP_TOLERANCE = {"orthogonal": 0.05, "unigram": 3.0}
# Deep linear, aligned init: the curves' max relative error (`agreement`), the margin the same test
# asserts at η π_max = 0.05 (measured 0.072 at a0 = 0.1, 0.056 at a0 = 0.3, largest late where ℓ < 0.01;
# configs/theory_deep_linear.py at η π_max = 0.03: 0.041);
DEEP_LINEAR_CURVE_TOLERANCE = 0.09
# and the max relative error of the learning times (`learning_time_error`), the
# margin test_deep_linear_learning_times_match_the_sigmoids asserts at a0 = 0.1, η π_max = 0.05
# (measured 0.0141; a0 = 0.3: 0.0058; configs/theory_deep_linear.py at η π_max = 0.03: 0.009).
LEARNING_TIME_TOLERANCE = 0.018


def agreement_rows(history) -> list:
    """One row per member that has a prediction: its error and the tolerance (dynamics.predict.row)."""
    from dynamics.predict import row

    rows = []
    for i in range(len(history.members)):
        predicted = prediction(history, i)
        if predicted is None:
            continue
        quantity = "per_class_loss + log π" if predicted.compare == "excess" else "per_class_loss"
        if predicted.name.endswith("sign flow"):
            model = predicted.name.split()[0]
            rows.append(row(i, predicted.name, f"{quantity}: max gap in step sizes",
                            max_gap_in_steps(history, i, predicted), SIGN_GAP_TOLERANCE[model]))
        elif not predicted.exact:
            continue  # a reference curve (deep linear, random init): no agreement claimed
        elif predicted.name.startswith("aligned"):
            rows.append(row(i, predicted.name, f"{quantity}: max relative error",
                            member_agreement(history, i, predicted=predicted), DEEP_LINEAR_CURVE_TOLERANCE))
            rows.append(row(i, "aligned learning times", f"time to output {LEARNED_FRACTION:g}: max relative error",
                            learning_time_error(history, i), LEARNING_TIME_TOLERANCE))
        else:
            rows.append(row(i, predicted.name, f"{quantity}: max relative error",
                            member_agreement(history, i, predicted=predicted), RELATIVE_TOLERANCE))
    return rows

"""Figures that put theory/ beside simulation, computed from the History alone (never fitted):
per-class curves with the flows / sigmoids dashed (Kunstner et al. 2024; Saxe et al. 2014), time
to a loss threshold against class frequency, deep-linear learning times, and class competition
(Francazi et al. 2023). Each figure also prints its agreement numbers (one line per member), so
they appear at the end of `python -m dynamics.main`; dynamics.predict.flows holds the maths."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.predict import flows as tc  # noqa: E402
from dynamics.plots import per_class_loss, representatives  # noqa: E402
from theory import class_competition, deep_linear, softmax_flow  # noqa: E402

DPI = 90
# Loss thresholds of the time-to-threshold figure, as fractions of log C (the loss at uniform
# prediction), and the excess-loss thresholds |ℓ_k + log π_k| for the unigram model (whose loss
# tends to −log π_k rather than 0).
THRESHOLD_FRACTIONS = (0.5, 0.2)
EXCESS_THRESHOLDS = (1e-1, 1e-2)
LEARNED_FRACTION = 0.5  # deep linear: class k is learned when its output reaches this share of 1
OPTIMIZER_COLORS = {"gd": "C0", "sign": "C3", "adam": "C2", "normalized_gd": "C4", "per_class_normalized_gd": "C1"}


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _lr(history, i) -> float:
    return float(tc.member_config(history, i)["optimizer"]["learning_rate"])


def _title(history, i) -> str:
    return f"{history.label(i)} (lr {_lr(history, i):g})"


def print_agreements(history, predictions: dict) -> None:
    """One line per member: its theory and `agreement` (and the largest gap in step sizes).
    predictions: {member: tc.prediction(history, member)}."""
    for i in range(len(history.members)):
        predicted = predictions[i]
        if predicted is None:
            print(f"theory agreement | {_title(history, i)}: no prediction "
                  f"({tc.why_no_prediction(tc.member_config(history, i))})")
            continue
        what = "ℓ+log π" if predicted.compare == "excess" else "ℓ"
        skipped = int(predicted.excluded_steps.sum())
        note = f", {skipped} logged steps within ±{tc.SIGN_LANDING_WINDOW} of the last landing left out" \
            if skipped else ""
        kind = "" if predicted.exact else " [reference only: assumptions broken on purpose]"
        print(f"theory agreement | {_title(history, i)} vs {predicted.name}{kind}: "
              f"max |{what} sim − theory| / max(|theory|, {tc.AGREEMENT_FLOOR:g}) = "
              f"{tc.member_agreement(history, i, predicted=predicted):.4f}; "
              f"max gap = {tc.max_gap_in_steps(history, i, predicted):.3g} η{note}")


def theory_curves(history, path: str) -> None:
    """Per-class loss of every selected member (frequency buckets, see plots.per_class_loss) with
    its prediction dashed in the same colours (dynamics.predict.flows.prediction; none for members
    without a theory, e.g. Adam). Prints every member's agreement."""
    predictions = {i: tc.prediction(history, i) for i in range(len(history.members))}

    def predicted(i):
        p = predictions[i]
        return p.per_class_loss if p is not None else np.full(history.records["per_class_loss"][i].shape, np.nan)

    per_class_loss(history, path, theory=predicted)
    print_agreements(history, predictions)


# ----------------------------------------------------------------------------- time to threshold


def _kind(history, i) -> str:
    return "excess" if tc.member_config(history, i)["model"]["name"] == "unigram" else "loss"


def _threshold_times(history, i, kind, level):
    """Measured times [C] (t = η·step) after which member i's loss (or |excess|) stays ≤ `level`:
    the last crossing, so that GD's oscillations at large step sizes do not count an early dip."""
    values = history.records["per_class_loss"][i].astype(np.float64)
    if kind == "excess":
        values = np.abs(values + np.log(tc.class_probs(history, i))[None, :])
    return tc.crossing_times(tc.times(history, i), values, level, stays=True)


def _predicted_threshold_times(history, i, kind, level):
    """(label, times [C]) of the flow matching member i, or of the orthogonal model as a reference."""
    config = tc.member_config(history, i)
    flow = tc.FLOWS.get(config["optimizer"]["name"])
    if flow is None or flow == "normalized":
        return None
    pi = tc.class_probs(history, i)
    predicted = tc.prediction(history, i)
    if kind == "excess":
        if predicted is None:
            return None
        return f"{flow} flow", softmax_flow.time_to_loss(pi, level, flow, "unigram")
    reference = predicted is None or not predicted.name.startswith("orthogonal")
    label = f"orthogonal-model {flow} flow" + (" (reference)" if reference else "")
    return label, softmax_flow.time_to_loss(pi, level, flow, "orthogonal")


def _fitted_classes(kind, pi):
    """Classes a slope is fitted over: all; for the unigram excess only the rare ones, π_k < 1/C
    (the others start near their floor, and their times fall, not rise, towards π_k = 1/C)."""
    return pi < 1.0 / pi.size if kind == "excess" else np.ones(pi.size, bool)


def time_to_threshold(history, path: str) -> None:
    """Kunstner et al. 2024: the time t_k = η·step at which class k's loss reaches a threshold,
    against its frequency π_k (log-log), one panel per threshold (THRESHOLD_FRACTIONS of log C;
    for unigram members a second row with the excess |ℓ_k + log π_k| and EXCESS_THRESHOLDS).
    Markers: measured, the time after which the curve stays below the threshold (interpolated
    between logged steps; on monotone curves the first crossing), with the fitted log-log slope in
    the legend (unigram: over the classes with π_k < 1/C). Dashed: the matching flow of
    theory/softmax_flow.py (orthogonal model: slope −1 for GD, 0 for sign), drawn as a labelled
    reference for models the theory does not cover. Classes that never reach the threshold are
    left out of the fit (count in the legend). Prints every slope."""
    members = representatives(history)
    kinds = [k for k in ("loss", "excess") if any(_kind(history, i) == k for i in members)]
    fig, axes = plt.subplots(len(kinds), 2, figsize=(9.6, 3.9 * len(kinds)), squeeze=False)
    for row, kind in zip(axes, kinds):
        for ax, col in zip(row, range(2)):
            chosen = [i for i in members if _kind(history, i) == kind]
            for n, i in enumerate(chosen):
                pi = tc.class_probs(history, i)
                level = EXCESS_THRESHOLDS[col] if kind == "excess" else THRESHOLD_FRACTIONS[col] * np.log(pi.size)
                color = OPTIMIZER_COLORS.get(tc.member_config(history, i)["optimizer"]["name"], f"C{5 + n % 5}")
                measured = _threshold_times(history, i, kind, level)
                fitted = _fitted_classes(kind, pi)
                slope = tc.loglog_slope(pi[fitted], measured[fitted])
                missing = int(np.sum(~np.isfinite(measured)))
                shown = np.isfinite(measured) & (measured > 0)
                ax.scatter(pi[shown], measured[shown], s=10, color=color,
                           label=f"{history.label(i)}: slope {slope:.2f}" + (f" ({missing} never)" if missing else ""))
                line = f"time to threshold | {_title(history, i)}, {kind} ≤ {level:.3g}: measured slope {slope:.3f}"
                theory = _predicted_threshold_times(history, i, kind, level)
                if theory is not None:
                    label, predicted = theory
                    order = np.argsort(pi)
                    ok = np.isfinite(predicted[order]) & (predicted[order] > 0)
                    slope_th = tc.loglog_slope(pi[fitted], predicted[fitted])
                    ax.plot(pi[order][ok], predicted[order][ok], color=color, ls="--", lw=1,
                            label=f"{label}: slope {slope_th:.2f}")
                    line += f"; {label} slope {slope_th:.3f}"
                print(line + (f"; {missing} classes never reach it" if missing else ""))
            what = "|ℓ_k + log π_k|" if kind == "excess" else "ℓ_k"
            shown_level = f"{EXCESS_THRESHOLDS[col]:g} (slopes: π_k < 1/C)" if kind == "excess" \
                else f"{THRESHOLD_FRACTIONS[col]:g}·log C"
            ax.set_title(f"time until {what} ≤ {shown_level}", fontsize=9)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("class frequency π_k")
            ax.set_ylabel("time t = η·step")
            ax.legend(fontsize=6, loc="best")
    _save(fig, path)


# ----------------------------------------------------------------------------- deep linear


def deep_linear_learning_times(history, path: str) -> None:
    """Saxe et al. 2014: each class's measured learning time (its output reaches LEARNED_FRACTION,
    i.e. per-class square loss ≤ ½(1 − f)²) against the aligned-init prediction
    theory.deep_linear.learning_times (log-log, y = x dotted), one colour per member: the aligned
    initialisation lies on the line, a small random one departs. Left: the curves of the rarest
    and most frequent class. Prints each member's largest relative error."""
    members = representatives(history)
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.8))
    level = 0.5 * (1.0 - LEARNED_FRACTION) ** 2
    lows, highs = [], []
    for n, i in enumerate(members):
        config = tc.member_config(history, i)
        pi, t = tc.class_probs(history, i), tc.times(history, i)
        scale = config["model"]["init_scale"]
        color = f"C{n % 10}"
        predicted = deep_linear.learning_times(pi, scale, fraction=LEARNED_FRACTION)
        measured = tc.crossing_times(t, history.records["per_class_loss"][i], level)
        error = np.nanmax(np.abs(measured - predicted) / predicted)
        missing = int(np.sum(~np.isfinite(measured)))
        print(f"deep linear learning times | {_title(history, i)}: max |t_sim − t_theory|/t_theory = {error:.4f}"
              + (f"; {missing} classes not learned" if missing else ""))
        axes[1].scatter(predicted, measured, s=12, color=color, label=f"{history.label(i)}: max rel. err {error:.3f}")
        lows.append(np.nanmin([predicted.min(), np.nanmin(measured)]))
        highs.append(np.nanmax([predicted.max(), np.nanmax(measured)]))
        curve = deep_linear.per_class_error(pi, t, scale)
        for k, style in ((0, "-"), (pi.size - 1, ":")):
            axes[0].plot(t, history.records["per_class_loss"][i][:, k], color=color, ls=style, lw=1.5,
                         label=f"{history.label(i)} class {k} (π={pi[k]:.3f})")
            axes[0].plot(t, curve[:, k], color="black", ls="--", lw=0.8)
    span = [min(lows), max(highs)]
    axes[1].plot(span, span, color="gray", ls=":", lw=1)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("predicted learning time (aligned init)")
    axes[1].set_ylabel("measured learning time t = η·step")
    axes[1].legend(fontsize=6, loc="best")
    axes[0].set_xlabel("time t = η·step")
    axes[0].set_ylabel("per-class square loss (dashed: aligned sigmoid)")
    axes[0].legend(fontsize=6, loc="best")
    _save(fig, path)


# ----------------------------------------------------------------------------- class competition


def _gram_vectors(gram_CxC):
    """Vectors with the given Gram matrix (rows), enough for class_competition's inner products."""
    values, vectors = np.linalg.eigh(np.asarray(gram_CxC, np.float64))
    return vectors * np.sqrt(np.maximum(values, 0.0))[None, :]


def first_step_changes(history, i) -> tuple:
    """(predicted, simulated) change of each class's loss over step 0 → 1 of member i [C]: the
    first-order prediction from the recorded Gram matrix at step 0 (theory.class_competition)."""
    config = tc.member_config(history, i)
    method = "per_class_normalized" if config["optimizer"]["name"] == "per_class_normalized_gd" else "gd"
    steps = list(history.step)
    first, second = steps.index(0), steps.index(1)
    grads = _gram_vectors(history.records["class_gradient_gram"][i, first])
    predicted = class_competition.first_order_loss_change(grads, _lr(history, i), tc.class_probs(history, i), method)
    losses = history.records["per_class_loss"][i].astype(np.float64)
    return predicted, losses[second] - losses[first]


def predicted_sgd_cosine(history, i, log_index: int) -> np.ndarray:
    """theory.class_competition.minibatch_gradient_cosine for member i's batch size [C], from its
    recorded noise-to-signal ratios at that logged step (binomial class counts, finite-population
    correction with the class sizes)."""
    counts = np.asarray(history.class_counts[i], np.float64)
    size = tc.member_config(history, i)["train"]["batch_size"] or int(counts.sum())
    rho = history.records["gradient_noise_to_signal"][i, log_index].astype(np.float64)
    return class_competition.minibatch_gradient_cosine(size * counts / counts.sum(), rho, "binomial",
                                                       batch_size=size, class_sizes=counts)


def class_competition_figure(history, path: str) -> None:
    """Francazi et al. 2023. Left: per-class loss of the full-batch members (majority solid,
    minority dashed). Middle: the first step's Δℓ_k, predicted to first order (hatched) beside the
    simulated one, per full-batch member. Right: SGD members' cosine between each class's
    minibatch gradient and its full-batch gradient at step 0 and at the last step (markers)
    against batch size, with the prediction from the recorded ρ_k (dashed at step 0, dotted at the
    last step, where the prediction's isotropic-noise assumption holds less well). Prints the numbers."""
    full = [i for i in range(len(history.members)) if tc.member_config(history, i)["train"]["batch_size"] == 0]
    sgd = [i for i in range(len(history.members)) if i not in full]
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.8))
    shown = history.step > 0
    width = 0.8 / max(len(full), 1)
    for n, i in enumerate(full):
        color = OPTIMIZER_COLORS.get(tc.member_config(history, i)["optimizer"]["name"], f"C{n}")
        losses = history.records["per_class_loss"][i]
        for k, style in ((0, "-"), (losses.shape[1] - 1, "--")):
            axes[0].plot(history.step[shown], losses[shown][:, k], color=color, ls=style,
                         label=f"{history.label(i)} class {k}")
        predicted, simulated = first_step_changes(history, i)
        x = np.arange(predicted.size) + (n - (len(full) - 1) / 2) * width
        axes[1].bar(x - width / 4, predicted, width / 2, color=color, alpha=0.5, hatch="//",
                    label=f"{history.label(i)} predicted")
        axes[1].bar(x + width / 4, simulated, width / 2, color=color, label=f"{history.label(i)} simulated")
        error = np.max(np.abs(simulated - predicted) / np.abs(predicted))
        print(f"first-step Δℓ | {_title(history, i)}: predicted {np.round(predicted, 5).tolist()}, simulated "
              f"{np.round(simulated, 5).tolist()}, max relative difference {error:.3f}, signs "
              f"{'match' if np.array_equal(np.sign(predicted), np.sign(simulated)) else 'DIFFER'}")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("per-class training loss")
    axes[0].legend(fontsize=6, loc="best")
    axes[1].axhline(0.0, color="black", lw=0.8)
    axes[1].set_xticks(range(history.class_counts.shape[1]))
    axes[1].set_xlabel("class (0: majority)")
    axes[1].set_ylabel("loss change over the first step")
    axes[1].legend(fontsize=6, loc="best")
    if sgd and "sgd_gradient_cosine" in history.records:
        sizes = np.array([tc.member_config(history, i)["train"]["batch_size"] for i in sgd])
        order = np.argsort(sizes)
        for log_index, marker, style in ((0, "o", "--"), (len(history.step) - 1, "^", ":")):
            measured = np.array([history.records["sgd_gradient_cosine"][i, log_index] for i in sgd],
                                np.float64)[order]
            predicted = np.array([predicted_sgd_cosine(history, i, log_index) for i in sgd])[order]
            for k in range(measured.shape[1]):
                color = "C0" if k == 0 else "C3"
                axes[2].plot(sizes[order], measured[:, k], marker=marker, ls="none", color=color,
                             label=f"class {k}, step {history.step[log_index]}")
                axes[2].plot(sizes[order], predicted[:, k], ls=style, lw=1, color=color)
            gap = np.max(np.abs(measured - predicted))
            print(f"SGD gradient cosine | step {history.step[log_index]}, batch sizes {sizes[order].tolist()}: "
                  f"measured {np.round(measured, 3).tolist()}, predicted {np.round(predicted, 3).tolist()}, "
                  f"max |measured − predicted| = {gap:.4f}")
        axes[2].set_xscale("log")
        axes[2].set_xlabel("batch size B")
        axes[2].set_ylabel("cos(minibatch ĝ_k, full-batch ḡ_k)")
        axes[2].set_title("lines: 1/sqrt(1 + ρ_k²/n_k), n_k ~ Bin(B, π_k) (dashed: step 0)", fontsize=8)
        axes[2].legend(fontsize=6, loc="best")
    _save(fig, path)

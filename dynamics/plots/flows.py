"""Figures of the flows and sigmoids beside simulation, drawn from the History and the predictions of
dynamics.predict.flows (never fitted): per-class curves with the flows / sigmoids dashed (Kunstner
et al. 2024; Saxe et al. 2014), time to a loss threshold against class frequency, deep-linear
learning times. The agreement numbers are in the run's agreement.csv (dynamics.predict)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.plots import per_class_loss, representatives, save  # noqa: E402
from dynamics.predict import flows as tc  # noqa: E402

# Loss thresholds of the time-to-threshold figure, as fractions of log C (the loss at uniform
# prediction), and the excess-loss thresholds |ℓ_k + log π_k| for the unigram model (whose loss
# tends to −log π_k rather than 0).
THRESHOLD_FRACTIONS = (0.5, 0.2)
EXCESS_THRESHOLDS = (1e-1, 1e-2)
OPTIMIZER_COLORS = {"gd": "C0", "sign": "C3", "adam": "C2", "normalized_gd": "C4", "per_class_normalized_gd": "C1"}


def theory_curves(history, path: str) -> None:
    """Per-class loss of every selected member (frequency buckets, see plots.per_class_loss) with
    its prediction dashed in the same colours (dynamics.predict.flows.prediction; none for members
    without a theory, e.g. Adam)."""
    predictions = {i: tc.prediction(history, i) for i in range(len(history.members))}

    def predicted(i):
        p = predictions[i]
        return p.per_class_loss if p is not None else np.full(history.records["per_class_loss"][i].shape, np.nan)

    per_class_loss(history, path, theory=predicted)


# ----------------------------------------------------------------------------- time to threshold


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
    left out of the fit (count in the legend)."""
    members = representatives(history)
    kinds = [k for k in ("loss", "excess") if any(tc.threshold_kind(history, i) == k for i in members)]
    fig, axes = plt.subplots(len(kinds), 2, figsize=(9.6, 3.9 * len(kinds)), squeeze=False)
    for row, kind in zip(axes, kinds):
        for ax, col in zip(row, range(2)):
            chosen = [i for i in members if tc.threshold_kind(history, i) == kind]
            for n, i in enumerate(chosen):
                pi = tc.class_probs(history, i)
                level = EXCESS_THRESHOLDS[col] if kind == "excess" else THRESHOLD_FRACTIONS[col] * np.log(pi.size)
                color = OPTIMIZER_COLORS.get(history.member_config(i)["optimizer"]["name"], f"C{5 + n % 5}")
                measured = tc.threshold_times(history, i, kind, level)
                fitted = _fitted_classes(kind, pi)
                slope = tc.loglog_slope(pi[fitted], measured[fitted])
                missing = int(np.sum(~np.isfinite(measured)))
                shown = np.isfinite(measured) & (measured > 0)
                ax.scatter(pi[shown], measured[shown], s=10, color=color,
                           label=f"{history.label(i)}: slope {slope:.2f}" + (f" ({missing} never)" if missing else ""))
                theory = tc.predicted_threshold_times(history, i, kind, level)
                if theory is not None:
                    label, predicted = theory
                    order = np.argsort(pi)
                    ok = np.isfinite(predicted[order]) & (predicted[order] > 0)
                    slope_th = tc.loglog_slope(pi[fitted], predicted[fitted])
                    ax.plot(pi[order][ok], predicted[order][ok], color=color, ls="--", lw=1,
                            label=f"{label}: slope {slope_th:.2f}")
            what = "|ℓ_k + log π_k|" if kind == "excess" else "ℓ_k"
            shown_level = f"{EXCESS_THRESHOLDS[col]:g} (slopes: π_k < 1/C)" if kind == "excess" \
                else f"{THRESHOLD_FRACTIONS[col]:g}·log C"
            ax.set_title(f"time until {what} ≤ {shown_level}", fontsize=9)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("class frequency π_k")
            ax.set_ylabel("time t = η·step")
            ax.legend(fontsize=6, loc="best")
    save(fig, path)


# ----------------------------------------------------------------------------- deep linear


def deep_linear_learning_times(history, path: str) -> None:
    """Saxe et al. 2014: each class's measured learning time (its output reaches LEARNED_FRACTION,
    i.e. per-class square loss ≤ ½(1 − f)²) against the aligned-init prediction
    theory.deep_linear.learning_times (log-log, y = x dotted), one colour per member: the aligned
    initialisation lies on the line, a small random one departs. Left: the curves of the rarest
    and most frequent class."""
    members = representatives(history)
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.8))
    lows, highs = [], []
    for n, i in enumerate(members):
        pi, t = tc.class_probs(history, i), tc.times(history, i)
        color = f"C{n % 10}"
        predicted, measured = tc.learning_times(history, i)
        error = tc.learning_time_error(history, i)
        axes[1].scatter(predicted, measured, s=12, color=color, label=f"{history.label(i)}: max rel. err {error:.3f}")
        lows.append(np.nanmin([predicted.min(), np.nanmin(measured)]))
        highs.append(np.nanmax([predicted.max(), np.nanmax(measured)]))
        curve = tc.prediction(history, i).per_class_loss  # the aligned sigmoids (a reference for a random init)
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
    save(fig, path)

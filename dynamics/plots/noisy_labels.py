"""Early learning, then memorisation, of noisy labels (Liu et al. 2020, Fig. 1 and A.1)."""
import numpy as np

from dynamics.history import LR_KEY
from dynamics.plots import bucket_colors, plt, save
from dynamics.buckets import class_mean, frequency_buckets
from dynamics.predict import noisy_labels as predicted


SEEDS = (LR_KEY, "seed", "data.seed", "data.noise_seed")


def first_seeds(history) -> list:
    """One selected member per setting, whatever its initialisation, data and noise seeds, in member order."""
    chosen = {}
    for i in np.flatnonzero(history.selected):
        chosen.setdefault(history.label(i, exclude=SEEDS), i)
    return list(chosen.values())


def noisy_labels(history, path: str) -> None:
    """Per setting (first seed), top: the clean labels fitted, the wrong labels predicted as their true
    class and memorised, test accuracy, and the wrong labels' share of the gradient coefficients; the
    n → ∞ theory dashed over its early-learning phase (theory/noisy_labels.py, where it applies).
    Bottom: the wrong labels memorised per frequency bucket of their true class (legend: wrong labels
    per class). Log-step axis (0, then log)."""
    members = first_seeds(history)
    rec, steps = history.records, history.step
    fig, axes = plt.subplots(2, len(members), figsize=(4.2 * len(members), 6.0), squeeze=False)
    for column, i in enumerate(members):
        ax, below = axes[0, column], axes[1, column]
        curves = (("clean_fit_mean", "tab:green", "clean labels fitted"),
                  ("noisy_true_mean", "tab:blue", "wrong labels → true class"),
                  ("noisy_fit_mean", "tab:red", "wrong labels memorised"),
                  ("test_accuracy", "black", "test accuracy (clean)"),
                  ("noisy_gradient_share", "tab:purple", "wrong labels' share of Σ||p−y||²"))
        for name, color, label in curves:
            if name in rec:
                ax.plot(steps, rec[name][i], color=color, lw=1.5, label=label)
        theory = predicted.early_prediction(history, i)
        if theory is not None:
            early = theory["early"]
            ax.plot(steps[early], theory["accuracy"][early], color="grey", ls="--", lw=1.5,
                    label="n → ∞ theory: Φ(θ·v / σ||θ||)")
            ax.plot(steps[early], 1 - theory["accuracy"][early], color="tab:red", ls="--", lw=1)
            ax.plot(steps[early], theory["noisy_gradient_share"][early], color="tab:purple", ls="--", lw=1)
        ax.set_title(history.label(i, exclude=SEEDS) + " (first seed)", fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        counts = rec["noisy_count"][i, 0]
        for color, bucket in zip(bucket_colors(len(frequency_buckets(counts))), frequency_buckets(counts)):
            below.plot(steps, class_mean(rec["noisy_fit"][i], bucket), color=color,
                       label=f"{counts[bucket[0]]:g} wrong ({len(bucket)} cls)")
        below.set_ylabel("wrong labels memorised")
        below.set_ylim(-0.02, 1.02)
        for a in (ax, below):
            a.set_xscale("symlog", linthresh=1.0)
            a.set_xlim(0, steps[-1])
            a.set_xlabel("step (0, then log scale)")
    axes[0, 0].set_ylabel("share of samples")
    axes[0, -1].legend(fontsize=6, loc="center left")
    axes[1, -1].legend(fontsize=6, loc="upper left")
    save(fig, path)

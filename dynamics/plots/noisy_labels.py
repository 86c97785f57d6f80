"""Early learning, then memorisation, of noisy labels (Liu et al. 2020, Fig. 1 and A.1)."""
import numpy as np

from dynamics.history import LR_KEY
from dynamics.plots import bucket_colors, plt, representatives, save
from dynamics.buckets import class_mean, frequency_buckets
from dynamics.predict import noisy_labels as predicted


SEEDS = (LR_KEY, "seed", "data.seed", "data.noise_seed")


def noisy_labels(history, path: str) -> None:
    """Per setting (first seed), top: the clean labels fitted, the wrong labels predicted as their true
    class and memorised, test accuracy, and the wrong labels' share of the gradient coefficients; the
    n → ∞ theory dashed over its early-learning phase (theory/noisy_labels.py, where it applies).
    Middle: the wrong labels memorised per frequency bucket of their true class (legend: wrong labels
    per class). Log-step axis (0, then log). With more than two classes, bottom: each class's
    memorisation step (half its wrong labels fitted, after the early-learning peak) against its number
    of wrong labels (log), every seed of the setting in its own colour, with members.csv's Spearman
    correlation."""
    members = representatives(history, exclude=SEEDS)
    rec, steps = history.records, history.step
    rows = 3 if history.class_counts.shape[-1] > 2 else 2
    fig, axes = plt.subplots(rows, len(members), figsize=(4.2 * len(members), 3.0 * rows), squeeze=False)
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
    if rows == 3:
        correlation = predicted.member_columns(history)["memorisation_vs_frequency"]
        for column, i in enumerate(members):
            ax = axes[2, column]
            seeds = [j for j in np.flatnonzero(history.selected) if history.label(j, exclude=SEEDS) ==
                     history.label(i, exclude=SEEDS)]
            for j in seeds:
                ax.plot(rec["noisy_count"][j, 0], predicted.memorisation_steps(history, j, "noisy_fit"), "o",
                        ms=3, alpha=0.7)
            ax.set_xscale("log")
            ax.minorticks_off()
            counts = rec["noisy_count"][i, 0][rec["noisy_count"][i, 0] > 0]
            ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if counts.min() <= t <= counts.max()]
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.set_xlabel("wrong labels of the true class (∝ its frequency)")
            ax.set_ylabel("memorisation step")
            ax.set_title(f"Spearman ρ per seed: {', '.join(f'{correlation[j]:+.2f}' for j in seeds)}", fontsize=8)
    axes[0, 0].set_ylabel("share of samples")
    axes[0, -1].legend(fontsize=6, loc="center left")
    axes[1, -1].legend(fontsize=6, loc="upper left")
    save(fig, path)

"""Weight balancing's figure (Alshammari et al. 2022; Hasegawa & Sato 2023), for either stage's History.

Drawn from the History and dynamics.predict.weight_balancing alone. One line per setting (the swept
values but seed, learning rate and init.from_member), the mean over its members: NC1 and the Fisher
discriminant ratio over steps; the classifier rows' norms against class count at the last record (solid)
and the first (dashed: for the second stage, where the first stage ended); balanced test accuracy; the
multiplicative logit-adjustment exponent τ̂ the norms imply.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.plots import save  # noqa: E402
from dynamics.predict import weight_balancing as predicted  # noqa: E402

EXCLUDED = ("optimizer.learning_rate", "seed", "init.from_member")  # averaged over in each line


def weight_balancing(history, path: str) -> None:
    settings = {}
    for i in np.flatnonzero(history.selected):
        settings.setdefault(history.label(i, exclude=EXCLUDED), []).append(i)
    steps, records = history.step, history.records
    shown = steps > 0
    balanced = predicted.balanced_accuracy(history)
    tau, _ = predicted.implied_exponents(history)
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.3))
    for k, (label, members) in enumerate(settings.items()):
        color = f"C{k % 10}"
        mean = lambda values: np.mean(values[members], axis=0)  # noqa: E731
        for ax, name in zip(axes[:2], ("nc1", "fisher_ratio")):  # absent where the features are frozen
            if name in records:
                ax.plot(steps[shown], mean(records[name])[shown], color=color)
        counts = history.class_counts[members[0]]
        norms = records["classifier_norms"][members]
        axes[2].plot(counts, norms[:, -1].mean(0), "o-", color=color, ms=3)
        axes[2].plot(counts, norms[:, 0].mean(0), "--", color=color, lw=1)
        axes[3].plot(steps[shown], mean(balanced)[shown], color=color, label=label)
        axes[4].plot(steps[shown], mean(tau)[shown], color=color)
    for ax, ylabel in zip(axes, ("NC1", "Fisher ratio tr Σ_B / tr Σ_W", "classifier row norm ‖w_k‖",
                                 "balanced test accuracy", "implied exponent τ̂ (‖w_k‖ ∝ π_k^-τ̂)")):
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("class count n_k (solid: last, dashed: first record)" if ax is axes[2] else "step", fontsize=8)
        ax.tick_params(labelsize=7)
    if "nc1" in records:
        axes[0].set_yscale("log")
    else:
        for ax in axes[:2]:
            ax.text(0.5, 0.5, "features frozen:\nnot recorded", ha="center", va="center", transform=ax.transAxes)
    axes[4].axhline(0.0, color="k", lw=0.8, ls=":")
    axes[3].legend(fontsize=6)
    save(fig, path)

"""Harmonic loss against grokking (Baek et al. 2025, Fig. 3c): the curves of each head over seeds and the
fit / generalisation steps of every member (read by dynamics.predict.grokking from the History)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.plots import save  # noqa: E402
from dynamics.predict import grokking as predicted  # noqa: E402


def head_label(exponent: float) -> str:
    return "Dense head, cross-entropy" if exponent == 0 else f"harmonic, n={exponent:g}"


def members_by_exponent(history) -> dict:
    """{harmonic exponent: [member indices]}, exponents ascending (0: the Dense head)."""
    groups = {}
    for i in range(len(history.members)):
        groups.setdefault(float(history.member_config(i)["model"]["harmonic_exponent"]), []).append(i)
    return dict(sorted(groups.items()))


def grokking_harmonic(history, path: str) -> None:
    """One panel per head: train (thin) and test (thick) accuracy of every seed against step (log x); then
    each member's generalisation step against its fit step (99% accuracy; a member that never reaches
    it is left out, counted in the legend) with the diagonal, where no grokking lies (as Baek et al.'s
    Fig. 3c); and the embedding's key-frequency fraction when recorded."""
    groups = members_by_exponent(history)
    steps, shown = history.step, history.step > 0
    spectrum = "key_frequency_fraction" in history.records
    panels = len(groups) + 1 + spectrum
    fig, axes = plt.subplots(1, panels, figsize=(3.3 * panels, 3.1))
    colors = plt.cm.tab10(np.arange(len(groups)) % 10)
    for ax, color, (exponent, members) in zip(axes, colors, groups.items()):
        for i in members:
            ax.plot(steps[shown], history.records["accuracy"][i][shown], color=color, lw=0.8, alpha=0.6)
            ax.plot(steps[shown], history.records["test_accuracy"][i][shown], color=color, lw=2.0, alpha=0.6)
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{head_label(exponent)}\n{len(members)} seeds: train thin, test thick", fontsize=9)
        ax.set_xlabel("step")
    axes[0].set_ylabel("accuracy")
    scatter = axes[len(groups)]
    top = 1.0
    for color, (exponent, members) in zip(colors, groups.items()):
        rows = [predicted.grokking_steps(history, i) for i in members]
        fit = np.array([r["fit_step"] for r in rows])
        general = np.array([r["generalization_step"] for r in rows])
        both = np.isfinite(fit) & np.isfinite(general)
        missing = len(members) - int(both.sum())
        scatter.scatter(fit[both], general[both], color=color, s=18,
                        label=head_label(exponent) + (f" ({missing} never)" if missing else ""))
        top = max([top, *fit[both], *general[both]])
    scatter.plot([1, top], [1, top], color="black", ls="--", lw=1)
    scatter.set_xscale("log")
    scatter.set_yscale("log")
    scatter.set_xlabel("fit step (train accuracy ≥ 99%)")
    scatter.set_ylabel("generalisation step (test ≥ 99%)")
    scatter.legend(fontsize=6)
    if spectrum:
        ax = axes[-1]
        for color, (exponent, members) in zip(colors, groups.items()):
            for j, i in enumerate(members):
                ax.plot(steps[shown], history.records["key_frequency_fraction"][i][shown], color=color, alpha=0.6,
                        label=head_label(exponent) if j == 0 else None)
        ax.set_xscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("embedding: top-frequency share")
        ax.legend(fontsize=6)
    save(fig, path)

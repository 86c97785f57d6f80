"""Weight balancing's figure (Alshammari et al. 2022; Hasegawa & Sato 2023), for either stage's History.

Drawn from the History and dynamics.predict.weight_balancing alone. One line per setting (the swept
values but seed, learning rate and init.from_member), the mean over its members: NC1 and the Fisher
discriminant ratio over steps (where recorded: not for frozen features); the classifier rows' norms
against class count at the last record (solid) and the first (dashed: for the second stage, where the
first stage ended); balanced test accuracy; the multiplicative logit-adjustment exponent τ̂ the norms imply.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.plots import save  # noqa: E402
from dynamics.predict import weight_balancing as predicted  # noqa: E402

EXCLUDED = ("optimizer.learning_rate", "seed", "init.from_member")  # averaged over in each line
FEATURE_RECORDS = {"nc1": "NC1", "fisher_ratio": "Fisher ratio tr Σ_B / tr Σ_W"}  # drawn where recorded


def weight_balancing(history, path: str) -> None:
    settings = {}
    for i in np.flatnonzero(history.selected):
        settings.setdefault(history.label(i, exclude=EXCLUDED), []).append(i)
    steps, records = history.step, history.records
    shown = steps > 0
    curves = {name: records[name] for name in FEATURE_RECORDS if name in records}
    curves["balanced"] = predicted.balanced_accuracy(history)
    curves["tau"] = predicted.implied_exponents(history)[0]
    ylabels = {**FEATURE_RECORDS, "balanced": "balanced test accuracy",
               "tau": "implied exponent τ̂ (‖w_k‖ ∝ π_k^-τ̂)"}
    fig, axes = plt.subplots(1, len(curves) + 1, figsize=(3.4 * (len(curves) + 1), 3.3))
    norms_ax, curve_axes = axes[-1], dict(zip(curves, axes[:-1]))
    for k, (label, members) in enumerate(settings.items()):
        color = f"C{k % 10}"
        for name, values in curves.items():
            curve_axes[name].plot(steps[shown], np.mean(values[members], axis=0)[shown], color=color, label=label)
        counts, norms = history.class_counts[members[0]], records["classifier_norms"][members]
        norms_ax.plot(counts, norms[:, -1].mean(0), "o-", color=color, ms=3)
        norms_ax.plot(counts, norms[:, 0].mean(0), "--", color=color, lw=1)
    for name, ax in curve_axes.items():
        ax.set_ylabel(ylabels[name], fontsize=8)
        ax.set_xlabel("step", fontsize=8)
    norms_ax.set_ylabel("classifier row norm ‖w_k‖", fontsize=8)
    norms_ax.set_xlabel("class count n_k (solid: last, dashed: first record)", fontsize=8)
    for ax in axes:
        ax.set_xscale("log")
        ax.tick_params(labelsize=7)
    if "nc1" in curve_axes:
        curve_axes["nc1"].set_yscale("log")
    curve_axes["tau"].axhline(0.0, color="k", lw=0.8, ls=":")
    curve_axes["balanced"].legend(fontsize=6)
    save(fig, path)

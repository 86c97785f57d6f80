"""Figures of the heavy-tailed imbalance experiments beyond the linear model (Kunstner et al. 2024):
per-bucket loss of a language model (fig. 1), the effect of class reweighting (appendix), and the
per-class gradient and Hessian blocks against class frequency (sec. 4)."""
import dataclasses

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.plots import bucket_curves, per_class_loss, representatives, save  # noqa: E402


def present_classes(history):
    """The History restricted to the classes with training labels in every member (with sampled
    text some ranks never occur as a next token; their per-class records are NaN)."""
    keep = np.all(history.class_counts > 0, axis=0)
    records = {name: (values[..., keep] if "per_class_" in name else values) for name, values in history.records.items()}
    return dataclasses.replace(history, class_counts=history.class_counts[:, keep], records=records)


def heavy_tail_buckets(history, path: str) -> None:
    """Kunstner et al. 2024, fig. 1: training loss per token-frequency bucket (rare: light) and the
    mean (black), one panel per optimizer at its selected learning rate; classes with no training
    label belong to no bucket."""
    per_class_loss(history, path)


def reweighting(history, path: str) -> None:
    """Kunstner et al. 2024, appendix: GD on class-reweighted cross-entropy (weights ∝ π_k^-p).

    One panel per reweighting exponent p (selected learning rate): the unweighted loss of each
    frequency bucket; the last panel: the unweighted average loss ('mean_loss') of each p.
    """
    members = representatives(history)
    steps, shown = history.step, history.step > 0
    fig, axes = plt.subplots(1, len(members) + 1, figsize=(3.2 * (len(members) + 1), 3.0), squeeze=False)
    colors = plt.cm.plasma(np.linspace(0.0, 0.8, len(members)))
    for ax, i, color in zip(axes[0], members, colors):
        bucket_curves(ax, steps[shown], history.records["per_class_loss"][i][shown], history.class_counts[i])
        lr = history.members[i].get("optimizer.learning_rate")
        title = history.label(i) + (f" (lr {lr:g})" if lr is not None else "")
        ax.set_title(title, fontsize=9, color=color)
        axes[0, -1].plot(steps[shown], history.records["mean_loss"][i][shown], color=color, lw=2, label=title)
        ax.set_xscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("unweighted training loss")
        ax.set_ylim(0.0, 1.3 * float(np.max(history.records["mean_loss"][members, 0])))
    axes[0, 0].legend(fontsize=6, loc="best")
    axes[0, -1].set_title("average unweighted loss", fontsize=9)
    axes[0, -1].set_ylim(0.0, 1.3 * float(np.max(history.records["mean_loss"][members, 0])))
    axes[0, -1].set_xscale("log")
    axes[0, -1].set_xlabel("step")
    axes[0, -1].legend(fontsize=6, loc="best")
    save(fig, path)


def hessian_vs_frequency(history, path: str) -> None:
    """Kunstner et al. 2024, sec. 4: per-class gradient-block norm ‖∇_{w_k} L‖ and Hessian-block trace
    Tr ∇²_{w_k} L against class count (log-log) at three logged steps, and their log-correlation
    across classes over training; one row per selected optimizer. Needs extra metric 'per_class_hessian'."""
    history = present_classes(history)
    members = representatives(history)
    steps = history.step
    picks = np.unique(np.array([1, len(steps) // 2, len(steps) - 1]).clip(0, len(steps) - 1))
    fig, axes = plt.subplots(len(members), 3, figsize=(9.6, 2.8 * len(members)), squeeze=False)
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, len(picks)))
    for row, i in zip(axes, members):
        counts = history.class_counts[i]
        for ax, record, name in ((row[0], "per_class_head_grad_norm", r"$\|\nabla_{w_k} L\|$"),
                                 (row[1], "per_class_head_hessian_trace", r"$\mathrm{Tr}\,\nabla^2_{w_k} L$")):
            for color, j in zip(colors, picks):
                ax.scatter(counts, history.records[record][i, j], s=6, color=color, label=f"step {steps[j]}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("class count n_k")
            ax.set_ylabel(name)
            ax.set_title(history.label(i), fontsize=9)
        shown = steps > 0
        row[2].plot(steps[shown], history.records["head_grad_hessian_correlation"][i][shown], color="black")
        row[2].set_xscale("log")
        row[2].set_ylim(-1.05, 1.05)
        row[2].set_xlabel("step")
        row[2].set_ylabel(r"corr(log $\|\nabla_{w_k} L\|$, log Tr) over classes", fontsize=8)
        row[0].legend(fontsize=6, loc="best")
    save(fig, path)

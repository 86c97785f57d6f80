"""Per-class curvature under SGD and SAM (Rangwani et al. 2022): the records of the
'class_hessian_spectrum' extra metric (dynamics/metrics/curvature.py), drawn from the History alone.
No theory curve: the paper's analysis (SAM's gradient has a larger component along negative-curvature
directions, their sec. 4) predicts no curve to draw over these records.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.buckets import class_mean, head_and_tail  # noqa: E402
from dynamics.metrics.curvature import saddle_ratio  # noqa: E402
from dynamics.plots import save  # noqa: E402


def seed_groups(history) -> dict:
    """{setting label (every swept value but the seed): member indices}, in member order."""
    groups = {}
    for i in range(len(history.members)):
        groups.setdefault(history.label(i, exclude=("seed",)), []).append(i)
    return groups


def curvature_sam(history, path: str) -> None:
    """Four panels, one line per setting (mean over seeds; solid: head classes, dashed: tail classes):
    λ_min/λ_max of each class's Hessian over steps, λ_max over steps, final test accuracy per class
    (by frequency rank), and the final SLQ spectral density of the rarest class against eigenvalue / λ_max
    (first seed): mass left of 0 is negative curvature."""
    records, steps = history.records, history.step
    shown = steps > 0
    num_classes = records["class_hessian_max"].shape[-1]
    head, tail = head_and_tail(num_classes)
    ratio = saddle_ratio(history)
    fig, axes = plt.subplots(1, 4, figsize=(15.0, 3.4))
    for color, (label, members) in zip(plt.cm.tab10.colors, seed_groups(history).items()):
        for classes, style in ((head, "-"), (tail, "--")):
            for ax, values in ((axes[0], ratio), (axes[1], records["class_hessian_max"])):
                ax.plot(steps[shown], np.nanmean(class_mean(values[members], classes), axis=0)[shown], color=color,
                        ls=style)
        accuracy = np.nanmean(records["test_per_class_accuracy"][members, -1], axis=0)
        axes[2].plot(np.arange(num_classes), accuracy, "o-", color=color, ms=3, label=label)
        top = records["class_hessian_max"][members[0], -1, -1]
        grid, density = records["class_hessian_density_grid"][members[0], -1, -1], records["class_hessian_density"][members[0], -1, -1]
        axes[3].plot(grid / top, np.maximum(density * top, 1e-6), color=color)
    axes[0].set_ylabel("λ_min / λ_max (class Hessian)")
    axes[1].set_ylabel("λ_max (class Hessian)")
    axes[1].set_yscale("log")
    for ax in axes[:2]:
        ax.set_xscale("log")
        ax.set_xlabel("step")
    axes[0].axhline(0.0, color="k", lw=0.5)
    axes[0].set_title(f"solid: head (classes 0-{head[-1]}), dashed: tail ({tail[0]}-{tail[-1]})", fontsize=8)
    axes[2].legend(fontsize=6, loc="lower left")
    counts = history.class_counts[0]
    axes[2].set_xlabel(f"class (training images {counts[0]} ... {counts[-1]})")
    axes[2].set_ylabel("final test accuracy")
    axes[3].set_yscale("log")
    axes[3].set_xlabel(f"eigenvalue / λ_max (rarest class: {counts[-1]} image(s); final step)")
    axes[3].set_ylabel("SLQ spectral density (first seed)")
    save(fig, path)

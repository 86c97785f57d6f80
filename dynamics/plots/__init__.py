"""Figures drawn from a History alone (never from a run's internals), theory dashed on top."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.buckets import class_mean, frequency_buckets, sample_mean  # noqa: E402
from dynamics.history import EVERY_LR_DIVERGED  # noqa: E402

DPI = 90


def save(fig, path: str, dpi: int = DPI) -> None:
    """Lays the figure out, writes it to path (a PNG) and closes it."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def bucket_curves(ax, steps, values, counts, predicted=None) -> None:
    """Mean of values [L, C] over each frequency bucket of counts [C] against steps, frequent (dark) to
    rare (light), the legend counting the classes present; predicted [L, C] dashed; the
    sample-weighted mean in black."""
    buckets = frequency_buckets(counts)
    for color, bucket in zip(bucket_colors(len(buckets)), buckets):
        ax.plot(steps, class_mean(values, bucket), color=color,
                label=f"n={counts[bucket[0]]} ({len(bucket)} cls)" if len(buckets) <= 10 else None)
        if predicted is not None:
            ax.plot(steps, class_mean(predicted, bucket), color=color, ls="--", lw=1)
    ax.plot(steps, sample_mean(values, counts), color="black", lw=2, label="mean")


def bucket_colors(num: int):
    """A sequential colour per bucket, dark (frequent) to light (rare)."""
    return plt.cm.viridis(np.linspace(0.0, 0.9, num))


def representatives(history, exclude=None) -> list:
    """One selected member per setting (the first seed), in member order; exclude: the keys that do not
    make a setting (default: History.label's, the learning rate and the seed)."""
    chosen = {}
    for i in np.flatnonzero(history.selected):
        chosen.setdefault(history.label(i) if exclude is None else history.label(i, exclude=exclude), i)
    return list(chosen.values())


def without_selection(history) -> list:
    """The labels of the settings none of whose members is selected (every learning rate diverged:
    history.select_best_lr), in member order."""
    chosen = {history.label(i) for i in np.flatnonzero(history.selected)}
    return list(dict.fromkeys(history.label(i) for i in range(len(history.members)) if history.label(i) not in chosen))


def say_every_lr_diverged(ax, label: str) -> None:
    """A panel for a setting with nothing selected: its label and the reason, instead of a blank."""
    ax.text(0.5, 0.5, EVERY_LR_DIVERGED, ha="center", va="center", transform=ax.transAxes, fontsize=9)
    ax.set_title(label, fontsize=9)
    ax.set_xticks([])


def nothing_selected(history, path: str) -> None:
    """The figure of a run none of whose members is selected (every learning rate of every setting
    diverged): one panel saying so, naming the settings, instead of a figure of NaN curves."""
    fig, ax = plt.subplots(figsize=(4.0, 2.0))
    say_every_lr_diverged(ax, ", ".join(without_selection(history)))
    ax.set_yticks([])
    save(fig, path)


def per_class_loss(history, path: str, record: str = "per_class_loss", theory=None) -> None:
    """Loss against step (log x), one panel per selected optimizer setting, a line per frequency
    bucket (mean over its classes that have samples) plus the sample-weighted mean. theory(i) -> [L, C]
    is dashed. A setting whose every learning rate diverged gets a panel saying so."""
    members = representatives(history)
    empty = without_selection(history)
    steps = history.step
    shown = steps > 0
    panels = len(members) + len(empty)
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.0), sharey=True, squeeze=False)
    for ax, label in zip(axes[0, len(members):], empty):
        say_every_lr_diverged(ax, label)
    for ax, i in zip(axes[0], members):
        predicted = theory(i)[shown] if theory is not None else None
        bucket_curves(ax, steps[shown], history.records[record][i][shown], history.class_counts[i], predicted)
        lr = history.members[i].get("optimizer.learning_rate")
        ax.set_title(history.label(i) + (f" (lr {lr:g})" if lr is not None else ""), fontsize=9)
        ax.set_xscale("log")
        ax.set_xlabel("step")
    axes[0, 0].set_ylabel("training loss")
    if members:
        axes[0, len(members) - 1].legend(fontsize=6, loc="best")
    save(fig, path)


from dynamics.plots.collapse import (collapse_nc_curves, collapse_ufm_geometry,  # noqa: E402
                                     collapse_ufm_minority, collapse_vs_imbalance)
from dynamics.plots.grokking import (grokking_diagonal, grokking_imbalanced, grokking_modular,  # noqa: E402
                                     grokking_xor, grokking_lazy_rich)
from dynamics.plots.heavy_tail import heavy_tail_buckets, hessian_vs_frequency, reweighting  # noqa: E402
from dynamics.plots.competition import class_competition_figure  # noqa: E402
from dynamics.plots.flows import deep_linear_learning_times, theory_curves, time_to_threshold  # noqa: E402
from dynamics.plots.starvation import gradient_starvation_figure  # noqa: E402
from dynamics.plots.curvature import curvature_sam  # noqa: E402
from dynamics.plots.weight_balancing import weight_balancing  # noqa: E402
from dynamics.plots.harmonic import grokking_harmonic  # noqa: E402
from dynamics.plots.noisy_labels import noisy_labels  # noqa: E402

FIGURES = {"per_class_loss": per_class_loss, "heavy_tail_buckets": heavy_tail_buckets,
           "reweighting": reweighting, "hessian_vs_frequency": hessian_vs_frequency,
           "collapse_ufm_geometry": collapse_ufm_geometry, "collapse_ufm_minority": collapse_ufm_minority,
           "collapse_nc_curves": collapse_nc_curves, "collapse_vs_imbalance": collapse_vs_imbalance,
           "grokking_modular": grokking_modular, "grokking_xor": grokking_xor,
           "grokking_diagonal": grokking_diagonal, "grokking_imbalanced": grokking_imbalanced,
           "grokking_lazy_rich": grokking_lazy_rich,
           "theory_curves": theory_curves, "time_to_threshold": time_to_threshold,
           "deep_linear_learning_times": deep_linear_learning_times, "class_competition": class_competition_figure,
           "gradient_starvation": gradient_starvation_figure,
           "curvature_sam": curvature_sam,
           "weight_balancing": weight_balancing,
           "grokking_harmonic": grokking_harmonic,
           "noisy_labels": noisy_labels}

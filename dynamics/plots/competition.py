"""Class competition (Francazi et al. 2023), drawn from the History and the predictions of
dynamics.predict.competition; the agreement numbers are in the run's agreement.csv."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.plots import save  # noqa: E402
from dynamics.plots.flows import OPTIMIZER_COLORS  # noqa: E402
from dynamics.predict import competition  # noqa: E402


def class_competition_figure(history, path: str) -> None:
    """Francazi et al. 2023. Left: per-class loss of the full-batch members (majority solid,
    minority dashed). Middle: the first step's Δℓ_k, predicted to first order (hatched) beside the
    simulated one, per full-batch member. Right: SGD members' cosine between each class's
    minibatch gradient and its full-batch gradient at step 0 and at the last step (markers)
    against batch size, with the prediction from the recorded ρ_k (dashed at step 0, dotted at the
    last step, where the prediction's isotropic-noise assumption holds less well)."""
    full = [i for i in range(len(history.members)) if history.member_config(i)["train"]["batch_size"] == 0]
    sgd = [i for i in range(len(history.members)) if i not in full]
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.8))
    shown = history.step > 0
    width = 0.8 / max(len(full), 1)
    for n, i in enumerate(full):
        color = OPTIMIZER_COLORS.get(history.member_config(i)["optimizer"]["name"], f"C{n}")
        losses = history.records["per_class_loss"][i]
        for k, style in ((0, "-"), (losses.shape[1] - 1, "--")):
            axes[0].plot(history.step[shown], losses[shown][:, k], color=color, ls=style,
                         label=f"{history.label(i)} class {k}")
        if competition.why_no_first_step(history, i) is not None:
            continue
        predicted, simulated = competition.first_step_changes(history, i)
        x = np.arange(predicted.size) + (n - (len(full) - 1) / 2) * width
        axes[1].bar(x - width / 4, predicted, width / 2, color=color, alpha=0.5, hatch="//",
                    label=f"{history.label(i)} predicted")
        axes[1].bar(x + width / 4, simulated, width / 2, color=color, label=f"{history.label(i)} simulated")
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
        sizes = np.array([history.member_config(i)["train"]["batch_size"] for i in sgd])
        order = np.argsort(sizes)
        for log_index, marker, style in ((0, "o", "--"), (len(history.step) - 1, "^", ":")):
            predicted, measured = (np.array(a)[order] for a in zip(*(competition.sgd_cosines(history, i, log_index)
                                                                     for i in sgd)))
            for k in range(measured.shape[1]):
                color = "C0" if k == 0 else "C3"
                axes[2].plot(sizes[order], measured[:, k], marker=marker, ls="none", color=color,
                             label=f"class {k}, step {history.step[log_index]}")
                axes[2].plot(sizes[order], predicted[:, k], ls=style, lw=1, color=color)
        axes[2].set_xscale("log")
        axes[2].set_xlabel("batch size B")
        axes[2].set_ylabel("cos(minibatch ĝ_k, full-batch ḡ_k)")
        axes[2].set_title("lines: 1/sqrt(1 + ρ_k²/n_k), n_k ~ Bin(B, π_k) (dashed: step 0)", fontsize=8)
        axes[2].legend(fontsize=6, loc="best")
    save(fig, path)

"""Gradient starvation (Pezeshki et al. 2021), drawn from the History and the predictions of
dynamics.predict.starvation; the agreement numbers are in the run's agreement.csv."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.plots import save  # noqa: E402
from dynamics.predict import starvation  # noqa: E402


def swept_data_key(history) -> str:
    """The data setting the members vary (e.g. 'data.strength_1' or 'data.ratio'), or '' if none."""
    return next((k for m in history.members for k in m if k.startswith("data.")), "")


def penalty_label(config: dict) -> str:
    wd, sd = config["optimizer"]["weight_decay"], config["loss"]["spectral_decoupling"]
    return f"SD λ={sd:g}" if sd > 0 else (f"L2 wd={wd:g}" if wd > 0 else "plain CE")


def gradient_starvation_figure(history, path: str) -> None:
    """Left: the responses (z_1, z_2) to the two features along training, one line per member (L2
    penalty solid, spectral decoupling dashed; colour: the swept data setting), eq. (1)'s GD
    prediction dotted black, its fixed point z* as a cross (the authors' Figure 6). Middle: z_2 at the
    end against the swept setting, markers simulated, lines z*_2. Right: each class's mean margin y ŷ
    at the end (class 0 filled, class 1 open), lines the fixed point's."""
    key = swept_data_key(history)
    value = lambda i: float(history.member_config(i)["data"][key.split(".", 1)[1]]) if key else float(i)
    values = sorted({value(i) for i in range(len(history.members))})
    colors = dict(zip(values, plt.cm.viridis(np.linspace(0.0, 0.85, len(values)))))
    fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.0))
    ends = {}
    for i in range(len(history.members)):
        config = history.member_config(i)
        label = penalty_label(config)
        style = "--" if config["loss"]["spectral_decoupling"] > 0 else "-"
        z = history.records["feature_response"][i]
        axes[0].plot(z[:, 0], z[:, 1], ls=style, color=colors[value(i)], label=f"{label}, {key[5:]}={value(i):g}")
        target = None
        if starvation.why_no_prediction(config) is None:
            predicted = starvation.predicted_responses(history, i)
            axes[0].plot(predicted[:, 0], predicted[:, 1], ls=":", color="black", lw=1)
            target = starvation.fixed_point(history, i)
            if target is not None:
                axes[0].plot(*target, marker="x", color="black", ms=6)
        margins = history.records["class_margin"][i, -1]
        predicted_margins = np.full(2, np.nan) if target is None else starvation.predicted_class_margins(history, i)
        ends.setdefault(label, []).append((value(i), z[-1, 1], np.nan if target is None else target[1],
                                           *margins, *predicted_margins))
    for n, (label, rows) in enumerate(ends.items()):
        x, z2, z2_star, m0, m1, m0_star, m1_star = np.array(sorted(rows)).T
        color = f"C{n}"
        axes[1].plot(x, z2, "o", color=color, label=f"{label} simulated")
        axes[1].plot(x, z2_star, "-", color=color, lw=1, label=f"{label} z*_2")
        axes[2].plot(x, m0, "o", color=color, label=f"{label} class 0")
        axes[2].plot(x, m1, "o", color=color, mfc="none", label=f"{label} class 1")
        axes[2].plot(x, m0_star, "-", color=color, lw=1)
        axes[2].plot(x, m1_star, "--", color=color, lw=1)
    axes[0].set_xlabel("z_1 (response to feature 1)")
    axes[0].set_ylabel("z_2 (response to feature 2)")
    axes[0].set_title("dotted: eq. (1) stepped as GD; x: fixed point z*", fontsize=8)
    axes[0].legend(fontsize=6, loc="best")
    for ax in axes[1:]:
        ax.set_xlabel(key or "member")
        ax.legend(fontsize=6, loc="best")
    axes[1].set_ylabel("z_2 at the end")
    axes[2].set_ylabel("class margin y ŷ at the end")
    save(fig, path)

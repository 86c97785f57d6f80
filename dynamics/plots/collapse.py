"""Neural-collapse figures: UFM geometry against ETF / SELI / closed forms, minority collapse
against its predicted threshold, and NC metrics of a real network over training.

Every figure reads only the History (records of the 'neural_collapse' extra metric, see
dynamics/metrics/collapse.py) and the predictions of dynamics.predict.collapse; nothing is fitted.
The agreement numbers are in the run's agreement.csv (dynamics.predict).
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics.plots import save  # noqa: E402
from dynamics.predict import collapse as predicted  # noqa: E402


def setting(history, i: int, key: str):
    """Member i's value of a dotted config key (its sweep value, else the base config's)."""
    node = history.member_config(i)
    for part in key.split("."):
        node = node[part]
    return node


def _settings(history, members):
    """Members grouped by their label (all swept values except seed and learning rate), in order."""
    groups = {}
    for i in members:
        groups.setdefault(history.label(i), []).append(i)
    return groups


def collapse_ufm_geometry(history, path: str) -> None:
    """One panel per UFM setting (two_group members excluded): normalised-Gram distance to the
    predicted geometry over steps, classifiers (solid) and class means (dashed), one line per seed;
    grey: distance of the classifier Gram to the simplex ETF. Dotted: the issue's targets (0.05
    for the ETF, 0.1 for SELI)."""
    members = [i for i in range(len(history.members)) if setting(history, i, "data.law") != "two_group"]
    groups = _settings(history, members)
    steps = history.step
    shown = steps > 0
    fig, axes = plt.subplots(1, len(groups), figsize=(3.4 * len(groups), 3.1), squeeze=False)
    for ax, (label, indices) in zip(axes[0], groups.items()):
        name = None
        for i in indices:
            dist = predicted.distances_to_prediction(history, i)
            etf = history.records["nc2_etf_distance_classifiers"][i]
            ax.plot(steps[shown], etf[shown], color="0.6", lw=1)
            if dist is None:
                continue
            name, d_w, d_m = dist
            ax.plot(steps[shown], d_w[shown], color="C0", lw=1.5)
            ax.plot(steps[shown], d_m[shown], color="C1", lw=1.5, ls="--")
        target = {"ETF": 0.05, "SELI": 0.1}.get(name)
        if target is not None:
            ax.axhline(target, color="k", ls=":", lw=1)
        counts = history.class_counts[indices[0]]
        opt = setting(history, indices[0], "optimizer.name")
        lr = setting(history, indices[0], "optimizer.learning_rate")
        lam = setting(history, indices[0], "optimizer.weight_decay")
        ax.set_title(f"{setting(history, indices[0], 'loss.name')}, {opt} lr {lr:g}, λ {lam:g}\n"
                     f"counts {'/'.join(map(str, counts))} → {name}", fontsize=8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step")
    axes[0, 0].set_ylabel("normalised-Gram distance")
    handles = [plt.Line2D([], [], color="C0", label="W to prediction"),
               plt.Line2D([], [], color="C1", ls="--", label="class means to prediction"),
               plt.Line2D([], [], color="0.6", label="W to ETF")]
    axes[0, -1].legend(handles=handles, fontsize=7, loc="lower left")
    save(fig, path)


def collapse_ufm_minority(history, path: str) -> None:
    """Weight decay and minority collapse (two_group members). Left: the final cosine between minority
    classifiers against the imbalance ratio R (dots), the optimum of the regularised CE UFM at the
    same N and λ (dashed; theory.collapse.regularized_ufm_minority_cosine) and the predicted
    threshold R* (vertical; theory.collapse.regularized_ufm_collapse_threshold, this project's KKT
    derivation for the regularised UFM, whose published counterpart is the sharp threshold of
    Hong & Ling 2023; Fang et al. 2021 show minority collapse in the layer-peeled model without a
    closed-form onset). Right: the cosine over steps, one line per R."""
    members = [i for i in range(len(history.members)) if setting(history, i, "data.law") == "two_group"]
    if not members:
        raise ValueError("collapse_ufm_minority needs members with data.law = 'two_group'")
    lam = float(setting(history, members[0], "optimizer.weight_decay"))
    ka, kb, n_total, _, _ = predicted.two_group_shape(history, members[0])
    ratios = np.array([predicted.two_group_shape(history, i)[3] for i in members])
    final = np.array([history.records["minority_cosine"][i, -1] for i in members])
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, len(members)))
    fig, (ax, ax_t) = plt.subplots(1, 2, figsize=(7.6, 3.1))
    r_star = predicted.minority_collapse_threshold(ka, kb, n_total, lam)  # derived here (cf. Hong & Ling 2023)
    grid, cosines = predicted.minority_cosine_curve(ka, kb, n_total, lam, ratios.max() * 1.05)
    ax.plot(grid, cosines, color="k", ls="--", lw=1, label="theory (optimum)")
    ax.axvline(r_star, color="C3", ls=":", label=f"predicted R* = {r_star:.2f}")
    ax.scatter(ratios, final, c=colors, zorder=3, s=18, label="GD, final")
    ax.set_xscale("log")
    ax.set_xlabel("imbalance ratio R = n_A / n_B")
    ax.set_ylabel("cosine between minority classifiers")
    ax.set_title(f"K_A={ka}, K_B={kb}, N={n_total:.0f}, λ_W=λ_H={lam:g}", fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    shown = history.step > 0
    for color, i, r in zip(colors, members, ratios):
        ax_t.plot(history.step[shown], history.records["minority_cosine"][i][shown], color=color, lw=1,
                  label=f"R={r:.3g}")
    ax_t.set_xscale("log")
    ax_t.set_xlabel("step")
    ax_t.legend(fontsize=5, ncol=2, loc="upper left")
    save(fig, path)


NC_CURVES = (("accuracy", "training accuracy", False),
             ("nc1", "NC1 tr(Σ_W Σ_B⁺)/C", True),
             ("nc2_etf_distance_means", "NC2 class means: ETF dist.", False),
             ("nc2_etf_distance_classifiers", "NC2 classifiers: ETF dist.", False),
             ("nc3_self_duality", "NC3 ‖W/‖W‖ − M/‖M‖‖", False),
             ("nc4_ncc_mismatch", "NC4 mismatch with NCC", False))


def imbalance_ratio(history, i: int) -> float:
    counts = history.class_counts[i]
    return float(counts[0] / counts[-1])


def collapse_nc_curves(history, path: str) -> None:
    """NC metrics over training, one row per imbalance ratio, one line per optimizer (the selected
    learning rate, first seed): training accuracy, NC1 (log), ETF distance of class means and of
    classifiers, NC3, NC4 (Papyan et al. 2020, Figs. 2-7)."""
    selected = np.flatnonzero(history.selected)
    members = [i for i in selected if setting(history, i, "seed") == setting(history, selected[0], "seed")]
    ratios = sorted({imbalance_ratio(history, i) for i in members})
    optimizers = list(dict.fromkeys(history.label(i, exclude=("optimizer.learning_rate", "seed", "data.exponent"))
                                    for i in members))
    colors = {name: f"C{k}" for k, name in enumerate(optimizers)}
    steps, shown = history.step, history.step > 0
    fig, axes = plt.subplots(len(ratios), len(NC_CURVES), figsize=(2.1 * len(NC_CURVES), 1.7 * len(ratios)),
                             squeeze=False, sharex=True)
    for row, ratio in zip(axes, ratios):
        for i in members:
            if imbalance_ratio(history, i) != ratio:
                continue
            name = history.label(i, exclude=("optimizer.learning_rate", "seed", "data.exponent"))
            for ax, (record, _, log_y) in zip(row, NC_CURVES):
                ax.plot(steps[shown], history.records[record][i][shown], color=colors[name], lw=1.3,
                        label=f"{name} (lr {setting(history, i, 'optimizer.learning_rate'):g})")
                if log_y:
                    ax.set_yscale("log")
        row[0].set_ylabel(f"ratio {ratio:.3g}", fontsize=8)
    for ax, (_, title, _) in zip(axes[0], NC_CURVES):
        ax.set_title(title, fontsize=8)
    for ax in axes.flat:
        ax.set_xscale("log")
        ax.tick_params(labelsize=6)
    for ax in axes[-1]:
        ax.set_xlabel("step", fontsize=8)
    axes[0, 0].legend(fontsize=5, loc="lower right")
    save(fig, path, dpi=80)  # 24 panels: kept under 200 KB


def final_record(record: str):
    """(history, i) -> member i's last value of a record."""
    return lambda history, i: history.records[record][i, -1]


def collapse_vs_imbalance(history, path: str) -> None:
    """Final values against the imbalance ratio n_0/n_{C−1}, one line per optimizer (selected lr,
    mean over seeds): the minority-classifier cosine (Fang et al. 2021: grows with the ratio),
    NC1, and the classifier Gram's distance to the ETF and to SELI (dynamics.predict.collapse.seli_distances)."""
    panels = ((final_record("minority_cosine"), "minority-classifier cosine"), (final_record("nc1"), "NC1 (final)"),
              (final_record("nc2_etf_distance_classifiers"), "W: distance to ETF"),
              (lambda history, i: predicted.seli_distances(history, i)[0][-1], "W: distance to SELI"))
    members = list(np.flatnonzero(history.selected))
    optimizers = list(dict.fromkeys(history.label(i, exclude=("optimizer.learning_rate", "seed", "data.exponent"))
                                    for i in members))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 2.9), squeeze=False)
    for k, name in enumerate(optimizers):
        mine = [i for i in members
                if history.label(i, exclude=("optimizer.learning_rate", "seed", "data.exponent")) == name]
        ratios = sorted({imbalance_ratio(history, i) for i in mine})
        for ax, (final, title) in zip(axes[0], panels):
            values = [np.mean([final(history, i) for i in mine if imbalance_ratio(history, i) == r])
                      for r in ratios]
            ax.plot(ratios, values, "o-", color=f"C{k}", ms=3, label=name)
            ax.set_title(title, fontsize=9)
    for ax in axes[0]:
        ax.set_xscale("log")
        ax.set_xlabel("imbalance ratio n_0 / n_{C-1}", fontsize=8)
    axes[0, 1].set_yscale("log")
    axes[0, 0].legend(fontsize=7)
    save(fig, path)

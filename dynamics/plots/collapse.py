"""Neural-collapse figures: UFM geometry against ETF / SELI / closed forms, minority collapse
against its predicted threshold, and NC metrics of a real network over training.

Every figure reads only the History (records of the 'neural_collapse' extra metric, see
dynamics/metrics/collapse.py) and theory.collapse evaluated at the members' class counts and
config; nothing is fitted.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from theory import collapse as theory  # noqa: E402

DPI = 90


def setting(history, i: int, key: str):
    """Member i's value of a dotted config key (its sweep value, else the base config's)."""
    if key in history.members[i]:
        return history.members[i][key]
    node = history.config
    for part in key.split("."):
        node = node[part]
    return node


def predicted_grams(history, i: int):
    """(name, classifier Gram, class-mean Gram centred on the per-sample mean) that theory predicts
    for UFM member i, or None when theory/collapse.py has no prediction for its setting.

    cross-entropy, no weight decay: SELI (Thrampoulidis et al. 2022; the ETF when balanced);
    cross-entropy with weight decay, balanced: the ETF (Zhu et al. 2021);
    square loss with weight decay (no bias): the closed-form minimiser (ufm_square_loss).
    """
    counts = history.class_counts[i].astype(np.float64)
    loss, lam = setting(history, i, "loss.name"), float(setting(history, i, "optimizer.weight_decay"))
    balanced = np.all(counts == counts[0])
    if loss == "cross_entropy" and lam == 0.0:
        seli = theory.seli_geometry(counts)
        return ("ETF" if balanced else "SELI"), seli.classifier_gram, theory.center_gram(seli.class_mean_gram, counts)
    if loss == "cross_entropy" and balanced:
        sol = theory.ufm_cross_entropy_balanced(len(counts), counts[0], lam, lam)
        return "ETF", sol.classifier_gram, theory.center_gram(sol.class_mean_gram, counts)
    if loss == "square" and lam > 0.0:
        sol = theory.ufm_square_loss(counts, lam, lam, "none")
        return "square-loss minimiser", sol.classifier_gram, theory.center_gram(sol.class_mean_gram, counts)
    return None


def distances_to_prediction(history, i: int):
    """(name, distance of the classifier Gram [L], distance of the class-mean Gram [L]) for member i."""
    predicted = predicted_grams(history, i)
    if predicted is None:
        return None
    name, gram_w, gram_m = predicted
    return (name, theory.gram_distance(history.records["nc_classifier_gram"][i], gram_w),
            theory.gram_distance(history.records["nc_class_mean_gram"][i], gram_m))


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
            dist = distances_to_prediction(history, i)
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
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def two_group_shape(history, i: int):
    """(K_A, K_B, N, realised ratio n_A/n_B, n_B) of a two_group member."""
    counts = history.class_counts[i].astype(np.float64)
    kb = int(setting(history, i, "data.minority_classes"))
    ka = len(counts) - kb
    return ka, kb, counts.sum(), counts[:ka].mean() / counts[-1], counts[-1]


def minority_collapse_threshold(num_major: int, num_minor: int, num_samples: float, weight_decay: float) -> float:
    """R* at a fixed total N: collapse iff n_B <= N² λ_W λ_H (theory.collapse.regularized_ufm_collapse_threshold
    evaluated at the minority count n_B = N² λ², where R = R*)."""
    n_minor = num_samples**2 * weight_decay**2
    return theory.regularized_ufm_collapse_threshold(num_major, num_minor, n_minor, weight_decay, weight_decay)


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
    ka, kb, n_total, _, _ = two_group_shape(history, members[0])
    ratios = np.array([two_group_shape(history, i)[3] for i in members])
    final = np.array([history.records["minority_cosine"][i, -1] for i in members])
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, len(members)))
    fig, (ax, ax_t) = plt.subplots(1, 2, figsize=(7.6, 3.1))
    r_star = minority_collapse_threshold(ka, kb, n_total, lam)  # derived here (cf. Hong & Ling 2023)
    r_max = ratios.max() * 1.05
    # The optimum is solved numerically below R*; from R* on the KKT threshold gives cosine 1.
    grid = np.geomspace(1.0, min(r_star, r_max), 16)[:-1] if r_star > 1.0 else np.zeros(0)
    predicted = [theory.regularized_ufm_minority_cosine(r, ka, kb, n_total / (ka * r + kb), lam, lam)[0] for r in grid]
    if r_star < r_max:
        grid, predicted = np.r_[grid, max(r_star, 1.0), r_max], np.r_[predicted, 1.0, 1.0]
    ax.plot(grid, predicted, color="k", ls="--", lw=1, label="theory (optimum)")
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
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


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
    fig.tight_layout()
    fig.savefig(path, dpi=80)  # 24 panels: kept under 200 KB
    plt.close(fig)


def collapse_vs_imbalance(history, path: str) -> None:
    """Final values against the imbalance ratio n_0/n_{C−1}, one line per optimizer (selected lr,
    mean over seeds): the minority-classifier cosine (Fang et al. 2021: grows with the ratio),
    NC1, and the classifier Gram's distance to the ETF and to SELI."""
    panels = (("minority_cosine", "minority-classifier cosine"), ("nc1", "NC1 (final)"),
              ("nc2_etf_distance_classifiers", "W: distance to ETF"),
              ("seli_distance_classifiers", "W: distance to SELI"))
    members = list(np.flatnonzero(history.selected))
    optimizers = list(dict.fromkeys(history.label(i, exclude=("optimizer.learning_rate", "seed", "data.exponent"))
                                    for i in members))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 2.9), squeeze=False)
    for k, name in enumerate(optimizers):
        mine = [i for i in members
                if history.label(i, exclude=("optimizer.learning_rate", "seed", "data.exponent")) == name]
        ratios = sorted({imbalance_ratio(history, i) for i in mine})
        for ax, (record, title) in zip(axes[0], panels):
            values = [np.mean([history.records[record][i, -1] for i in mine if imbalance_ratio(history, i) == r])
                      for r in ratios]
            ax.plot(ratios, values, "o-", color=f"C{k}", ms=3, label=name)
            ax.set_title(title, fontsize=9)
    for ax in axes[0]:
        ax.set_xscale("log")
        ax.set_xlabel("imbalance ratio n_0 / n_{C-1}", fontsize=8)
    axes[0, 1].set_yscale("log")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)

"""Figures of the grokking experiments: modular arithmetic (Power et al. 2022; Nanda et al. 2023),
XOR clusters (Xu et al. 2024), the diagonal linear network (Lyu et al. 2024; its misgrokking too), lazy
to rich (Kumar et al. 2024) and per-class grokking under a Zipfian training set. They only draw: the fit /
generalisation steps and the theory (Bayes accuracy, kernel / sparse predictors, transition step, the
init-NTK kernel predictor) come from dynamics.predict.grokking and dynamics.predict.lazy_rich, which read
the History; the theory is drawn dashed in the colour of the curve it predicts."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics import sweep  # noqa: E402
from dynamics.metrics.grokking import NUM_KEY_FREQUENCIES  # noqa: E402
from dynamics.plots import bucket_colors, class_mean, frequency_buckets, representatives, save  # noqa: E402
from dynamics.predict import grokking as predicted  # noqa: E402
from dynamics.predict import lazy_rich  # noqa: E402


def _member_colors(num):
    return plt.cm.tab10(np.arange(num) % 10)


def _mark_grokking(ax, history, i, color):
    """Dotted verticals at the fit step (train accuracy >= 99%) and generalisation step (test)."""
    steps = predicted.grokking_steps(history, i)
    for step in (steps["fit_step"], steps["generalization_step"]):
        if np.isfinite(step) and step > 0:
            ax.axvline(step, color=color, ls=":", lw=1)


def grokking_modular(history, path: str) -> None:
    """Power et al. 2022, fig. 1 and Nanda et al. 2023, figs. 7-8: train (thin) and test (thick)
    accuracy on a log-step axis with the fit / generalisation steps dotted; the total weight norm;
    the key-frequency fraction (and, dashed, the logits' share in the final key set's waves); the
    embedding's Fourier spectrum at four moments, the final key frequencies (neurons' dominant ones)
    circled; and, if recorded, Nanda et al.'s progress measures (member 0): train, test, restricted
    and excluded loss."""
    members = representatives(history)
    steps, shown = history.step, history.step > 0
    colors = _member_colors(len(members))
    measures = "restricted_loss" in history.records
    fig, axes = plt.subplots(1, 5 if measures else 4, figsize=(17.5 if measures else 14.0, 3.2))
    data = history.config["data"]
    for color, i in zip(colors, members):
        label = history.label(i) if history.members[i] else f"p={data.get('p')} {data.get('operation')}"
        axes[0].plot(steps[shown], history.records["accuracy"][i][shown], color=color, lw=1, label=f"train {label}")
        axes[0].plot(steps[shown], history.records["test_accuracy"][i][shown], color=color, lw=2.2,
                     label=f"test {label}")
        _mark_grokking(axes[0], history, i, color)
        axes[1].plot(steps[shown], history.records["param_norm"][i][shown], color=color, label=label)
        if "key_frequency_fraction" in history.records:
            axes[2].plot(steps[shown], history.records["key_frequency_fraction"][i][shown], color=color, label=label)
        if measures:                                                        # the paper's view: the final key set
            final_key = history.records["key_frequencies"][i][-1] > 0
            share = history.records["logit_frequency_share"][i][:, final_key].sum(1)
            axes[2].plot(steps[shown], share[shown], color=color, ls="--", label=f"{label}: logits, final key set")
    axes[0].set_ylabel("accuracy")
    axes[1].set_ylabel("total weight norm ||θ||")
    axes[2].set_ylabel(f"embedding: top-{NUM_KEY_FREQUENCIES} share" + ("; logits (--)" if measures else ""))
    if measures:
        axes[2].legend(fontsize=6)
    for ax in axes[:3]:
        ax.set_xscale("log")
        ax.set_xlabel("step")
    axes[0].legend(fontsize=6, loc="center left")
    if "embedding_spectrum" in history.records:
        i = members[0]
        spectrum = history.records["embedding_spectrum"][i]
        reached = predicted.grokking_steps(history, i)
        moments = [("init", 0), ("fit", reached["fit_step"]), ("generalised", reached["generalization_step"]),
                   ("end", steps[-1])]
        for (name, step), shade in zip(moments, np.linspace(0.85, 0.0, 4)):
            if np.isfinite(step):
                idx = int(np.searchsorted(steps, step))
                axes[3].plot(np.arange(spectrum.shape[1]), spectrum[idx], color=str(shade), marker=".", ms=3,
                             lw=0.8, label=f"{name} (step {int(steps[idx])})")
        if "key_frequencies" in history.records:
            key = np.flatnonzero(history.records["key_frequencies"][i][-1])
            axes[3].scatter(key, spectrum[-1][key], s=40, facecolors="none", edgecolors="tab:red", zorder=3,
                            label=f"key frequencies (end): {', '.join(map(str, key))}")
        multiplicative = data.get("operation") in ("multiply", "divide")
        axes[3].set_xlabel("frequency w of Z_(p-1) (discrete log)" if multiplicative else "frequency w of Z_p")
        axes[3].set_ylabel("share of ||E||²")
        axes[3].set_ylim(0.0, 1.6 * np.nanmax(spectrum))                   # room for the legend
        axes[3].legend(fontsize=6)
        axes[3].set_title(f"token embedding spectrum ({label if len(members) == 1 else history.label(i)})",
                          fontsize=8)
    if measures:
        i, rec = members[0], history.records
        for name, color, text in (("mean_loss", "tab:blue", "train"), ("test_mean_loss", "tab:orange", "test"),
                                  ("restricted_loss", "tab:green", "restricted (key frequencies only)"),
                                  ("excluded_loss", "tab:red", "excluded (train, key frequencies removed)")):
            axes[4].plot(steps[shown], rec[name][i][shown], color=color, label=text)
        axes[4].set_xscale("log")
        axes[4].set_yscale("log")
        axes[4].set_xlabel("step")
        axes[4].set_ylabel("loss")
        axes[4].legend(fontsize=6)
        axes[4].set_title("Nanda et al. progress measures (key set of each step)", fontsize=8)
    fig.suptitle("modular arithmetic: fit, then generalise (train thin, test thick)", fontsize=9)
    save(fig, path)


def grokking_xor(history, path: str) -> None:
    """Xu et al. 2024, fig. 1: training accuracy on the clean and on the flipped samples, test
    accuracy, and the Bayes-optimal test accuracy (dashed, theory/xor_clusters.py), log-step axis."""
    members = representatives(history)
    configs = sweep.member_configs(history.config, history.members)
    fig, axes = plt.subplots(1, len(members), figsize=(4.4 * len(members), 3.2), squeeze=False)
    steps = history.step
    for ax, i in zip(axes[0], members):
        rec = history.records
        ax.plot(steps, rec["clean_train_accuracy"][i], color="tab:blue", lw=3, alpha=0.6, label="train, clean labels")
        ax.plot(steps, rec["flipped_train_accuracy"][i], color="tab:red", lw=1, marker=".", ms=3,
                label="train, flipped labels")
        ax.plot(steps, rec["test_accuracy"][i], color="tab:green", lw=2, label="test (clean)")
        bayes = predicted.xor_bayes_accuracy(history, i)
        ax.axhline(bayes, color="tab:green", ls="--", lw=1, label=f"Bayes optimal ({bayes:.3f})")
        ax.axhline(0.5, color="grey", ls=":", lw=1, label="chance")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(0, steps[-1])
        ax.set_xlabel("GD step (0, then log scale)")
        ax.set_ylim(0.0, 1.03)
        data = configs[i]["data"]
        ax.set_title(f"{history.label(i)}: n={data['num_samples']}, d={data['input_dim']}, ||μ||={data['mean_norm']:g}, "
                     f"{data['flip_fraction']:g} flipped", fontsize=8)
    axes[0, 0].set_ylabel("accuracy")
    axes[0, -1].legend(fontsize=7, loc="lower right")
    fig.suptitle("XOR clusters with flipped labels: overfit at step 1, generalise later", fontsize=9)
    save(fig, path)


def grokking_diagonal(history, path: str) -> None:
    """Lyu et al. 2024 (Sec. 3.2.3): the diagonal net's test 0-1 error against step for every
    (alpha, lambda), the kernel / sparse predictors' errors and the predicted transition steps dashed;
    measured vs predicted transition step (factor-2 band); plateau and final error vs the predictors;
    if recorded (train.extra_metrics 'kernel_distance'), the NTK's distance from its initial value (solid)
    and its alignment with the labels (thin), the predicted transition dashed (Kumar et al. 2024: the
    change of test error is the exit from the kernel regime). Members without a prediction (not GD with
    weight decay) get their curves only."""
    configs = sweep.member_configs(history.config, history.members)
    steps = history.step
    shown = steps > 0
    colors = _member_colors(len(configs))
    has_kernel = "kernel_distance" in history.records
    fig, axes = plt.subplots(1, 4 if has_kernel else 3, figsize=(18.0 if has_kernel else 13.5, 3.6))
    predictions = []
    for color, (i, cfg) in zip(colors, enumerate(configs)):
        error = 1.0 - history.records["test_accuracy"][i]
        label = f"α={cfg['model']['init_scale']:g} λ={cfg['optimizer']['weight_decay']:g}"
        axes[0].plot(steps[shown], error[shown], color=color, label=label)
        if has_kernel:
            axes[3].plot(steps[shown], history.records["kernel_distance"][i][shown], color=color, label=label)
            axes[3].plot(steps[shown], history.records["kernel_alignment"][i][shown], color=color, lw=0.8, alpha=0.7)
        pred = predicted.diagonal_prediction(history, i)
        if pred is None:
            continue
        meas = predicted.diagonal_measurements(history, i, pred)
        predictions.append(pred)
        for ax in axes[0::3]:
            ax.axvline(pred["transition_step"], color=color, ls="--", lw=1)
        axes[1].scatter(pred["transition_step"], meas["transition_step"], color=color, label=label, zorder=3)
        axes[2].scatter([i], [meas["plateau_error"]], color=color, marker="o", zorder=3)
        axes[2].scatter([i], [meas["final_error"]], color=color, marker="s", zorder=3)
    if predictions:
        kernel, sparse = predictions[0]["kernel_error"], predictions[0]["sparse_error"]
        for ax in (axes[0], axes[2]):
            ax.axhline(kernel, color="black", ls="--", lw=1, label=f"kernel (ℓ2 max-margin) {kernel:.3f}")
            ax.axhline(sparse, color="grey", ls="--", lw=1, label=f"sparse (ℓ1 max-margin) {sparse:.3f}")
        steps_predicted = np.array([p["transition_step"] for p in predictions])
        grid = np.geomspace(steps_predicted.min() / 3, steps_predicted.max() * 3, 50)
        axes[1].plot(grid, grid, color="black", ls="--", lw=1, label="measured = predicted")
        axes[1].fill_between(grid, grid / 2, grid * 2, color="grey", alpha=0.15, label="factor 2")
        axes[1].set_xscale("log")
        axes[1].set_yscale("log")
        axes[1].legend(fontsize=6)
        axes[2].legend(fontsize=6)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("GD step")
    axes[0].set_ylabel("test 0-1 error")
    axes[0].legend(fontsize=6)
    axes[1].set_xlabel("predicted transition step log(α/α_rich)/(-log(1-ηλ))")
    axes[1].set_ylabel("measured transition step")
    axes[2].set_xticks(range(len(configs)))
    axes[2].set_xticklabels([f"α={c['model']['init_scale']:g}\nλ={c['optimizer']['weight_decay']:g}" for c in configs],
                            fontsize=6)
    axes[2].set_ylabel("test 0-1 error: plateau (o), final (□)")
    if has_kernel:
        axes[3].set_xscale("log")
        axes[3].set_xlabel("GD step")
        axes[3].set_ylabel("NTK distance from init (thick), alignment (thin)")
    fig.suptitle("diagonal linear network: kernel plateau, then the sparse predictor (theory dashed)", fontsize=9)
    save(fig, path)


def grokking_imbalanced(history, path: str) -> None:
    """Per-class grokking on a Zipfian training set: for each member (optimizer, weight decay) the
    test accuracy of each training-frequency bucket (dark: frequent, light: rare) and the mean
    training accuracy (thin black); right: each class's grokking time (its test accuracy >= 99% step
    minus its train accuracy >= 99% step) against its training count; the legend counts the classes
    that never generalised among those with test pairs (members that never fit their training set
    have no grokking times)."""
    members = representatives(history)
    steps, shown = history.step, history.step > 0
    ncols = min(3, len(members))
    nrows = int(np.ceil(len(members) / ncols))
    fig = plt.figure(figsize=(3.0 * ncols + 4.2, 2.6 * nrows + 0.4))
    grid = fig.add_gridspec(nrows, ncols + 2)
    scatter = fig.add_subplot(grid[:, ncols:])
    colors = _member_colors(len(members))
    for k, (color, i) in enumerate(zip(colors, members)):
        ax = fig.add_subplot(grid[k // ncols, k % ncols])
        counts = history.class_counts[i]
        buckets = frequency_buckets(counts, max_buckets=5)
        test = history.records["test_per_class_accuracy"][i]
        for shade, bucket in zip(bucket_colors(len(buckets)), buckets):
            ax.plot(steps[shown], class_mean(test[shown], bucket), color=shade, lw=2,
                    label=f"n={counts[bucket].min()}-{counts[bucket].max()}")
        ax.plot(steps[shown], history.records["accuracy"][i][shown], color="black", lw=0.8, label="train (all)")
        ax.set_xscale("log")
        ax.set_ylim(0.0, 1.03)
        ax.set_title(history.label(i), fontsize=8, color=color)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=5, loc="center left", title="test, class count", title_fontsize=5)
        if k % ncols == 0:
            ax.set_ylabel("test accuracy", fontsize=8)
        fit, general = predicted.per_class_grokking_times(history, i)
        if np.all(np.isnan(fit)):
            continue
        reached = np.isfinite(general)
        never, tested = predicted.classes_never_generalised(history, i)
        jitter = 1.0 + 0.04 * (k - len(members) / 2)
        legend = f"{history.label(i)} ({never}/{tested} never)"
        if reached.any():
            scatter.scatter(counts[reached] * jitter, (general - fit)[reached], color=color, s=9, label=legend)
        else:  # no point to draw (an empty scatter cannot be log-scaled): the legend still counts them
            scatter.plot([], [], ls="", marker="o", ms=3, color=color, label=legend)
    scatter.set_xscale("log")
    scatter.set_yscale("symlog", linthresh=10.0)
    scatter.set_ylim(bottom=-0.5)
    scatter.set_xlabel("training pairs of the class")
    scatter.set_ylabel("class's grokking time (steps)")
    scatter.legend(fontsize=6)
    fig.suptitle("modular addition, Zipfian training set: per-class grokking", fontsize=9)
    save(fig, path)


def grokking_lazy_rich(history, path: str) -> None:
    """Kumar et al. 2024 (Fig. 1b, Sec. 5): for each output scale alpha (its first seed) train (thin) and
    test (thick) accuracy, and the test squared error, with the init-NTK kernel predictor's at the last step
    dashed (the plateau; alpha does not change the kernel at init); the NTK's distance from its initial
    value; the grokking delay (test minus train 99%-accuracy step) of every member against alpha, members
    that never generalised drawn at the top (open markers)."""
    configs = sweep.member_configs(history.config, history.members)
    scales = [cfg["model"]["init_scale"] for cfg in configs]
    firsts = [scales.index(a) for a in sorted(set(scales))]
    steps, shown = history.step, history.step > 0
    colors = dict(zip(sorted(set(scales)), plt.cm.viridis(np.linspace(0.0, 0.85, len(set(scales))))))
    fig, axes = plt.subplots(1, 4, figsize=(18.0, 3.6))
    for i in firsts:
        color, label = colors[scales[i]], f"α={scales[i]:g}"
        axes[0].plot(steps[shown], history.records["accuracy"][i][shown], color=color, lw=0.8)
        axes[0].plot(steps[shown], history.records["test_accuracy"][i][shown], color=color, lw=2, label=label)
        axes[1].plot(steps[shown], lazy_rich.squared_test_error(history, i)[shown], color=color, lw=2, label=label)
        if "kernel_distance" in history.records:
            axes[2].plot(steps[shown], history.records["kernel_distance"][i][shown], color=color, label=label)
    kernel = lazy_rich.kernel_prediction(history, firsts[0])  # the first seed's: every alpha shares its kernel at init
    if kernel is not None:
        axes[0].axhline(1.0 - kernel["test_error"], color="black", ls="--", lw=1,
                        label=f"init-NTK kernel predictor {1.0 - kernel['test_error']:.3f}")
        axes[1].axhline(kernel["squared_error"], color="black", ls="--", lw=1,
                        label=f"init-NTK kernel predictor {kernel['squared_error']:.3f}")
    delays = [predicted.grokking_steps(history, i)["grokking_time"] for i in range(len(configs))]
    reached = [d for d in delays if np.isfinite(d)]
    ceiling = 2.0 * max(reached + [float(steps[-1])])
    for alpha, delay in zip(scales, delays):
        never = not np.isfinite(delay)
        axes[3].scatter(alpha, ceiling if never else max(delay, 1.0), s=25, color=colors[alpha],
                        facecolors="none" if never else colors[alpha], zorder=3)
    axes[3].axhline(ceiling, color="grey", ls=":", lw=1, label="never generalised (open)")
    for ax in axes[:3]:
        ax.set_xscale("log")
        ax.set_xlabel("GD step")
    axes[0].set_ylabel("accuracy: train (thin), test (thick)")
    axes[1].set_ylabel("test (f - y)²; init-NTK kernel regression dashed")
    axes[2].set_yscale("symlog", linthresh=1e-5)
    axes[2].set_ylim(bottom=0.0)
    axes[2].set_ylabel("NTK distance from init 1 - cos(K_t, K_0)")
    axes[3].set_xscale("log")
    axes[3].set_yscale("log")
    axes[3].set_xlabel("output scale α (laziness)")
    axes[3].set_ylabel("grokking delay: test - train 99% step")
    for ax in axes:
        ax.legend(fontsize=6)
    fig.suptitle("lazy to rich: the delay grows with the output scale α; the kernel predictor is the plateau", fontsize=9)
    save(fig, path)

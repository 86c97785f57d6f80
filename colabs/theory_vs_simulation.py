# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Theory vs simulation: per-class loss curves of softmax models, predicted and measured
#
# Reproduces the continuous-time analysis of Kunstner et al. (2024), *Heavy-Tailed Class
# Imbalance and Why Adam Outperforms Gradient Descent on Language Models*, with
# `configs/theory_softmax.py` and `theory/softmax_flow.py`. Two models whose flows are solved
# exactly:
#
# - the **orthogonal** model: logits W x with one-hot inputs x = e_y ("barcodes"), no bias,
#   W(0) = 0. Under gradient flow class k's loss is one universal function of π_k t
#   (t = learning rate x step), so a class 10x rarer needs 10x longer; under sign flow every
#   class follows ℓ = log(1 + (C−1) e^(−2t)), whatever its frequency.
# - the **unigram** (bias-only) model: logits w shared by every sample; ℓ_k → −log π_k, and the
#   classes are coupled through the softmax normaliser.
#
# What you will see: simulated per-class losses (solid, one line per frequency bucket) with the
# theory's prediction dashed on top in the same colour (it lies on the solid line), for GD and
# sign descent; with SMALL = False Adam is shown too, without a prediction, next to sign
# descent. Nothing is fitted: the prediction uses only the class frequencies and
# t = learning rate x step.

# %%
# Install (Colab): clone the repository (its configs/ come with it) and install it. Skipped when
# `dynamics` is already importable, e.g. in a clone after `pip install -e '.[test]'`.
REPOSITORY = "https://github.com/OWNER/dynamics"  # placeholder: the repository's URL (see the README)
import importlib.util, os, subprocess, sys

if importlib.util.find_spec("dynamics") is None:
    subprocess.run(["git", "clone", "--quiet", "--depth=1", REPOSITORY, "dynamics_repo"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "./dynamics_repo"], check=True)
    sys.path.insert(0, os.path.abspath("dynamics_repo"))

# %%
# SMALL = True: 16 classes, 1500 steps, GD and sign descent only: well under a minute on a CPU.
# SMALL = False: the config as it is (64 classes, 6000 steps, Adam too; about 2 minutes on a CPU).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
import numpy as np
from IPython.display import Image, display

from dynamics import figures, plots, sweep, train
from dynamics.history import first_step_reaching
from theory import softmax_flow

config, members = figures.load_experiment("theory_softmax")
if SMALL:
    config["data"].update(num_classes=16, num_samples=512, input_dim=16)  # Zipf 1: 117 ... 7 samples
    config["train"].update(num_steps=1500, chunk_steps=1500, num_log_points=40)
    members = [m for m in members if m["optimizer.name"] != "adam"]  # Adam has no flow to compare with
for m in members:
    print(m)

# %%
history = train.run(config, members, progress=print)

# %% [markdown]
# The prediction for member i, from the History alone: the class frequencies π_k = N_k / N
# (`history.class_counts`), the times t = η x step and the member's model and optimizer.
# Dashed lines are the theory; solid lines the simulation.

# %%
FLOWS = {"gd": "gd", "sign": "sign", "normalized_gd": "normalized"}


def predicted_loss(i):
    """[L, C] per-class loss of member i under the flow of its optimizer, or None (Adam)."""
    setting = history.swept_values(i)
    flow = FLOWS.get(setting["optimizer.name"])
    if flow is None:
        return None
    pi = history.class_counts[i] / history.class_counts[i].sum()
    t = setting["optimizer.learning_rate"] * history.step
    if setting["model.name"] == "unigram":
        return softmax_flow.unigram_per_class_loss(pi, t, flow)
    return softmax_flow.orthogonal_per_class_loss(pi, t, flow)


plots.per_class_loss(history, "theory_vs_simulation.png", theory=predicted_loss)
display(Image("theory_vs_simulation.png"))

# %% [markdown]
# How close? The largest gap between simulation and theory over every logged step and class,
# relative to the predicted loss (with a floor of 0.01 nats): discrete steps of size η follow
# the flow up to O(η).

# %%
for i in range(len(history.members)):
    predicted = predicted_loss(i)
    if predicted is not None:
        simulated = history.records["per_class_loss"][i]
        gap = np.max(np.abs(simulated - predicted) / np.maximum(np.abs(predicted), 1e-2))
        print(f"{history.label(i):28s} max relative gap {gap:.3f}")

# %% [markdown]
# The claim in one picture: the time t_k at which class k's loss first falls below a threshold,
# against its frequency π_k (orthogonal model). Theory (lines, `softmax_flow.time_to_loss`):
# slope −1 under gradient flow (t_k ∝ 1/π_k), slope 0 under sign flow. Dots: the simulation's
# first logged time below the threshold (classes that never reach it are left out).

# %%
import matplotlib.pyplot as plt

threshold = 0.5 * np.log(config["data"]["num_classes"])
fig, ax = plt.subplots(figsize=(4.5, 3.2))
for i in range(len(history.members)):
    setting = history.swept_values(i)
    if setting["model.name"] == "unigram":
        continue
    pi = history.class_counts[i] / history.class_counts[i].sum()
    t = setting["optimizer.learning_rate"] * history.step
    reached = first_step_reaching(t, -history.records["per_class_loss"][i], -threshold)
    line = ax.loglog(pi, reached, "o", ms=4, label=f"{setting['optimizer.name']} (simulated)")[0]
    flow = FLOWS.get(setting["optimizer.name"])
    if flow is not None:
        ax.loglog(pi, softmax_flow.time_to_loss(pi, threshold, flow), "--", color=line.get_color(),
                  label=f"{flow} flow (theory)")
ax.set_xlabel("class frequency π_k")
ax.set_ylabel(f"time to loss {threshold:.2f}")
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

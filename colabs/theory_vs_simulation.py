# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
# descent. Nothing is fitted: the prediction (`dynamics.predict.flows`) uses only the class
# frequencies and t = learning rate x step, and the agreement table says how close each member
# comes, against the tolerance the tests assert.

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
# SMALL = True: the config's small variant (configs/theory_softmax.py:small): 16 classes, 1500 steps,
# GD and sign descent only, well under a minute on a CPU. SMALL = False: the config as it is
# (64 classes, 6000 steps, Adam too; about 2 minutes on a CPU).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import config, experiment, predict

cfg, members = config.load_named("theory_softmax", "small" if SMALL else "")
for m in members:
    print(m)

# %% [markdown]
# One call runs the sweep, saves the History, computes the predictions and their agreement
# (`agreement.csv`) and draws the config's figures into the workdir, as
# `python -m dynamics.main --config=configs/theory_softmax.py:small --workdir=runs/theory_softmax` does.

# %%
history = experiment.run(cfg, members, workdir="runs/theory_softmax", overwrite=True)

# %% [markdown]
# Per-class loss of every member (one line per frequency bucket), the theory dashed on top
# (`dynamics.predict.flows.prediction`: the flow of the member's model and optimizer, from the
# class frequencies π_k = N_k / N and t = η x step alone).

# %%
display(Image("runs/theory_softmax/figures/theory_curves.png"))

# %% [markdown]
# How close? One row per member with a prediction: GD by the largest gap over every logged step
# and class relative to the predicted loss (floor 0.01 nats; for the unigram model on the excess
# ℓ_k + log π_k), sign descent by the largest gap in units of the step size η (discrete sign
# descent stays within about a step of its flow). The tolerance is the margin the tests assert
# (tests/test_theory_agreement.py). Discrete GD follows the flow up to O(η): with SMALL = False
# the unigram model runs GD at η π_max = 0.05 and misses the 2% (its error is ∝ η; the small
# variant runs it at the tests' η π_max = 0.0025).

# %%
print(predict.agreement(history).to_string(index=False))

# %% [markdown]
# The claim in one picture: the time t_k after which class k's loss stays below a threshold,
# against its frequency π_k (markers, fitted log-log slope in the legend). Theory (dashed,
# `softmax_flow.time_to_loss`): for the orthogonal model slope −1 under gradient flow
# (t_k ∝ 1/π_k) and 0 under sign flow; for the unigram model (second row) the excess
# |ℓ_k + log π_k|, whose classes are coupled through the softmax normaliser.

# %%
display(Image("runs/theory_softmax/figures/time_to_threshold.png"))

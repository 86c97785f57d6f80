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
# # Weight balancing and two-stage training on long-tailed digits
#
# Alshammari, Wang, Ramanan, Kong (2022), "Long-Tailed Recognition via Weight Balancing", and
# Hasegawa & Sato (2023), "Exploring Weight Balancing on Long-Tailed Recognition Problem", with
# `configs/weight_balancing_digits.py` (first stage) and `configs/weight_balancing_digits_stage2.py`
# (second stage):
# 1. **First stage**: an MLP trained with cross-entropy, with and without weight decay. Weight decay
#    raises the Fisher discriminant ratio of the features; the classifier rows of frequent classes
#    end longer.
# 2. **Second stage**: starting from the first stage's final parameters (`init.from_workdir`), the
#    classifier alone (`train.trainable = "head"`) is retrained with the class-balanced loss
#    (`loss.reweight_exponent = 1`), weight decay and per-class MaxNorm (`optimizer.max_norm`).
#    Balanced accuracy rises; with weight decay the rare classes' rows become relatively longer:
#    Hasegawa & Sato's implicit logit adjustment. The last panel shows the exponent τ̂ of
#    ‖w_k‖ ∝ π_k^-τ̂ that the norms imply (their one-stage method multiplies logit k by π_k^-τ).

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
# SMALL = True: the configs' small variants (2 seeds, 300 + 600 steps; seconds on a CPU).
# SMALL = False: the configs as they are (3 seeds, 3000 + 2000 steps; under a minute).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import config, experiment
from dynamics.predict import weight_balancing

variant = "small" if SMALL else ""
first_cfg, first_members = config.load_named("weight_balancing_digits", variant)
first = experiment.run(first_cfg, first_members, workdir="runs/weight_balancing_digits", overwrite=True)
display(Image("runs/weight_balancing_digits/figures/weight_balancing.png"))

# %% [markdown]
# The second stage starts every member from the first stage's final parameters: here the workdir
# just written (the config's default is where the figure gallery puts the first stage).

# %%
second_cfg, second_members = config.load_named("weight_balancing_digits_stage2", variant)
second_cfg["init"]["from_workdir"] = "runs/weight_balancing_digits"
second = experiment.run(second_cfg, second_members, workdir="runs/weight_balancing_digits_stage2", overwrite=True)
display(Image("runs/weight_balancing_digits_stage2/figures/weight_balancing.png"))

# %% [markdown]
# Balanced test accuracy after each stage (the second stage's first record is where the first
# ended), and the exponent τ̂ the classifier norms imply, before and after (τ̂ > 0: rare rows
# longer). Hasegawa & Sato tune their multiplicative adjustment's τ to 0.65 (CIFAR-100-LT) and 1.6
# (CIFAR-10-LT); the adjustment weight balancing learns here is far weaker.

# %%
balanced = weight_balancing.balanced_accuracy(second)
tau, residual = weight_balancing.implied_exponents(second)
for i, member in enumerate(second.members):
    print(f"{second.label(i, exclude=('seed',))}: balanced accuracy {balanced[i, 0]:.3f} -> {balanced[i, -1]:.3f}, "
          f"tau {tau[i, 0]:+.3f} -> {tau[i, -1]:+.3f} (rms residual {residual[i, -1]:.3f})")

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
# # Harmonic loss against grokking
#
# Baek, Liu, Tyagi, Tegmark 2025, *Harmonic Loss Trains Interpretable AI Models*: replace the last
# Dense layer's dot products by distances d_k = ||w_k - h|| to class centres w_k and softmax by
# HarMax, p_k ∝ d_k^-n; the harmonic loss is -log p_y. They report that harmonic models grok less:
# test accuracy follows train accuracy closely (their Fig. 3c). Here their MLP learns (a + b) mod 31
# from half the pairs with `configs/grokking_modular.py:small`'s AdamW, once with the Dense head and
# cross-entropy, once with the harmonic head (`model.harmonic_exponent = n`; any model whose last
# layer is Dense takes it), several seeds each (`configs/grokking_harmonic.py`).
#
# What you will see: per head, the train (thin) and test (thick) accuracy of every seed; then each
# member's generalisation step against its fit step (both at 99% accuracy; on the dashed diagonal
# there is no grokking). No theory predicts these delays, so nothing is drawn beside them.

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
# SMALL = True: the config's small variant (configs/grokking_harmonic.py:small, the claim test's
# instance): cross-entropy and the harmonic head at n = 8, seeds 0-2, 500 steps (seconds on a CPU).
# SMALL = False: the config as it is (n = 0, 2, 8, 32; seeds 0-7; 1200 steps; about a minute of CPU).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import config, experiment, predict

cfg, members = config.load_named("grokking_harmonic", "small" if SMALL else "")
print(cfg["model"], cfg["optimizer"]["name"], cfg["optimizer"]["learning_rate"], cfg["optimizer"]["weight_decay"])

# %% [markdown]
# One call runs the sweep (one compiled program per head, the seeds vmapped in it), saves the
# History and members.csv (with the fit step, generalisation step and grokking time of every member)
# and draws the figure, as
# `python -m dynamics.main --config=configs/grokking_harmonic.py:small --workdir=runs/grokking_harmonic` does.

# %%
history = experiment.run(cfg, members, workdir="runs/grokking_harmonic", overwrite=True)
display(Image("runs/grokking_harmonic/figures/grokking_harmonic.png"))

# %% [markdown]
# The grokking time (generalisation step - fit step) of each member, and its summary per head:

# %%
table = history.members_table(predict.member_columns(history))
print(table[["model.harmonic_exponent", "seed", "fit_step", "generalization_step", "grokking_time",
             "final_test_accuracy"]].to_string(index=False))
print(table.groupby("model.harmonic_exponent")["grokking_time"].describe()[["count", "min", "50%", "max"]])

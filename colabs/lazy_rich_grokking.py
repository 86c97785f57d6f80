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
# # Grokking as leaving the kernel regime, and misgrokking
#
# Two views of the same mechanism: a network that starts lazy first fits its training set like kernel
# regression with its initial neural tangent kernel (NTK), and changes how it generalises only when its
# kernel moves.
#
# 1. Kumar, Bordelon, Gershman, Pehlevan 2024 (*Grokking as the transition from lazy to rich training
#    dynamics*, Sec. 5): a two-layer network at output scale α on a polynomial target
#    (`configs/grokking_lazy_rich.py`). Small α (rich): it generalises as it fits. Larger α: it sits on
#    the init-NTK kernel predictor's test error (dashed; `theory/lazy_rich.py` on the network's own initial
#    kernel, no fitting) and generalises later, the larger α the later; the laziest never leaves it.
# 2. Lyu et al. 2024 (*Dichotomy of Early and Late Phase Implicit Biases Can Provably Induce Grokking*,
#    Fig. 1b): misgrokking. A diagonal linear net from a large initialisation with small weight decay, on
#    data separated by a large ℓ2 margin (`configs/misgrokking_diagonal.py`): the kernel (ℓ2 max-margin)
#    predictor generalises, the late ℓ1 max-margin one does not, so test accuracy *falls* near the
#    predicted step log(α / α_rich) / (ηλ) (`theory/grokking.py`).
#
# Each run trains without a workdir (nothing saved; `python -m dynamics.main --config=configs/NAME.py:small
# --workdir=DIR` saves the same run with its agreement.csv and figure). Both log the kernel-distance metric (`train.extra_metrics = ("kernel_distance",)`,
# `dynamics.metrics.kernel`): 1 − cos(K_t, K_0) of the empirical NTK on a fixed probe set
# (`train.kernel_probe_size` training samples), and its alignment cos(K_t, YYᵀ) with the labels.

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
# SMALL = True: each config's small variant (the claim tests' instances): alpha in {0.1, 0.3, 10} for 3000
# steps (seed 0 of its two), and one misgrokking run of 6000 steps; seconds on a CPU. SMALL = False: the
# configs as they are (6 output scales x 3 seeds for 60k steps; the 2 x 3 misgrokking grid for 340k steps).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import config, experiment, predict

# %% [markdown]
# ## 1. Lazy to rich (Kumar et al.)
# Left to right: train (thin) and test (thick) accuracy per output scale α, the kernel predictor's test
# accuracy dashed; the test squared error with the kernel predictor's (the plateau); the NTK's distance
# from its initial value; the grokking delay (test minus train 99%-accuracy step) against α, members
# that never generalised open at the top.

# %%
cfg, members = config.load_named("grokking_lazy_rich", "small" if SMALL else "")
if SMALL:
    members = [m for m in members if m["seed"] == 0]  # one seed per alpha (tests/test_lazy_rich_claims.py runs two)
history = experiment.run(cfg, members)  # no workdir: train and keep the prediction's records, save nothing
display(Image(experiment.draw(history, ["grokking_lazy_rich.png"])[0]))
table = history.members_table(predict.member_columns(history))
print(table[["model.init_scale", "seed", "fit_step", "generalization_step", "grokking_time", "final_kernel_distance"]])
print(predict.agreement(history).to_string(index=False))

# %% [markdown]
# ## 2. Misgrokking (Lyu et al.)
# The diagonal network's figure: test error with the kernel / sparse predictors' errors and the predicted
# transition step dashed; measured against predicted transition step; plateau and final error; and the
# NTK's distance from init (thick) and alignment (thin): zero on the plateau, rising at the transition.

# %%
cfg, members = config.load_named("misgrokking_diagonal", "small" if SMALL else "")
history = experiment.run(cfg, members)
display(Image(experiment.draw(history, ["misgrokking_diagonal.png"])[0]))
print(predict.agreement(history).to_string(index=False))

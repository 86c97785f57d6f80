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
# # Gradient starvation and spectral decoupling
#
# Reproduces the linear toy of Pezeshki et al. (2021), *Gradient Starvation: A Learning Proclivity
# in Neural Networks* (the authors' `Figure_6/toy_fig_6.py`), with `configs/gradient_starvation.py`
# and `theory/gradient_starvation.py`.
#
# Two samples, two features. With YΦ = U S Vᵀ (Y = diag(y), Φ the inputs of a linear model), the
# strengths s_j are the singular values and the responses z = S Vᵀθ = Uᵀ(y ⊙ ŷ); U couples the
# features across the samples (δ = 0.5). What you will see:
# 1. **Starvation**: under cross-entropy with an L2 penalty on θ, the stronger feature 1 is, the
#    smaller the response to feature 2 at the end.
# 2. **Spectral decoupling** (an L2 penalty on the logits instead, `loss.spectral_decoupling`):
#    the end point no longer depends on s_1; each class's margin solves its own equation.
# 3. The prediction: the responses' gradient descent in the linear regime (eq. (1) of the theory
#    module, stepped at the run's step size) over the simulation, and its fixed point.

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
# SMALL = True: the config's small variant (configs/gradient_starvation.py:small): s_1 = 2, 4, 6,
# 2500 steps, a few seconds on a CPU (CI runs it so). SMALL = False: the paper's s_1 = 2 … 6 at its
# step 0.05 for 5000 steps, also seconds.
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
import numpy as np
from IPython.display import Image, display

from dynamics import config, experiment, predict
from dynamics.predict import starvation
from theory import gradient_starvation

cfg, members = config.load_named("gradient_starvation", "small" if SMALL else "")
for m in members:
    print(m)
history = experiment.run(cfg, members, workdir="runs/gradient_starvation", overwrite=True)

# %% [markdown]
# The figure the run drew: left, the responses (z_1, z_2) along training (L2 solid, spectral
# decoupling dashed; dotted black: the prediction, crosses: its fixed point), as the paper's
# Figure 6; middle, z_2 at the end against s_1; right, each class's margin at the end.

# %%
display(Image("runs/gradient_starvation/figures/gradient_starvation.png"))

# %% [markdown]
# **Starvation, measured and predicted.** z_2 at the end for each s_1, beside the fixed point z*_2,
# and the theory's sensitivity ∂z_2*/∂s_1 (implicit differentiation of eq. (1)'s fixed point):
# negative under L2, zero under spectral decoupling.

# %%
for i in range(len(history.members)):
    cfg_i = history.member_config(i)
    loadings, strengths = starvation.features(history, i)
    l2, sd = starvation.penalties(cfg_i)
    slope = gradient_starvation.sensitivity(strengths, loadings, l2, sd, k=0)[1]
    print(f"{'SD' if sd > 0 else 'L2'}  s_1 = {strengths[0]:.0f}:  z_2 = {history.records['feature_response'][i, -1, 1]:.4f}"
          f"  z*_2 = {starvation.fixed_point(history, i)[1]:.4f}  dz*_2/ds_1 = {slope:+.4f}")

# %% [markdown]
# **Where strength comes from class frequency.** The same toy with 20 samples, class 0 `ratio`
# times more frequent (`configs/gradient_starvation_imbalance.py`): the rare class's feature
# weakens, and under L2 its margin falls; spectral decoupling keeps both classes at the same margin.

# %%
cfg_imb, members_imb = config.load_named("gradient_starvation_imbalance", "small" if SMALL else "")
imbalanced = experiment.run(cfg_imb, members_imb, workdir="runs/gradient_starvation_imbalance", overwrite=True)
display(Image("runs/gradient_starvation_imbalance/figures/gradient_starvation.png"))
for i in range(len(imbalanced.members)):
    margins = np.round(imbalanced.records["class_margin"][i, -1], 3)
    print(imbalanced.label(i), "class margins at the end:", margins)

# %% [markdown]
# The agreement tables the runs saved as `agreement.csv`: each prediction's error against the
# tolerance the tests assert (tests/test_gradient_starvation.py).

# %%
print(predict.agreement(history).to_string(index=False))
print(predict.agreement(imbalanced).to_string(index=False))

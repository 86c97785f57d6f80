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
# # Neural collapse, and how class imbalance distorts it
#
# Reproduces the geometry of the unconstrained-features model (UFM) with `configs/collapse_ufm.py`
# and `theory/collapse.py`: the last-layer features h_i and the classifier W are both free
# parameters, trained by (normalised) gradient descent.
#
# What you will see:
# 1. Balanced classes: the Gram matrices of the classifiers and of the class means converge to
#    the **simplex equiangular tight frame** (Papyan, Han, Donoho 2020; Zhu et al. 2021), quickly
#    with weight decay. Imbalanced classes (no weight decay): they converge to the **SELI**
#    geometry of Thrampoulidis, Kini, Vakilian, Behnia (2022), not the ETF. A square-loss member
#    reaches its closed-form minimiser. Lines: the normalised-Gram distance to the predicted
#    geometry; grey: distance to the ETF.
# 2. **Minority collapse** with weight decay (Fang, He, Long, Su 2021): as the imbalance ratio R
#    grows, the minority classifiers' cosine rises and reaches 1 from a predicted threshold R*
#    on; dots are the simulation, the dashed line the numerically solved optimum.

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
# SMALL = True: the config's small variant (configs/collapse_ufm.py:small: seed 0, 1500 steps, SELI
# by normalised GD at η = 0.05, six imbalance ratios; under a minute on a CPU). SMALL = False: the
# config as it is (two seeds, 3000 steps, twelve ratios; about a minute).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import config, experiment, predict

cfg, members = config.load_named("collapse_ufm", "small" if SMALL else "")
print(len(members), "members")

# %% [markdown]
# One call runs the sweep, saves the History, computes the predictions and their agreement
# (`agreement.csv`) and draws the config's figures into the workdir, as
# `python -m dynamics.main --config=configs/collapse_ufm.py:small --workdir=runs/collapse_ufm` does.

# %%
history = experiment.run(cfg, members, workdir="runs/collapse_ufm", overwrite=True)

# %%
display(Image("runs/collapse_ufm/figures/collapse_ufm_geometry.png"))

# %%
display(Image("runs/collapse_ufm/figures/collapse_ufm_minority.png"))

# %% [markdown]
# How close? One row per member and prediction (`dynamics.predict.collapse`): the final
# normalised-Gram distance of the classifiers and of the class means to the predicted geometry
# (ETF, SELI, the square-loss minimiser), the regularised objective's gap to its closed-form
# minimum, and the two-group members' minority cosine against the optimum's. The tolerance is the
# margin the tests assert (tests/test_collapse_ufm.py). With SMALL = False the member at R = 9.99,
# right at R*, is still converging after 3000 steps (gap 0.023) and misses it.

# %%
print(predict.agreement(history).to_string(index=False))

# %% [markdown]
# The neural-collapse metrics at the end of training (`members.csv` holds every final scalar):
# NC1 (within-class variability, → 0), the distances of the class means and classifiers to the
# ETF, and the cosine between the minority classifiers.

# %%
table = history.members_table()
columns = [c for c in ("data.law", "optimizer.weight_decay", "data.ratio", "final_nc1",
                       "final_nc2_etf_distance_means", "final_nc2_etf_distance_classifiers",
                       "final_minority_cosine") if c in table]
print(table[columns].to_string(index=False, float_format="%.3g"))

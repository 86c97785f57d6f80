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
#    geometry of Thrampoulidis, Kini, Vakilian, Behnia (2022), not the ETF. (The config also has
#    a square-loss member, compared with its closed-form minimiser; run with SMALL = False.)
#    Lines: the normalised-Gram distance to the predicted geometry; grey: distance to the ETF.
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
# SMALL = True: one seed, 1500 steps, five imbalance ratios, no square-loss member (under a minute).
# SMALL = False: the config as it is (two seeds, 3000 steps, twelve ratios; about a minute).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import figures, plots, train

config, members = figures.load_experiment("collapse_ufm")
if SMALL:
    config["train"].update(num_steps=1500, chunk_steps=1500, num_log_points=20)
    members = [m for m in members if m.get("seed", 0) == 0 and m.get("loss.name") != "square"
               and m.get("data.ratio", 1.0) in (1.0, 4.0, 8.0, 12.0, 24.0)]
print(len(members), "members")
history = train.run(config, members, progress=print)

# %%
plots.collapse_ufm_geometry(history, "collapse_geometry.png")
display(Image("collapse_geometry.png"))

# %%
plots.collapse_ufm_minority(history, "collapse_minority.png")
display(Image("collapse_minority.png"))

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

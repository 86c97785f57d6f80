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
# # Per-class curvature: saddles for the minority, and SAM
#
# Rangwani, Aithal, Mishra, Babu (2022), "Escaping Saddle Points for Effective Generalization on
# Class-Imbalanced Data", read the Hessian spectrum of each class's loss and report that with a
# re-weighted loss the rare classes end at **saddle points** (a most negative eigenvalue λ_min large
# against the top one λ_max), and that **sharpness-aware minimisation** (SAM, Foret et al. 2021) with a
# large radius ρ escapes them and lifts the rare classes' accuracy.
#
# Here: `configs/curvature_sam.py` on long-tailed 8x8 digits (139 ... 1 training images per class), an
# MLP, cross-entropy re-weighted by 1/n_k, SGD with momentum (ρ = 0) and SAM over ρ, every member vmapped
# in one program. The metric `class_hessian_spectrum` (dynamics/metrics/curvature.py) runs Lanczos on
# Hessian-vector products for every class at every logged step, and stochastic Lanczos quadrature for
# the spectral density.
#
# What you will see (left to right): λ_min/λ_max per class over training (head classes solid, tail
# dashed; about -0.85 at initialisation for every class); λ_max over training; the final test
# accuracy per class; the rarest class's spectral density at the end.
# At this scale SGD leaves *no* class at a saddle, SAM with a small ρ ends flatter (smaller λ_max),
# and the paper's large ρ = 0.5 leaves the tail classes unfitted, at a saddle, and less accurate:
# see the README's reproduction table for which of the paper's claims hold here.

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
# SMALL = True: the config's small variant (configs/curvature_sam.py:small: re-weighted loss, ρ in {0, 0.05,
# 0.5}, 3 seeds, 4 logged steps; ~15 s on a CPU). SMALL = False: the config as it is (re-weighted and plain
# loss, ρ in {0, 0.05, 0.2, 0.5}, 3 seeds, 12 logged steps; about a minute).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
import numpy as np
from IPython.display import Image, display

from dynamics import config, experiment
from dynamics.buckets import class_mean
from dynamics.buckets import head_and_tail
from dynamics.metrics.curvature import saddle_ratio
from dynamics.plots.curvature import seed_groups

cfg, members = config.load_named("curvature_sam", "small" if SMALL else "")
print(len(members), "members")

# %% [markdown]
# One call trains the sweep, saves the History and draws the figure into the workdir, as
# `python -m dynamics.main --config=configs/curvature_sam.py:small --workdir=runs/curvature_sam` does.
# There is no theory curve to put beside it: the paper's analysis is a statement about SAM's
# gradient (a larger component along negative curvature), not a prediction of these curves.

# %%
history = experiment.run(cfg, members, workdir="runs/curvature_sam", overwrite=True)
display(Image("runs/curvature_sam/figures/curvature_sam.png"))

# %% [markdown]
# The numbers behind the claims, at the last step, mean over seeds: λ_min/λ_max and λ_max of the
# head (3 most frequent) and tail (3 rarest) classes, and their test accuracy.

# %%
head, tail = head_and_tail(history.class_counts.shape[-1])
ratio = saddle_ratio(history)[:, -1]
lmax, test = history.records["class_hessian_max"][:, -1], history.records["test_per_class_accuracy"][:, -1]
for label, idx in seed_groups(history).items():
    row = [np.mean(class_mean(values[idx], classes)) for values in (ratio, lmax, test) for classes in (head, tail)]
    print(f"{label:40s} λmin/λmax head {row[0]:+.3f} tail {row[1]:+.3f} | λmax head {row[2]:.3f} "
          f"tail {row[3]:.3f} | test accuracy head {row[4]:.2f} tail {row[5]:.2f}")

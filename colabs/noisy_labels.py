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
# # Noisy labels: early learning, then memorisation, and early-learning regularisation
#
# Liu, Niles-Weed, Razavian, Fernandez-Granda 2020, *Early-Learning Regularization Prevents
# Memorization of Noisy Labels* (Sec. 3, Theorem 1; App. B, Fig. A.1), with
# `configs/noisy_labels_linear.py`: a linear softmax classifier on two Gaussian clusters N(±v, σ² I_p),
# 30% of its training labels wrong, trained by full-batch gradient descent on the cross-entropy.
#
# What you will see: the classifier first predicts the wrong labels as their *true* class (blue) while
# the test accuracy (black) reaches ~1, then memorises them (red) and the test accuracy falls; the wrong
# labels come to carry most of the cross-entropy gradient's coefficients ||p_i − y_i||² (purple).
# Dashed: the n → ∞ limit of the same gradient descent (theory/noisy_labels.py, our own derivation
# from the paper's model), which the simulation follows through early learning and leaves as it
# memorises. With ELR (λ = 3, β = 0.7; right column) nothing is memorised.
#
# Label noise is a data option of every dataset (`data.label_noise`, `data.noise_rate`,
# `data.noise_seed`), ELR a loss option (`loss.regularizer = "elr"`, `loss.elr_lambda`, `loss.elr_beta`).

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
# SMALL = True: the config's small variant (configs/noisy_labels_linear.py:small, the claim tests'
# instance): σ = 0.15, step 0.5, 4000 steps, 3 seeds x {CE, ELR}; a few seconds on a CPU.
# SMALL = False: the config as it is (σ = 0.1, step 0.1, 30000 steps, 4 seeds; about a minute on 2 cores).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import config, experiment, predict

cfg, members = config.load_named("noisy_labels_linear", "small" if SMALL else "")
print(cfg["data"], cfg["loss"])

# %% [markdown]
# One call runs it, saves the History (members.csv with the peak early-learning step and the
# memorisation step), the agreement table and the figure, as
# `python -m dynamics.main --config=configs/noisy_labels_linear.py:small --workdir=runs/noisy_labels_linear` does.

# %%
history = experiment.run(cfg, members, workdir="runs/noisy_labels_linear", overwrite=True)
display(Image("runs/noisy_labels_linear/figures/noisy_labels.png"))

# %% [markdown]
# The agreement table: the n → ∞ theory over the early phase (θ·v, test accuracy, wrong labels predicted
# as their true class, their share of the gradient coefficients), memorisation on linearly separable
# data (Theorem 6), and ELR's final share memorised, each against the tolerance the tests assert.

# %%
print(predict.agreement(history).to_string(index=False))
table = history.members_table(predict.member_columns(history))
print(table[["loss.elr_lambda", "seed", "peak_noisy_true", "peak_noisy_true_step", "memorisation_step",
             "final_noisy_fit_mean", "final_test_accuracy"]].to_string(index=False))

# %% [markdown]
# ## Under class imbalance: which classes' wrong labels are memorised first?
#
# `configs/noisy_labels_long_tail.py`: long-tailed digits, 40% symmetric noise in every class, an MLP
# trained by Adam. `memorisation_vs_frequency` in members.csv is the Spearman correlation, over classes,
# between a class's frequency and the step its wrong labels are half memorised (> 0: rare classes first).
# Its small variant runs 2 seeds in about half a minute; skipped when SMALL (the test budget).

# %%
if not SMALL:
    cfg, members = config.load_named("noisy_labels_long_tail")
    history = experiment.run(cfg, members, workdir="runs/noisy_labels_long_tail", overwrite=True)
    display(Image("runs/noisy_labels_long_tail/figures/noisy_labels.png"))
    print(history.members_table(predict.member_columns(history))[["seed", "memorisation_vs_frequency"]])

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
# # Grokking: generalising long after fitting
#
# Reproduces grokking on modular addition (Power, Burda, Edwards, Babuschkin, Misra 2022,
# *Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets*, fig. 1; Nanda,
# Chan, Lieberum, Smith, Steinhardt 2023, *Progress Measures for Grokking via Mechanistic
# Interpretability*) with `configs/grokking_modular.py`: an MLP on token embeddings learns
# (a + b) mod p from a fraction of the pairs, trained full batch by AdamW with weight decay.
#
# What you will see (left to right): the training accuracy reaches 100% early while the test
# accuracy stays at chance, and only much later jumps to 100% (dotted lines: the steps where each
# reaches 99%); the weight norm; the share of the token embedding's energy on its few key Fourier
# frequencies of Z_p, which rises as the network switches to the Fourier algorithm Nanda et al.
# describe; the embedding's Fourier spectrum at initialisation, fit, generalisation and end; and
# Nanda et al.'s progress measures (restricted and excluded loss beside the train and test loss).
#
# At the end, the diagonal linear network (Lyu et al. 2024) with its theory beside it. The other
# grokking configs are drawn the same way by the figure gallery
# (`python -m dynamics.figures grokking_xor grokking_imbalanced --small --outdir=runs/gallery`):
# `grokking_xor.py` (Xu et al. 2024, benign overfitting then grokking on XOR clusters) and
# `grokking_imbalanced.py` (per-class grokking on a Zipfian training set).

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
# SMALL = True: the config's small variant (configs/grokking_modular.py:small, the claim test's
# instance): p = 31, half the pairs, a smaller MLP; it groks near step 500-1000 of 1200, in about a
# minute on a CPU. SMALL = False: the config as it is (p = 97, 1200 steps; about a minute on a 2-core CPU).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import config, experiment, predict

cfg, members = config.load_named("grokking_modular", "small" if SMALL else "")
print(cfg["data"], cfg["optimizer"]["name"], cfg["optimizer"]["weight_decay"])

# %% [markdown]
# One call runs it, saves the History (and members.csv, with the grokking columns) and draws the
# config's figure into the workdir, as
# `python -m dynamics.main --config=configs/grokking_modular.py:small --workdir=runs/grokking_modular` does.

# %%
history = experiment.run(cfg, members, workdir="runs/grokking_modular", overwrite=True)
display(Image("runs/grokking_modular/figures/grokking_modular.png"))

# %% [markdown]
# The fit step (train accuracy ≥ 99%), the generalisation step (test accuracy ≥ 99%) and their
# difference, as `members.csv` records them (`dynamics.predict.grokking.member_columns`):

# %%
table = history.members_table(predict.member_columns(history))
print(table[["fit_step", "generalization_step", "grokking_time", "final_accuracy", "final_test_accuracy"]])

# %% [markdown]
# ## Theory beside the simulation: the diagonal linear network
#
# Lyu et al. 2024 (*Dichotomy of Early and Late Phase Implicit Biases Can Provably Induce Grokking*,
# Sec. 3.2.3): from a large initialisation α with small weight decay λ, GD on a diagonal linear
# network first generalises like the kernel (ℓ2 max-margin) predictor and only near step
# log(α / α_rich) / (ηλ) jumps to the sparse (ℓ1 max-margin) one. `configs/grokking_diagonal.py:small`
# runs one (α, λ) in seconds; the run stores what the prediction needs from the data (the two
# predictors' test errors, the training data's α_rich), so the figure and the agreement table
# (`agreement.csv`: measured error against the tolerance the tests assert) read the History alone.

# %%
cfg, members = config.load_named("grokking_diagonal", "small" if SMALL else "")
history = experiment.run(cfg, members, workdir="runs/grokking_diagonal", overwrite=True)
display(Image("runs/grokking_diagonal/figures/grokking_diagonal.png"))
print(predict.agreement(history).to_string(index=False))

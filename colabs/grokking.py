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
# describe; and the embedding's Fourier spectrum at initialisation, fit, generalisation and end.
#
# The other grokking configs, drawn the same way by the figure gallery
# (`python -m dynamics.figures grokking_xor grokking_diagonal --outdir=runs/gallery`):
# `grokking_xor.py` (Xu et al. 2024, benign overfitting then grokking on XOR clusters) and
# `grokking_diagonal.py` (Lyu et al. 2024, large initialisation and small weight decay).

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
# SMALL = True: p = 31 and a smaller MLP (it still groks, near step 1200), under a minute on a CPU.
# SMALL = False: the config as it is (p = 97, 1200 steps; about a minute on a 2-core CPU).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import figures, plots, train

config, members = figures.load_experiment("grokking_modular")
if SMALL:
    config["data"].update(p=31, train_fraction=0.5)  # 480 of the 961 pairs for training
    config["model"].update(embed_dim=64, hidden_dim=128)
    config["train"].update(num_steps=1500, chunk_steps=1500, num_log_points=40)
print(config["data"], config["optimizer"]["name"], config["optimizer"]["weight_decay"])
history = train.run(config, members, progress=print)

# %%
plots.grokking_modular(history, "grokking.png")
display(Image("grokking.png"))

# %% [markdown]
# The fit step (train accuracy ≥ 99%), the generalisation step (test accuracy ≥ 99%) and their
# difference, as `members.csv` records them:

# %%
table = history.members_table()
print(table[["fit_step", "generalization_step", "grokking_time", "final_accuracy", "final_test_accuracy"]])

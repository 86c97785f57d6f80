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
# # Class competition and per-class normalisation
#
# Reproduces Francazi, Baity-Jesi, Lucchi (2023), *A Theoretical Analysis of the Learning
# Dynamics under Class Imbalance*, with `configs/class_competition.py` and
# `theory/class_competition.py`: two classes, 10:1, a linear softmax model.
#
# What you will see:
# 1. **GD**: the majority class's gradient points against the minority's, so the minority loss
#    goes *up* at the start ("minority initial drop" in accuracy). **Per-class normalised GD**
#    (PCNGD: θ ← θ − η Σ_k g_k/‖g_k‖) gives both classes an equal share and both losses fall.
# 2. The first-order prediction of the first step, Δℓ_k = −η g_k·d, computed from the recorded
#    inner products of the per-class gradients, next to the simulated first step.
# 3. Under **SGD** the minority class's minibatch gradient is the noisier in direction: its
#    cosine with the full-batch gradient is lower, close to the predicted 1/sqrt(1 + ρ_k²/n_k)
#    (n_k: the class's samples in a batch, ρ_k its per-sample gradient noise-to-signal ratio).

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
# SMALL = True: 100 steps and one SGD batch size, well under a minute on a CPU (CI runs it so).
# SMALL = False: the config as it is (200 steps, five batch sizes; about a minute and a half).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
import numpy as np
import pandas as pd
from IPython.display import Image, display

from dynamics import figures, plots, train
from theory import class_competition

config, members = figures.load_experiment("class_competition")
if SMALL:
    config["train"].update(num_steps=100, chunk_steps=101, num_log_points=8)
    members = [m for m in members if m.get("train.batch_size", 0) in (0, 8)]
for m in members:
    print(m)
history = train.run(config, members, progress=print)

# %% [markdown]
# Per-class training loss, one panel per member (dark: majority, light: minority). Note the
# minority's early rise under full-batch GD.

# %%
plots.per_class_loss(history, "class_competition.png")
display(Image("class_competition.png"))

# %% [markdown]
# **The first step, predicted and measured.** The History records the Gram matrix of the
# per-class gradients, G_kj = g_k·g_j (`class_gradient_gram`). The first-order change depends on
# the gradients only through these inner products, so any vectors with Gram G (here G's
# symmetric square root) give the prediction of `class_competition.first_order_loss_change`.

# %%
METHODS = {"gd": "gd", "per_class_normalized_gd": "per_class_normalized"}
rows = []
for i in range(len(history.members)):
    setting = history.swept_values(i)
    if setting["train.batch_size"] != 0:
        continue
    gram = history.records["class_gradient_gram"][i, 0].astype(np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    vectors = eigenvectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T  # rows: g_k
    pi = history.class_counts[i] / history.class_counts[i].sum()
    predicted = class_competition.first_order_loss_change(vectors, config["optimizer"]["learning_rate"], pi,
                                                          METHODS[setting["optimizer.name"]])
    measured = history.records["per_class_loss"][i, 1] - history.records["per_class_loss"][i, 0]
    for k, name in enumerate(["majority", "minority"]):
        rows.append({"optimizer": setting["optimizer.name"], "class": name,
                     "predicted Δℓ": predicted[k], "simulated Δℓ": measured[k]})
print(pd.DataFrame(rows).to_string(index=False, float_format="%.4f"))

# %% [markdown]
# **SGD: directional noise.** For each batch size B, the measured mean cosine between a class's
# minibatch gradient and its full-batch gradient at initialisation (`sgd_gradient_cosine`), and
# the prediction from the recorded noise-to-signal ratio ρ_k (`gradient_noise_to_signal`), with
# the class count in a batch drawn binomially (m_k = B π_k expected samples).

# %%
rows = []
for i in range(len(history.members)):
    batch = history.swept_values(i)["train.batch_size"]
    if batch == 0:
        continue
    pi = history.class_counts[i] / history.class_counts[i].sum()
    rho = history.records["gradient_noise_to_signal"][i, 0]
    predicted = class_competition.minibatch_gradient_cosine(
        class_competition.expected_class_counts(pi, batch), rho, "binomial", batch_size=batch,
        class_sizes=history.class_counts[i])
    measured = history.records["sgd_gradient_cosine"][i, 0]
    rows.append({"batch size": batch, "majority (measured)": measured[0], "majority (theory)": predicted[0],
                 "minority (measured)": measured[1], "minority (theory)": predicted[1]})
print(pd.DataFrame(rows).to_string(index=False, float_format="%.3f"))

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
# SMALL = True: the config's small variant (configs/class_competition.py:small): 100 steps and one
# SGD batch size, well under a minute on a CPU (CI runs it so). SMALL = False: the config as it is
# (200 steps, five batch sizes; about a minute and a half).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
import pandas as pd
from IPython.display import Image, display

from dynamics import config, experiment, plots, predict
from dynamics.predict import competition

cfg, members = config.load_named("class_competition", "small" if SMALL else "")
for m in members:
    print(m)
history = experiment.run(cfg, members, workdir="runs/class_competition", overwrite=True)

# %% [markdown]
# Per-class training loss, one panel per member (dark: majority, light: minority). Note the
# minority's early rise under full-batch GD.

# %%
plots.per_class_loss(history, "per_class_loss.png")
display(Image("per_class_loss.png"))

# %% [markdown]
# **The first step, predicted and measured.** The History records the Gram matrix of the
# per-class gradients, G_kj = g_k·g_j (`class_gradient_gram`). The first-order change depends on
# the gradients only through these inner products, so any vectors with Gram G give the
# prediction of `theory.class_competition.first_order_loss_change`
# (`dynamics.predict.competition.first_step_changes`).

# %%
rows = []
for i in range(len(history.members)):
    if competition.why_no_first_step(history, i) is None:
        predicted, simulated = competition.first_step_changes(history, i)
        for k, name in enumerate(["majority", "minority"]):
            rows.append({"optimizer": history.swept_values(i)["optimizer.name"], "class": name,
                         "predicted Δℓ": predicted[k], "simulated Δℓ": simulated[k]})
print(pd.DataFrame(rows).to_string(index=False, float_format="%.4f"))

# %% [markdown]
# **SGD: directional noise.** For each batch size B, the measured mean cosine between a class's
# minibatch gradient and its full-batch gradient at initialisation (`sgd_gradient_cosine`), and
# the prediction from the recorded noise-to-signal ratio ρ_k (`gradient_noise_to_signal`), with
# the class count in a batch drawn binomially (`dynamics.predict.competition.sgd_cosines`).

# %%
rows = []
for i in range(len(history.members)):
    batch = history.swept_values(i)["train.batch_size"]
    if batch > 0:
        predicted, measured = competition.sgd_cosines(history, i)
        rows.append({"batch size": batch, "majority (measured)": measured[0], "majority (theory)": predicted[0],
                     "minority (measured)": measured[1], "minority (theory)": predicted[1]})
print(pd.DataFrame(rows).to_string(index=False, float_format="%.3f"))

# %% [markdown]
# The whole picture (loss curves, first step, cosine against batch size; the run drew it into
# its workdir) and the agreement table the run saved as `agreement.csv`: each prediction's error
# against the tolerance the tests assert (tests/test_theory_agreement.py).

# %%
display(Image("runs/class_competition/figures/class_competition.png"))
print(predict.agreement(history).to_string(index=False))

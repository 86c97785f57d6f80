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
# # Your own model, dataset and metric in a `dynamics` run
#
# The library's models, datasets, optimizers and metrics are plain dicts of named builders. To try
# your own, you do not edit the package: pass your builders to `dynamics.experiment.run` for one
# run, and name them in the config as you would name the library's. Sweeps, per-class records,
# selection, checkpoints and `config.json` work unchanged.
#
# Here: a small flax MLP with a tanh hidden layer, on Kunstner et al.'s heavy-tailed step-Zipf
# data, against the library's own ReLU MLP, under GD and Adam.

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
# SMALL = True: 31 classes and 150 steps, well under a minute on a CPU (CI runs it so).
# SMALL = False: 255 classes and 500 steps (a few minutes on a CPU).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %% [markdown]
# A model builder takes the dataset's example input and number of classes, then the keys of the
# config's `model` section as keyword arguments **with defaults** (the config reads its keys and
# defaults from the signature). `from_flax` wraps a flax module whose last `Dense` is named
# `head` and which returns its penultimate features when asked (neural-collapse metrics use them).

# %%
import flax.linen as nn
import jax.numpy as jnp
from IPython.display import Image, display

from dynamics import config, experiment, plots, sweep
from dynamics.models.base import from_flax


class TanhMLP(nn.Module):
    width: int
    num_classes: int

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        h = jnp.tanh(nn.Dense(self.width, name="hidden")(x))
        return h if return_features else nn.Dense(self.num_classes, name="head")(h)


def tanh_mlp(example_x, num_classes: int, width: int = 64):
    """One hidden tanh layer of `width` units."""
    return from_flax(TanhMLP(width, num_classes), example_x)


# A metric: fn(model, params, data, config) -> {record name: array}, computed at every logged step
# of every member (inside the compiled program). Here: the mean hidden activation's magnitude.
def hidden_saturation(model, params, data, cfg):
    return {"hidden_saturation": jnp.mean(jnp.abs(model.features(params, data.x)))}


# %% [markdown]
# The config names the new pieces; `config.defaults` gives every other key its default.

# %%
c = config.defaults(data="synthetic", model="tanh_mlp", models={"tanh_mlp": tanh_mlp})
c.model.width = 32 if SMALL else 128
c.train.extra_metrics = ("hidden_saturation",)
c.train.num_steps = 150 if SMALL else 500
c.train.chunk_steps = c.train.num_steps + 1
c.train.num_log_points = 16
c.figures = ("per_class_loss",)
if SMALL:
    c.data.num_classes, c.data.num_samples, c.data.input_dim = 31, 320, 32  # m = 5 step-Zipf groups
members = sweep.product(sweep.axis("optimizer.name", ["gd", "adam"]),
                        sweep.axis("optimizer.learning_rate", [0.03]))
members = [dict(m, **{"optimizer.learning_rate": 1.0}) if m["optimizer.name"] == "gd" else m for m in members]

history = experiment.run(c.to_dict(), members, workdir="runs/your_own_model", overwrite=True,
                         models={"tanh_mlp": tanh_mlp}, metrics={"hidden_saturation": hidden_saturation})
display(Image("runs/your_own_model/figures/per_class_loss.png"))

# %% [markdown]
# The workdir holds the usual files; `config.json` names `tanh_mlp`, so relaunching the same cell
# without `overwrite=True` resumes or refuses as for any run, given the same builders. Your metric
# is a record like the library's:

# %%
print(history.members_table()[["optimizer.name", "final_loss", "final_hidden_saturation"]].to_string(index=False))

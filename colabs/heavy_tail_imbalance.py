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
# # Heavy-tailed class imbalance: why Adam outperforms gradient descent
#
# Reproduces the linear-model experiment of Kunstner, Yadav, Milligan, Schmidt, Bietti (2024),
# *Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent on Language Models*
# (their figs. 3-4), from `configs/heavy_tail_linear.py`: a linear softmax model on *step-Zipf*
# data, where group i of the classes holds 2^i classes that share the same number of samples,
# so the rarest classes have 2^(m-1) times fewer samples than the most frequent one.
#
# What you will see: one panel per optimizer (its best learning rate), one line per frequency
# bucket (dark = frequent, light = rare). Under **gradient descent** the rare classes' loss
# barely moves while the frequent ones fit; **Adam** and **sign descent** fit every bucket, the
# rare ones included.

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
# SMALL = True: a shrunken problem that runs in well under a minute on a CPU (CI runs it so).
# SMALL = False: the config's full sweep (255 classes, 5 optimizers x 4 learning rates; minutes).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"

# %%
from IPython.display import Image, display

from dynamics import figures, plots, sweep, train
from dynamics.history import select_best_lr

config, members = figures.load_experiment("heavy_tail_linear")  # get_config().to_dict(), get_sweep()
if SMALL:
    config["data"].update(num_classes=63, num_samples=768, input_dim=96)  # m = 6 groups: a 32x imbalance
    config["train"].update(num_steps=300, chunk_steps=300, num_log_points=16, per_class_grad_norm=False)

    def grid(name, rates):
        return sweep.product(sweep.axis("optimizer.name", [name]), sweep.axis("optimizer.learning_rate", rates))

    members = sweep.chain(grid("gd", [0.3, 1.0, 3.0]), grid("adam", [3e-3, 1e-2, 3e-2]),
                          grid("sign", [1e-3, 3e-3, 1e-2]))
print(f"{len(members)} members; classes {config['data']['num_classes']}, steps {config['train']['num_steps']}")

# %% [markdown]
# Every member of the sweep trains at once: members that differ only in numbers (here the
# learning rate) are vmapped into one compiled program, one program per optimizer. Then, per
# optimizer, the learning rate with the lowest final training loss is kept (`select.rule =
# "best_lr"`, as the paper tunes each optimizer).

# %%
history = train.run(config, members, progress=print)
history = select_best_lr(history, config["select"]["metric"])
plots.per_class_loss(history, "heavy_tail_imbalance.png")
display(Image("heavy_tail_imbalance.png"))

# %% [markdown]
# The same numbers as tables (pandas): one row per member with its final losses, and the final
# loss per class frequency for the selected learning rates. Under GD the rarest classes sit near
# their initial loss log C; under Adam and sign descent they end lowest.

# %%
table = history.members_table()
print(table[["optimizer.name", "optimizer.learning_rate", "selected", "final_loss"]].to_string(index=False))
metrics = history.metrics_table()
final = metrics[(metrics.step == history.step[-1]) & metrics.member.isin(table.member[table.selected])]
print(final.groupby(["optimizer.name", "class_count"]).loss.mean().unstack("optimizer.name").round(3))

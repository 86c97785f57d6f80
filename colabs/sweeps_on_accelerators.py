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
# # Running a sweep on accelerators: one program, members sharded over devices
#
# Every run in `dynamics` is a sweep of members (a member: a dict of dotted config keys). This
# notebook shows how a sweep becomes compiled programs and how their members are laid over the
# devices, so that the same code runs on one CPU, the 8 GPUs of a machine or a TPU slice:
#
# 1. **Grouping.** The seed and every float of the `model`, `loss` and `optimizer` sections are
#    *traced*: members that differ only in those (and in data values of the same shapes) share
#    one compiled program, `jax.vmap`-ed over members. So do members of optimizers that take the
#    same gradient: a traced index picks each member's (`dynamics.optimizers.switch`). Members that
#    differ in other code or in shapes (SAM, schedule, width, batch size, ...) form separate groups,
#    each compiled once.
# 2. **Sharding.** A group's member axis is laid over `jax.devices()` with a 1-D `Mesh` and
#    `NamedSharding(mesh, PartitionSpec("members"))`, padded with copies of the last member to a
#    multiple of the device count. The data is replicated (or sharded, when it differs by member).
#    Each device runs its share of members: no communication inside a step.
# 3. **Several hosts.** Start the same command on every host after `jax.distributed.initialize()`;
#    each process places its shard with `jax.make_array_from_callback` and the results are
#    gathered with `multihost_utils.process_allgather`.
#
# On a CPU we pretend to have 4 devices with `XLA_FLAGS=--xla_force_host_platform_device_count=4`
# (set before jax is imported). On a Colab GPU/TPU runtime the flag only affects the CPU platform:
# `jax.devices()` lists the accelerators and the same cells shard over them.

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
# SMALL = True: configs/heavy_tail_linear.py:small (31 classes, 60 steps), 12 members (under a minute on a CPU).
# SMALL = False: the full heavy_tail_linear problem (255 classes, 300 steps) with 24 members (a few minutes on a
# CPU, seconds on a GPU).
SMALL = os.environ.get("DYNAMICS_SMALL", "1") == "1"
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"

# %%
import time

import jax
import numpy as np

from dynamics import sweep, train
from dynamics.config import load_named

print(jax.devices())
config, _ = load_named("heavy_tail_linear", "small" if SMALL else "")  # get_config(variant); our own sweep below
members = sweep.chain(  # three of the config's GD and Adam learning rates, over init seeds
    sweep.product(sweep.axis("optimizer.name", ["gd"]), sweep.axis("optimizer.learning_rate", [1e-2, 3e-2, 1e-1]),
                  sweep.axis("seed", [0, 1] if SMALL else [0, 1, 2, 3])),
    sweep.product(sweep.axis("optimizer.name", ["adam"]), sweep.axis("optimizer.learning_rate", [1e-3, 3e-3, 1e-2]),
                  sweep.axis("seed", [0, 1] if SMALL else [0, 1, 2, 3])),
)
print(len(members), "members")

# %% [markdown]
# **Grouping**: `train.plan` validates every member, builds the data and models, and groups the
# members without compiling anything. Which keys travel as traced numbers:

# %%
print("traced keys:", sweep.traced_keys(config))
_, groups = train.plan(config, members)
for g, group in enumerate(groups):
    names = {config_key: values.tolist() for config_key, values in group.numbers.items()
             if len(set(values.tolist())) > 1}
    print(f"group {g}: members {group.indices}, swept numbers {names}")

# %% [markdown]
# **Sharding**: the member axis of a group over the device mesh. `train.compile_group` pads the
# members to a multiple of the device count and places them; each device holds its share of the
# learning rates (and of every other per-member array: parameters, optimizer state, records).

# %%
mesh = sweep.member_mesh()
print("mesh:", mesh.shape, "padded members per group:", sweep.padded_size(len(groups[0].indices), mesh))
program = train.compile_group(groups[0])
learning_rates = program.numbers["optimizer.learning_rate"]
print(learning_rates.sharding)
for shard in learning_rates.addressable_shards:
    print(f"  {shard.device}: learning rates {np.asarray(shard.data).tolist()}")

# %% [markdown]
# **Running** the sweep: one compiled program per group, `lax.scan` over the steps of a chunk.
# Progress lines report steps/s times the number of members: the throughput of the whole group.

# %%
start = time.perf_counter()
history = train.run(config, members, progress=print)
print(f"{len(members)} members in {time.perf_counter() - start:.1f} s on {len(jax.devices())} devices")

# %% [markdown]
# A member's result does not depend on which members share its program or on which device it
# lands: running member 3 on its own (padded to the device count as well) gives the same curve.

# %%
alone = train.run(config, [members[3]], progress=lambda line: None)
difference = np.max(np.abs(alone.records["per_class_loss"][0] - history.records["per_class_loss"][3]))
print(f"max |difference| of member 3's per-class loss: {difference:.2e}")
assert difference < 1e-5

# %% [markdown]
# **From the command line**, the same sweep (any config's `get_sweep()`) runs with
#
# ```bash
# python -m dynamics.main --config=configs/heavy_tail_linear.py --workdir=runs/heavy_tail_linear
# XLA_FLAGS=--xla_force_host_platform_device_count=4 python -m dynamics.main ...   # 4 CPU "devices"
# ```
#
# and on several hosts (e.g. a TPU pod slice, or SLURM) the same command on every host, each
# process having called `jax.distributed.initialize()` first (on Cloud TPU and SLURM it finds its
# peers by itself). A big sweep's figures can be redrawn anywhere from its workdir alone:
# `python -m dynamics.figures heavy_tail_linear --from=runs --outdir=figures`.

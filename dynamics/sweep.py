"""Sweeps: which members a run has, which of them share one compiled program, and where they run.

A sweep is a list of members; a member is a dict {dotted config key: value}. Build them with
axis / product / zip / chain in a config file's get_sweep(). Numbers that only change values
(the seed, model.init_scale, every float of the loss and optimizer sections, and any data setting
that keeps the data's shapes) are vmapped; members that differ in anything else form separate groups.
"""
import builtins
import itertools
import math

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from dynamics.errors import ConfigError

TRACED_SECTIONS = ("model", "loss", "optimizer")


def axis(key: str, values) -> list:
    """One swept key: a member per value."""
    values = list(values)
    if not values:
        raise ConfigError(f"sweep axis {key!r} is empty")
    return [{key: v} for v in values]


def product(*sweeps) -> list:
    """Every combination of the members of each sweep."""
    return [dict(kv for member in combo for kv in member.items()) for combo in itertools.product(*sweeps)]


def zip(*sweeps) -> list:  # noqa: A001 - reads as sweep.zip in configs
    """Members taken side by side; the sweeps must have equal lengths."""
    lengths = [len(s) for s in sweeps]
    if len(set(lengths)) > 1:
        raise ConfigError(f"sweep.zip needs axes of equal length, got lengths {lengths}")
    return [dict(kv for member in combo for kv in member.items()) for combo in builtins.zip(*sweeps)]


def chain(*sweeps) -> list:
    """The members of each sweep, one after another."""
    return [member for s in sweeps for member in s]


def thin(members: list, keep=("optimizer.learning_rate", "seed")) -> list:
    """Per setting of the other swept keys, the members at the middle value of the first key in
    `keep` (the learning rate) and the first value of the others (the seed); order kept. For
    configs' small variants: one learning rate and one seed per optimizer setting."""
    first, rest = keep[0], keep[1:]
    settings = {}
    for i, member in enumerate(members):
        key = repr(sorted((k, repr(v)) for k, v in member.items() if k not in keep))
        settings.setdefault(key, []).append(i)
    kept = []
    for indices in settings.values():
        middle = list(dict.fromkeys(repr(members[i].get(first)) for i in indices))
        chosen = {first: middle[len(middle) // 2], **{k: repr(members[indices[0]].get(k)) for k in rest}}
        kept += [i for i in indices if all(repr(members[i].get(k)) == v for k, v in chosen.items())]
    return [dict(members[i]) for i in sorted(kept)]


def flatten(tree: dict, prefix: str = "") -> dict:
    """{'a': {'b': 1}} -> {'a.b': 1}."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def unflatten(flat: dict) -> dict:
    tree = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = tree
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return tree


def member_configs(base: dict, members: list) -> list:
    """The full config (nested dict) of each member: base with the member's overrides."""
    flat = flatten(base)
    if not members:
        raise ConfigError("the sweep has no members")
    out = []
    for member in members:
        merged = dict(flat)
        for key, value in member.items():
            if key not in flat:
                raise ConfigError(f"sweep axis names unknown config key {key!r}; valid keys: {', '.join(sorted(flat))}")
            merged[key] = _coerce(key, flat[key], value)
        out.append(unflatten(merged))
    return out


def _coerce(key, old, new):
    if isinstance(old, float) and isinstance(new, int) and not isinstance(new, bool):
        return float(new)
    if type(new) is not type(old) and not (isinstance(old, (tuple, list)) and isinstance(new, (tuple, list))):
        raise ConfigError(f"sweep value for {key!r} must be {type(old).__name__}, got {new!r}")
    return new


def swept_keys(members: list) -> list:
    """Keys that any member overrides, in first-seen order."""
    return list(dict.fromkeys(k for m in members for k in m))


def traced_keys(config: dict) -> list:
    """Keys whose values travel as traced numbers: the seed and the floats of model/loss/optimizer,
    except the model's that shape its functions (the builder's arguments, the harmonic exponent):
    the group's model is built once, so those split groups (only model.init_scale is traced)."""
    flat = flatten(config)
    return ["seed"] + [k for k, v in flat.items()
                       if k.split(".")[0] in TRACED_SECTIONS and isinstance(v, float)
                       and (not k.startswith("model.") or k == "model.init_scale")]


def group_key(config: dict, data_shapes, chosen: tuple = ()) -> str:
    """Members with equal keys share one compiled program. Data settings that are numbers only change
    the (stacked) data arrays; any other data setting (a name, an operation, a flag) may change what
    the program computes (a metric may read it), so it splits groups like a shape does. init settings
    only choose the starting arrays (train.plan checks their shapes), so they split nothing; nor do the
    `chosen` keys, which the program chooses by a traced index."""
    traced = set(traced_keys(config)) | set(chosen)
    static = {k: v for k, v in flatten(config).items() if k not in traced and not k.startswith("init.")
              and not (k.startswith("data.") and isinstance(v, (int, float)) and not isinstance(v, bool))}
    return repr((sorted(static.items()), data_shapes))


def member_mesh() -> Mesh:
    """A 1-D mesh over every jax device (all hosts), axis 'members'."""
    return Mesh(np.array(jax.devices()), ("members",))


def padded_size(num_members: int, mesh: Mesh) -> int:
    """Members are padded (with copies of the last one) to a multiple of the device count."""
    return int(math.ceil(num_members / mesh.size) * mesh.size)


def shard_members(tree, mesh: Mesh):
    """Places host arrays with a leading member axis across the mesh (works across hosts)."""
    sharding = NamedSharding(mesh, PartitionSpec("members"))

    def place(a):
        a = np.asarray(a)
        return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])

    return jax.tree.map(place, tree)


def replicate(tree, mesh: Mesh):
    sharding = NamedSharding(mesh, PartitionSpec())
    return jax.tree.map(lambda a: jax.make_array_from_callback(np.shape(a), sharding, lambda i: np.asarray(a)[i]), tree)


def gather(tree):
    """Fetches sharded arrays to host numpy on every process."""
    if jax.process_count() > 1:
        return multihost_utils.process_allgather(tree, tiled=True)
    return jax.tree.map(np.asarray, tree)

"""Training: a pure train step, lax.scan over steps in jitted chunks, and run(config) -> History.

One compiled program runs a whole group of sweep members (their numbers traced, their optimizer
chosen by a traced index among those that take the same gradient): the chunk function is vmapped
over members (sharded over devices; on one CPU device, members too large for the cache run one after
another inside it) and scans over `train.chunk_steps` steps; Python only loops over chunks, printing
steps/s and the ETA after each.
"""
import dataclasses
import time
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dynamics import checkpoint, disk, distributed, losses, memory, metrics, sweep
from dynamics.pieces import Pieces, library
from dynamics.summaries import Summaries
from dynamics.checkpoint import Checkpoints
from dynamics.data import Dataset, build_dataset
from dynamics.errors import ConfigError, check_choice, check_keys, check_range
from dynamics.history import History
from dynamics.models import TRAINER_KEYS, Model, build_model
from dynamics.models.base import frozen_to_zero, head_only
from dynamics.models.harmonic import with_harmonic_head
from dynamics.optimizers import (build_optimizer, gradient_kind, max_norm, needs_per_class_gradients,
                                 needs_perturbed_gradient, sam_gradient, switch, validate_optimizer)

SECTIONS = ("seed", "data", "model", "loss", "optimizer", "train", "init", "select", "figures")
TRAIN_KEYS = ("num_steps", "batch_size", "chunk_steps", "num_log_points", "log_spacing",
              "per_class_grad_norm", "extra_metrics", "checkpoint_keep", "matmul_precision", "trainable",
              "lanczos_iterations", "lanczos_probes", "density_bins",
              "kernel_probe_size")
MATMUL_PRECISIONS = ("float32", "high", "bfloat16")  # jax.default_matmul_precision's HIGHEST, HIGH, DEFAULT
OPTIMIZER_INDEX = "optimizer.index"  # a member's optimizer in Setup.optimizers, traced where a group has several


class TrainState(NamedTuple):
    """One member's state. diverged_step is -1 while the loss and parameters are finite. targets: ELR's
    per-sample targets [N, C] (loss.regularizer = "elr", losses.elr_targets), else None."""

    params: Any
    opt_state: Any
    diverged_step: jax.Array
    targets: Any = None


@dataclasses.dataclass(frozen=True)
class Setup:
    """What one compiled program needs: a group's config (numbers come in separately), its model,
    and the pieces (optimizers, metrics) the config names."""

    config: dict
    model: Model
    log_steps: np.ndarray
    pieces: Pieces
    max_norm: bool = False  # some member has optimizer.max_norm > 0: the MaxNorm projection is chained
    optimizers: tuple = ()  # the members' optimizer names; several: each member's is numbers[OPTIMIZER_INDEX]

    @property
    def num_steps(self) -> int:
        return self.config["train"]["num_steps"]

    @property
    def chunk_steps(self) -> int:
        """Steps per compiled scan: train.chunk_steps, but no more than the run has (steps 0..num_steps)."""
        return min(self.config["train"]["chunk_steps"], self.num_steps + 1)


def resolve(setup: Setup, numbers: dict) -> dict:
    """The group's config with this member's (possibly traced) numbers put in."""
    flat = sweep.flatten(setup.config)
    flat.update(numbers)
    return sweep.unflatten(flat)


def log_steps(num_steps: int, num_log_points: int, spacing: str) -> np.ndarray:
    """Steps at which records are taken: 0, then log- or linearly spaced up to num_steps."""
    if spacing == "log":
        steps = np.geomspace(1, max(num_steps, 1), max(num_log_points - 1, 1))
    else:
        steps = np.linspace(0, num_steps, num_log_points)
    return np.unique(np.concatenate([[0], np.round(steps).astype(np.int64), [num_steps]]))


def member_keys(seed):
    """(initialisation key, key that fold_in(., step) turns into each step's key) of one member."""
    return jax.random.split(jax.random.PRNGKey(seed))


def optimizer(setup: Setup, cfg: dict, params) -> optax.GradientTransformation:
    """The member's optimizer (chosen by its traced index where the group has several: optimizers.switch);
    parameters the model marks untrainable get no update at all; then MaxNorm's projection of the
    classifier rows (optimizers.max_norm) where the group uses it."""
    build = lambda name: build_optimizer(dict(cfg["optimizer"], name=name), setup.num_steps, setup.pieces.optimizers)
    names = setup.optimizers
    tx = build(names[0]) if len(names) == 1 else switch([build(n) for n in names], cfg["optimizer"]["index"])
    if setup.model.trainable is not None:
        labels = jax.tree.map(lambda train: "train" if train else "freeze", setup.model.trainable(params))
        tx = optax.multi_transform({"train": tx, "freeze": optax.set_to_zero()}, labels)
    if setup.max_norm:
        tx = optax.chain(tx, max_norm(cfg["optimizer"]["max_norm"], setup.model.classifier))
    return tx


def initial_params(model: Model, cfg: dict):
    """A member's own initialisation at step 0, times model.init_scale (cfg: its resolved config; numbers
    may be traced). The kernel metric (dynamics.metrics.kernel) calls it too, to compare the NTK with the
    one at step 0."""
    init_key, _ = member_keys(cfg["seed"])
    return jax.tree.map(lambda p: p * cfg["model"]["init_scale"], model.init(init_key))


def init_state(setup: Setup, numbers: dict, data: Dataset, params=None) -> TrainState:
    """A member's state at step 0: its own initialisation, or `params` as given (init.from_workdir)."""
    cfg = resolve(setup, numbers)
    if params is None:
        params = initial_params(setup.model, cfg)
    opt_state = optimizer(setup, cfg, params).init(params)
    targets = jnp.zeros(np.shape(data.y) + (data.num_classes,)) if cfg["loss"]["regularizer"] == "elr" else None
    return TrainState(params, opt_state, jnp.int32(-1), targets)


def _batch(cfg: dict, data: Dataset, key):
    """(x, y, which samples: an index array, or slice(None) for the full batch)."""
    size = cfg["train"]["batch_size"]
    if size == 0:
        return data.x, data.y, slice(None)
    idx = jax.random.permutation(key, data.y.shape[0])[:size]
    return data.x[idx], data.y[idx], idx


def train_step(setup: Setup, numbers: dict, data: Dataset, state: TrainState, step) -> TrainState:
    """One optimizer step of one member (pure). A non-finite loss or parameter norm (entries each finite
    but too large for their norm, e.g. normalised GD at lr 1e30) freezes the member: it diverged."""
    cfg = resolve(setup, numbers)
    key = jax.random.fold_in(member_keys(numbers["seed"])[1], step)
    x, y, idx = _batch(cfg, data, key)
    model, loss_cfg = setup.model, cfg["loss"]

    def objective(params):  # ELR's targets are updated from this step's predictions first (Liu et al., Alg. 1)
        logits = model.apply(params, x)
        targets = None if state.targets is None else losses.elr_targets(loss_cfg, state.targets[idx], logits)
        return losses.training_loss(loss_cfg, logits, y, data.class_counts, targets), targets

    (loss, targets), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
    if needs_perturbed_gradient(cfg["optimizer"]["name"]):
        ascent = frozen_to_zero(model, grads)  # the perturbation moves only what is trained
        grads = sam_gradient(jax.grad(lambda p: objective(p)[0]), state.params, ascent, cfg["optimizer"]["rho"])
    if targets is not None:
        targets = state.targets.at[idx].set(targets)
    if needs_per_class_gradients(cfg["optimizer"]["name"]):
        def sample_loss(params, xi, yi):
            return losses.training_loss(loss_cfg, model.apply(params, xi[None]), yi[None], data.class_counts)

        grads = metrics.per_class_gradients(sample_loss, state.params, x, y, data.class_counts.shape[-1])
    updates, opt_state = optimizer(setup, cfg, state.params).update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    finite = jnp.isfinite(loss) & jnp.isfinite(metrics.param_norm(params))  # an overflowing norm is divergence too
    alive = state.diverged_step < 0
    keep_new = alive & finite
    new = jax.tree.map(lambda a, b: jnp.where(keep_new, a, b), (params, opt_state, targets),
                       (state.params, state.opt_state, state.targets))
    diverged_step = jnp.where(alive & ~finite, jnp.int32(step), state.diverged_step)
    return TrainState(new[0], new[1], diverged_step, new[2])


def record(setup: Setup, numbers: dict, data: Dataset, state: TrainState) -> dict:
    """The records of one member at the current step (NaN once it has diverged; run_chunk calls a
    member whose full-batch loss or parameter norm record is non-finite diverged)."""
    cfg = resolve(setup, numbers)
    out = metrics.evaluate(setup.model, cfg, state.params, data, setup.pieces.metrics)
    diverged = state.diverged_step >= 0
    return {k: jnp.where(diverged, jnp.nan, v.astype(jnp.float32)) for k, v in out.items()}


def run_chunk(setup: Setup, numbers: dict, data: Dataset, state: TrainState, records: dict, start):
    """Steps start .. start+chunk_steps-1 of one member: record at logged steps, then update."""
    steps_logged = jnp.asarray(setup.log_steps)

    def body(carry, step):
        state, records = carry
        idx = jnp.minimum(jnp.searchsorted(steps_logged, step), len(setup.log_steps) - 1)

        def write(carry):
            state, recs = carry
            new = record(setup, numbers, data, state)
            broken = (state.diverged_step < 0) & ~(jnp.isfinite(new["loss"]) & jnp.isfinite(new["param_norm"]))
            state = state._replace(diverged_step=jnp.where(broken, step.astype(jnp.int32), state.diverged_step))
            return state, {k: recs[k].at[idx].set(new[k]) for k in recs}

        state, records = jax.lax.cond(steps_logged[idx] == step, write, lambda c: c, (state, records))
        state = jax.lax.cond(step < setup.num_steps,
                             lambda s: train_step(setup, numbers, data, s, step), lambda s: s, state)
        return (state, records), None

    steps = start + jnp.arange(setup.chunk_steps)
    (state, records), _ = jax.lax.scan(body, (state, records), steps)
    return state, records


def validate(config: dict, pieces: Pieces) -> None:
    """Checks a member's config before anything is built or compiled."""
    check_keys("config", config, SECTIONS)
    for section in ("data", "model", "loss", "optimizer", "train", "init", "select"):
        if not isinstance(config[section], dict):
            raise ConfigError(f"config.{section} must be a section of settings, got {config[section]!r}")
    seed = config["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise ConfigError(f"seed must be an integer in [0, 2^31), got {seed!r}")
    train = config["train"]
    check_keys("train", train, TRAIN_KEYS)
    for key in ("num_steps", "chunk_steps", "num_log_points", "checkpoint_keep", "lanczos_iterations", "lanczos_probes",
                "density_bins", "kernel_probe_size"):
        value = train[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"train.{key} must be a positive integer, got {value!r}")
    if train["num_steps"] + min(train["chunk_steps"], train["num_steps"] + 1) >= 2**31:
        raise ConfigError(f"train.num_steps must be below 2^31 - train.chunk_steps (steps are int32), "
                          f"got {train['num_steps']}")
    if isinstance(train["batch_size"], bool) or not isinstance(train["batch_size"], int) or train["batch_size"] < 0:
        raise ConfigError(f"train.batch_size must be an integer >= 0 (0: full batch), got {train['batch_size']!r}")
    check_choice("log spacing (train.log_spacing)", train["log_spacing"], ("log", "linear"))
    check_choice("matmul precision (train.matmul_precision)", train["matmul_precision"], MATMUL_PRECISIONS)
    check_choice("trainable parameters (train.trainable)", train["trainable"], ("all", "head"))
    check_keys("init", config["init"], ("from_workdir", "from_member"))
    if not isinstance(config["init"]["from_workdir"], str):
        raise ConfigError(f"init.from_workdir must be a workdir path or \"\", got {config['init']['from_workdir']!r}")
    member = config["init"]["from_member"]
    if isinstance(member, bool) or not isinstance(member, int) or member < -1:
        raise ConfigError(f"init.from_member must be a member index >= 0, or -1 (the same index), got {member!r}")
    if config["init"]["from_workdir"] and "kernel_distance" in train["extra_metrics"]:
        raise ConfigError("the kernel_distance metric compares with the member's own initialisation; "
                          "it cannot be logged with init.from_workdir")
    if not isinstance(train["per_class_grad_norm"], bool):
        raise ConfigError(f"train.per_class_grad_norm must be True or False, got {train['per_class_grad_norm']!r}")
    if not isinstance(train["extra_metrics"], (tuple, list)):
        raise ConfigError(f"train.extra_metrics must be a tuple of metric names, got {train['extra_metrics']!r}")
    for name in train["extra_metrics"]:
        check_choice("metric (train.extra_metrics)", name, pieces.metrics)
    check_keys("model", config["model"], set(config["model"]) | set(TRAINER_KEYS))
    check_range("model.init_scale", config["model"]["init_scale"], 0.0)
    check_range("model.harmonic_exponent", config["model"]["harmonic_exponent"], 0.0)
    losses.validate_loss(config["loss"])
    if config["model"]["harmonic_exponent"] and config["loss"]["name"] != "cross_entropy":
        raise ConfigError("model.harmonic_exponent > 0 needs loss.name = cross_entropy (the harmonic loss is the "
                          f"cross-entropy of the harmonic logits), got {config['loss']['name']!r}")
    validate_optimizer(config["optimizer"], pieces.optimizers)
    if config["loss"]["regularizer"] != "none" and needs_per_class_gradients(config["optimizer"]["name"]):
        raise ConfigError(f"loss.regularizer {config['loss']['regularizer']!r} needs the plain gradient; optimizer "
                          f"{config['optimizer']['name']!r} takes per-class gradients of the unregularised loss")
    check_keys("select", config["select"], ("rule", "metric"))
    check_choice("selection rule (select.rule)", config["select"]["rule"], ("none", "best_lr"))
    if not isinstance(config["select"]["metric"], str):
        raise ConfigError(f"select.metric must be the name of a scalar record, got {config['select']['metric']!r}")


@dataclasses.dataclass
class Group:
    """Members that share one compiled program."""

    indices: list
    setup: Setup
    numbers: dict          # {traced key: np.ndarray [M]}
    data: Dataset          # shared, or stacked with a leading member axis
    data_stacked: bool
    record_shapes: dict    # {record name: jax.ShapeDtypeStruct} of one member at one step
    state_shapes: Any = None  # TrainState of jax.ShapeDtypeStruct: one member's state
    start_params: Any = None  # host params [M, ...] to start from (init.from_workdir), or None
    program: Callable = None  # chunk_program(setup, data_stacked, ...): built once, so that its compilation for the
    #                           memory analysis (dynamics.memory.fit) is the one the run reuses
    program_members: int = 0  # members each program holds: a smaller part is padded to it (memory.fit's parts)

    def part(self, members: slice, program_members: int) -> "Group":
        """The group restricted to some of its members, run by the same program as its other parts."""
        data = jax.tree.map(lambda a: a[members], self.data) if self.data_stacked else self.data
        start = None if self.start_params is None else jax.tree.map(lambda a: a[members], self.start_params)
        return dataclasses.replace(self, indices=self.indices[members], data=data, start_params=start,
                                   program_members=program_members, numbers={k: v[members] for k, v in self.numbers.items()})


def chunk_program(setup: Setup, data_stacked: bool, one_at_a_time: bool = False) -> Callable:
    """(numbers, data, states, records, start) -> (states, records): a chunk of steps of every member,
    vmapped, or one member after another (lax.map; memory.one_at_a_time says when), jitted (compiled at
    its first call or lowering), states and records donated."""
    member = lambda n, d, s, r, start: run_chunk(setup, n, d, s, r, start)
    if not one_at_a_time:
        return jax.jit(jax.vmap(member, in_axes=(0, 0 if data_stacked else None, 0, 0, None)), donate_argnums=(2, 3))

    def program(numbers, data, states, records, start):  # batch_size=1 (a vmap of one) measured faster than none
        if data_stacked:
            return jax.lax.map(lambda a: member(*a, start), (numbers, data, states, records), batch_size=1)
        return jax.lax.map(lambda a: member(a[0], data, *a[1:], start), (numbers, states, records), batch_size=1)

    return jax.jit(program, donate_argnums=(2, 3))


def plan(config: dict, members: list, pieces: Pieces = None) -> tuple:
    """Validates every member and groups them; builds data and models but compiles nothing.
    pieces: the datasets, models, optimizers and metrics the config may name (default: the library's)."""
    pieces = pieces or library()
    configs = sweep.member_configs(config, members)
    datasets, cache, available = [], {}, memory.available_bytes()
    for cfg in configs:
        validate(cfg, pieces)
        key = repr(sorted(sweep.flatten(cfg["data"]).items()))
        if key not in cache:
            memory.check_data(cfg["data"], available)
            cache[key] = build_dataset(cfg["data"], pieces.datasets)
        datasets.append(cache[key])
    for cfg, data in zip(configs, datasets):
        batch = cfg["train"]["batch_size"]
        if batch > data.y.shape[0]:
            raise ConfigError(f"train.batch_size ({batch}) exceeds the number of training samples ({data.y.shape[0]})")
    groups = {}
    for i, (cfg, data) in enumerate(zip(configs, datasets)):
        shapes = repr(jax.tree.map(lambda a: (np.shape(a), np.asarray(a).dtype.str), data))
        kind = gradient_kind(cfg["optimizer"]["name"])  # optimizers that take the same gradient share a program
        groups.setdefault((sweep.group_key(cfg, shapes, chosen=("optimizer.name",)), kind), []).append(i)
    planned = []
    for indices in groups.values():
        cfg, data = configs[indices[0]], datasets[indices[0]]
        model = build_model(cfg["model"], data.x[:1], data.num_classes, pieces.models)
        model = with_harmonic_head(model, cfg["model"]["harmonic_exponent"])
        if cfg["train"]["trainable"] == "head":
            model = head_only(model)
        train = cfg["train"]
        keys = sweep.traced_keys(cfg)
        numbers = {k: np.array([sweep.flatten(configs[i])[k] for i in indices]) for k in keys}
        names = tuple(dict.fromkeys(configs[i]["optimizer"]["name"] for i in indices))
        if len(names) > 1:
            numbers[OPTIMIZER_INDEX] = np.array([names.index(configs[i]["optimizer"]["name"]) for i in indices], np.int32)
        projects = bool(np.any(numbers["optimizer.max_norm"] > 0))
        if projects and model.classifier is None:
            raise ConfigError(f"optimizer.max_norm caps classifier rows; model {cfg['model']['name']!r} has no classifier")
        setup = Setup(cfg, model, log_steps(train["num_steps"], train["num_log_points"], train["log_spacing"]), pieces,
                      projects, names)
        group_data = [datasets[i] for i in indices]
        stacked = any(d is not group_data[0] for d in group_data)
        data = jax.tree.map(lambda *a: np.stack(a), *group_data) if stacked else group_data[0]
        first_numbers = {k: v[0] for k, v in numbers.items()}
        try:
            state = jax.eval_shape(lambda: init_state(setup, first_numbers, group_data[0]))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"model {cfg['model']['name']!r} cannot take this data: {str(e).splitlines()[0]}")
        start = checkpoint.starting_params([configs[i]["init"] for i in indices], indices, state.params)
        shapes = jax.eval_shape(lambda s: record(setup, first_numbers, group_data[0], s), state)
        sequential = len(indices) > 1 and memory.one_at_a_time(lambda n, d, s: train_step(setup, n, d, s, 0),
                                                               first_numbers, group_data[0], state)
        planned.append(Group(indices, setup, numbers, data, stacked, shapes, state, start,
                             chunk_program(setup, stacked, sequential)))
    if any(not np.array_equal(g.setup.log_steps, planned[0].setup.log_steps) for g in planned):
        raise ConfigError("all members of a sweep must log at the same steps (train.num_steps, train.num_log_points)")
    if any(jax.tree.map(np.shape, g.record_shapes) != jax.tree.map(np.shape, planned[0].record_shapes) for g in planned):
        raise ConfigError("all members of a sweep must record the same metrics with the same number of classes")
    scalars = sorted(k for k, v in planned[0].record_shapes.items() if v.ndim == 0)
    for cfg in configs:
        if cfg["select"]["rule"] == "best_lr":
            check_choice("selection metric (select.metric)", cfg["select"]["metric"], scalars)
    return configs, planned


@dataclasses.dataclass
class GroupProgram:
    """A group placed on the devices: its compiled chunk function and the member-sharded inputs."""

    chunk: Callable        # (numbers, data, states, records, start) -> (states, records), donating both
    numbers: dict
    data: Dataset
    states: TrainState
    records: dict
    num_members: int       # before padding to a multiple of the device count


def compile_group(group: Group, resume: tuple = None) -> GroupProgram:
    """Pads the members to the device count, shards them, and initialises their states, or takes
    them from resume = (state leaves, records): a checkpoint's host arrays [M, ...]."""
    mesh = sweep.member_mesh()
    num = len(group.indices)
    padded = sweep.padded_size(max(num, group.program_members), mesh)
    pad = lambda a: np.concatenate([a, np.repeat(a[-1:], padded - num, axis=0)])
    numbers = sweep.shard_members({k: pad(v) for k, v in group.numbers.items()}, mesh)
    data_axes = 0 if group.data_stacked else None
    data = sweep.shard_members(jax.tree.map(pad, group.data), mesh) if group.data_stacked \
        else sweep.replicate(group.data, mesh)
    setup, chunk = group.setup, group.program
    # Member-sharded outputs: left to XLA, constant leaves (e.g. diverged_step) come out replicated,
    # and the chunk function would compile a second time when its own outputs come back sharded.
    start = None if group.start_params is None else sweep.shard_members(jax.tree.map(pad, group.start_params), mesh)
    init = jax.jit(jax.vmap(lambda n, d, p: init_state(setup, n, d, p), in_axes=(0, data_axes, 0)),
                   out_shardings=jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("members")))
    num_logs = len(setup.log_steps)
    if resume is not None:
        leaves, records = resume
        states = sweep.shard_members(jax.tree.unflatten(jax.tree.structure(group.state_shapes), map(pad, leaves)), mesh)
        return GroupProgram(chunk, numbers, data, states, sweep.shard_members(jax.tree.map(pad, records), mesh), num)
    records = sweep.shard_members({k: np.full((padded, num_logs) + v.shape, np.nan, np.float32)
                                   for k, v in group.record_shapes.items()}, mesh)
    return GroupProgram(chunk, numbers, data, init(numbers, data, start), records, num)


def program_bytes(group: Group, num_members: int) -> int:
    """Bytes one device holds while it runs the group's chunk program for num_members members (padded
    to the devices as compile_group pads them): XLA's memory analysis of the compiled program, its
    arguments, outputs and temporaries less the donated buffers it reuses. Compiles from shapes only,
    nothing is allocated; for the group's own size the run then reuses this compilation."""
    mesh = sweep.member_mesh()
    padded = sweep.padded_size(num_members, mesh)
    spec = lambda *axes: jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(*axes))
    shaped = lambda a, lead=(padded,), sharding=spec("members"): jax.ShapeDtypeStruct(lead + np.shape(a), a.dtype,
                                                                                       sharding=sharding)
    numbers = {k: shaped(v[0]) for k, v in group.numbers.items()}
    data = jax.tree.map(lambda a: shaped(a[0]), group.data) if group.data_stacked \
        else jax.tree.map(lambda a: shaped(a, (), spec()), group.data)
    states = jax.tree.map(shaped, group.state_shapes)
    records = {k: shaped(v, (padded, len(group.setup.log_steps))) for k, v in group.record_shapes.items()}
    with jax.default_matmul_precision(group.setup.config["train"]["matmul_precision"]):
        compiled = group.program.lower(numbers, data, states, records, jax.ShapeDtypeStruct((), jnp.int32)).compile()
    stats = compiled.memory_analysis()
    return int(stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
               - stats.alias_size_in_bytes)


def run_group(group: Group, progress: Callable = print, label: str = "", resume: tuple = None,
              after_chunk: Callable = None) -> tuple:
    """Runs one group to the end; returns host arrays (records [M, L, ...], diverged_step [M], final
    parameter leaves [M, ...]).

    resume: (start step, state leaves, records) from a checkpoint. after_chunk(next start step, states,
    records) is called with the device arrays after every chunk (run() checkpoints there).
    """
    program = compile_group(group, None if resume is None else resume[1:])
    states, records = program.states, program.records
    train = group.setup.config["train"]
    total, chunk_steps = train["num_steps"] + 1, group.setup.chunk_steps
    began = last = time.perf_counter()
    for start in range(0 if resume is None else resume[0], total, chunk_steps):
        states, records = program.chunk(program.numbers, program.data, states, records, jnp.int32(start))
        jax.block_until_ready(states)
        now, done = time.perf_counter(), min(start + chunk_steps, total)
        rate = (done - start) / (now - last)  # the first chunk's rate includes compilation
        last = now
        progress(f"{label}step {done - 1}/{total - 1} | {rate:.1f} steps/s x {program.num_members} members | "
                 f"ETA {(total - done) / rate:.1f}s | elapsed {now - began:.1f}s")
        if after_chunk is not None:
            after_chunk(done, states, records)
    num = program.num_members
    records, diverged, params = sweep.gather((records, states.diverged_step, jax.tree.leaves(states.params)))
    return {k: v[:num] for k, v in records.items()}, diverged[:num], [p[:num] for p in params]


def run(config: dict, members: list = ({},), progress: Callable = print, workdir: str = None,
        fresh: bool = False, pieces: Pieces = None) -> History:
    """Runs every member of the sweep and returns their History (member order preserved).

    With a workdir (the launcher passes one): checks its disk can hold the run (dynamics.disk),
    checkpoints after every chunk and resumes from the latest checkpoint there
    (dynamics.checkpoint), and writes TensorBoard summaries (dynamics.summaries); fresh=True first
    discards the checkpoints and summaries there.
    """
    members = list(members)
    configs, groups = plan(config, members, pieces)
    groups = memory.fit(groups, program_bytes, progress)
    checkpoints = summaries = None
    if workdir is not None:
        keep = max(c["train"]["checkpoint_keep"] for c in configs)
        disk.check_workdir(workdir, disk.needed_bytes(groups, len(sweep.swept_keys(members)), keep))
        checkpoints = Checkpoints(workdir, config, members, groups, keep, fresh, progress)
        summaries = Summaries(workdir, fresh)
    results, final_params = [None] * len(configs), [None] * len(configs)
    try:
        for g, group in enumerate(groups):
            label = f"[group {g + 1}/{len(groups)}] " if len(groups) > 1 else ""
            done = checkpoints.result(g) if checkpoints else None
            if done is None:
                resume = checkpoints.resume(g) if checkpoints else None
                after_chunk = saving(g, group, configs, checkpoints, summaries, resume) if checkpoints else None
                with jax.default_matmul_precision(group.setup.config["train"]["matmul_precision"]):  # traced in
                    done = run_group(group, progress, label, resume, after_chunk)
                if checkpoints:
                    checkpoints.group_done(done)
                    summaries.end_group(complete=True)
            records, diverged, params = done
            counts, test_counts = np.asarray(group.data.class_counts), group.data.test_class_counts
            for j, i in enumerate(group.indices):
                final_params[i] = jax.tree.unflatten(jax.tree.structure(group.state_shapes.params), [p[j] for p in params])
                mine = [c[j] if group.data_stacked and c is not None else c for c in (counts, test_counts)]
                results[i] = ({k: v[j] for k, v in records.items()}, int(diverged[j]), *mine)
    finally:
        if checkpoints:
            checkpoints.close()
            summaries.end_group(complete=False)
    if workdir is not None and distributed.is_leader():
        checkpoint.save_params(workdir, final_params)
    return History.from_members(config, members, groups[0].setup.log_steps, results)


def saving(g: int, group: Group, configs: list, checkpoints: Checkpoints, summaries: Summaries,
           resume: tuple) -> Callable:
    """For run_group: after each chunk, checkpoint group g's state and write its new records to TensorBoard."""
    num, steps = len(group.indices), group.setup.log_steps
    counts = np.asarray(group.data.class_counts)
    summaries.start_group(group.indices, configs,
                          counts if group.data_stacked else np.broadcast_to(counts, (num,) + counts.shape))
    written = [0]
    if resume is not None:  # the group's event files start afresh: its records up to the checkpoint first
        written[0] = int(np.searchsorted(steps, resume[0]))
        summaries.write(group.indices, steps, resume[2], slice(0, written[0]))

    def after_chunk(next_start, states, records):
        states, records = jax.tree.map(lambda a: np.array(a[:num]), sweep.gather((states, records)))
        checkpoints.save(g, next_start, jax.tree.leaves(states), records)
        logged = int(np.searchsorted(steps, next_start))
        summaries.write(group.indices, steps, records, slice(written[0], logged))
        written[0] = logged

    return after_chunk

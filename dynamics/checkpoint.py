"""Checkpoints of a run, in DIR/checkpoints: saved with orbax at chunk boundaries, resumed on relaunch.

A checkpoint is the whole state of a run between two chunks: the records and diverged steps of
the groups already finished, and for the group in progress its members' states (params,
opt_state, diverged_step), its records so far and the step its next chunk starts at. No random
state is saved because there is none to save: a member's step key is fold_in(key(seed), step)
(train.member_keys), so (seed, step) gives it again. Orbax writes each checkpoint under a
temporary name and renames it once complete, so a kill during a save leaves the previous one.
The last `train.checkpoint_keep` checkpoints are kept: a relaunch resumes from the newest readable one
(a truncated or corrupt newer one is named in the progress line), and refuses in one line if none is.
A finished group's final parameters ride along, for DIR/params.npz (save_params, starting_params).
Each records the device layout it was written on; resuming on another is announced (float rounding
may differ). The launcher removes them once the results are written (experiment.COMPLETE_FILE marks
the run complete).
"""
import json
import os
import shutil
import tempfile
from typing import Callable

import jax
import numpy as np

from dynamics import atomic, sweep
from dynamics.errors import ConfigError

CHECKPOINT_DIR = "checkpoints"
PARAMS_FILE = "params.npz"  # DIR/params.npz: every member's final parameters (train.run), for init.from_workdir


def directory(workdir: str) -> str:
    return os.path.join(workdir, CHECKPOINT_DIR)


def exists(workdir: str) -> bool:
    """Whether the workdir holds an unfinished run that can resume."""
    path = directory(workdir)
    return os.path.isdir(path) and any(name.isdigit() for name in os.listdir(path))


def remove(workdir: str) -> None:
    """Deletes the checkpoints (the run is complete): renamed first, so a kill mid-delete leaves none behind."""
    path = directory(workdir)
    if os.path.isdir(path) and jax.process_index() == 0:
        doomed = tempfile.mkdtemp(prefix=".removing-", dir=workdir)
        os.replace(path, os.path.join(doomed, CHECKPOINT_DIR))
        shutil.rmtree(doomed)


def normalised(config: dict, members: list) -> dict:
    """The run's identity as JSON would store it (tuples become lists), to compare with a checkpoint's."""
    return json.loads(json.dumps({"config": config, "members": [dict(m) for m in members]}))


def differences(saved: dict, current: dict) -> list:
    """Dotted config keys whose values differ, plus 'members' when the sweep differs."""
    old, new = sweep.flatten(saved["config"]), sweep.flatten(current["config"])
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k, KeyError) != new.get(k, KeyError))
    if saved["members"] != current["members"]:
        swept = {k for m in saved["members"] + current["members"] for k in m}
        keys.append(f"members (sweep over {', '.join(sorted(swept))})")
    return keys


def one_line(e: Exception) -> str:
    """An exception as 'Type: its first line' (orbax's and tensorstore's run to many lines)."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:150]}" if text else type(e).__name__


class Checkpoints:
    """A run's orbax checkpoints in DIR/checkpoints (the latest restored on open).

    train.run asks it result(g) / resume(g) for each group, calls save(...) after every chunk and
    group_done(result) after each group, and closes it (waiting for the last save) at the end.
    """

    def __init__(self, workdir: str, config: dict, members: list, groups: list, keep: int, fresh: bool,
                 progress: Callable = print):
        import orbax.checkpoint as ocp  # imported here: only runs with a workdir pay for it

        self._ocp, self.groups = ocp, groups
        if fresh:
            remove(workdir)
        self.identity = normalised(config, members)
        options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                               cleanup_tmp_directories=True)  # a save cut short by a kill
        self.layout = {"devices": jax.device_count(), "processes": jax.process_count()}
        try:
            self.manager = ocp.CheckpointManager(os.path.abspath(directory(workdir)), options=options,
                                                 item_names=("meta", "arrays"))
            steps = sorted(self.manager.all_steps(), reverse=True)
        except Exception as e:  # noqa: BLE001 - orbax raises many kinds; any of them is one line here
            raise ConfigError(f"cannot open the checkpoints in {directory(workdir)}: {one_line(e)}; "
                              "pass --overwrite to start afresh")
        self.latest = steps[0] if steps else None  # new saves go after every existing step
        self.saved, unreadable = None, []
        for step in steps:  # the newest readable one; the older ones are kept for exactly this
            try:
                self.saved = self._restore(workdir, step)
                break
            except ConfigError:
                self.manager.close()
                raise
            except Exception as e:  # noqa: BLE001 - a truncated or corrupt checkpoint, whatever orbax raises
                unreadable.append(f"{step} ({one_line(e)})")
        if unreadable and self.saved is None:
            self.manager.close()
            raise ConfigError(f"no readable checkpoint in {directory(workdir)}: {'; '.join(unreadable)[:300]}; "
                              "pass --overwrite to start afresh")
        self.finished = [] if self.saved is None else self.saved["finished"]
        if self.saved is not None:
            skipped = f" (newer {', '.join(unreadable)[:200]} unreadable)" if unreadable else ""
            progress(f"resuming from {directory(workdir)}/{self.saved['step']}{skipped}: "
                     f"group {self.saved['group'] + 1}/{len(groups)}, step {self.saved['start']}")
            saved_layout = self.saved["layout"]
            if saved_layout is not None and saved_layout != self.layout:
                progress(f"the checkpoint was written on {saved_layout['devices']} device(s) in "
                         f"{saved_layout['processes']} process(es), resuming on {self.layout['devices']} in "
                         f"{self.layout['processes']}: results may differ from an uninterrupted run by float rounding")

    def _restore(self, workdir: str, step: int) -> dict:
        """Checkpoint `step`: group, start, finished [(records, diverged_step, param leaves)], state_leaves, records,
        layout (devices and processes it was written on; None in older checkpoints)."""
        ocp = self._ocp
        meta = self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
        changed = differences(meta, self.identity)
        if changed:
            raise ConfigError(f"workdir {workdir!r} holds a checkpoint of a run with a different config "
                              f"({', '.join(changed)}); relaunch with the same config or pass --overwrite")
        g = meta["group"]

        def records(group):
            return {k: np.zeros((len(group.indices), len(group.setup.log_steps)) + s.shape, s.dtype)
                    for k, s in group.record_shapes.items()}

        num = len(self.groups[g].indices)
        template = {"finished": {str(i): {"records": records(self.groups[i]),
                                          "diverged": np.zeros(len(self.groups[i].indices), np.int32),
                                          "params": [np.zeros((len(self.groups[i].indices),) + s.shape, s.dtype)
                                                     for s in jax.tree.leaves(self.groups[i].state_shapes.params)]}
                                 for i in range(g)},
                    "state_leaves": [np.zeros((num,) + s.shape, s.dtype)
                                     for s in jax.tree.leaves(self.groups[g].state_shapes)],
                    "records": records(self.groups[g])}
        arrays = self.manager.restore(step, args=ocp.args.Composite(arrays=ocp.args.StandardRestore(template)))
        arrays = arrays["arrays"]
        finished = [tuple(arrays["finished"][str(i)][k] for k in ("records", "diverged", "params")) for i in range(g)]
        return {"step": step, "group": g, "start": meta["start"], "finished": finished, "layout": meta.get("layout"),
                "state_leaves": list(arrays["state_leaves"]), "records": arrays["records"]}

    def result(self, g: int):
        """(records, diverged_step, final param leaves) of group g if a checkpoint holds it finished, else None."""
        return self.finished[g] if g < len(self.finished) else None

    def resume(self, g: int):
        """(start step, state leaves, records) to resume group g from, or None to start it afresh."""
        if self.saved is None or self.saved["group"] != g:
            return None
        return self.saved["start"], self.saved["state_leaves"], self.saved["records"]

    def group_done(self, result: tuple) -> None:
        """result: the group's (records, diverged_step, final param leaves); later checkpoints carry it."""
        self.finished.append(result)

    def save(self, g: int, start: int, state_leaves: list, records: dict) -> None:
        """Saves asynchronously (the arrays must not change afterwards: they are fresh copies)."""
        self.latest = 0 if self.latest is None else self.latest + 1
        arrays = {"finished": {str(i): {"records": r, "diverged": np.asarray(d, np.int32), "params": list(p)}
                               for i, (r, d, p) in enumerate(self.finished)},
                  "state_leaves": state_leaves, "records": records}
        ocp = self._ocp
        meta = dict(self.identity, group=g, start=start, layout=self.layout)
        self.manager.save(self.latest, args=ocp.args.Composite(meta=ocp.args.JsonSave(meta),
                                                               arrays=ocp.args.StandardSave(arrays)))

    def close(self) -> None:
        """Waits for the last save to finish."""
        self.manager.wait_until_finished()
        self.manager.close()


def _leaf_names(params) -> list:
    return [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]


def save_params(workdir: str, final_params: list) -> None:
    """DIR/PARAMS_FILE: member i's final parameter leaves under '{i}{leaf path}' (e.g. "0['head']['kernel']")."""
    arrays = {f"{i}{name}": np.asarray(leaf) for i, params in enumerate(final_params)
              for name, leaf in zip(_leaf_names(params), jax.tree.leaves(params))}
    atomic.write_bytes(os.path.join(workdir, PARAMS_FILE), lambda f: np.savez(f, **arrays))


def starting_params(inits: list, indices: list, shapes):
    """The parameters [M, ...] a group's members start from (their config's init sections `inits`, their
    sweep indices `indices`), checked against this model's parameter `shapes`; None when every
    init.from_workdir is "" (all initialise afresh; a group cannot mix both). Member i starts from the
    final parameters of member init.from_member of init.from_workdir (-1: its own index i, or member 0
    of a one-member workdir). A missing or incomplete workdir, member or shape is a one-line ConfigError."""
    if not any(init["from_workdir"] for init in inits):
        return None
    if not all(init["from_workdir"] for init in inits):
        raise ConfigError("init.from_workdir is set for some members of a group and not for others; set it for all")
    from dynamics.experiment import COMPLETE_FILE  # experiment imports this module

    stored = {}
    for init in inits:
        workdir = init["from_workdir"]
        path = os.path.join(workdir, PARAMS_FILE)
        if workdir not in stored:
            if not os.path.isfile(os.path.join(workdir, COMPLETE_FILE)) or not os.path.isfile(path):
                raise ConfigError(f"init.from_workdir={workdir!r} holds no complete run with saved parameters "
                                  f"({COMPLETE_FILE} and {PARAMS_FILE}); run it to the end first")
            with np.load(path) as saved:
                stored[workdir] = {name: saved[name] for name in saved.files}
    rows = []
    for init, i in zip(inits, indices):
        arrays = stored[init["from_workdir"]]
        held = len({name.partition("[")[0] for name in arrays})
        source = init["from_member"] if init["from_member"] >= 0 else (0 if held == 1 else i)
        if source >= held:
            raise ConfigError(f"init.from_workdir={init['from_workdir']!r} holds {held} members, no member {source} "
                              f"(set init.from_member, or sweep as many members as it holds)")
        row = []
        for name, shape in zip(_leaf_names(shapes), jax.tree.leaves(shapes)):
            array = arrays.get(f"{source}{name}")
            if array is None or array.shape != shape.shape:
                found = "no such parameter" if array is None else f"shape {array.shape}"
                raise ConfigError(f"init.from_workdir={init['from_workdir']!r}: parameter {name} of member {source} "
                                  f"has {found} there, shape {shape.shape} in this model")
            row.append(array.astype(shape.dtype))
        rows.append(row)
    leaves = [np.stack(column) for column in zip(*rows)]
    return jax.tree.unflatten(jax.tree.structure(shapes), leaves)

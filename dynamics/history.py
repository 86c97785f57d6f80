"""The record of a run: arrays with a leading member axis, the config, and the members' settings.

Saved in a workdir as config.json, history.npz, members.csv and metrics.csv (a tidy table:
one row per member, step, class and split). Files are written to a temporary name and then
renamed, so a crash never leaves a half-written result.
"""
import dataclasses
import json
import os
import zipfile
from typing import Optional

import numpy as np
import pandas as pd

from dynamics import atomic
from dynamics.errors import ConfigError

LR_KEY = "optimizer.learning_rate"
RESULT_FILES = ("config.json", "history.npz", "members.csv", "metrics.csv")


@dataclasses.dataclass
class History:
    """config: the base config; members: each member's swept values {dotted key: value}.

    step [L]; records {name: [M, L, ...]} (per-class records end in a class axis [C], classes
    ordered by frequency); class_counts [M, C] training labels per class; diverged_step [M]
    (-1: never); selected [M] bool; test_class_counts [M, C] test labels per class (None: no test
    split, or a workdir written before it was recorded). A per-class record of a class with no
    sample in its split is NaN. selection: per member, why it was or was not selected
    (select_best_lr), or None.
    """

    config: dict
    members: list
    step: np.ndarray
    records: dict
    class_counts: np.ndarray
    diverged_step: np.ndarray
    selected: np.ndarray
    test_class_counts: Optional[np.ndarray] = None
    selection: list = None

    @classmethod
    def from_members(cls, config, members, step, results):
        """results: per member (records {name: [L, ...]}, diverged_step, class_counts [C],
        test_class_counts [C] or None)."""
        names = list(results[0][0])
        return cls(
            config=config,
            members=[dict(m) for m in members],
            step=np.asarray(step),
            records={n: np.stack([r[0][n] for r in results]) for n in names},
            class_counts=np.stack([np.asarray(r[2]) for r in results]),
            diverged_step=np.array([r[1] for r in results], dtype=np.int64),
            selected=np.ones(len(results), dtype=bool),
            test_class_counts=None if results[0][3] is None else np.stack([np.asarray(r[3]) for r in results]),
        )

    @property
    def swept_keys(self) -> list:
        return list(dict.fromkeys(k for m in self.members for k in m))

    def member_config(self, i: int) -> dict:
        """Member i's resolved config: the base config with its swept values put in."""
        from dynamics.sweep import member_configs

        return member_configs(self.config, [self.members[i]])[0]

    def swept_values(self, i: int) -> dict:
        """Member i's value of every swept key (the base config's where member i does not set it)."""
        return {key: self.members[i].get(key, _lookup(self.config, key)) for key in self.swept_keys}

    def label(self, i: int, exclude=(LR_KEY, "seed")) -> str:
        """A short name for member i from its swept values, e.g. 'adam' or 'sign momentum=0.9'."""
        parts = []
        for key, value in self.members[i].items():
            if key in exclude:
                continue
            parts.append(str(value) if key.endswith(".name") else f"{key.split('.')[-1]}={value}")
        return " ".join(parts) or "run"

    def status(self, i: int) -> str:
        """'diverged' (a non-finite loss or parameter norm froze it), 'exploded' (its final training loss
        is more than EXPLODED times its initial one: finite, but no fit) or 'ok'."""
        if self.diverged_step[i] >= 0:
            return "diverged"
        loss = self.records.get("loss")
        if loss is not None and loss.ndim == 2 and loss[i, -1] > EXPLODED * abs(loss[i, 0]):
            return "exploded"
        return "ok"

    def members_table(self, columns: dict = None) -> pd.DataFrame:
        """One row per member: swept values, status, whether selected and why, final scalar records, and
        the phenomena's own `columns` {name: [M] values} (dynamics.predict.member_columns)."""
        rows = []
        for i, member in enumerate(self.members):
            row = {"member": i, **self.swept_values(i),
                   "status": self.status(i),
                   "diverged_step": int(self.diverged_step[i]), "selected": bool(self.selected[i]),
                   "selection": self.selection[i] if self.selection else ("selected" if self.selected[i] else "not selected")}
            for name, values in self.records.items():
                if values.ndim == 2:
                    row[f"final_{name}"] = float(values[i, -1])
            rows.append(row)
        return pd.DataFrame(rows).assign(**(columns or {}))

    def metrics_table(self) -> pd.DataFrame:
        """Tidy: one row per (member, step, class, split) with loss, accuracy (and grad_norm), and
        class_count, the number of that split's labels of the class (NaN for the test split of a
        workdir written before test counts were recorded). loss / accuracy are NaN for a class with
        no sample in the split."""
        frames = []
        num_members, num_steps = len(self.members), len(self.step)
        num_classes = self.class_counts.shape[-1]
        test_counts = self.test_class_counts
        if test_counts is None:  # a workdir written before test counts were recorded
            test_counts = np.full(self.class_counts.shape, np.nan)
        for split, prefix, counts in (("train", "", self.class_counts), ("test", "test_", test_counts)):
            if f"{prefix}per_class_loss" not in self.records:
                continue
            columns = {"member": np.repeat(np.arange(num_members), num_steps * num_classes),
                       "step": np.tile(np.repeat(self.step, num_classes), num_members),
                       "class": np.tile(np.arange(num_classes), num_members * num_steps),
                       "class_count": np.repeat(counts, num_steps, axis=0).reshape(-1),
                       "split": split}
            for name in ("loss", "accuracy", "grad_norm"):
                if f"{prefix}per_class_{name}" in self.records:
                    columns[name] = self.records[f"{prefix}per_class_{name}"].reshape(-1)
            frames.append(pd.DataFrame(columns))
        table = pd.concat(frames, ignore_index=True)
        for key in self.swept_keys:
            values = np.array([self.swept_values(i)[key] for i in range(num_members)], dtype=object)
            table[key] = values[table["member"].to_numpy()]
        return table

    def save(self, workdir: str, member_columns: dict = None) -> None:
        """member_columns: the phenomena's own members.csv columns (members_table)."""
        os.makedirs(workdir, exist_ok=True)
        meta = {"config": self.config, "members": self.members}
        atomic.write_bytes(os.path.join(workdir, "config.json"), lambda f: f.write(json.dumps(meta, indent=2).encode()))
        arrays = {"step": self.step, "class_counts": self.class_counts, "diverged_step": self.diverged_step,
                  "selected": self.selected, **self.records}
        if self.test_class_counts is not None:
            arrays["test_class_counts"] = self.test_class_counts
        if self.selection is not None:
            arrays["selection"] = np.array(self.selection, dtype=str)
        atomic.write_bytes(os.path.join(workdir, "history.npz"), lambda f: np.savez(f, **arrays))
        atomic.write_bytes(os.path.join(workdir, "members.csv"), lambda f: self.members_table(member_columns).to_csv(f, index=False))
        atomic.write_bytes(os.path.join(workdir, "metrics.csv"), lambda f: self.metrics_table().to_csv(f, index=False))

    @classmethod
    def load(cls, workdir: str) -> "History":
        """The History saved in workdir; a missing, truncated or corrupt file is a one-line ConfigError."""
        path = os.path.join(workdir, "config.json")
        try:
            with open(path) as f:
                meta = json.load(f)
            meta["config"], meta["members"]  # noqa: B018 - both must be there
            path = os.path.join(workdir, "history.npz")
            with np.load(path) as z:
                arrays = {k: z[k] for k in z.files}
            fixed = {k: arrays.pop(k) for k in ("step", "class_counts", "diverged_step", "selected")}
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as e:
            raise ConfigError(f"cannot read {path}: {type(e).__name__}: {' '.join(str(e).split())[:200]}; "
                              "rerun the experiment (--overwrite) to write it again")
        fixed["test_class_counts"] = arrays.pop("test_class_counts", None)  # absent in older workdirs
        selection = arrays.pop("selection", None)
        fixed["selection"] = None if selection is None else selection.tolist()
        return cls(config=meta["config"], members=meta["members"], records=arrays, **fixed)


EXPLODED = 10.0  # a final training loss above this multiple of the initial one is reported as 'exploded'
RISE_LIMIT = 0.05  # a rise of the metric above its earlier minimum by this fraction of its initial value: unstable
TAIL = 0.2  # the score is the worst value over the logged steps in this last fraction of training
EVERY_LR_DIVERGED = "every learning rate diverged"  # members.csv selection note and figure panel text: none selected
TIE = 0.001  # scores within this fraction of the initial value of the best score tie: the smallest lr wins


def select_best_lr(history: History, metric: str) -> History:
    """Per setting of the other swept values, keeps the learning rate with the lowest worst-case `metric`
    at the end of training among the stable ones; `selection` says for every member why (members.csv).

    Kunstner et al. 2024 tune each optimizer's step size on the final training loss (their code counts a
    diverged run, or one ending above 1.5x its initial loss, at its initial loss) and set aside by hand step
    sizes "better at the end but unstable throughout" (balanced_x_perclass.py). At the largest stable
    step sizes, full-batch GD sits at the edge of stability: its loss oscillates chaotically, so its final
    value depends on float rounding (1 vs 4 devices picked different step sizes). The rule therefore judges a
    learning rate on what does not hinge on rounding:
    1. diverged: a seed's member diverged (NaN/Inf) -> out.
    2. unstable: in the second half of training, some seed's metric rose above the lowest value it had
       reached at an earlier logged step by more than RISE_LIMIT (5%) of its initial value -> out. A stable
       full-batch run decreases its loss; an oscillating one rises by a large multiple of that.
    3. score: the worst (largest) metric over the logged steps in the last TAIL (fifth) of training and
       over seeds; the lowest score wins. A maximum over steps and seeds cannot be won by one lucky point.
       Scores within TIE (0.1%) of the initial value of the best tie, and the smallest of their learning
       rates wins: two runs that both fitted (loss 1e-6 vs 1e-9) differ only by rounding.
    If every learning rate diverged, none is selected and every member's `selection` says so; if every one is
    out but some did not diverge, the least bad is kept (by score among the unstable) and its `selection`
    says so.
    """
    if metric not in history.records or history.records[metric].ndim != 2:
        scalars = sorted(k for k, v in history.records.items() if v.ndim == 2)
        raise ConfigError(f"unknown selection metric (select.metric) {metric!r}; valid choices: {', '.join(scalars)}")
    values = history.records[metric].astype(np.float64)
    steps = history.step
    last = steps[-1]
    score = np.max(values[:, steps >= (1 - TAIL) * last], axis=1)
    earlier_min = np.fmin.accumulate(values, axis=1)[:, :-1]
    rise = (values[:, 1:] - earlier_min) / np.abs(values[:, :1])
    rise = np.where((steps[1:] >= 0.5 * last)[None], rise, -np.inf)
    worst_rise = np.max(rise, axis=1)
    diverged = (history.diverged_step >= 0) | ~np.all(np.isfinite(values), axis=1)
    tie = TIE * np.abs(values[:, 0])
    groups = {}
    for i, member in enumerate(history.members):
        rest = tuple((k, repr(v)) for k, v in member.items() if k not in (LR_KEY, "seed"))
        groups.setdefault(rest, {}).setdefault(member.get(LR_KEY), []).append(i)
    selected = np.zeros(len(history.members), dtype=bool)
    reasons = [""] * len(history.members)
    for by_lr in groups.values():
        verdict = {}
        for lr, members in by_lr.items():
            if diverged[members].any():
                first = min(int(history.diverged_step[i]) for i in members if history.diverged_step[i] >= 0) \
                    if (history.diverged_step[members] >= 0).any() else -1
                verdict[lr] = (2, np.inf, f"diverged at step {first}" if first >= 0 else "diverged (non-finite metric)")
            elif worst_rise[members].max() > RISE_LIMIT:
                i = members[int(np.argmax(worst_rise[members]))]
                verdict[lr] = (1, score[members].max(), f"unstable: {metric} rose by {worst_rise[i]:.0%} of its "
                               f"initial value above its earlier minimum in the second half")
            else:
                verdict[lr] = (0, score[members].max(), "")
        best = min(by_lr, key=lambda lr: verdict[lr][:2])
        category, best_score, why = verdict[best]
        tied = [lr for lr in by_lr if verdict[lr][0] == category and verdict[lr][1] <= best_score + tie[by_lr[best]].max()]
        best = min(tied)
        best_score = verdict[best][1]
        for lr, members in by_lr.items():
            if category == 2:
                note = f"{verdict[lr][2]}: {EVERY_LR_DIVERGED}, none selected"
            elif lr == best:
                note = "selected" if category == 0 else f"selected, though every learning rate is out ({why})"
            elif verdict[lr][0] > 0:
                note = verdict[lr][2]
            elif lr in tied:
                note = f"ties with lr={best} ({verdict[lr][1]:.4g} vs {best_score:.4g}): the smaller lr wins"
            else:
                note = f"higher score than lr={best} ({verdict[lr][1]:.4g} vs {best_score:.4g})"
            for i in members:
                selected[i], reasons[i] = lr == best and category < 2, note
    return dataclasses.replace(history, selected=selected, selection=reasons)


def first_step_reaching(steps, values, level: float, axis: int = 0):
    """The first entry of steps [L] where values [..., L, ...] (step axis `axis`) is >= level; NaN if none."""
    reached = np.moveaxis(np.asarray(values) >= level, axis, -1)
    first = np.where(reached.any(axis=-1), np.asarray(steps, dtype=np.float64)[np.argmax(reached, axis=-1)], np.nan)
    return float(first) if first.ndim == 0 else first


def _lookup(config: dict, dotted: str):
    node = config
    for part in dotted.split("."):
        node = node[part]
    return node

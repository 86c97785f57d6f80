"""The record of a run: arrays with a leading member axis, the config, and the members' settings.

Saved in a workdir as config.json, history.npz, members.csv and metrics.csv (a tidy table:
one row per member, step, class and split). Files are written to a temporary name and then
renamed, so a crash never leaves a half-written result.
"""
import dataclasses
import json
import os
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
    sample in its split is NaN.
    """

    config: dict
    members: list
    step: np.ndarray
    records: dict
    class_counts: np.ndarray
    diverged_step: np.ndarray
    selected: np.ndarray
    test_class_counts: Optional[np.ndarray] = None

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

    def members_table(self, columns: dict = None) -> pd.DataFrame:
        """One row per member: swept values, status, whether selected, final scalar records, and the
        phenomena's own `columns` {name: [M] values} (dynamics.predict.member_columns)."""
        rows = []
        for i, member in enumerate(self.members):
            row = {"member": i, **self.swept_values(i),
                   "status": "diverged" if self.diverged_step[i] >= 0 else "ok",
                   "diverged_step": int(self.diverged_step[i]), "selected": bool(self.selected[i])}
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
        _atomic(os.path.join(workdir, "config.json"), lambda f: f.write(json.dumps(meta, indent=2).encode()))
        arrays = {"step": self.step, "class_counts": self.class_counts, "diverged_step": self.diverged_step,
                  "selected": self.selected, **self.records}
        if self.test_class_counts is not None:
            arrays["test_class_counts"] = self.test_class_counts
        _atomic(os.path.join(workdir, "history.npz"), lambda f: np.savez(f, **arrays))
        _atomic(os.path.join(workdir, "members.csv"), lambda f: self.members_table(member_columns).to_csv(f, index=False))
        _atomic(os.path.join(workdir, "metrics.csv"), lambda f: self.metrics_table().to_csv(f, index=False))

    @classmethod
    def load(cls, workdir: str) -> "History":
        with open(os.path.join(workdir, "config.json")) as f:
            meta = json.load(f)
        with np.load(os.path.join(workdir, "history.npz")) as z:
            arrays = {k: z[k] for k in z.files}
        fixed = {k: arrays.pop(k) for k in ("step", "class_counts", "diverged_step", "selected")}
        fixed["test_class_counts"] = arrays.pop("test_class_counts", None)  # absent in older workdirs
        return cls(config=meta["config"], members=meta["members"], records=arrays, **fixed)


def select_best_lr(history: History, metric: str) -> History:
    """Per setting of the other swept values, keeps the learning rate with the lowest `metric` at the end.

    The score is the mean of the metric over the logged steps in the last fifth of training (so one
    lucky point of an oscillating run does not win), averaged over seeds; a diverged member counts as
    +inf. Kunstner et al. 2024 tune each optimizer's step size this way, on the final training loss.
    """
    if metric not in history.records or history.records[metric].ndim != 2:
        scalars = sorted(k for k, v in history.records.items() if v.ndim == 2)
        raise ConfigError(f"unknown selection metric (select.metric) {metric!r}; valid choices: {', '.join(scalars)}")
    tail = history.step >= 0.8 * history.step[-1]
    score = history.records[metric][:, tail].astype(np.float64).mean(axis=1)
    score = np.where(np.isfinite(score) & (history.diverged_step < 0), score, np.inf)
    groups = {}
    for i, member in enumerate(history.members):
        rest = tuple((k, repr(v)) for k, v in member.items() if k not in (LR_KEY, "seed"))
        groups.setdefault(rest, {}).setdefault(member.get(LR_KEY), []).append(i)
    selected = np.zeros(len(history.members), dtype=bool)
    for by_lr in groups.values():
        best = min(by_lr, key=lambda lr: np.mean(score[by_lr[lr]]))
        selected[by_lr[best]] = True
    return dataclasses.replace(history, selected=selected)


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


def _atomic(path: str, write) -> None:
    atomic.write_bytes(path, write)

"""TensorBoard event files of a run, in DIR/tensorboard/member_NNN (one TensorBoard run per member).

Written with tensorboardX after every chunk from the records taken so far (host arrays, cheap), so
`tensorboard --logdir DIR` shows a run while it trains: every scalar record (loss, mean_loss,
accuracy, param_norm, test_* ...), the mean per-class loss and accuracy over each frequency bucket
of dynamics.buckets.frequency_buckets (bucket_loss/0 is the most frequent bucket), and the member's
hyperparameters (its resolved config) for the HParams dashboard. A group that starts (or resumes)
rewrites its members' event files from scratch (train.saving writes the resumed checkpoint's records
first), so steps written after the last checkpoint by a killed launch are not logged twice.
"""
import os
import shutil

import numpy as np

from dynamics import sweep
from dynamics.buckets import class_mean, frequency_buckets

SUMMARY_DIR = "tensorboard"


def bucket_scalars(records: dict, buckets: list) -> dict:
    """{tag: [L]}: per frequency bucket (of the training counts), the mean over its classes of each
    per-class loss / accuracy record, leaving out the classes with no sample in the split (NaN)."""

    out = {}
    for prefix in ("", "test_"):
        for name in ("loss", "accuracy"):
            values = records.get(f"{prefix}per_class_{name}")
            if values is None or values.ndim != 2:
                continue
            for b, bucket in enumerate(buckets):
                out[f"{prefix}bucket_{name}/{b}"] = class_mean(values, bucket)
    return out


def hyperparameters(config: dict) -> dict:
    """The member's resolved config, flattened to the scalar types HParams shows (sequences as text)."""
    flat = sweep.flatten(config)
    return {k: v if isinstance(v, (bool, int, float, str)) else repr(v) for k, v in flat.items()}


class Summaries:
    """Event writers for the members of the group in progress (only process 0 writes)."""

    def __init__(self, workdir: str, fresh: bool):
        import jax

        self.logdir = os.path.join(workdir, SUMMARY_DIR)
        self.active = jax.process_index() == 0
        self.writers = {}
        if fresh and self.active and os.path.isdir(self.logdir):
            shutil.rmtree(self.logdir)

    def start_group(self, indices: list, configs: list, class_counts: np.ndarray) -> None:
        """Opens a fresh writer per member (removing its earlier event files: a killed launch's, whose
        records the caller writes again from the checkpoint); class_counts [M, C] of these members;
        writes hparams and the buckets."""
        if not self.active:
            return
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams

        self.buckets = {}
        for j, i in enumerate(indices):
            run_dir = os.path.join(self.logdir, f"member_{i:03d}")
            shutil.rmtree(run_dir, ignore_errors=True)
            writer = SummaryWriter(run_dir, flush_secs=3600)
            self.buckets[i] = frequency_buckets(np.asarray(class_counts[j]))
            experiment, start, _ = hparams(hyperparameters(configs[i]), {"loss": None, "accuracy": None})
            for summary in (experiment, start):
                writer.file_writer.add_summary(summary)
            described = [f"bucket {b}: classes {list(c)} (counts {sorted(set(class_counts[j][c].tolist()))})"
                         for b, c in enumerate(self.buckets[i])]
            writer.add_text("frequency_buckets", "  \n".join(described), 0)
            self.writers[i] = writer

    def write(self, indices: list, steps: np.ndarray, records: dict, logged: slice) -> None:
        """Scalars of the log points in `logged` for each member; records {name: [M, L, ...]} host arrays."""
        if not self.active:
            return
        for j, i in enumerate(indices):
            mine = {k: v[j] for k, v in records.items()}
            scalars = {k: v for k, v in mine.items() if v.ndim == 1}
            scalars.update(bucket_scalars(mine, self.buckets[i]))
            writer = self.writers[i]
            for point in range(len(steps))[logged]:
                for tag, values in scalars.items():
                    writer.add_scalar(tag, float(values[point]), int(steps[point]))
            writer.flush()

    def end_group(self, complete: bool) -> None:
        """Closes the writers; complete: first mark each member's HParams session as finished."""
        from tensorboardX.summary import hparams

        for writer in self.writers.values():
            if complete:
                writer.file_writer.add_summary(hparams({}, {})[2])
            writer.close()
        self.writers = {}

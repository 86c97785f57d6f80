"""Disk space: what a run will write into its workdir, checked before anything is written; and a disk
that fills anyway (another process wrote to it) recognised in whatever exception reports it."""
import errno
import os
import shutil
import tempfile

import jax
import numpy as np

from dynamics.errors import ConfigError

CSV_ROW_BYTES = 64  # metrics.csv: member, step, class, count, split, loss, accuracy (+16 per swept key)


def needed_bytes(groups: list, num_swept_keys: int, keep: int) -> int:
    """Disk space the run will need: history.npz, metrics.csv, params.npz and keep+1 checkpoints (one being written)."""
    def size(shapes, leading):
        return sum(leading * int(np.prod(s.shape)) * np.dtype(s.dtype).itemsize for s in jax.tree.leaves(shapes))

    num_members = sum(len(g.indices) for g in groups)
    num_logs = len(groups[0].setup.log_steps)
    records = sum(size(g.record_shapes, len(g.indices) * num_logs) for g in groups)
    per_class = sum(len(g.indices) * num_logs * int(np.prod(s.shape)) for g in groups
                    for name, s in g.record_shapes.items() if name.endswith("per_class_loss"))
    table = per_class * (CSV_ROW_BYTES + 16 * num_swept_keys)
    states = max(size(g.state_shapes, len(g.indices)) for g in groups)
    params = sum(size(g.state_shapes.params, len(g.indices)) for g in groups)  # finished groups' and params.npz
    return records + table + (keep + 1) * (records + states) + (keep + 2) * params + num_members * 1024


def check_parent(workdir: str) -> str:
    """The nearest existing directory at or above workdir; a file in its way is a ConfigError."""
    existing = os.path.abspath(workdir)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ConfigError(f"cannot use workdir {workdir!r}: {existing!r} is a file, not a directory")
    return existing


def check_workdir(workdir: str, needed: int) -> None:
    """Fails unless the workdir can be created and written and its disk has `needed` bytes free."""
    existing = check_parent(workdir)
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise ConfigError(f"not enough disk space for workdir {workdir!r}: the run needs about "
                          f"{needed / 2**20:.1f} MiB (results and checkpoints), {free / 2**20:.1f} MiB are free")
    try:
        os.makedirs(workdir, exist_ok=True)
        with tempfile.TemporaryFile(dir=workdir) as probe:
            probe.write(b"0")
    except OSError as e:
        raise ConfigError(f"cannot write to workdir {workdir!r}: {e.strerror or e}")


def out_of_space(error: BaseException) -> bool:
    """Whether error (or what caused it) is a full disk: ENOSPC from our writes, or tensorstore's
    "No space left on device" / RESOURCE_EXHAUSTED inside an orbax save."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(error)
        if "No space left on device" in text or ("RESOURCE_EXHAUSTED" in text and "memory" not in text.lower()):
            return True
        error = error.__cause__ or error.__context__
    return False

"""Memory: a lower bound on what a group's program holds on one device, checked against the device
before anything is compiled or written, so that a size the machine cannot hold is refused in one line
instead of dying in XLA (RESOURCE_EXHAUSTED) after the workdir was started.

The bound counts what every model's step and records must hold at once (float32): the data, each
member's state three times (parameters and optimizer state, their update, the gradients), its
records, and the [samples, classes] logits of the full-batch evaluation twice (logits and their
log-softmax). Activations of deeper models come on top, so a refusal is certain, a pass is not.
"""
import os

import jax
import numpy as np

from dynamics.errors import ConfigError

GIB = 2**30


def available_bytes() -> int:
    """Memory of one device: the accelerator's limit, or the host's physical memory on CPU."""
    device = jax.local_devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_data(data: dict, available: int) -> None:
    """Refuses, before it is built, a dataset whose inputs (data.num_samples x data.input_dim float32,
    where the dataset has these keys) cannot fit."""
    samples, dim = data.get("num_samples"), data.get("input_dim")
    if isinstance(samples, int) and isinstance(dim, int) and 4 * samples * dim > available:
        raise ConfigError(f"the dataset's inputs need {4 * samples * dim / GIB:.1f} GiB (data.num_samples={samples} x "
                          f"data.input_dim={dim} float32), the device has {available / GIB:.1f} GiB")


def group_bytes(group, num_devices: int) -> int:
    """The lower bound (module docstring) for one device running `group` (a train.Group)."""
    def size(tree, leading=1):
        return sum(leading * int(np.prod(np.shape(a))) * np.dtype(a.dtype).itemsize for a in jax.tree.leaves(tree))

    members = len(group.indices)
    per_device = -(-members // num_devices)
    data, stacked = group.data, members if group.data_stacked else 1
    labels = (np.size(data.y) + (0 if data.y_test is None else np.size(data.y_test))) // stacked
    member = (3 * size(group.state_shapes) + size(group.record_shapes, len(group.setup.log_steps))
              + 2 * 4 * labels * data.num_classes)
    if group.data_stacked:
        return per_device * (member + size(data) // stacked)
    return size(data) + per_device * member


def check_groups(groups: list) -> None:
    """Refuses groups whose lower bound exceeds one device's memory, with the numbers."""
    available, devices = available_bytes(), jax.device_count()
    for g, group in enumerate(groups):
        needed = group_bytes(group, devices)
        if needed > available:
            raise ConfigError(
                f"group {g + 1}/{len(groups)} needs at least {needed / GIB:.1f} GiB on one device "
                f"({-(-len(group.indices) // devices)} member(s) per device, each with [samples x "
                f"{group.data.num_classes} classes] logits), the device has {available / GIB:.1f} GiB; "
                "use fewer samples or classes, or more devices")

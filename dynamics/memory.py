"""Memory: what a group's program holds on one device, known before anything is allocated or written,
so that a sweep too large for one program runs as several, and a size the machine cannot hold is
refused in one line instead of dying in XLA (RESOURCE_EXHAUSTED) after the workdir was started.

A dataset too large to build is refused from its config (check_data). Every group's chunk program is
then compiled from shapes and XLA's memory analysis read (dynamics.train.program_bytes); `fit` splits
a group that does not fit into programs of as many members as fit.
"""
import concurrent.futures
import math
import os
from typing import Callable

import jax

from dynamics.errors import ConfigError

GIB = 2**30
USABLE = 0.9  # of a device's memory given to one program: headroom for the runtime's own buffers
CACHE_BYTES = 2**20  # one core's L2 cache on common x86 CPUs (1 MiB on this project's 2-core AMD EPYC)
INTENSITY = 1000  # flops of matrix products per byte of a step's largest array: above it the step is compute-bound


def available_bytes() -> int:
    """Memory of one device: the accelerator's limit, or the host's physical memory on CPU."""
    device = jax.local_devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def step_profile(jaxpr) -> tuple:
    """(bytes of the largest array any equation of a jaxpr, or of the jaxprs inside it, makes; flops of its
    matrix products, dot_general only, each inner jaxpr counted once)."""
    largest, flops = 0, 0
    for eqn in jaxpr.eqns:
        largest = max([largest] + [v.aval.size * v.aval.dtype.itemsize for v in eqn.outvars if hasattr(v.aval, "dtype")])
        if eqn.primitive.name == "dot_general":
            contracted = eqn.params["dimension_numbers"][0][0]
            flops += 2 * eqn.outvars[0].aval.size * math.prod(eqn.invars[0].aval.shape[d] for d in contracted)
        for param in eqn.params.values():
            for inner in param if isinstance(param, (tuple, list)) else (param,):
                inner = getattr(inner, "jaxpr", inner)  # a ClosedJaxpr's jaxpr
                if hasattr(inner, "eqns"):
                    inner_largest, inner_flops = step_profile(inner)
                    largest, flops = max(largest, inner_largest), flops + inner_flops
    return largest, flops


def one_at_a_time(step: Callable, *args) -> bool:
    """Whether a group's members run one after another inside their program (train.chunk_program) instead of
    side by side (vmap). On a single CPU device, a member's step(*args) that makes an array larger than a core's
    L2 cache and is not dominated by its matrix products (fewer than INTENSITY flops per byte of that array)
    runs faster alone: side by side adds cache misses (and, where members share their data, transposed copies
    of the [samples, members, classes] activations) and gains little from the larger products. This project's
    rule from its measurements (2-core EPYC, ms per member-step or s per run, side by side / one at a time):
    benchmarks/sweep_throughput.py's m = 8 (largest array 2 MiB, 256 flops per byte): 2.5-2.8 / 1.8-2.0;
    m = 7 (0.45 MiB): 0.31 / 0.33; m = 6 (0.1 MiB): 0.09 / 0.13; the main job heavy_tail_linear (d = 2304:
    2.2 MiB, 2048 flops per byte): 67 / 73 s. Accelerators and several devices keep members side by side."""
    if jax.device_count() > 1 or jax.default_backend() != "cpu":
        return False
    largest, flops = step_profile(jax.make_jaxpr(step)(*args).jaxpr)
    return largest > CACHE_BYTES and flops < INTENSITY * largest


def check_data(data: dict, available: int) -> None:
    """Refuses, before it is built, a dataset whose inputs (data.num_samples x data.input_dim float32,
    where the dataset has these keys) cannot fit."""
    samples, dim = data.get("num_samples"), data.get("input_dim")
    if isinstance(samples, int) and isinstance(dim, int) and 4 * samples * dim > available:
        raise ConfigError(f"the dataset's inputs need {4 * samples * dim / GIB:.1f} GiB (data.num_samples={samples} x "
                          f"data.input_dim={dim} float32), the device has {available / GIB:.1f} GiB")


def fit(groups: list, program_bytes: Callable, progress: Callable = print) -> list:
    """The groups, each run as one program if it fits one device's memory (USABLE of it), else split into
    programs of as many members as fit; a member that alone does not fit is refused with the numbers.

    program_bytes(group, members) -> bytes per device of the group's program for that many members
    (dynamics.train.program_bytes: XLA's memory analysis, compiled from shapes). The largest fitting
    size is found by bisection over the members per device (the need is not quite linear: XLA lays out
    small programs differently), a few more compilations for a group that does not fit only. The
    groups' programs are compiled side by side, one thread per core (XLA's CPU compiler gains little
    from it: 4 programs in 2.56 s instead of 2.98 s on 2 cores, measured when benchmarks/sweep_throughput.py's
    m = 5 made one program per optimizer).
    """
    available, devices = USABLE * available_bytes(), jax.device_count()
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:  # XLA compiles in parallel, GIL released
        needs = list(pool.map(lambda group: program_bytes(group, len(group.indices)), groups))
    fitted = []
    for g, (group, need) in enumerate(zip(groups, needs)):
        members = len(group.indices)
        if need <= available:
            fitted.append(group)
            continue
        one = program_bytes(group, devices)  # one member per device
        if one > available:
            raise ConfigError(f"one member of group {g + 1}/{len(groups)} needs {one / GIB:.2f} GiB on a device "
                              f"(XLA's memory analysis of its program), the device has {available / GIB:.2f} GiB "
                              f"usable; use fewer samples, classes or parameters, or a device with more memory"
                              + ("" if len(group.setup.optimizers) < 2 else f" (or sweep its optimizers "
                                 f"{', '.join(group.setup.optimizers)} in separate runs: a member holds the state "
                                 f"of every optimizer in its group)"))
        low, high = 1, -(-members // devices)  # members per device: low fits, high does not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if program_bytes(group, middle * devices) <= available else (low, middle)
        size = low * devices
        parts = [group.part(slice(i, i + size), size) for i in range(0, members, size)]
        progress(f"group {g + 1}: {members} members need {need / GIB:.2f} GiB per device, {available / GIB:.2f} GiB "
                 f"usable: run as {len(parts)} programs of {size} members")
        fitted.extend(parts)
    return fitted

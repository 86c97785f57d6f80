"""Several processes, one sweep: JAX's own distributed runtime (jax.distributed).

`initialize()` joins this process to the others before anything touches the backend; then
`jax.devices()` holds every process's devices and the member axis is sharded over all of them
(dynamics.sweep.member_mesh). With no coordinator given, JAX detects the cluster itself (SLURM,
Open MPI, TPU pod slices). Every process trains (the programs and the orbax checkpoints are
collective); only the leader (process 0) writes results, figures, TensorBoard, progress lines and
holds the workdir's lock, and the others wait for it at `barrier`.

    python -m dynamics.main --config=... --workdir=... --distributed                   # SLURM, MPI, TPU pod
    python -m dynamics.main ... --distributed --coordinator=HOST:PORT --num_processes=N --process_id=I
"""
import ipaddress

import jax

from dynamics.errors import ConfigError


def initialize(coordinator: str = None, num_processes: int = None, process_id: int = None,
               initialization_timeout: int = 120, heartbeat_timeout: int = 10, shutdown_timeout: int = 10) -> None:
    """jax.distributed.initialize with short timeouts: a peer that does not come, or dies, fails the
    run in seconds (heartbeat_timeout) instead of minutes (JAX's defaults: 300 / 100 / 300 s).

    coordinator "HOST:PORT", num_processes, process_id: all three, or none (cluster auto-detection).
    A loopback coordinator (127.0.0.1, localhost) also binds to loopback only.
    """
    given = [v is not None for v in (coordinator, num_processes, process_id)]
    if any(given) and not all(given):
        raise ConfigError("--coordinator, --num_processes and --process_id go together "
                          "(or none of them: the cluster is detected)")
    if coordinator is not None:
        if not 0 <= process_id < num_processes:
            raise ConfigError(f"--process_id must be in [0, {num_processes}), got {process_id}")
        host, _, port = coordinator.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--coordinator must be HOST:PORT, got {coordinator!r}")
    for name, value in (("initialization_timeout", initialization_timeout),
                        ("heartbeat_timeout", heartbeat_timeout), ("shutdown_timeout", shutdown_timeout)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
    try:
        jax.distributed.initialize(
            coordinator_address=coordinator, num_processes=num_processes, process_id=process_id,
            coordinator_bind_address=coordinator if coordinator and is_loopback(host) else None,
            initialization_timeout=initialization_timeout, heartbeat_timeout_seconds=heartbeat_timeout,
            shutdown_timeout_seconds=shutdown_timeout)
    except ValueError as e:  # JAX found no cluster to join, or was given a bad value
        raise ConfigError(f"--distributed: {str(e).splitlines()[0]} (no SLURM / Open MPI / TPU pod detected: "
                          "give --coordinator=HOST:PORT --num_processes=N --process_id=I)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_leader() -> bool:
    """Whether this process writes the results (process 0; the only process of a plain run)."""
    return jax.process_index() == 0


def barrier(name: str) -> None:
    """Waits until every process reaches the barrier of this name (nothing to wait for in one process)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def define_flags():
    """Defines --distributed, --coordinator, --num_processes, --process_id, --heartbeat_timeout and
    --initialization_timeout on a launcher; returns a function that, called first in main(), initializes as the flags say."""
    from absl import flags

    enabled = flags.DEFINE_bool("distributed", False, "Join the other processes of a multi-process run "
                                "(jax.distributed; SLURM, Open MPI and TPU pods are detected).")
    coordinator = flags.DEFINE_string("coordinator", None, "HOST:PORT of process 0 (with --distributed, "
                                      "where no cluster is detected).")
    num_processes = flags.DEFINE_integer("num_processes", None, "Number of processes (with --coordinator).")
    process_id = flags.DEFINE_integer("process_id", None, "This process's index, 0 .. num_processes-1.")
    heartbeat = flags.DEFINE_integer("heartbeat_timeout", 10, "Seconds after which a silent peer fails the run "
                                     "(and that shutdown waits for the others).")
    startup = flags.DEFINE_integer("initialization_timeout", 120, "Seconds to wait for every process to join.")

    def from_flags() -> None:
        if not enabled.value:
            given = [f"--{f.name}" for f in (coordinator, num_processes, process_id) if f.present]
            if given:
                raise ConfigError(f"{', '.join(given)}: only with --distributed")
            return
        initialize(coordinator.value, num_processes.value, process_id.value, initialization_timeout=startup.value,
                   heartbeat_timeout=heartbeat.value, shutdown_timeout=heartbeat.value)

    return from_flags

"""One launch per workdir: an OS-level lock (flock) on DIR/.lock, held for the whole run. The lock
dies with its process, so a killed run leaves no stale lock; a second launch into a workdir in use
is refused in one line naming the process that holds it, before it touches anything there."""
import contextlib
import fcntl
import os
import shutil

from dynamics import disk
from dynamics.errors import ConfigError

LOCK_FILE = ".lock"


@contextlib.contextmanager
def held(workdir: str):
    """Holds the workdir's lock (creating the workdir); a ConfigError raised inside, before anything
    was written, removes the workdir again if this call created it."""
    created = not os.path.exists(workdir)
    disk.check_parent(workdir)
    try:
        os.makedirs(workdir, exist_ok=True)
        fd = os.open(os.path.join(workdir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ConfigError(f"cannot use workdir {workdir!r}: {e.strerror or e}")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ConfigError(f"workdir {workdir!r} is in use by process {holder}, another launch writing it; "
                          "wait for it to finish or choose another --workdir")
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    try:
        yield
    except ConfigError:
        if created:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        os.close(fd)

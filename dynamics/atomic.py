"""The one way this project writes a file: to a unique temporary name beside it, flushed to disk,
then renamed over it. A crash, a kill or a full disk leaves the previous file (or none), never a
truncated one, and two processes writing the same file never share a temporary name."""
import os
import tempfile
from typing import Callable


def write(path: str, write_to: Callable[[str], None]) -> None:
    """write_to(tmp) writes the content to the temporary path tmp; then tmp replaces path."""
    directory, name = os.path.split(os.path.abspath(path))
    suffix = os.path.splitext(name)[1]  # kept, so that writers that go by the extension (savefig) still do
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.tmp-", suffix=suffix, dir=directory)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from the group on a shared cluster
    try:
        write_to(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_bytes(path: str, write_to_file: Callable) -> None:
    """write_to_file(f) writes to an open binary file object; atomically, as `write`."""
    def to_path(tmp):
        with open(tmp, "wb") as f:
            write_to_file(f)

    write(path, to_path)


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask

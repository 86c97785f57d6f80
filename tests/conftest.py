"""Shared fixtures: a tiny heavy-tail config every test can shrink further."""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # `pytest -n 2` on one GPU: two workers share it
if "PYTEST_XDIST_WORKER" not in os.environ and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    # One XLA compilation cache for the session, empty at its start: the xdist workers, the notebooks'
    # kernels and the launched subprocesses inherit it, so a program compiled (>= 1 s) by one test is
    # read back by the next (the claim tests and the notebooks run the same small configs).
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="dynamics-test-xla-cache-")
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from dynamics import config
from dynamics.history import History

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_config(name, variant=""):
    """(config dict, members) of configs/NAME.py in a variant: the one loader (dynamics.config)."""
    return config.load_named(name, variant)


def assert_identical(a: History, b: History) -> None:
    """Two Histories hold the same members and bit-identical records (NaNs included)."""
    assert a.members == b.members and list(a.records) == list(b.records)
    for name in ("step", "class_counts", "diverged_step"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in a.records:
        assert a.records[name].tobytes() == b.records[name].tobytes(), name


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Tiny numpy problems run far faster single-threaded on the shared 2-core machine."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture
def tiny_config():
    """heavy_tail_linear's small setting shrunk further: step-Zipf with 15 classes (m=4), d=16 (d < n), W = 0,
    40 full-batch GD steps (the tests' measured numbers are at this size)."""
    c = load_config("heavy_tail_linear", "small")[0]
    c["data"].update(num_classes=15, num_samples=64, input_dim=16)
    c["model"].update(init_scale=0.0)  # W = 0, b = 0 (tests compare against that start)
    c["train"].update(num_steps=40, chunk_steps=16, num_log_points=8, per_class_grad_norm=True)
    c["select"]["rule"] = "none"
    return c

"""Several processes, one sweep (dynamics.distributed): two local processes of `dynamics.main
--distributed`, each with 2 CPU devices, joined over loopback into one 4-device mesh, give a workdir
whose History is bit-identical to one process with 4 devices; only process 0 writes it and prints;
and a 2-process run killed mid-way (both peers SIGKILLed) resumes bit-identically."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import assert_identical

from dynamics import checkpoint
from dynamics.history import History

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 180  # seconds per launch; a run here takes ~5 s of CPU per process

CONFIG_FILE = """
from dynamics import config, sweep


def get_config():
    c = config.defaults(data="synthetic", model="linear")
    c.data.update(dict(num_classes=7, num_samples=48, input_dim=8))
    c.train.update(dict(num_steps=24, chunk_steps=3, num_log_points=8, batch_size=8))  # 9 chunks, SGD
    c.optimizer.name = "adam"
    return c


def get_sweep():
    return sweep.product(sweep.axis("optimizer.learning_rate", [0.01, 0.05, 0.2]), sweep.axis("seed", [0, 1]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(devices: int) -> dict:
    return dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu",
                PYTHONPATH=ROOT)


def command(path, workdir, *flags) -> list:
    return [sys.executable, "-m", "dynamics.main", f"--config={path}", f"--workdir={workdir}", *flags]


def launch_pair(path, workdir, logs, kill_at_checkpoint: int = None) -> list:
    """Runs 2 processes of one --distributed run (2 devices each) to the end, or SIGKILLs both once
    checkpoint `kill_at_checkpoint` exists; returns their (returncode, stdout) pairs."""
    port = free_port()
    peers, outputs = [], []
    try:
        for i in range(2):
            out = open(logs / f"process{i}-{len(os.listdir(logs))}.log", "w+")
            outputs.append(out)
            peers.append(subprocess.Popen(
                command(path, workdir, "--distributed", f"--coordinator=127.0.0.1:{port}", "--num_processes=2",
                        f"--process_id={i}"), cwd=ROOT, env=env(2), stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + TIMEOUT
        directory = checkpoint.directory(str(workdir))
        while any(p.poll() is None for p in peers) and time.monotonic() < deadline:
            if kill_at_checkpoint is not None and os.path.isdir(directory) and any(
                    n.isdigit() and int(n) >= kill_at_checkpoint for n in os.listdir(directory)):
                for p in peers:
                    p.send_signal(signal.SIGKILL)
            time.sleep(0.01)
        results = []
        for p, out in zip(peers, outputs):
            p.wait(timeout=1)
            out.seek(0)
            results.append((p.returncode, out.read()))
        return results
    finally:
        for p in peers:
            if p.poll() is None:
                p.kill()
                p.wait()
        for out in outputs:
            out.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The config file, and the History of one process with 4 devices."""
    tmp = tmp_path_factory.mktemp("distributed")
    path = tmp / "tiny.py"
    path.write_text(CONFIG_FILE)
    single = subprocess.run(command(path, tmp / "single"), cwd=ROOT, env=env(4), capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert single.returncode == 0, single.stderr
    return path, History.load(str(tmp / "single"))


@pytest.mark.slow
def test_two_processes_give_the_single_process_history(reference, tmp_path):
    path, single = reference
    (tmp_path / "logs").mkdir()
    results = launch_pair(path, tmp_path / "run", tmp_path / "logs")
    assert [code for code, _ in results] == [0, 0], results
    assert "wrote" in results[0][1] and "step 24/24" in results[0][1]
    assert "step" not in results[1][1] and "wrote" not in results[1][1]  # process 1 prints nothing
    assert not checkpoint.exists(str(tmp_path / "run"))  # complete
    assert_identical(History.load(str(tmp_path / "run")), single)


@pytest.mark.slow
def test_two_processes_killed_mid_way_resume_bit_identical(reference, tmp_path):
    path, single = reference
    (tmp_path / "logs").mkdir()
    killed = launch_pair(path, tmp_path / "run", tmp_path / "logs", kill_at_checkpoint=3)
    assert [code for code, _ in killed] == [-signal.SIGKILL] * 2, killed
    assert checkpoint.exists(str(tmp_path / "run")) and not (tmp_path / "run" / "history.npz").exists()
    resumed = launch_pair(path, tmp_path / "run", tmp_path / "logs")
    assert [code for code, _ in resumed] == [0, 0], resumed
    assert "resuming from" in resumed[0][1]
    assert not checkpoint.exists(str(tmp_path / "run"))
    assert_identical(History.load(str(tmp_path / "run")), single)

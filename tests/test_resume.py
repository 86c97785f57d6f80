"""Checkpoint and resume: a run killed with SIGKILL mid-way and relaunched with the same command gives a
History bit-identical to an uninterrupted run's (a sweep of two groups, killed in the second, so the first
group's finished result comes from the checkpoint too; one group alone: tests/test_misuse.py); a changed
config on resume is refused (naming the keys; the launcher's exit 2 with one line for a ConfigError:
tests/test_fuzz_config.py); --overwrite starts fresh; a completed run is refused."""
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import assert_identical

from dynamics import checkpoint, experiment, train
from dynamics.config import load
from dynamics.errors import ConfigError
from dynamics.history import History

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = lambda line: None  # noqa: E731

CONFIG_FILE = """
from dynamics import config, sweep


def get_config():
    c = config.based_on("heavy_tail_linear", "small")
    c.data.update(dict(num_classes=7, num_samples=48, input_dim=8))
    c.train.update(dict(num_steps=24, chunk_steps=3, num_log_points=8, batch_size=8))  # 9 chunks, SGD
    c.select.rule = "none"
    c.figures = ()
    return c


def get_sweep():
    return {sweep}
"""
SINGLE = '[{"optimizer.name": "adam", "optimizer.learning_rate": 0.05}]'
SWEEP = ('sweep.chain(sweep.product(sweep.axis("optimizer.name", ["gd"]), sweep.axis("optimizer.learning_rate", '
         '[0.3, 1.0])), sweep.product(sweep.axis("optimizer.schedule", ["cosine"]), sweep.axis("seed", [0, 1])))')
# two groups: a schedule is code, it splits the program (optimizer names taking the same gradient do not)


def config_file(tmp_path, members: str) -> str:
    path = tmp_path / "tiny.py"
    path.write_text(CONFIG_FILE.format(sweep=members))
    return str(path)


def command(path, workdir, *flags):
    return [sys.executable, "-m", "dynamics.main", f"--config={path}", f"--workdir={workdir}", *flags]


def cached(tmp_path) -> dict:
    """The environment for the launches: a persistent compilation cache shared by them (a relaunch then
    spends its time resuming rather than compiling the same programs again)."""
    return dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax_cache"),
                JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")


def kill_after_checkpoint(path, workdir, step: int, env: dict) -> None:
    """Starts the run and SIGKILLs it as soon as checkpoint `step` (or a later one) is complete."""
    process = subprocess.Popen(command(path, workdir), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=env)
    directory = checkpoint.directory(str(workdir))
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if os.path.isdir(directory) and any(n.isdigit() and int(n) >= step for n in os.listdir(directory)):
            break
        time.sleep(0.005)
    assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read()}"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.exists(str(workdir)) and not (workdir / "history.npz").exists()


@pytest.mark.slow
def test_killed_run_resumes_bit_identical(tmp_path):
    path = config_file(tmp_path, SWEEP)
    workdir = tmp_path / "run"
    env = cached(tmp_path)
    kill_after_checkpoint(path, workdir, 11, env)  # checkpoints 9-17 are group 2's
    resumed = subprocess.run(command(path, workdir), cwd=ROOT, capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout
    assert "group 2/2" in resumed.stdout  # the kill came while the second group ran
    assert not checkpoint.exists(str(workdir))  # complete: checkpoints removed, results written
    config, sweep_members = load(path)
    assert_identical(History.load(str(workdir)), train.run(config, sweep_members, QUIET))


class Interrupt(Exception):
    pass


def interrupt_after(chunks: int):
    seen = []

    def progress(line):
        seen.append(line)
        if len(seen) > chunks:
            raise Interrupt

    return progress


@pytest.mark.slow
def test_changed_config_refused_overwrite_starts_fresh_completed_run_refused(tmp_path):
    config, members = load(config_file(tmp_path, SINGLE))
    workdir = str(tmp_path / "run")
    with pytest.raises(Interrupt):  # a crash after two checkpoints, in-process
        experiment.run(config, members, workdir, False, interrupt_after(2))
    assert checkpoint.exists(workdir)
    changed = dict(config, optimizer=dict(config["optimizer"], b2=0.99), train=dict(config["train"], num_steps=30))
    with pytest.raises(ConfigError, match=r"different config \(optimizer\.b2, train\.num_steps\)"):
        experiment.run(changed, members, workdir, False, QUIET)
    with pytest.raises(ConfigError, match=r"different config \(members"):
        experiment.run(config, [{"optimizer.learning_rate": 0.1}], workdir, False, QUIET)
    assert checkpoint.exists(workdir)  # a refused relaunch leaves the checkpoints
    fresh = experiment.run(changed, members, workdir, True, QUIET)
    assert fresh.step[-1] == 30 and not checkpoint.exists(workdir)
    with pytest.raises(ConfigError, match="already holds results"):
        experiment.run(changed, members, workdir, False, QUIET)

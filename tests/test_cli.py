"""The launcher: bad input gets one line on stderr, exit code 2, and no file; a good run writes everything."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "heavy_tail_linear.py")
SINGLE = ["--config.optimizer.name=adam", "--config.optimizer.learning_rate=0.05"]  # one member, not the sweep
TINY = ["--config.data.num_classes=7", "--config.data.num_samples=48", "--config.data.input_dim=8",
        "--config.train.num_steps=20", "--config.train.chunk_steps=10", "--config.train.num_log_points=5"]


def launch(workdir, *flags):
    return subprocess.run([sys.executable, "-m", "dynamics.main", f"--config={CONFIG}", f"--workdir={workdir}", *flags],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("flag, message", [
    ("--config.optimizer.name=lion", "unknown optimizer"),
    ("--config.model.name=resnet", "unknown model"),
    ("--config.optimizer.learning_rate=-0.1", "learning_rate must be > 0"),
    ("--config.optimizer.learning_rate=nan", "finite"),
    ("--config.no_such_key=1", "unknown config key"),
    ("--config.figures=('pie',)", "unknown figure"),
])
@pytest.mark.slow
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, flag, message):
    """Each kind of bad input once through a real process (every other bad value: tests/test_fuzz_config.py,
    in process, through the same checks)."""
    workdir = tmp_path / "run"
    result = launch(workdir, *TINY, *flag.split())
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not workdir.exists()


@pytest.mark.slow
def test_run_writes_results_and_refuses_to_overwrite(tmp_path):
    workdir = tmp_path / "run"
    first = launch(workdir, *TINY, *SINGLE)
    assert first.returncode == 0, first.stderr
    for name in ("config.json", "history.npz", "members.csv", "metrics.csv", "figures/per_class_loss.png"):
        assert (workdir / name).stat().st_size > 0
    assert "steps/s" in first.stdout and "ETA" in first.stdout
    before = (workdir / "history.npz").read_bytes()
    second = launch(workdir, *TINY, *SINGLE)
    assert second.returncode == 2 and "--overwrite" in second.stderr
    assert (workdir / "history.npz").read_bytes() == before
    third = launch(workdir, *TINY, *SINGLE, "--overwrite")
    assert third.returncode == 0, third.stderr

"""Misuse that must end in one line and exit code 2 (or 130 for an interrupt), with earlier results intact:
a workdir in use, corrupt result files and checkpoints, config files that fail, an interrupted run, a full
disk, sizes the machine cannot hold, an incomplete or another config's workdir; records that must not
mislead (divergence, TensorBoard after a resume); and chunk_steps past the run."""
import collections
import errno
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from conftest import load_config

from dynamics import checkpoint, experiment, figures, lock, plots, sweep, train
from dynamics import config as config_lib
from dynamics import history as history_lib
from dynamics.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "heavy_tail_linear.py")
TINY = ["--config.data.num_classes=7", "--config.data.num_samples=48", "--config.data.input_dim=8",
        "--config.train.num_steps=20", "--config.train.chunk_steps=10", "--config.train.num_log_points=5",
        "--config.optimizer.name=adam", "--config.optimizer.learning_rate=0.05"]


def launch(*args, module="dynamics.main"):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def one_line(result, code=2):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == code and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.slow
def test_a_workdir_in_use_is_refused_naming_the_process_and_left_untouched(tmp_path):
    workdir = tmp_path / "run"
    with lock.held(str(workdir)):  # this process stands for a launch in progress
        refused = launch(f"--config={CONFIG}", f"--workdir={workdir}", *TINY)
        assert f"in use by process {os.getpid()}" in one_line(refused)
        assert sorted(os.listdir(workdir)) == [lock.LOCK_FILE]
    done = launch(f"--config={CONFIG}", f"--workdir={workdir}", *TINY)  # the lock died with its holder
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("body, message", [
    (None, "is a directory"),
    ("x = 1\n", "defines no get_config()"),
    ("import no_such_module\n", "failed to load: ModuleNotFoundError"),
    ("def get_config():\n    raise RuntimeError('boom')\n", "boom"),
    ("def get_config():\n    return {'seed': 0}\n", "must return an ml_collections.ConfigDict"),
])
@pytest.mark.slow
def test_a_config_file_that_fails_is_one_line(tmp_path, body, message):
    """The loader's one-line reasons (config.load); the launcher prints them as they are (checked
    once through a subprocess, for the import error)."""
    path = tmp_path / "configs" if body is None else tmp_path / "bad.py"
    if body is None:
        path.mkdir()
    else:
        path.write_text(body)
    with pytest.raises(ConfigError) as error:
        config_lib.load(str(path))
    assert message in str(error.value) and "\n" not in str(error.value)
    if "no_such_module" in (body or ""):
        result = launch(f"--config={path}", f"--workdir={tmp_path / 'run'}")
        assert message in one_line(result)
        assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_corrupt_results_are_one_line_and_an_interrupted_run_says_how_to_resume(tmp_path):
    workdir = tmp_path / "run"
    run_in_process(workdir, *TINY)
    (workdir / "history.npz").write_bytes(b"PK\x03\x04 truncated")
    redraw = launch("heavy_tail_linear", f"--from={workdir}", f"--outdir={tmp_path / 'figs'}", module="dynamics.figures")
    assert "history.npz" in one_line(redraw) and "--overwrite" in redraw.stderr

    long_run = [f"--config={CONFIG}", f"--workdir={tmp_path / 'long'}", *TINY[:3], "--config.train.num_steps=100000",
                "--config.train.chunk_steps=200", "--config.optimizer.name=adam"]
    process = subprocess.Popen([sys.executable, "-m", "dynamics.main", *long_run], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert "steps/s" in process.stdout.readline()  # trained a chunk
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    line = one_line(subprocess.CompletedProcess([], process.returncode, "", stderr), code=130)
    assert "relaunch the same command to resume" in line and os.path.isdir(tmp_path / "long" / "checkpoints")


@pytest.mark.slow
def test_chunk_steps_past_the_run_are_clamped(tiny_config):
    """A chunk longer than the run scans only the steps the run has, with the same History."""
    long = dict(tiny_config, train=dict(tiny_config["train"], chunk_steps=10_000))
    exact = dict(tiny_config, train=dict(tiny_config["train"], chunk_steps=tiny_config["train"]["num_steps"] + 1))
    a, b = (train.run(c, progress=lambda s: None) for c in (long, exact))
    np.testing.assert_array_equal(a.records["per_class_loss"], b.records["per_class_loss"])


@pytest.mark.slow  # 5-11 s (measured under load, when its two optimizers were two compiled groups)
def test_a_setting_whose_every_learning_rate_diverged_selects_nothing_and_says_so(tiny_config, tmp_path):
    """Normalised GD at lr 1e30 keeps every entry finite but its parameter norm overflows: diverged, like
    GD at lr 1e30 (a non-finite loss). Nothing of the setting is selected; the figure's panel says why."""
    config = dict(tiny_config, select={"rule": "best_lr", "metric": "loss"},
                  train=dict(tiny_config["train"], per_class_grad_norm=False))
    members = [{"optimizer.name": name, "optimizer.learning_rate": lr}
               for name in ("normalized_gd", "adam") for lr in (1e29, 1e30)] + [
              {"optimizer.name": "adam", "optimizer.learning_rate": 0.01}]
    history = history_lib.select_best_lr(train.run(config, members, progress=lambda s: None), "loss")
    table = history.members_table()
    assert list(table["status"]) == ["diverged"] * 4 + ["ok"], table
    assert np.all(np.isfinite(history.records["param_norm"][:, 0]))  # the start was fine
    assert list(history.selected) == [False, False, False, False, True]
    assert all(history_lib.EVERY_LR_DIVERGED in why for why in history.selection[:2]), history.selection
    with mock.patch.object(plots, "say_every_lr_diverged", wraps=plots.say_every_lr_diverged) as said:
        plots.per_class_loss(history, str(tmp_path / "loss.png"))
    assert [c.args[1] for c in said.call_args_list] == ["normalized_gd"] and (tmp_path / "loss.png").stat().st_size > 0


def test_grokking_figure_of_a_run_where_no_class_generalised_draws(tmp_path):
    """Every class fitted, none generalised: the grokking-time scatter is empty, and its log axis must not
    fail ("Data cannot be log-scaled") as `figures grokking_imbalanced --small` did."""
    config, members = load_config("grokking_imbalanced", "small")
    steps, counts = np.array([0, 10, 100]), np.array([[40, 20, 10, 5]])
    fitted = np.ones((1, 3, 4), np.float32)
    history = history_lib.History(config, members[:1], steps, {
        "accuracy": np.ones((1, 3), np.float32), "per_class_accuracy": fitted,
        "test_per_class_accuracy": 0 * fitted}, counts, np.array([-1]), np.array([True]), counts)
    plots.grokking_imbalanced(history, str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").stat().st_size > 0


@pytest.mark.slow  # 16 s under load (a run, an in-process overwrite, three launches)
def test_readers_trust_only_a_complete_workdir_of_their_own_config(tmp_path):
    """A workdir is complete once complete.json is written, last; --from refuses another config's workdir,
    an incomplete one (an --overwrite run killed during its final write) and an --outdir that is a file."""
    workdir, figs = tmp_path / "run", tmp_path / "figs"
    run_in_process(workdir, *TINY)
    assert json.loads((workdir / experiment.COMPLETE_FILE).read_text())["name"] == "heavy_tail_linear"
    before = {f: (workdir / f).read_bytes() for f in history_lib.RESULT_FILES}

    other = launch("theory_softmax", f"--from={workdir}", f"--outdir={figs}", module="dynamics.figures")
    assert "holds config 'heavy_tail_linear', not 'theory_softmax'" in one_line(other) and not figs.exists()
    (tmp_path / "file").write_text("")
    assert "is a file" in one_line(launch("heavy_tail_linear", f"--from={workdir}", f"--outdir={tmp_path / 'file'}",
                                          module="dynamics.figures"))
    assert before == {f: (workdir / f).read_bytes() for f in history_lib.RESULT_FILES}

    config, members = load_config("heavy_tail_linear")
    config["data"].update(num_classes=7, num_samples=48, input_dim=8)
    config["train"].update(num_steps=10, chunk_steps=10, num_log_points=4)
    with mock.patch.object(experiment, "draw", side_effect=KeyboardInterrupt), pytest.raises(KeyboardInterrupt):
        experiment.run(config, members[:1], str(workdir), overwrite=True, progress=lambda s: None)  # killed mid-write
    assert not (workdir / experiment.COMPLETE_FILE).exists()
    assert not figures.is_complete(str(workdir), config, members[:1])
    mixed = launch("heavy_tail_linear", f"--from={workdir}", f"--outdir={figs}", module="dynamics.figures")
    assert "is incomplete" in one_line(mixed) and "--overwrite" in mixed.stderr and not figs.exists()


def launched(*flags) -> tuple:
    """(config, members) of `dynamics.main --config=CONFIG *flags` as the launcher resolves them."""
    base, members = config_lib.load(CONFIG)
    overrides = dict(arg[len("--config."):].split("=", 1) for arg in flags)
    flat = sweep.flatten(base)
    flat.update({k: type(flat[k])(v) for k, v in overrides.items()})
    return sweep.unflatten(flat), config_lib.without_overridden(members, overrides)


def run_in_process(workdir, *flags) -> None:
    """What `dynamics.main --config=CONFIG --workdir=workdir *flags` writes, run in this process (for
    tests of what comes after a launch; the launch itself is tested in tests/test_cli.py)."""
    experiment.run(*launched(*flags), str(workdir), progress=lambda s: None, name="heavy_tail_linear")


def interrupted_run(workdir, chunks: int):
    """The TINY launch's run, stopped after `chunks` chunks of 5 steps, each checkpointed (all kept)."""
    progress = mock.Mock(side_effect=[None] * chunks + [KeyboardInterrupt])  # the progress line comes before the save
    with pytest.raises(KeyboardInterrupt):
        experiment.run(*launched(*TINY, *CHECKPOINTED), str(workdir), progress=progress)


CHECKPOINTED = ["--config.train.chunk_steps=5", "--config.train.checkpoint_keep=9"]


@pytest.mark.slow  # 18 s under load (an interrupted run, three launches)
def test_corrupt_checkpoints_fall_back_to_the_newest_readable_one_and_a_new_layout_is_announced(tmp_path):
    """The newest checkpoint's arrays truncated and an empty step directory: the run resumes from the older intact
    one, says so in one line, and ends as an uninterrupted run does; a checkpoint written on one device
    and resumed on two says so too. With no readable checkpoint: one line, exit 2, the checkpoints kept."""
    workdir = tmp_path / "run"
    interrupted_run(workdir, chunks=3)
    steps = workdir / "checkpoints"
    assert sorted(os.listdir(steps)) == ["0", "1", "2"]
    broken = tmp_path / "broken"
    shutil.copytree(workdir, broken)
    for step in "012":
        (broken / "checkpoints" / step / "meta" / "metadata").write_text("{trunc")
    refused = launch(f"--config={CONFIG}", f"--workdir={broken}", *TINY, *CHECKPOINTED)
    assert "no readable checkpoint" in one_line(refused) and "--overwrite" in refused.stderr
    assert sorted(os.listdir(broken / "checkpoints")) == ["0", "1", "2"]

    for data in (steps / "2" / "arrays" / "d").iterdir():  # the arrays truncated
        data.write_bytes(data.read_bytes()[:100])
    (steps / "3").mkdir()  # an empty step directory
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    resumed = subprocess.run([sys.executable, "-m", "dynamics.main", f"--config={CONFIG}", f"--workdir={workdir}",
                              *TINY, *CHECKPOINTED], capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {steps}/1 (newer 3 (" in resumed.stdout and "), 2 (" in resumed.stdout, resumed.stdout
    assert "written on 1 device(s) in 1 process(es), resuming on 2 in 1" in resumed.stdout, resumed.stdout
    whole = tmp_path / "whole"
    run_in_process(whole, *TINY, *CHECKPOINTED)
    a, b = (history_lib.History.load(str(w)) for w in (workdir, whole))
    # measured: identical here (max relative difference 0.0); other layouts may differ by float rounding
    np.testing.assert_allclose(a.records["per_class_loss"], b.records["per_class_loss"], rtol=1e-6)


def scalar_event_counts(run_dir) -> collections.Counter:
    """How often each (tag, step) of a scalar occurs in a TensorBoard run directory's event files."""
    from tensorboardX.proto import event_pb2

    counts = collections.Counter()
    for name in os.listdir(run_dir):
        data, pos = (run_dir / name).read_bytes(), 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            counts.update((v.tag, event.step) for v in event.summary.value if v.WhichOneof("value") == "simple_value")
    return counts


@pytest.mark.slow  # 9 s under load (an interrupted run, a launch)
def test_a_resumed_run_logs_each_step_once_to_tensorboard(tmp_path):
    """A launch killed after writing a chunk's summaries but before its checkpoint was committed: the
    relaunch resumes from the checkpoint before, and TensorBoard still holds each step once."""
    workdir = tmp_path / "run"
    interrupted_run(workdir, chunks=3)
    for step in "12":  # their summaries were written (step 7 in chunk 5..9), the checkpoints never committed
        shutil.rmtree(workdir / "checkpoints" / step)
    assert launch(f"--config={CONFIG}", f"--workdir={workdir}", *TINY, *CHECKPOINTED).returncode == 0
    counts = scalar_event_counts(workdir / "tensorboard" / "member_000")
    history = history_lib.History.load(str(workdir))
    assert {step for _, step in counts} == set(history.step.tolist()) and set(counts.values()) == {1}, counts


def test_a_full_disk_is_one_line_and_the_run_resumes_once_space_is_freed(tiny_config, tmp_path):
    """ENOSPC at the final write (2.5 s under load): one line that says to relaunch, the checkpoints kept."""
    workdir = str(tmp_path / "run")
    config = dict(tiny_config, figures=())
    full = OSError(errno.ENOSPC, "No space left on device")
    with mock.patch.object(history_lib.History, "save", side_effect=full), \
            pytest.raises(ConfigError, match="disk of workdir .* is full .*relaunch the same command") as refused:
        experiment.run(config, workdir=workdir, progress=lambda s: None)
    assert "\n" not in str(refused.value) and checkpoint.exists(workdir)
    lines = []
    experiment.run(config, workdir=workdir, progress=lines.append)
    assert lines[0].startswith("resuming from") and experiment.load(workdir).records["loss"].shape[0] == 1


@pytest.mark.parametrize("overrides, message", [
    (["--config.data.law=zipf", "--config.data.num_classes=100000", "--config.data.num_samples=100000",
      "--config.data.input_dim=32", *TINY[-2:]], "GiB on a device (XLA's memory analysis"),  # 112 GiB (measured)
    (["--config.data.num_samples=1000000000", "--config.data.input_dim=1000"], "the dataset's inputs need 3725.3 GiB"),
    (["--config.train.num_steps=3000000000"], "train.num_steps must be below 2^31"),  # was an OverflowError
])
def test_sizes_the_machine_cannot_hold_are_refused_before_anything_is_written(tmp_path, overrides, message):
    assert message in one_line(launch(f"--config={CONFIG}", f"--workdir={tmp_path / 'run'}", *overrides))
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # 8 s under load (two launches at once)
def test_two_identical_launches_one_runs_and_the_other_is_refused_in_one_line(tmp_path):
    """Started together into one workdir: one writes the results, the other gets one line (in use, or
    already holds results if the first finished first) and exit 2; the results are the first's, complete."""
    args = [sys.executable, "-m", "dynamics.main", f"--config={CONFIG}", f"--workdir={tmp_path / 'run'}", *TINY]
    processes = [subprocess.Popen(args, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
    results = [subprocess.CompletedProcess(args, p.wait(timeout=300), *p.communicate()) for p in processes]
    assert sorted(r.returncode for r in results) == [0, 2], [r.stderr for r in results]
    refused = next(r for r in results if r.returncode == 2)
    assert any(s in one_line(refused) for s in ("in use by process", "already holds results"))
    assert experiment.load(str(tmp_path / "run"), "heavy_tail_linear").step[-1] == 20  # complete


def test_a_run_whose_every_member_diverged_selects_none_and_its_figure_says_so(tmp_path):
    """Adam at lr 1e30 for every member (3 s under load): the run completes, members.csv marks all of them
    diverged and none selected, and the figure is a panel saying so (the figures need a selected member)."""
    workdir = tmp_path / "run"
    done = launch(f"--config={CONFIG}", f"--workdir={workdir}", *TINY[:-1], "--config.optimizer.learning_rate=1e30")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(workdir / "members.csv")
    assert set(table["status"]) == {"diverged"} and not table["selected"].any()
    assert table["selection"].str.contains(history_lib.EVERY_LR_DIVERGED).all()
    assert (workdir / "figures" / "per_class_loss.png").stat().st_size > 0


def test_a_finite_blow_up_is_reported_as_exploded_not_ok(tiny_config):
    """GD at lr 1e6 ends at a finite but absurd loss (issue: 374821 read "ok"): members.csv says 'exploded'."""
    history = train.run(tiny_config, [{"optimizer.learning_rate": 0.3}, {"optimizer.learning_rate": 1e6}],
                        progress=lambda s: None)
    table = history.members_table()
    assert table.status.tolist() == ["ok", "exploded"], table[["status", "final_loss"]]


def test_written_files_follow_the_umask_so_a_shared_workdir_stays_readable(tmp_path):
    """Every result goes through dynamics.atomic; its temporary file must not keep mkstemp's 0600."""
    from dynamics import atomic

    previous = os.umask(0o022)
    try:
        atomic.write_bytes(str(tmp_path / "result.bin"), lambda f: f.write(b"x"))
    finally:
        os.umask(previous)
    assert (tmp_path / "result.bin").stat().st_mode & 0o777 == 0o644

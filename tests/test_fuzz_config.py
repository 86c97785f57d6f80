"""Bad input, fuzzed: random invalid configs (wrong types, out-of-range numbers, NaN/Inf, unknown names, missing
keys, bad sweeps) each give a ConfigError with a one-line message before anything is compiled or written, which
the launcher turns into exit code 2 and one line on stderr (checked for real on a handful of subprocesses);
non-finite data and an unusable workdir get the same treatment; valid edge cases run."""
import copy
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamics import checkpoint, experiment, sweep
from dynamics import config as config_lib
from dynamics.data import DATASETS, Dataset
from dynamics.errors import ConfigError

from conftest import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = lambda line: None  # noqa: E731


def tiny_config() -> dict:
    """heavy_tail_linear's small setting shrunk further: 7 classes, 48 samples, d=8, 4 steps."""
    c = load_config("heavy_tail_linear", "small")[0]
    c["data"].update(num_classes=7, num_samples=48, input_dim=8)
    c["train"].update(num_steps=4, chunk_steps=4, num_log_points=3)
    c["select"]["rule"] = "none"
    return c


BASE = tiny_config()
LEAVES = sweep.flatten(BASE)
NAMES = {  # keys that name something, and a valid alternative for the sweep strategy
    "data.name", "data.law", "data.inputs", "model.name", "model.init", "loss.name", "optimizer.name", "optimizer.schedule",
    "train.log_spacing", "select.rule", "select.metric"}
nonpositive = st.integers(max_value=0)
OUT_OF_RANGE = {  # key -> invalid values (the valid range is in the module that owns the key)
    "seed": st.integers(max_value=-1) | st.integers(min_value=2**31, max_value=2**70),
    "data.num_classes": nonpositive | st.sampled_from([2, 4, 6, 8, 100]),  # step_zipf needs 2^m - 1 <= N
    "data.num_samples": st.integers(max_value=6) | st.sampled_from([47, 49, 50]),  # >= C, divisible by m 2^(m-1)
    "data.exponent": st.floats(max_value=-1e-6),
    "data.ratio": st.floats(max_value=0.999),
    "data.input_dim": nonpositive,
    "data.class_separation": st.floats(max_value=-1e-6),
    "data.seed": st.integers(max_value=-1),
    "model.init_scale": st.floats(max_value=-1e-6),
    "loss.reweight_exponent": st.floats(max_value=-1e-6) | st.floats(min_value=2.001),
    "optimizer.learning_rate": st.floats(max_value=0.0),
    "optimizer.momentum": st.floats(max_value=-1e-6) | st.floats(min_value=1.0),
    "optimizer.b1": st.floats(max_value=-1e-6) | st.floats(min_value=1.0),
    "optimizer.b2": st.floats(max_value=-1e-6) | st.floats(min_value=1.0),
    "optimizer.eps": st.floats(max_value=0.0),
    "optimizer.weight_decay": st.floats(max_value=-1e-6),
    "optimizer.warmup_steps": st.integers(max_value=-1),
    "train.num_steps": nonpositive,
    "train.batch_size": st.integers(max_value=-1) | st.integers(min_value=49, max_value=10**6),  # N = 48
    "train.chunk_steps": nonpositive,
    "train.num_log_points": nonpositive,
    "train.checkpoint_keep": nonpositive,
}
WRONG_TYPES = {  # the type of a valid value -> values of other types
    int: st.sampled_from(["3", None, [1], {"a": 1}, 2.5, True, float("nan"), ()]),
    float: st.sampled_from(["0.1", None, [0.1], {"a": 1.0}, True, (0.5,)]),
    str: st.sampled_from([3, 0.5, None, ["adam"], {"a": "b"}, True, ()]),
    bool: st.sampled_from(["yes", 2, 0.5, None, [True], {"a": True}]),
    tuple: st.sampled_from([3, None, 1.5, {"a": 1}, True]),
}
FLOAT_KEYS = sorted(k for k, v in LEAVES.items() if isinstance(v, float))
SECTIONS = sorted(BASE)


def with_value(config: dict, key: str, value) -> dict:
    flat = sweep.flatten(copy.deepcopy(config))
    flat[key] = value
    return sweep.unflatten(flat)


def without(config: dict, key: str) -> dict:
    flat = sweep.flatten(copy.deepcopy(config))
    removed = {k: v for k, v in flat.items() if k != key and not k.startswith(key + ".")}
    out = sweep.unflatten(removed)
    for section in SECTIONS:  # a section emptied by the removal stays an (empty) section
        if section != key and section not in out and isinstance(BASE[section], dict):
            out[section] = {}
    return out


@st.composite
def wrong_type(draw):
    key = draw(st.sampled_from(sorted(LEAVES)))
    value = draw(WRONG_TYPES[type(LEAVES[key])])
    return with_value(BASE, key, value), [{}]


@st.composite
def out_of_range(draw):
    key = draw(st.sampled_from(sorted(OUT_OF_RANGE)))
    return with_value(BASE, key, draw(OUT_OF_RANGE[key])), [{}]


@st.composite
def non_finite(draw):
    key = draw(st.sampled_from(FLOAT_KEYS + ["train.num_steps", "data.input_dim", "seed"]))
    value = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    return with_value(BASE, key, value), [{}]


@st.composite
def unknown_name(draw):
    key = draw(st.sampled_from(sorted(NAMES) + ["train.extra_metrics", "figures", "new key"]))
    name = draw(st.text(max_size=12))
    if key == "new key":  # an unknown key in a section or at the top
        section = draw(st.sampled_from(SECTIONS + [""]))
        extra = draw(st.text(min_size=1, max_size=12).filter(lambda k: "." not in k))
        target = f"{section}.{extra}" if section and isinstance(BASE[section], dict) else extra
        if target in LEAVES or extra in BASE:
            target = f"{target}_unknown"
        return with_value(BASE, target, 1.0), [{}]
    if key in ("train.extra_metrics", "figures"):
        return with_value(BASE, key, (f"no such {name}",)), [{}]
    config = with_value(BASE, key, f"{name} is unknown")
    if key == "select.metric":
        config["select"]["rule"] = "best_lr"  # the metric is only looked up by best_lr
    return config, [{}]


@st.composite
def missing_key(draw):
    key = draw(st.sampled_from(sorted(LEAVES) + SECTIONS))
    return without(BASE, key), [{}]


@st.composite
def wrong_section(draw):
    section = draw(st.sampled_from([s for s in SECTIONS if isinstance(BASE[s], dict)]))
    return dict(BASE, **{section: draw(st.sampled_from([3, "adam", None, [1, 2], 0.5]))}), [{}]


@st.composite
def bad_sweep(draw):
    """Members built inside the launcher's path: unequal zips, empty axes, unknown keys, bad values."""
    kind = draw(st.sampled_from(["zip", "empty", "unknown", "type", "range"]))
    lengths = draw(st.lists(st.integers(1, 4), min_size=2, max_size=3).filter(lambda ls: len(set(ls)) > 1))
    rates = draw(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=3))
    if kind == "zip":
        keys = ["optimizer.learning_rate", "seed", "optimizer.weight_decay"]
        values = [[0.1] * lengths[0], list(range(lengths[1])), [0.0] * lengths[-1]]
        return BASE, lambda: sweep.zip(*[sweep.axis(k, v) for k, v in zip(keys, values)][:len(lengths)])
    if kind == "empty":
        return BASE, lambda: sweep.product(sweep.axis("optimizer.learning_rate", rates), sweep.axis("seed", []))
    if kind == "unknown":
        key = draw(st.sampled_from(["optimizer.lr", "lr", "train.steps", "data.classes"]))
        return BASE, lambda: sweep.product(sweep.axis("optimizer.learning_rate", rates), sweep.axis(key, [1.0]))
    if kind == "type":
        return BASE, lambda: sweep.axis("optimizer.learning_rate", rates + ["0.1"])
    return BASE, lambda: sweep.axis("optimizer.learning_rate", rates + [draw(OUT_OF_RANGE["optimizer.learning_rate"])])


INVALID = st.one_of(wrong_type(), out_of_range(), non_finite(), unknown_name(), missing_key(), wrong_section(),
                    bad_sweep())


def launcher_error(config: dict, members, workdir: str) -> str:
    """The launcher's path in-process (members built inside it, as from get_sweep()): the ConfigError's message."""
    try:
        experiment.run(config, members() if callable(members) else members, workdir, False, QUIET)
    except ConfigError as e:
        return str(e)
    raise AssertionError(f"an invalid config was accepted: {config}")


@settings(max_examples=1200, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@pytest.mark.slow
@given(INVALID)
def test_invalid_configs_give_one_line_config_errors_and_write_nothing(case):
    config, members = case
    parent = tempfile.mkdtemp()
    try:
        workdir = os.path.join(parent, "run")
        message = launcher_error(config, members, workdir)
        assert message and "\n" not in message, message
        assert not os.path.exists(workdir)
    finally:
        shutil.rmtree(parent)


CONFIG_FILES = config_lib.names()


@st.composite
def any_config_mutated(draw):
    """Any config file's config with one value of a wrong type or non-finite, or one key removed."""
    name = draw(st.sampled_from(CONFIG_FILES))
    config = load_config(name)[0]
    leaves = sweep.flatten(config)
    key = draw(st.sampled_from(sorted(k for k in leaves if k != "figures")))  # figures: checked by the launcher
    kind = draw(st.sampled_from(["wrong type", "non-finite", "missing"]))
    value = leaves[key]
    if kind == "wrong type" and type(value) in WRONG_TYPES:
        return name, key, with_value(config, key, draw(WRONG_TYPES[type(value)]))
    if kind == "non-finite" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return name, key, with_value(config, key, draw(st.sampled_from([math.nan, math.inf, -math.inf])))
    return name, key, without(config, key)


@pytest.mark.slow
def test_every_config_file_refuses_wrong_types_non_finite_values_and_missing_keys():  # 8 s CPU
    """The same properties over every config in configs/ (their own data and model builders), planned only;
    the valid datasets are built once per config file."""
    from dynamics import train

    built, real = {}, train.build_dataset

    def build_once(data_config, *builders):
        key = repr(sorted(sweep.flatten(data_config).items()))
        if key not in built:
            built[key] = real(data_config, *builders)
        return built[key]

    @settings(max_examples=400, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(any_config_mutated())
    def check(case):
        name, key, config = case
        with pytest.raises(ConfigError) as error:
            train.plan(config, [{}])
        assert str(error.value) and "\n" not in str(error.value), (name, key)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train, "build_dataset", build_once)
        check()


def launch(workdir, *flags, config=os.path.join(ROOT, "configs", "heavy_tail_linear.py")):
    return subprocess.run([sys.executable, "-m", "dynamics.main", f"--config={config}", f"--workdir={workdir}",
                           *flags], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.slow
def test_the_launcher_exits_2_with_one_line(tmp_path):
    """Real launches: a wrong type and a non-finite value on the command line, a workdir under a file."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    cases = [(tmp_path / "a", ["--config.train.num_steps=ten"], "num_steps"),
             (tmp_path / "b", ["--config.optimizer.momentum=inf"], "optimizer.momentum"),
             (blocker / "run", ["--config.train.num_steps=2", "--config.optimizer.name=adam",
                                "--config.optimizer.learning_rate=0.1", "--config.data.num_classes=7",
                                "--config.data.num_samples=48", "--config.data.input_dim=8"], "not a directory")]
    for workdir, flags, expected in cases:
        result = launch(workdir, *flags)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2 and len(lines) == 1 and expected in lines[0], (flags, result.stderr)
        assert "Traceback" not in result.stderr and not workdir.exists()


def test_non_finite_data_is_refused(tmp_path, monkeypatch):
    def nan_data(num_samples: int):
        x = np.ones((num_samples, 3), np.float32)
        x[1, 2] = np.nan
        return Dataset(x=x, y=np.zeros(num_samples, np.int32), class_counts=np.array([num_samples]))

    monkeypatch.setitem(DATASETS, "nan_data", nan_data)
    config = dict(BASE, data={"name": "nan_data", "num_samples": 4})
    assert "NaN or Inf" in launcher_error(config, [{}], str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_full_or_unwritable_workdir_is_refused_before_training(tmp_path, monkeypatch):
    config = with_value(BASE, "optimizer.name", "adam")
    real = shutil.disk_usage
    monkeypatch.setattr(checkpoint.shutil, "disk_usage", lambda path: real(path)._replace(free=100))
    message = launcher_error(config, [{}], str(tmp_path / "run"))
    assert "not enough disk space" in message and "MiB" in message and not (tmp_path / "run").exists()
    monkeypatch.setattr(checkpoint.shutil, "disk_usage", real)
    (tmp_path / "file").write_text("")
    assert "not a directory" in launcher_error(config, [{}], str(tmp_path / "file" / "run"))


@pytest.mark.parametrize("data", [
    dict(law="uniform", num_classes=1, num_samples=5),  # one class
    dict(law="uniform", num_classes=5, num_samples=5),  # one sample per class
    dict(law="two_class", num_classes=2, num_samples=12),  # C = 2
])
@pytest.mark.slow
def test_valid_edge_cases_run(data):
    """Edge cases that must train: one class, one sample per class, C = 2, batch size = dataset size."""
    from dynamics import train

    config = copy.deepcopy(BASE)
    config["data"].update(data)
    config["train"].update(batch_size=data["num_samples"], per_class_grad_norm=True)
    history = train.run(config, [{"optimizer.name": "adam", "optimizer.learning_rate": 0.1}], QUIET)
    assert history.records["per_class_loss"].shape == (1, len(history.step), data["num_classes"])
    assert np.all(np.isfinite(history.records["loss"]))

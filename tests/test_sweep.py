"""Sweep specs: building members, grouping them into programs, and refusing bad specs."""
import os
import subprocess
import sys
import textwrap

import pytest

from dynamics import sweep, train
from dynamics.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_product_zip_chain():
    members = sweep.chain(
        sweep.product(sweep.axis("a", [1, 2]), sweep.axis("b", ["x", "y"])),
        sweep.zip(sweep.axis("a", [3, 4]), sweep.axis("b", ["z", "w"])),
    )
    assert members == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"},
                       {"a": 3, "b": "z"}, {"a": 4, "b": "w"}]


def test_bad_specs_raise_config_errors(tiny_config):
    with pytest.raises(ConfigError, match="empty"):
        sweep.axis("seed", [])
    with pytest.raises(ConfigError, match="equal length"):
        sweep.zip(sweep.axis("seed", [0, 1]), sweep.axis("optimizer.learning_rate", [0.1]))
    with pytest.raises(ConfigError, match="unknown config key 'optimizer.lr'"):
        sweep.member_configs(tiny_config, sweep.axis("optimizer.lr", [0.1]))


def test_numbers_and_optimizers_share_a_program_and_code_changes_split_it(tiny_config):
    """Numbers are traced; optimizers that take the same gradient are chosen by a traced index in one
    program; a schedule (code) or SAM's second gradient splits the program."""
    members = sweep.chain(
        sweep.product(sweep.axis("optimizer.name", ["gd"]), sweep.axis("optimizer.learning_rate", [0.1, 1.0]),
                      sweep.axis("seed", [0, 1]), sweep.axis("data.seed", [0, 1])),
        sweep.product(sweep.axis("optimizer.name", ["adam"]), sweep.axis("optimizer.weight_decay", [0.0, 0.1])),
        sweep.axis("optimizer.name", ["sam"]),
        sweep.axis("optimizer.schedule", ["cosine"]),
    )
    _, groups = train.plan(tiny_config, members)
    assert [g.indices for g in groups] == [list(range(10)), [10], [11]]
    assert groups[0].data_stacked and not groups[1].data_stacked
    assert groups[0].setup.optimizers == ("gd", "adam")
    assert list(groups[0].numbers[train.OPTIMIZER_INDEX]) == [0] * 8 + [1] * 2
    assert train.OPTIMIZER_INDEX not in groups[1].numbers


def bad_config_file(tmp_path, sweep_body):
    path = tmp_path / "bad_sweep.py"
    path.write_text(textwrap.dedent(f"""
        from dynamics import config, sweep
        def get_config():
            return config.based_on("heavy_tail_linear")
        def get_sweep():
            return {sweep_body}
    """))
    return str(path)


@pytest.mark.parametrize("body, message", [
    ('sweep.axis("optimizer.lr", [0.1, 1.0])', "unknown config key 'optimizer.lr'"),
    ('sweep.axis("seed", [])', "sweep axis 'seed' is empty"),
    ('sweep.zip(sweep.axis("seed", [0, 1]), sweep.axis("optimizer.learning_rate", [0.1]))', "equal length"),
])
@pytest.mark.slow
def test_bad_sweeps_exit_2_and_write_nothing(tmp_path, body, message):
    workdir = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "dynamics.main", f"--config={bad_config_file(tmp_path, body)}",
                             f"--workdir={workdir}"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr
    assert not workdir.exists()


def test_a_data_setting_that_is_not_a_number_splits_groups():
    """Members whose data differ only in numbers (a seed) share a program; a different operation, read by
    metrics while tracing, must not reuse the first member's config."""
    base = {"seed": 0, "data": {"name": "modular_arithmetic", "operation": "add", "seed": 0, "p": 7},
            "optimizer": {"learning_rate": 0.1}}
    add, multiply, reseeded = (sweep.group_key(c, "shapes") for c in sweep.member_configs(
        base, [{"data.operation": "add"}, {"data.operation": "multiply"}, {"data.seed": 1}]))
    assert add == reseeded and add != multiply


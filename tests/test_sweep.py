"""Sweep specs: building members, grouping them into programs, and refusing bad specs."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dynamics import memory, sweep, train
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


def test_one_program_of_several_optimizers_and_members_one_at_a_time_give_each_member_its_own_run(
        tiny_config, monkeypatch):
    """Members of four optimizers in one program (optimizers.switch) match their own one-member runs, and so
    do the same members run one after another inside the program (memory.one_at_a_time, forced here).
    Measured: records within 3.0e-7 relative of the one-member runs' (the programs fuse differently; one
    after another: bit-identical for adam, 2.8e-7 for normalized_gd)."""
    members = [{"optimizer.name": name, "optimizer.learning_rate": lr}
               for name, lr in (("gd", 0.5), ("adam", 0.05), ("sign", 0.01), ("normalized_gd", 0.3))]
    quiet = lambda line: None  # noqa: E731
    together = train.run(tiny_config, members, quiet)
    monkeypatch.setattr(memory, "CACHE_BYTES", 0)  # every member's step is "larger than the cache"
    one_at_a_time = train.run(tiny_config, members, quiet)
    for i in (1, 3):  # adam (two moments in its state), normalized_gd (a norm over every parameter)
        alone = train.run(tiny_config, [members[i]], quiet).records
        for run in (together, one_at_a_time):
            for key in ("per_class_loss", "per_class_grad_norm", "param_norm"):
                np.testing.assert_allclose(run.records[key][i], alone[key][0], rtol=1e-6, err_msg=f"{members[i]} {key}")

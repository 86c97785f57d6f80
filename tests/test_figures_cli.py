"""python -m dynamics.figures: one figure in its small setting writes a non-empty PNG, the figure is
redrawn from the saved workdir alone (--from, nothing trained), and an unknown name exits 2."""
import os
import subprocess
import sys

import pytest

from dynamics import config, figures, sweep, train
from dynamics.pieces import library

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def figures_cli(*args):
    return subprocess.run([sys.executable, "-m", "dynamics.figures", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def is_png(path):
    with open(path, "rb") as f:
        return os.path.getsize(path) > 1000 and f.read(8) == PNG_MAGIC


@pytest.mark.slow
def test_one_small_figure_is_made_then_redrawn_from_its_workdir(tmp_path):
    made = figures_cli("heavy_tail_reweighting", "--small", f"--outdir={tmp_path / 'runs'}")
    assert made.returncode == 0, made.stderr[-2000:]
    assert "[1/1] heavy_tail_reweighting: made" in made.stdout
    assert is_png(tmp_path / "runs" / "heavy_tail_reweighting.png")
    assert os.path.exists(tmp_path / "runs" / "heavy_tail_reweighting" / "history.npz")

    redrawn = figures_cli("heavy_tail_reweighting", f"--from={tmp_path / 'runs'}", f"--outdir={tmp_path / 'again'}")
    assert redrawn.returncode == 0, redrawn.stderr[-2000:]
    assert "[1/1] heavy_tail_reweighting: redrew" in redrawn.stdout
    assert is_png(tmp_path / "again" / "heavy_tail_reweighting.png")
    assert not os.path.exists(tmp_path / "again" / "heavy_tail_reweighting")  # no run, no workdir
    # --from may also name one workdir (e.g. dynamics.main's runs/NAME)
    paths = figures.redraw_figure("heavy_tail_reweighting", str(tmp_path / "runs" / "heavy_tail_reweighting"),
                                  str(tmp_path / "one"))
    assert paths == [str(tmp_path / "one" / "heavy_tail_reweighting.png")] and is_png(paths[0])


def test_unknown_name_exits_2_listing_the_valid_names(tmp_path):
    result = figures_cli("no_such_figure", f"--outdir={tmp_path}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no_such_figure" in lines[0] and "heavy_tail_linear" in lines[0]


# The most steps a small variant takes: grokking_diagonal's 6000 (its tiny diagonal model groks at 1.2-1.6 x the
# predicted transition step); the heavy-tail configs' small variants take 60, theory_softmax's 1500.
SMALL_MAX_STEPS = 6000


@pytest.mark.parametrize("name", config.names())
def test_every_config_loads_in_its_default_and_small_variant(name):
    """configs/NAME.py loads as is and as NAME.py:small (the setting of the tests, notebooks and figures
    --small), and small is no bigger: at most as many steps (and SMALL_MAX_STEPS) and members."""
    (default, members), (small, small_members) = config.load_named(name), config.load_named(name, "small")
    assert small["train"]["num_steps"] <= min(default["train"]["num_steps"], SMALL_MAX_STEPS)
    assert 0 < len(small_members) <= len(members)


# The configs with a paper variant (configs/NAME.py:paper, the paper's own size for an accelerator; the README's
# reproduction table says what it restores). The others run no paper's experiment at a size (README).
PAPER_VARIANTS = ("grokking_modular", "grokking_modular_transformer", "heavy_tail_cnn", "heavy_tail_hessian",
                  "heavy_tail_linear", "heavy_tail_linear_centered", "heavy_tail_reweighting", "heavy_tail_transformer")


@pytest.mark.parametrize("name", PAPER_VARIANTS)
def test_every_paper_variant_loads_and_each_member_resolves(name):
    """configs/NAME.py:paper loads, and every member's resolved config holds every key of its sections'
    defaults and passes the trainer's checks (nothing is built or trained: paper sizes are for accelerators)."""
    paper, members = config.load_named(name, "paper")
    for member in sweep.member_configs(paper, members):
        full = config.defaults(data=member["data"]["name"], model=member["model"]["name"]).to_dict()
        assert set(sweep.flatten(member)) == set(sweep.flatten(full))
        train.validate(member, library())


def test_thin_keeps_the_middle_learning_rate_and_the_first_seed():
    """sweep.thin, the small variants' sweep: one learning rate (the middle of each grid) and one seed per setting."""
    members = sweep.product(sweep.axis("optimizer.name", ["gd", "adam"]),
                            sweep.axis("optimizer.learning_rate", [0.1, 1.0, 10.0]), sweep.axis("seed", [0, 1]))
    assert sweep.thin(members) == [{"optimizer.name": "gd", "optimizer.learning_rate": 1.0, "seed": 0},
                                   {"optimizer.name": "adam", "optimizer.learning_rate": 1.0, "seed": 0}]

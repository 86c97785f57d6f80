"""The notebooks under colabs/: each runs top to bottom in its small setting (DYNAMICS_SMALL=1) in a
fresh kernel (nbclient; a cell that raises fails the test), is stored with its outputs cleared, and
matches its jupytext source colabs/NAME.py (edit the .py, then `jupytext --sync colabs/NAME.py`)."""
import glob
import os

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "colabs", "*.ipynb")))
CELL_TIMEOUT_S = 600


def test_every_phenomenon_has_a_notebook():
    names = {os.path.basename(p)[:-6] for p in NOTEBOOKS}
    assert {"heavy_tail_imbalance", "theory_vs_simulation", "class_competition", "grokking", "neural_collapse",
            "sweeps_on_accelerators", "curvature_sam", "gradient_starvation", "noisy_labels", "lazy_rich_grokking",
            "harmonic_loss", "weight_balancing"} <= names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: os.path.basename(p))
def test_notebook_is_stored_clean_and_matches_its_source(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "outputs not cleared"
    source = jupytext.read(path[: -len(".ipynb")] + ".py")
    assert [(c.cell_type, c.source) for c in source.cells] == [(c.cell_type, c.source) for c in notebook.cells], \
        "the .ipynb differs from its .py: run `jupytext --sync` on the .py"
    install, small = code[0].source, code[1].source
    assert 'find_spec("dynamics") is None' in install and "pip" in install  # the guarded install cell
    assert any(line.startswith("SMALL = ") for line in small.splitlines())  # the one variable that sizes the run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: os.path.basename(p))
@pytest.mark.slow
def test_notebook_runs_in_its_small_setting(path, tmp_path, monkeypatch):
    monkeypatch.setenv("DYNAMICS_SMALL", "1")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError if a cell raises

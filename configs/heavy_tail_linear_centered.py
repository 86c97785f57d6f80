"""heavy_tail_linear without the shared input mean: inputs U[-1/2, 1/2] instead of U[0, 1].

The classes' inputs no longer share a mean, the per-class problems decouple, and the gap between
GD and Adam on the rare classes largely closes (compare with configs/heavy_tail_linear.py): the
shared mean is what couples the frequent and the rare classes in Kunstner et al. 2024's linear model.

Everything else is configs/heavy_tail_linear.py (the paper's construction at m = 8: d = 2304 > n = 2048,
PyTorch's init, the same optimizers and selection; GD's grid goes up to lr 1, see get_sweep), in each of
its variants (small: m = 5 and 60 steps; paper: m = 11).

Run:     python -m dynamics.main --config=configs/heavy_tail_linear_centered.py --workdir=runs/heavy_tail_linear_centered
Small:   python -m dynamics.main --config=configs/heavy_tail_linear_centered.py:small --workdir=/tmp/heavy_tail_linear_centered_small
Runtime: about 3 min of CPU time on a 2-core CPU (heavy_tail_linear's sweep plus GD at lr 0.3 and 1; measured
         154 s without GD 3e-3 and Adam 3e-4, 5.7 min wall-clock while the machine was shared).
Paper:   python -m dynamics.main --config=configs/heavy_tail_linear_centered.py:paper --workdir=DIR
         (heavy_tail_linear's paper size, m = 11, centred; meant for an accelerator, not run here)
"""
from dynamics import config, sweep


def get_config(variant=""):
    c = config.based_on("heavy_tail_linear", config.variant(variant, ("small", "paper")))
    c.data.input_mean = 0.0  # centred inputs: no mean shared across classes
    return c


def get_sweep(variant=""):
    """heavy_tail_linear's sweep, with GD also at lr 0.3 and 1: without the shared mean the largest stable GD
    step size is larger (at lr 0.1, the top of the base grid, GD is still stable here). small: the middle
    learning rate of each grid (GD's is 0.1 here)."""
    members = config.load_named("heavy_tail_linear")[1] + sweep.product(
        sweep.axis("optimizer.name", ["gd"]), sweep.axis("optimizer.learning_rate", [0.3, 1.0]))
    return sweep.thin(members) if variant == "small" else members

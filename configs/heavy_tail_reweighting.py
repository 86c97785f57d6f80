"""Kunstner et al. 2024, "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent
on Language Models", appendix (reweighting): GD on class-reweighted cross-entropy, weights
w_k ∝ π_k^-p with p = 0 (plain), 0.5 (∝ 1/√π_k) and 1 (∝ 1/π_k). Reweighting speeds up the rare
classes under GD; the figure shows the unweighted per-bucket losses and the average unweighted
loss ('mean_loss', also in members.csv as final_mean_loss) for each p.

The model is the variant (the text after ':'):
Run:     python -m dynamics.main --config=configs/heavy_tail_reweighting.py --workdir=/tmp/heavy_tail_reweighting
         (linear softmax model on step-Zipf data as configs/heavy_tail_linear.py, but d = 256 < n and W = 0)
         python -m dynamics.main --config=configs/heavy_tail_reweighting.py:transformer \
             --workdir=/tmp/heavy_tail_reweighting_transformer
         (the transformer of configs/heavy_tail_transformer.py)
Small:   python -m dynamics.main --config=configs/heavy_tail_reweighting.py:small --workdir=/tmp/heavy_tail_reweighting_small
         (the linear model at m = 5: C = 31, n = 320, d = 32; 60 steps, GD at lr 1: tests, figures --small)
Runtime (3 exponents x 3 GD learning rates, vmapped in one program; 300 full-batch steps), CPU time on a 2-core CPU: linear 1.4 min, transformer 3.5 min (measured 3.3 and
         11 min wall-clock while the machine was shared, load average ~10).
The learning rate is selected per exponent for the lowest final unweighted average loss
('mean_loss'), the quantity being compared.
Paper:   python -m dynamics.main --config=configs/heavy_tail_reweighting.py:paper --workdir=DIR
         (meant for an accelerator; not run here): the paper's linear setting, heavy_tail_linear's paper
         variant (m = 11: C = 2047, n = 22528, d = 24576 > n, PyTorch's init, 1000 full-batch steps) with
         the authors' GD grids per weighting (their balanced_x.py, balanced_x_class_weighted_sqrt.py and
         balanced_x_class_weighted.py: SGD_NM in half decades 10^-3..10^-1, 10^-2..10^1, 10^-1..10^1
         for p = 0, 1/2, 1) over seeds 0-2 (51 members).
"""
from dynamics import config, sweep


def get_config(variant=""):
    transformer = config.variant(variant, ("small", "transformer", "paper")) == "transformer"
    paper = variant == "paper"  # heavy_tail_linear's paper variant: m = 11, d = 24576 > n, PyTorch init, 1000 steps
    c = config.based_on("heavy_tail_transformer" if transformer else "heavy_tail_linear",
                        "paper" if paper else "")  # the experiment reweighted
    c.optimizer.name = "gd"  # plain gradient descent for every member
    c.select.metric = "mean_loss"  # per exponent, the lr with the lowest unweighted average loss
    c.figures = ("reweighting",)  # per-bucket unweighted loss per p, and mean_loss of every p
    if not (transformer or paper):
        # Not the paper's d > n regime of heavy_tail_linear: its GD step sizes (<= 0.1 at m = 8) are not those
        # of the transformer, and get_sweep() serves both; with d < n and W = 0, lr 0.3-3 is stable here.
        c.data.input_dim = 256  # d < n = 2048
        c.model.init_scale = 0.0  # W = 0, b = 0
    if variant == "small":  # m = 5 groups, d < n
        c.data.num_classes = 31  # C = 2^5 - 1
        c.data.num_samples = 320  # n: 64 samples per group
        c.data.input_dim = 32  # d < n
        c.train.num_steps = 60  # optimizer steps
        c.train.chunk_steps = 60  # one compiled scan
        c.train.num_log_points = 12  # records
    return c


def get_sweep(variant=""):
    """Exponents p in {0, 0.5, 1} x GD learning rates (all floats: one vmapped program); small: lr 1.
    paper: each exponent over the authors' own GD grid (half decades; SGD_NM's lr_grid in balanced_x.py
    (-3, -1), balanced_x_class_weighted_sqrt.py (-2, 1), balanced_x_class_weighted.py (-1, 1)), seeds
    0-2 (their SEEDS_3)."""
    if variant == "paper":
        def grid(exponent, low, high):
            return sweep.product(sweep.axis("loss.reweight_exponent", [exponent]),
                                 sweep.axis("optimizer.learning_rate", [10 ** (k / 2) for k in range(2 * low, 2 * high + 1)]))

        return sweep.product(sweep.chain(grid(0.0, -3, -1), grid(0.5, -2, 1), grid(1.0, -1, 1)), sweep.axis("seed", [0, 1, 2]))
    members = sweep.product(sweep.axis("loss.reweight_exponent", [0.0, 0.5, 1.0]),
                            sweep.axis("optimizer.learning_rate", [0.3, 1.0, 3.0]))
    return sweep.thin(members) if variant == "small" else members

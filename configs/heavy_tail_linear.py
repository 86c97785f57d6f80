"""Kunstner et al. 2024, "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent
on Language Models", linear model on step-Zipf data (their fig. 3, `balanced_x.py` in their code):
under GD the rare classes' loss does not go down while Adam, sign descent and normalised GD fit every class.

The paper's setting: m groups, group i holds 2^i classes of 2^(m-i) samples (C = 2^m - 1, n = m 2^m),
inputs U[0, 1]^d with d = (m+1) 2^m > n, a linear layer with bias initialised as PyTorch's nn.Linear,
full-batch steps, each optimizer at its best step size from a grid; momentum 0.9 for sign descent and
normalised GD as heavy-ball momentum on the normalised direction (their Sign_M, NormSGD_M). Here m = 8
(C = 255, n = 2048, d = 2304) and 300 steps instead of m = 11 and 1000 (CPU time); step sizes on a
factor-~3 grid per optimizer, chosen by dynamics.history.select_best_lr (unstable members are out).

Run:     python -m dynamics.main --config=configs/heavy_tail_linear.py --workdir=runs/heavy_tail_linear
Small:   python -m dynamics.main --config=configs/heavy_tail_linear.py:small --workdir=/tmp/heavy_tail_linear_small
         (the paper's construction at m = 5: C = 31, n = 160, d = 192; 60 steps, the middle learning rate of
         each grid: tests, notebook, figures --small)
Runtime: 76 s wall, 139 CPU-s on an idle 2-core CPU (14 members x 300 full-batch steps in one compiled
         program for the four optimizers, the figure; measured in the third session of 2026-11-29).
The paper's size, for an accelerator (m = 11: C = 2047, n = 22528, d = 24576, 1000 steps; not run here):
         python -m dynamics.main --config=configs/heavy_tail_linear.py:paper --workdir=DIR
Per-class gradient norms: add --config.train.per_class_grad_norm=True.
Without the shared input mean (the effect vanishes): configs/heavy_tail_linear_centered.py
"""
from dynamics import config, sweep

GROUPS = {"": 8, "small": 5, "paper": 11}  # m, the number of frequency groups (the paper's `size`: 11)


def get_config(variant=""):
    m = GROUPS[config.variant(variant, ("small", "paper"))]
    c = config.defaults(data="synthetic", model="linear")  # step-Zipf classes, U[0, 1] inputs; logits = Wx + b
    c.data.num_classes = 2**m - 1  # C = 2^m - 1 (255 at m = 8: a 128x imbalance; the paper's m = 11: 2047)
    c.data.num_samples = m * 2**m  # n = m 2^m; each group holds 2^m samples (2048 at m = 8; 22528 at m = 11)
    c.data.input_dim = (m + 1) * 2**m  # d = (m+1) 2^m > n, as in the paper (2304 at m = 8; 24576 at m = 11)
    c.model.init = "pytorch_uniform"  # W, b ~ U[±1/sqrt(d)], nn.Linear's default (the paper's)
    c.optimizer.learning_rate = 1.0  # peak step size η (swept below)
    c.train.num_steps = 1000 if variant == "paper" else 300  # full-batch steps (the paper: 1000 epochs)
    c.train.num_log_points = 60  # records (8 in the second half: the selection's instability test)
    c.select.rule = "best_lr"  # per optimizer, the stable lr with the lowest worst tail metric
    c.figures = ("per_class_loss",)  # per-class loss curves by frequency
    if variant == "small":
        c.train.num_steps = 60  # optimizer steps
        c.train.chunk_steps = 60  # one compiled scan
        c.train.num_log_points = 12  # records
    return c


def get_sweep(variant=""):
    """Each optimizer over its own learning-rate grid (vmapped: one program for all four). Measured at m = 8,
    seed 0 (on a wider grid): GD is stable up to lr 0.03 and oscillates at 0.1, Adam is best at 3e-3, Sign_M
    at 1e-4 and NormSGD_M at 1e-2. GD and Adam also get the step sizes the paper selected at m = 11 (GD 10^-2.5,
    Adam 10^-3.5: their balanced_x_perclass.py), so that the paper's size finds its optimum inside the grid.
    small: the middle learning rate of each grid."""
    def grid(name, rates, **fixed):
        settings = [sweep.axis("optimizer.name", [name])] + [sweep.axis(k, [v]) for k, v in fixed.items()]
        return sweep.product(*settings, sweep.axis("optimizer.learning_rate", rates))

    members = sweep.chain(
        grid("gd", [3e-3, 1e-2, 3e-2, 1e-1]),
        grid("adam", [3e-4, 1e-3, 3e-3, 1e-2]),
        grid("sign", [3e-5, 1e-4, 3e-4], **{"optimizer.momentum": 0.9}),  # the paper's Sign_M
        grid("normalized_gd", [3e-3, 1e-2, 3e-2], **{"optimizer.momentum": 0.9}),  # the paper's NormSGD_M
    )
    return sweep.thin(members) if variant == "small" else members

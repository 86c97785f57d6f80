"""Pezeshki et al. 2021, "Gradient Starvation", the version where class frequency sets the features'
strengths: the toy of configs/gradient_starvation.py (per-sample strengths 4 and 2, coupling 0.5)
with 20 samples, class 0 `ratio` times more frequent than class 1. As the ratio grows, feature 2's
strength (a singular value of YΦ) falls; under the L2 penalty the minority class's margin falls with
it, while spectral decoupling gives both classes the same margin μ* (σ(−μ*) = λ_SD μ*) at every ratio.
theory/gradient_starvation.py's eq. (1) is drawn over the simulated responses.

Measured (10000 steps, θ₀ = 0): class 1's margin at the end under L2 5.176, 4.701, 4.100, 3.687 for
ratios 1, 3, 9, 19 (class 0's 6.03-6.24); under SD both classes at 4.665 for every ratio. agreement.csv:
GD within 5e-6 of eq. (1) stepped, the end within 6e-6 of the fixed point.

Run:     python -m dynamics.main --config=configs/gradient_starvation_imbalance.py --workdir=/tmp/gs_imbalance
Small:   python -m dynamics.main --config=configs/gradient_starvation_imbalance.py:small --workdir=/tmp/gs_small
         (ratios 1 and 9; the small variant's step and steps: tests, notebook, figures --small)
Runtime: 6.4 s CPU (27 s wall on the shared, busy 2-core CPU): one compiled program for all 8 members.
"""
from dynamics import config, sweep


def get_config(variant=""):
    c = config.based_on("gradient_starvation", variant)
    c.data.num_samples = 20  # 10:10 at ratio 1, 18:2 at ratio 9, 19:1 at ratio 19
    c.optimizer.learning_rate = 0.2  # stable up to the strongest feature here (2η s_1²/(4N) < 1)
    c.train.num_steps = 10000  # t = 2ηk = 4000: the rare class's weak feature needs that long to settle
    c.train.chunk_steps = 10001  # one compiled scan
    if variant == "small":
        c.train.num_steps = 4000  # t = 1600: enough up to ratio 9
        c.train.chunk_steps = 4001  # one compiled scan
    return c


def get_sweep(variant=""):
    """Ratios 1, 3, 9, 19 (small: 1, 9) under the L2 penalty and under spectral decoupling."""
    ratios = [1.0, 9.0] if variant == "small" else [1.0, 3.0, 9.0, 19.0]
    penalties = sweep.zip(sweep.axis("optimizer.weight_decay", [0.01, 0.0]),
                          sweep.axis("loss.spectral_decoupling", [0.0, 0.004]))
    return sweep.product(penalties, sweep.axis("data.ratio", ratios))

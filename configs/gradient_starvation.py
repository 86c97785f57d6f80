"""Pezeshki et al. 2021, "Gradient Starvation: A Learning Proclivity in Neural Networks": the linear
toy of the authors' Figure_6/toy_fig_6.py. Two samples, two features of strengths (s_1, 2) coupled by
δ = 0.5; cross-entropy with an L2 penalty on θ starves feature 2 (its response z_2 falls as s_1
grows), spectral decoupling (an L2 penalty on the logits instead) makes the responses' end point
independent of s_1. theory/gradient_starvation.py's linearised dynamics (its eq. (1), stepped as GD)
is drawn over the simulated responses, its fixed point beside the end point.

Measured (5000 steps, θ₀ = 0): z_2 at the end under L2 1.640, 1.583, 1.466, 1.327, 1.180 for
s_1 = 2 … 6; under SD 1.707-1.708 for every s_1 (both classes' margins 4.665). agreement.csv: GD
within 1.6e-5 (relative) of eq. (1) stepped at h = 2η, the end within 5.9e-4 of the fixed point z*.

Run:     python -m dynamics.main --config=configs/gradient_starvation.py --workdir=/tmp/gradient_starvation
Small:   python -m dynamics.main --config=configs/gradient_starvation.py:small --workdir=/tmp/gradient_starvation_small
         (s_1 = 2, 4, 6; 2500 steps at 4x the step size; tests, notebook, figures --small)
Runtime: 6.0 s CPU (25 s wall on the shared, busy 2-core CPU): one compiled program for all 10 members.
"""
from dynamics import config, sweep


def get_config(variant=""):
    c = config.defaults(data="two_features", model="linear_no_bias")  # ŷ = Φθ with Φ = X: the linear regime itself
    c.model.init_scale = 0.0  # θ₀ = 0, as toy_fig_6.py
    c.optimizer.learning_rate = 0.05  # toy_fig_6.py's step (with N = 2 and two logits, our GD on W is theirs on θ)
    c.optimizer.weight_decay = 0.01  # the paper's λ of λ/2‖θ‖² (toy_fig_6.py: 1/C, C = 100)
    c.train.num_steps = 5000  # toy_fig_6.py's steps
    c.train.chunk_steps = 5001  # one compiled scan
    c.train.num_log_points = 40  # log-spaced
    c.train.extra_metrics = ("feature_responses",)  # z = Uᵀ(y ŷ) and each class's margin
    c.figures = ("gradient_starvation",)  # response trajectories and end points, prediction dotted
    if config.variant(variant, ("small",)) == "small":
        c.optimizer.learning_rate = 0.2  # 4x the step (GD still stable at s_1 = 6)
        c.train.num_steps = 2500  # t = 2ηk = 1000, twice the paper's: random inits (tests) settle too
        c.train.chunk_steps = 2501  # one compiled scan
        c.train.num_log_points = 24  # log-spaced
    return c


def get_sweep(variant=""):
    """s_1 = 2 … 6 (small: 2, 4, 6) under the L2 penalty and under spectral decoupling (no L2 then):
    toy_fig_6.py's λ = 0.01 and SD 0.001 Σŷ² = λ/2 ŷ² with λ = 0.002 on the binary logit, which is
    λ = 0.004 on our two logits (ŷ²= 2‖z‖² when z_0 = −z_1)."""
    strengths = [2.0, 4.0, 6.0] if variant == "small" else [2.0, 3.0, 4.0, 5.0, 6.0]
    penalties = sweep.zip(sweep.axis("optimizer.weight_decay", [0.01, 0.0]),
                          sweep.axis("loss.spectral_decoupling", [0.0, 0.004]))
    return sweep.product(penalties, sweep.axis("data.strength_1", strengths))

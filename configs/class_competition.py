"""Francazi, Baity-Jesi, Lucchi 2023, "A Theoretical Analysis of the Learning Dynamics under Class
Imbalance": two classes 10:1. Under GD the majority gradient, pointing against the minority's,
raises the minority loss at the first step; per-class normalised GD (PCNGD) lowers both. The
first-order prediction Δℓ_k = −η g_k·d (theory/class_competition.py), computed from the recorded
per-class gradient Gram matrix, is drawn against the simulated first step. Under SGD the minority
class's minibatch gradient is the noisier in direction: the measured cosine with its full-batch
gradient ('sgd_gradient_cosine') against batch size, beside the predicted 1/sqrt(1 + ρ²/n_k)
averaged over the batch's class count.

Measured (agreement.csv, dynamics/predict/competition.py): first-step minority Δℓ under GD
predicted +0.0287, simulated +0.0292 (majority −0.0784 / −0.0753); under PCNGD −0.0562 / −0.0544
(majority −0.0535 / −0.0518). SGD cosines at step 0 within 0.011 of the prediction for B = 2…512
(minority 0.54 → 0.98, majority 0.61 → 0.998). At step 200 the prediction is off by up to 0.14
(B = 2; it even predicts the wrong order there): once the classes are fitted the per-sample
gradient noise is no longer spread over many directions, which the formula assumes.

Run:     python -m dynamics.main --config=configs/class_competition.py --workdir=/tmp/class_competition
Small:   python -m dynamics.main --config=configs/class_competition.py:small --workdir=/tmp/class_competition_small
         (100 steps, GD, PCNGD and SGD at B = 8: notebook, figures --small)
Runtime: measured 2 min 55 s wall (71 s CPU) on the shared, busy 2-core CPU (2 full-batch members +
5 SGD batch sizes, each its own compiled program; 200 steps).
No paper variant: the predictions checked here (first-step loss changes, SGD gradient cosines) hold at any
size; the paper's own experiments train deep networks on image data (MNIST, CIFAR-10/100 subsets in the
authors' PCNGD-Algorithms code), which this library does not ship.
"""
from dynamics import config, sweep


def get_config(variant=""):
    c = config.defaults(data="synthetic", model="linear")  # logits = Wx + b
    c.data.law = "two_class"  # majority and minority, ratio 10
    c.data.num_classes = 2  # binary
    c.data.num_samples = 1100  # 1000 + 100
    c.data.inputs = "gaussian_mixture"  # class means N(0, separation²/d) plus N(mean, 1/12) noise
    c.data.input_dim = 64  # d: the per-sample noise spreads over many directions (the theory's P_eff ≫ 1)
    c.data.input_mean = 0.0  # no shared offset
    c.data.class_separation = 1.0  # ‖μ_k‖ ≈ 1: gradient noise-to-signal ρ ≈ 1.6 at init
    c.model.init_scale = 0.0  # W = 0, b = 0: every member starts from the same point
    c.train.num_steps = 200  # optimizer steps
    c.train.chunk_steps = 201  # one compiled scan
    c.train.num_log_points = 40  # log-spaced: steps 0 and 1 are logged (the first-step change)
    c.train.extra_metrics = ("class_gradient_gram", "sgd_gradient_cosine")  # ḡ_k·ḡ_j; minibatch cosines, ρ_k
    c.figures = ("class_competition",)  # first-step Δℓ, loss curves, SGD cosine against batch size
    if config.variant(variant, ("small",)) == "small":
        c.train.num_steps = 100  # optimizer steps
        c.train.chunk_steps = 101  # one compiled scan
        c.train.num_log_points = 8  # steps 0 and 1 still logged
    return c


def get_sweep(variant=""):
    """GD and PCNGD on the full batch, then minibatch GD (SGD) over batch sizes (small: B = 8 only)."""
    full = sweep.axis("optimizer.name", ["gd", "per_class_normalized_gd"])
    sizes = [8] if variant == "small" else [2, 8, 32, 128, 512]
    sgd = sweep.product(sweep.axis("optimizer.name", ["gd"]), sweep.axis("train.batch_size", sizes))
    return sweep.chain(full, sgd)

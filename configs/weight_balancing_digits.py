"""Weight balancing, first stage (Alshammari et al. 2022; Hasegawa & Sato 2023): an MLP on long-tailed
digits trained with cross-entropy, with and without weight decay; configs/weight_balancing_digits_stage2.py
then retrains its classifier from these parameters.

Claims checked (Hasegawa & Sato 2023, sec. 4): weight decay with cross-entropy raises the Fisher
discriminant ratio of the features (and lowers NC1); without a reweighted loss the classifier rows
of frequent classes end longer (Alshammari et al. 2022, Fig. 1). Measured: see the README row
(numbers from `python -m dynamics.main --config=configs/weight_balancing_digits.py --workdir=runs/weight_balancing_digits`).

Run:     python -m dynamics.main --config=configs/weight_balancing_digits.py --workdir=runs/weight_balancing_digits
Small:   python -m dynamics.main --config=configs/weight_balancing_digits.py:small --workdir=/tmp/weight_balancing_digits
         (tests, notebook, figures --small)
Runtime: see the README row (one compiled group of 9 members, 3000 full-batch steps).
"""
from dynamics import config, sweep

WEIGHT_DECAYS = [0.0, 5e-3, 2e-2]  # none (naive), the papers' first-stage λ, and 4x (3000 steps are ~18x fewer than theirs)


def get_config(variant=""):
    c = config.defaults(data="digits_long_tail", model="mlp")  # sklearn's 8x8 digits, Zipf-subsampled; ReLU MLP 64-64
    c.data.exponent = 1.5  # counts 139 ... 4: imbalance ratio 35 (CIFAR-100-LT's are 10-100)
    c.optimizer.learning_rate = 0.3  # full-batch GD step (as collapse_digits_lt; theirs: SGD 0.01, momentum 0.9)
    c.optimizer.schedule = "cosine"  # cosine decay to 0, as both papers
    c.train.num_steps = 3000  # full-batch steps
    c.train.chunk_steps = 1000  # steps per compiled scan
    c.train.num_log_points = 20  # log-spaced records
    c.train.extra_metrics = ("neural_collapse", "classifier_norms")  # NC1, Fisher ratio; ‖w_k‖ of each class
    c.figures = ("weight_balancing",)  # dynamics.plots.FIGURES
    if config.variant(variant, ("small",)) == "small":
        c.train.num_steps = 300  # long enough for the features to separate (the width stays: narrower nets keep head rows longer after stage 2)
        c.train.chunk_steps = 301  # one compiled scan
        c.train.num_log_points = 8  # log-spaced records
    return c


def get_sweep(variant=""):
    """Weight decay x seeds, one compiled program (both are traced numbers). small: 2 seeds, no 4x λ."""
    if variant == "small":
        return sweep.product(sweep.axis("optimizer.weight_decay", WEIGHT_DECAYS[:2]), sweep.axis("seed", [0, 1]))
    return sweep.product(sweep.axis("optimizer.weight_decay", WEIGHT_DECAYS), sweep.axis("seed", [0, 1, 2]))

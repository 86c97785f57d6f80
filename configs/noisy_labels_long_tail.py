"""Noisy labels under class imbalance: are the rare classes' wrong labels memorised earlier or later
than the frequent ones'? ("When Noisy Labels Meet Long Tail Dilemmas" is the source this project's
issue cites; Liu et al. 2020's early-learning / memorisation curves, measured per true class.)
Long-tailed digits (class k keeps ~142/(k+1) training images), 40% symmetric label noise in every
class, an MLP trained full batch by Adam on the cross-entropy, 5 seeds. (ELR at Liu et al.'s λ = 3,
β = 0.7 collapses this MLP to one class here: test accuracy 0.10-0.12 over 5 seeds; not tuned.)
Measured: see the README's reproduction table (per-class memorisation steps from members' records:
members.csv's memorisation_vs_frequency; dynamics.predict.noisy_labels.memorisation_steps).

Run:     python -m dynamics.main --config=configs/noisy_labels_long_tail.py --workdir=runs/noisy_labels_long_tail
Small:   python -m dynamics.main --config=configs/noisy_labels_long_tail.py:small --workdir=/tmp/noisy_labels_long_tail   (figures --small)
Runtime: RUNTIME_FULL on a 2-core CPU; small: RUNTIME_SMALL.
"""
from dynamics import config


def get_config(variant=""):
    c = config.defaults(data="digits_long_tail", model="mlp")  # Zipf exponent 1 over 10 digits; MLP 64-64
    c.data.label_noise = "symmetric"  # a wrong label is uniform over the other 9 classes
    c.data.noise_rate = 0.4  # 40% wrong labels in every class (round(0.4 n_k) of class k)
    c.optimizer.name = "adam"  # every class fitted within the budget (GD leaves the rare ones unfitted)
    c.optimizer.learning_rate = 1e-3  # Adam's usual step
    c.train.num_steps = 3000  # every wrong label memorised by step ~1000 without ELR
    c.train.chunk_steps = 1000  # three compiled chunks
    c.train.num_log_points = 100  # log-spaced: memorisation steps resolved to ~7%
    c.train.extra_metrics = ("label_noise_fit",)  # per-class clean / noisy fit
    c.figures = ("noisy_labels",)  # overall curves; wrong labels memorised per frequency bucket
    if config.variant(variant, ("small",)) == "small":
        c.train.num_steps = 1500  # enough to memorise
        c.train.num_log_points = 50  # fewer records
    return c


def get_sweep(variant=""):
    seeds = range(2) if variant == "small" else range(5)
    return [{"seed": s, "data.seed": s, "data.noise_seed": s} for s in seeds]  # init, digits split and ranks, noise

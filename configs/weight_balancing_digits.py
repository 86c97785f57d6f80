"""Weight balancing, first stage (Alshammari et al. 2022; Hasegawa & Sato 2023): an MLP on long-tailed
digits trained with cross-entropy, with and without weight decay; configs/weight_balancing_digits_stage2.py
then retrains its classifier from these parameters.

Claims checked (numbers measured with this file as it is, seeds 0-2, counts 139 ... 4, ratio 35):
- Weight decay with cross-entropy raises Fisher's discriminant ratio tr Σ_B / tr Σ_W of the features
  (Hasegawa & Sato 2023, sec. 4): final 4.47-4.57 without, 5.21-5.56 at λ = 5e-3, 6.41-6.56 at 2e-2.
  It does not lower NC1 here (0.31-0.44 without, 0.36-0.67 at 5e-3, 0.83-1.21 at 2e-2: λ = 2e-2
  no longer fits the training set, 96%).
- Trained with plain cross-entropy, the classifier rows of frequent classes end longer (Alshammari
  et al. 2022, Fig. 1): Spearman correlation of ‖w_k‖ with n_k 0.66-0.83 (λ <= 5e-3), 0.94 (2e-2);
  the implied exponent of ‖w_k‖ ∝ π_k^-τ̂ (dynamics.predict.weight_balancing) τ̂ = -0.06 to -0.11,
  -0.20 to -0.22 at 2e-2.
- Balanced test accuracy after this stage: 0.845-0.864 without weight decay, 0.837-0.842 at 5e-3,
  0.715-0.729 at 2e-2 (weight decay alone does not help here, unlike their Table 1).

Run:     python -m dynamics.main --config=configs/weight_balancing_digits.py --workdir=runs/gallery/weight_balancing_digits
         (where the second stage looks for it by default; the figure gallery puts it there too)
Small:   python -m dynamics.main --config=configs/weight_balancing_digits.py:small --workdir=/tmp/quick/weight_balancing_digits
         (tests, notebook, figures --small --outdir=/tmp/quick; 2 seeds, no λ = 2e-2, 300 steps; ~7 s CPU)
Runtime: 15 s CPU (45 s wall) on the shared 2-core CPU at load ~12: one compiled group of 9 members,
         3000 full-batch steps.
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

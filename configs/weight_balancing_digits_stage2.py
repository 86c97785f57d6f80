"""Weight balancing, second stage (Alshammari et al. 2022, sec. 3.4; Hasegawa & Sato 2023, sec. 5):
the classifier of the first stage's weight-decayed members (configs/weight_balancing_digits.py) retrained
alone with a class-balanced loss, weight decay and per-class MaxNorm, the features frozen.

Claims checked (numbers measured with this file as it is, sources: the first stage's λ = 5e-3 members,
seeds 0-2):
- Balanced test accuracy rises over the first stage's (Alshammari et al. 2022, Table 1): 0.837-0.842
  -> 0.870-0.889 for every member (with or without weight decay and MaxNorm).
- Weight decay with the class-balanced loss is an implicit logit adjustment (Hasegawa & Sato 2023,
  sec. 5): with λ = 0.1 the rare classes' rows end longer: τ̂ of ‖w_k‖ ∝ π_k^-τ̂ goes from
  -0.094 / -0.111 / -0.109 to +0.019 / +0.011 / +0.012 (‖w_rarest‖ / ‖w_0‖ = 1.04-1.07); without
  weight decay it stays negative (-0.024 to -0.037). The adjustment is weak: their tuned
  multiplicative τ is 0.65 (CIFAR-100-LT) and 1.6 (CIFAR-10-LT), i.e. a ratio of 10 at these counts.
- MaxNorm (threshold q = 0.1): without weight decay it caps every row at min + 0.1 (max − min) of the
  starting norms (all rows end at the cap, τ̂ = 0); with λ = 0.1 the rows shrink below the cap and
  MaxNorm changes nothing (identical results).

Run (after the first stage, whose workdir is init.from_workdir):
         python -m dynamics.main --config=configs/weight_balancing_digits.py --workdir=runs/gallery/weight_balancing_digits
         python -m dynamics.main --config=configs/weight_balancing_digits_stage2.py --workdir=runs/gallery/weight_balancing_digits_stage2
Small:   the same with :small, the first stage in /tmp/quick/weight_balancing_digits (or
         --config.init.from_workdir=DIR), e.g. python -m dynamics.figures weight_balancing_digits
         weight_balancing_digits_stage2 --outdir=/tmp/quick --small (600 steps; ~3 s CPU)
Runtime: 10 s CPU (30 s wall) on the shared 2-core CPU at load ~12: one compiled group of 12 members,
         2000 full-batch steps.
"""
from dynamics import config, sweep

FIRST_STAGE_DECAY = 5e-3  # the first-stage members retrained: the recipe's (cross-entropy with weight decay)
MAX_NORMS = [0.0, 0.1]  # MaxNorm off, and Alshammari et al.'s threshold (min + 0.1 (max − min) of the starting norms)
WEIGHT_DECAYS = [0.0, 0.1]  # none, and Alshammari et al.'s second-stage λ


def get_config(variant=""):
    small = config.variant(variant, ("small",)) == "small"
    c = config.based_on("weight_balancing_digits", variant)  # the first stage's data, model and metrics
    c.init.from_workdir = f"{'/tmp/quick' if small else 'runs/gallery'}/weight_balancing_digits"  # the first stage, where the gallery puts it
    c.train.trainable = "head"  # the classifier (kernel and bias) alone; the features stay frozen
    c.train.extra_metrics = ("classifier_norms",)  # ‖w_k‖ (NC1 and the Fisher ratio stay where the first stage left them)
    c.loss.reweight_exponent = 1.0  # class-balanced loss: weights ∝ 1/n_k
    c.optimizer.weight_decay = 0.1  # Alshammari et al.'s second-stage λ (swept with 0)
    c.optimizer.learning_rate = 0.1  # full-batch GD (theirs: SGD 0.01 with momentum 0.9, ~0.1 effective)
    c.train.num_steps = 600 if small else 2000  # theirs: 10 epochs of ~170 minibatches
    c.train.chunk_steps = 601 if small else 1000  # steps per compiled scan
    return c


def get_sweep(variant=""):
    """Every first-stage member trained with weight decay FIRST_STAGE_DECAY (init.from_member), with
    and without weight decay and MaxNorm: one compiled program (traced numbers and starting arrays)."""
    first = config.load_named("weight_balancing_digits", variant)[1]
    sources = [{"init.from_member": i, "seed": m["seed"]} for i, m in enumerate(first)
               if m["optimizer.weight_decay"] == FIRST_STAGE_DECAY]
    return sweep.product(sources, sweep.axis("optimizer.weight_decay", WEIGHT_DECAYS),
                         sweep.axis("optimizer.max_norm", MAX_NORMS))

"""Neural collapse of a real network under class imbalance: an MLP on long-tailed digits.

Claims checked (Papyan, Han, Donoho 2020; Fang et al. 2021), figures in dynamics/plots/collapse.py.
Measured with this file as it is (imbalance ratio n_0/n_9 = 1, 10.7, 34.8, 139; one learning rate
per optimizer, picked by hand so that each fits the training set within the budget, not tuned per
metric, so the speed comparison holds at these step sizes only):
- Zero training error: every member without weight decay reaches 100% training accuracy (GD by
  step 790 at ratio 1 and 208 otherwise, Adam by 506 / 208, sign descent by 1232 / 506).
- NC1 decreases over training without weight decay: 2.07 -> 0.59 (GD), 0.47 (Adam), 0.59 (sign)
  at ratio 1; 0.58 -> 0.39 / 0.40 / 0.42 at ratio 139. NC4 (mismatch with the nearest class
  centre) falls to <= 0.03 everywhere. This 64-unit MLP is far from the ETF after 3000 steps,
  though: the class-mean Gram stays 0.8-1.1 from the ETF Gram (NC2) and NC3 stays >= 0.5.
- Minority collapse grows with the imbalance ratio (final cosine between the classifiers of the
  5 rarest classes, ratio 1 -> 139): GD -0.115 -> -0.053, Adam -0.127 -> 0.080, sign -0.086 ->
  0.100; GD with weight decay λ = 0.02: -0.098 -> 0.203 (not monotone: -0.034 at 10.7, -0.067
  at 34.8), and with λ = 0.02 the training accuracy stays below 1 (0.92-0.975) and NC1 rises
  again after step ~100.
- Speed (steps until NC1 falls to 3/4 of its initial value, ratios 1 / 10.7 / 34.8 / 139): GD
  35 / 14 / 23 / 208, Adam 23 / 35 / 55 / 208, sign descent 85 / 133 / 133 / 506; Adam reaches
  the lowest NC1 at ratios 1 and 10.7 (0.47, 0.38), all three end within 0.04 of each other at
  34.8 and 139.

Run:     python -m dynamics.main --config=configs/collapse_digits_lt.py --workdir=runs/collapse_digits_lt
Runtime: 7 minutes measured on the shared 2-core CPU at load ~6.5 (12 compiled groups, 16 members,
         3000 full-batch steps on 210-1390 images); roughly 2-3 minutes on an idle one (estimate).
"""
import ml_collections

from dynamics import sweep

EXPONENTS = [0.0, 1.0, 1.5, 2.0]  # class k keeps n_max (k+1)^-exponent images: ratios 1, 10.7, 34.8, 139


def get_config():
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation randomness of each member

    c.data = ml_collections.ConfigDict()
    c.data.name = "digits_long_tail"  # sklearn's 8x8 digits, subsampled to a Zipf law
    c.data.exponent = 1.0  # Zipf exponent of the training counts (swept)
    c.data.test_fraction = 0.2  # held-out share of each digit (test split stays balanced)
    c.data.seed = 0  # which digit gets which frequency rank, and the split

    c.model = ml_collections.ConfigDict()
    c.model.name = "mlp"  # ReLU MLP; NC metrics use the last hidden layer and the head
    c.model.hidden = (64, 64)  # hidden widths (the features are 64-dimensional)
    c.model.use_bias = True  # biases in every layer
    c.model.init = "lecun_normal"  # flax default | pytorch_uniform (nn.Linear)
    c.model.trainable = "all"  # all | head (train only the last layer)
    c.model.init_scale = 1.0  # multiplies the default (lecun-normal) initialisation

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "cross_entropy"  # cross_entropy | square
    c.loss.reweight_exponent = 0.0  # class weights ∝ π_k^-p (0: plain loss)
    c.loss.logit_adjustment = 0.0  # τ in logits + τ log π (0: none)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "gd"  # gd | adam | sign (swept)
    c.optimizer.learning_rate = 0.3  # step size (set per optimizer below)
    c.optimizer.momentum = 0.0  # sign: 0 is plain sign descent
    c.optimizer.b1 = 0.9  # adam first-moment decay
    c.optimizer.b2 = 0.999  # adam second-moment decay
    c.optimizer.eps = 1e-8  # adam denominator offset
    c.optimizer.weight_decay = 0.0  # λ: GD on L + λ/2‖θ‖² for gd (swept for gd only)
    c.optimizer.schedule = "constant"  # constant | warmup | cosine
    c.optimizer.warmup_steps = 0  # linear warmup length (warmup, cosine)

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 3000  # full-batch optimizer steps
    c.train.batch_size = 0  # 0: full batch
    c.train.chunk_steps = 1000  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 20  # records taken at this many log-spaced steps
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # not needed here
    c.train.extra_metrics = ("neural_collapse",)  # NC1-NC4, minority cosine, ETF/SELI distances
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)
    c.train.matmul_precision = "float32"  # float32 | high | bfloat16 (dynamics/config.py)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "none"  # one learning rate per optimizer, all shown
    c.select.metric = "loss"  # unused with rule none

    c.figures = ("collapse_nc_curves", "collapse_vs_imbalance")  # dynamics.plots.FIGURES
    return c


def get_sweep():
    """Every imbalance level under GD, Adam and sign descent (no weight decay), plus GD with
    weight decay λ = 0.02 (vmapped with plain GD: same program)."""
    optimizers = sweep.chain(
        sweep.product(sweep.axis("optimizer.name", ["gd"]), sweep.axis("optimizer.learning_rate", [0.3]),
                      sweep.axis("optimizer.weight_decay", [0.0, 0.02])),
        sweep.product(sweep.axis("optimizer.name", ["adam"]), sweep.axis("optimizer.learning_rate", [1e-3])),
        sweep.product(sweep.axis("optimizer.name", ["sign"]), sweep.axis("optimizer.learning_rate", [3e-4])),
    )
    return sweep.product(sweep.axis("data.exponent", EXPONENTS), optimizers)

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
Small:   python -m dynamics.main --config=configs/collapse_digits_lt.py:small --workdir=/tmp/collapse_digits_lt_small
         (hidden widths 16, 60 steps, 12 log points: figures --small; not the numbers above;
         52 s wall, 65 s CPU at load ~2, mostly compiling 12 groups; its optimizers now share programs: 4)
Runtime: 7 minutes measured on the shared 2-core CPU at load ~6.5 (then 12 compiled groups, now 4: optimizers
         that take the same gradient share a program; 16 members,
         3000 full-batch steps on 210-1390 images); roughly 2-3 minutes on an idle one (estimate).
No paper variant: a CPU analogue, not a paper's experiment (Papyan et al. train VGG/ResNet/DenseNet on
MNIST, CIFAR-10 and others for 350 epochs; Fang et al.'s minority collapse uses two-group imbalance on
FashionMNIST/CIFAR-10): both the model and the data differ, not only the size.
"""
from dynamics import config, sweep

EXPONENTS = [0.0, 1.0, 1.5, 2.0]  # class k keeps n_max (k+1)^-exponent images: ratios 1, 10.7, 34.8, 139


def get_config(variant=""):
    c = config.defaults(data="digits_long_tail", model="mlp")  # sklearn's 8x8 digits, Zipf-subsampled; ReLU MLP 64-64
    c.optimizer.learning_rate = 0.3  # step size (set per optimizer in the sweep)
    c.train.num_steps = 3000  # full-batch optimizer steps
    c.train.chunk_steps = 1000  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 20  # records taken at this many log-spaced steps
    c.train.extra_metrics = ("neural_collapse",)  # NC1-NC4, minority cosine, ETF distances, Grams
    c.figures = ("collapse_nc_curves", "collapse_vs_imbalance")  # dynamics.plots.FIGURES
    if config.variant(variant, ("small",)) == "small":
        c.model.hidden = (16, 16)  # narrower MLP
        c.train.num_steps = 60  # a quick look only
        c.train.chunk_steps = 60  # one compiled scan
        c.train.num_log_points = 12  # log-spaced records
    return c


def get_sweep(variant=""):
    """Every imbalance level under GD, Adam and sign descent (no weight decay), plus GD with
    weight decay λ = 0.02 (vmapped with plain GD: same program). small: thinned (sweep.thin; one
    learning rate per optimizer already, so every member stays)."""
    optimizers = sweep.chain(
        sweep.product(sweep.axis("optimizer.name", ["gd"]), sweep.axis("optimizer.learning_rate", [0.3]),
                      sweep.axis("optimizer.weight_decay", [0.0, 0.02])),
        sweep.product(sweep.axis("optimizer.name", ["adam"]), sweep.axis("optimizer.learning_rate", [1e-3])),
        sweep.product(sweep.axis("optimizer.name", ["sign"]), sweep.axis("optimizer.learning_rate", [3e-4])),
    )
    members = sweep.product(sweep.axis("data.exponent", EXPONENTS), optimizers)
    return sweep.thin(members) if variant == "small" else members

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
Runtime: about 2.8 min of CPU time (14 members x 300 full-batch steps, 4 compilations, the figure; measured
         133 s for these grids without GD 3e-3 and Adam 3e-4, and 188 s with Sign_M 1e-3 and NormSGD_M 0.1
         added too), so under 3 min on an idle 2-core CPU; measured 4.7-8 min wall-clock while the machine
         was shared (load average ~7).
The paper's size, for an accelerator (m = 11: C = 2047, n = 22528, d = 24576, 1000 steps):
         python -m dynamics.main --config=configs/heavy_tail_linear.py:paper --workdir=DIR
Per-class gradient norms: add --config.train.per_class_grad_norm=True.
Without the shared input mean (the effect vanishes): configs/heavy_tail_linear_centered.py
"""
import ml_collections

from dynamics import sweep


SIZES = ("cpu", "paper")


def get_config(size: str = "cpu"):
    """size: 'cpu' (default, m = 8 groups) or 'paper' (m = 11, the paper's), as configs/heavy_tail_linear.py:paper."""
    size = size or "cpu"
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; valid choices: {', '.join(SIZES)}")
    m = 11 if size == "paper" else 8  # number of frequency groups (the paper's `size`)
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation (and minibatch) randomness of each member

    c.data = ml_collections.ConfigDict()
    c.data.name = "synthetic"  # synthetic | digits_long_tail | digits_barcoded
    c.data.law = "step_zipf"  # m groups; group i has 2^i classes of n/(m 2^i) samples
    c.data.num_classes = 2**m - 1  # C = 2^m - 1 (255 at m = 8: a 128x imbalance; the paper's m = 11: 2047)
    c.data.num_samples = m * 2**m  # n = m 2^m; each group holds 2^m samples (2048 at m = 8; 22528 at m = 11)
    c.data.exponent = 1.0  # Zipf exponent (law=zipf only)
    c.data.ratio = 10.0  # majority/minority ratio (law=two_class only)
    c.data.inputs = "uniform"  # i.i.d. U[mean-1/2, mean+1/2], independent of the labels (the paper's code)
    c.data.input_dim = (m + 1) * 2**m  # d = (m+1) 2^m > n, as in the paper (2304 at m = 8; 24576 at m = 11)
    c.data.input_mean = 0.5  # 0.5 gives U[0, 1]: the shared mean couples the classes
    c.data.class_separation = 0.0  # class-mean spread (inputs=gaussian_mixture only)
    c.data.seed = 0  # the data's own seed, fixed across members

    c.model = ml_collections.ConfigDict()
    c.model.name = "linear"  # linear softmax model
    c.model.use_bias = True  # logits = Wx + b
    c.model.init = "pytorch_uniform"  # W, b ~ U[±1/sqrt(d)], nn.Linear's default (the paper's) | lecun_normal
    c.model.init_scale = 1.0  # multiplies the initialisation; 0 starts from W = 0

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "cross_entropy"  # cross_entropy | square
    c.loss.reweight_exponent = 0.0  # class weights ∝ π_k^-p (0: plain loss)
    c.loss.logit_adjustment = 0.0  # τ in logits + τ log π (0: none)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "gd"  # gd | heavy_ball | adam | adamw | adagrad | sign | signum | scaled_sign | normalized_gd | per_class_normalized_gd
    c.optimizer.learning_rate = 1.0  # peak step size η (swept below)
    c.optimizer.momentum = 0.0  # β: heavy-ball momentum (heavy_ball, sign, scaled_sign, normalized_gd); signum's EMA
    c.optimizer.b1 = 0.9  # adam(w) first-moment decay
    c.optimizer.b2 = 0.999  # adam(w) second-moment decay
    c.optimizer.eps = 1e-8  # adam(w) denominator offset
    c.optimizer.weight_decay = 0.0  # λ (coupled for adam, decoupled otherwise)
    c.optimizer.schedule = "constant"  # constant | warmup | cosine
    c.optimizer.warmup_steps = 0  # linear warmup length (warmup, cosine)

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 1000 if size == "paper" else 300  # full-batch steps (the paper: 1000 epochs)
    c.train.batch_size = 0  # 0: full batch; >0: SGD minibatches of that size
    c.train.chunk_steps = 100  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 60  # records taken at this many steps (8 in the second half: the selection's instability test)
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # record ||∇ℓ_k|| for every class (about one backward pass per sample per logged step)
    c.train.extra_metrics = ()  # names from dynamics.metrics.EXTRA_METRICS
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)
    c.train.matmul_precision = "float32"  # float32 | high | bfloat16 (dynamics/config.py)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "best_lr"  # none | best_lr: per optimizer, the stable lr with the lowest worst tail metric
    c.select.metric = "loss"  # a scalar record: loss | mean_loss | accuracy | ...

    c.figures = ("per_class_loss",)  # names from dynamics.plots.FIGURES
    return c


def get_sweep():
    """Each optimizer over its own learning-rate grid (vmapped: one program per optimizer). Measured at m = 8,
    seed 0 (on a wider grid): GD is stable up to lr 0.03 and oscillates at 0.1, Adam is best at 3e-3, Sign_M
    at 1e-4 and NormSGD_M at 1e-2. GD and Adam also get the step sizes the paper selected at m = 11 (GD 10^-2.5,
    Adam 10^-3.5: their balanced_x_perclass.py), so that the paper's size finds its optimum inside the grid."""
    def grid(name, rates, **fixed):
        settings = [sweep.axis("optimizer.name", [name])] + [sweep.axis(k, [v]) for k, v in fixed.items()]
        return sweep.product(*settings, sweep.axis("optimizer.learning_rate", rates))

    return sweep.chain(
        grid("gd", [3e-3, 1e-2, 3e-2, 1e-1]),
        grid("adam", [3e-4, 1e-3, 3e-3, 1e-2]),
        grid("sign", [3e-5, 1e-4, 3e-4], **{"optimizer.momentum": 0.9}),  # the paper's Sign_M
        grid("normalized_gd", [3e-3, 1e-2, 3e-2], **{"optimizer.momentum": 0.9}),  # the paper's NormSGD_M
    )

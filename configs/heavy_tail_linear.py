"""Kunstner et al. 2024, "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent
on Language Models", linear model on step-Zipf data (their fig. 3/4): under GD the rare classes'
loss barely moves while Adam and sign descent fit every class.

Run:     python -m dynamics.main --config=configs/heavy_tail_linear.py --workdir=runs/heavy_tail_linear
Runtime: about 1.5 minutes on an idle 2-core CPU (5 optimizers x 4 learning rates, 500 full-batch steps:
10,000 member-steps at the ~160 member-steps/s measured for this size, plus 4 compilations).
Per-class gradient norms: add --config.train.per_class_grad_norm=True (about 2 more minutes).
Without the shared input mean (the effect vanishes): add --config.data.input_mean=0.0
"""
import ml_collections

from dynamics import sweep


def get_config():
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation (and minibatch) randomness of each member

    c.data = ml_collections.ConfigDict()
    c.data.name = "synthetic"  # synthetic | digits_long_tail | digits_barcoded
    c.data.law = "step_zipf"  # m groups; group i has 2^i classes of n/(m 2^i) samples
    c.data.num_classes = 255  # 2^m - 1 with m = 8 groups: a 128x imbalance
    c.data.num_samples = 2048  # n; each group holds n/m = 256 samples
    c.data.exponent = 1.0  # Zipf exponent (law=zipf only)
    c.data.ratio = 10.0  # majority/minority ratio (law=two_class only)
    c.data.inputs = "uniform"  # i.i.d. U[mean-1/2, mean+1/2], independent of the labels (the paper's code)
    c.data.input_dim = 256  # d < n, so GD cannot memorise every sample quickly
    c.data.input_mean = 0.5  # 0.5 gives U[0, 1]: the shared mean couples the classes
    c.data.class_separation = 0.0  # class-mean spread (inputs=gaussian_mixture only)
    c.data.seed = 0  # the data's own seed, fixed across members

    c.model = ml_collections.ConfigDict()
    c.model.name = "linear"  # linear softmax model
    c.model.use_bias = True  # logits = Wx + b
    c.model.init_scale = 0.0  # multiplies the default initialisation; 0 starts from W = 0

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "cross_entropy"  # cross_entropy | square
    c.loss.reweight_exponent = 0.0  # class weights ∝ π_k^-p (0: plain loss)
    c.loss.logit_adjustment = 0.0  # τ in logits + τ log π (0: none)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "gd"  # gd | heavy_ball | adam | adamw | sign | normalized_gd | per_class_normalized_gd
    c.optimizer.learning_rate = 1.0  # peak step size η (swept below)
    c.optimizer.momentum = 0.0  # heavy_ball's β, and sign's EMA β (0: plain sign descent)
    c.optimizer.b1 = 0.9  # adam(w) first-moment decay
    c.optimizer.b2 = 0.999  # adam(w) second-moment decay
    c.optimizer.eps = 1e-8  # adam(w) denominator offset
    c.optimizer.weight_decay = 0.0  # λ (coupled for adam, decoupled otherwise)
    c.optimizer.schedule = "constant"  # constant | warmup | cosine
    c.optimizer.warmup_steps = 0  # linear warmup length (warmup, cosine)

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 500  # optimizer steps
    c.train.batch_size = 0  # 0: full batch; >0: SGD minibatches of that size
    c.train.chunk_steps = 100  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 24  # records taken at this many steps
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # record ||∇ℓ_k|| for every class (about one backward pass per sample per logged step)
    c.train.extra_metrics = ()  # names from dynamics.metrics.EXTRA_METRICS
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "best_lr"  # none | best_lr: per optimizer, the lr with the lowest final metric
    c.select.metric = "loss"  # a scalar record: loss | mean_loss | accuracy | ...

    c.figures = ("per_class_loss",)  # names from dynamics.plots.FIGURES
    return c


def get_sweep():
    """Each optimizer over its own learning-rate grid (vmapped: one program per optimizer)."""
    def grid(name, rates, **fixed):
        settings = [sweep.axis("optimizer.name", [name])] + [sweep.axis(k, [v]) for k, v in fixed.items()]
        return sweep.product(*settings, sweep.axis("optimizer.learning_rate", rates))

    return sweep.chain(
        grid("gd", [0.1, 0.3, 1.0, 3.0]),
        grid("adam", [3e-3, 1e-2, 3e-2, 1e-1]),
        grid("sign", [3e-4, 1e-3, 3e-3, 1e-2]),
        grid("sign", [1e-3, 3e-3, 1e-2, 3e-2], **{"optimizer.momentum": 0.9}),
        grid("normalized_gd", [0.1, 0.3, 1.0, 3.0]),
    )

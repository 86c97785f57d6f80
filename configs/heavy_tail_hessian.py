"""Kunstner et al. 2024, "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent
on Language Models", sec. 4 (fig. 6): for the linear softmax model on step-Zipf data, the gradient
block ‖∇_{w_k} L‖ and the Hessian-block trace Tr ∇²_{w_k} L of each class's weights grow with the
class frequency, and the two are correlated across classes (dynamics/metrics/hessian.py), under
GD and Adam alike. The paper's construction (their `balanced_x.py`, as configs/heavy_tail_linear.py:
inputs U[0, 1]^d with d = (m+1) 2^m > n = m 2^m, PyTorch's nn.Linear init) at m = 7 (C = 127, n = 896,
d = 1024) instead of their m = 11, to keep this figure cheap.

Run:     python -m dynamics.main --config=configs/heavy_tail_hessian.py --workdir=/tmp/heavy_tail_hessian
Runtime: 25 s of CPU time on a 2-core CPU (GD x 3 and Adam x 4 learning rates, 300 full-batch steps at
         m = 7); measured 73 s wall-clock while the machine was shared (load average ~7).
"""
import ml_collections

from dynamics import sweep


def get_config():
    m = 7  # number of frequency groups (the paper's `size`; theirs is 11)
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation (and minibatch) randomness of each member

    c.data = ml_collections.ConfigDict()
    c.data.name = "synthetic"  # synthetic | digits_long_tail | digits_barcoded
    c.data.law = "step_zipf"  # m groups; group i has 2^i classes of n/(m 2^i) samples
    c.data.num_classes = 2**m - 1  # C = 2^m - 1 = 127: a 64x imbalance
    c.data.num_samples = m * 2**m  # n = m 2^m = 896; each group holds 2^m samples
    c.data.exponent = 1.0  # Zipf exponent (law=zipf only)
    c.data.ratio = 10.0  # majority/minority ratio (law=two_class only)
    c.data.inputs = "uniform"  # i.i.d. U[mean-1/2, mean+1/2], independent of the labels (the paper's code)
    c.data.input_dim = (m + 1) * 2**m  # d = (m+1) 2^m = 1024 > n, as in the paper
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
    c.train.num_steps = 300  # full-batch steps (the paper: 1000 epochs)
    c.train.batch_size = 0  # 0: full batch; >0: SGD minibatches of that size
    c.train.chunk_steps = 100  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 60  # records taken at this many steps (8 in the second half: the selection's instability test)
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # ||∇ℓ_k|| of each class's own loss (not needed here)
    c.train.extra_metrics = ("per_class_hessian",)  # per-class gradient / Hessian blocks of W
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)
    c.train.matmul_precision = "float32"  # float32 | high | bfloat16 (dynamics/config.py)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "best_lr"  # none | best_lr: per optimizer, the stable lr with the lowest worst tail metric
    c.select.metric = "loss"  # a scalar record: loss | mean_loss | accuracy | ...

    c.figures = ("per_class_loss", "hessian_vs_frequency")  # names from dynamics.plots.FIGURES
    return c


def get_sweep():
    """GD and Adam, each over its own learning-rate grid (vmapped: one program per optimizer)."""
    def grid(name, rates):
        return sweep.product(sweep.axis("optimizer.name", [name]), sweep.axis("optimizer.learning_rate", rates))

    # Measured (seed 0): GD is stable up to lr 0.03; at 0.1 its loss rises by 6% of its initial value late in
    # training, just over the selection's 5% limit, and at 0.3 by 66%. 0.1 is left out of the grid so that no
    # member sits at the limit (its verdict could change with the rounding); Adam is best at 1e-2.
    return sweep.chain(grid("gd", [3e-3, 1e-2, 3e-2]), grid("adam", [1e-3, 3e-3, 1e-2, 3e-2]))

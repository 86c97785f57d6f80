"""Kunstner et al. 2024, "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent
on Language Models", barcoded MNIST (sec. 3, fig. 2): a CNN on the ten digit classes plus many
rare barcoded classes. Under GD the loss of the rare barcoded classes lags far behind that of the
digits; Adam fits both.

Data: scikit-learn's bundled 8x8 digits (no download); each of the 200 barcoded classes is 5 digit
images stamped with its own 16-bit barcode on the top and bottom rows (dynamics/data/digits.py).

Run:     python -m dynamics.main --config=configs/heavy_tail_cnn.py --workdir=/tmp/heavy_tail_cnn
Runtime: 3.9 min of CPU time on a 2-core CPU (GD and Adam x 2 learning rates, 200 full-batch
         steps on 2437 images); measured 9.8 min wall-clock while the machine was shared (load ~9).
"""
import ml_collections

from dynamics import sweep


def get_config():
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation (and minibatch) randomness of each member

    c.data = ml_collections.ConfigDict()
    c.data.name = "digits_barcoded"  # the ten digits plus barcode_classes rare classes
    c.data.barcode_classes = 200  # rare classes 10..209
    c.data.barcode_samples = 5  # training images per barcoded class (the paper's 5)
    c.data.test_fraction = 0.2  # held-out share of each digit (and fresh barcoded images)
    c.data.seed = 0  # the data's own seed, fixed across members

    c.model = ml_collections.ConfigDict()
    c.model.name = "cnn"  # 3x3 convolutions, pool, Dense, head
    c.model.channels = (8, 8)  # output channels of each convolution
    c.model.hidden = 32  # width of the Dense layer before the head
    c.model.pool = True  # 2x2 average pool after each convolution (8x8 -> 4x4 -> 2x2)
    c.model.init_scale = 1.0  # multiplies the default initialisation

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "cross_entropy"  # cross_entropy | square
    c.loss.reweight_exponent = 0.0  # class weights ∝ π_k^-p (0: plain loss)
    c.loss.logit_adjustment = 0.0  # τ in logits + τ log π (0: none)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "gd"  # gd | heavy_ball | adam | adamw | sign | normalized_gd | per_class_normalized_gd
    c.optimizer.learning_rate = 0.1  # peak step size η (swept below)
    c.optimizer.momentum = 0.0  # heavy_ball's β, and sign's EMA β
    c.optimizer.b1 = 0.9  # adam(w) first-moment decay
    c.optimizer.b2 = 0.999  # adam(w) second-moment decay
    c.optimizer.eps = 1e-8  # adam(w) denominator offset
    c.optimizer.weight_decay = 0.0  # λ (coupled for adam, decoupled otherwise)
    c.optimizer.schedule = "constant"  # constant | warmup | cosine
    c.optimizer.warmup_steps = 0  # linear warmup length (warmup, cosine)

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 200  # optimizer steps
    c.train.batch_size = 0  # 0: full batch; >0: SGD minibatches of that size
    c.train.chunk_steps = 50  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 16  # records taken at this many steps
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # ||∇ℓ_k|| per class (one backward pass per sample per log point)
    c.train.extra_metrics = ()  # names from dynamics.metrics.EXTRA_METRICS
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "best_lr"  # none | best_lr: per optimizer, the lr with the lowest final metric
    c.select.metric = "loss"  # a scalar record: loss | mean_loss | accuracy | ...

    c.figures = ("per_class_loss",)  # names from dynamics.plots.FIGURES
    return c


def get_sweep():
    """GD and Adam, each over its own learning-rate grid (vmapped: one program per optimizer)."""
    def grid(name, rates):
        return sweep.product(sweep.axis("optimizer.name", [name]), sweep.axis("optimizer.learning_rate", rates))

    return sweep.chain(grid("gd", [0.3, 1.0]), grid("adam", [3e-3, 1e-2]))

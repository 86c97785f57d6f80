"""Saxe, McClelland, Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks", applied to imbalanced classes (theory/deep_linear.py): a two-layer linear
network trained by GD on the square loss with one-hot inputs. From the small balanced
initialisation aligned with the classes, each class's error follows its own sigmoid and class k is
learned at t_k ≈ (1/(2π_k)) log(1/a0²): frequent classes first, rare ones 1/π_k later. The
simulated per-class curves lie on the sigmoids (figures/theory_curves.png, agreement printed); a
small random initialisation of the same scale departs from them (second panel, and
figures/deep_linear_learning_times.png: measured against predicted learning times).

Measured (printed at the end of the run): aligned init, per-class learning times within 0.9% of
(1/(2π_k)) log((1 − a0²)/a0²), curves within 4.1% (max |ℓ_sim − ℓ_th| / max(ℓ_th, 0.01), the
largest late, where ℓ < 0.01 and discrete GD decays at a slightly different rate); random init,
learning times up to 38% later than the aligned prediction.

Run:     python -m dynamics.main --config=configs/theory_deep_linear.py --workdir=/tmp/theory_deep_linear
Runtime: measured 39 s wall (20 s CPU) on the shared, busy 2-core CPU (2 members, 3000 full-batch steps).
"""
import ml_collections

from dynamics import sweep


def get_config():
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation randomness (hidden basis, or the random init)

    c.data = ml_collections.ConfigDict()
    c.data.name = "synthetic"  # labels from a frequency law, one-hot inputs below
    c.data.law = "zipf"  # counts ∝ (k+1)^-exponent
    c.data.num_classes = 16  # C
    c.data.num_samples = 1024  # N; π_k = N_k/N (the rarest class gets 19 samples)
    c.data.exponent = 1.0  # Zipf exponent
    c.data.ratio = 10.0  # majority/minority ratio (law=two_class only)
    c.data.inputs = "barcodes"  # x = e_y: orthogonal class inputs of norm 1
    c.data.input_dim = 16  # = C
    c.data.input_mean = 0.0  # inputs stay exactly one-hot
    c.data.class_separation = 0.0  # class-mean spread (inputs=gaussian_mixture only)
    c.data.seed = 0  # the data's own seed (unused by barcodes)

    c.model = ml_collections.ConfigDict()
    c.model.name = "deep_linear"  # ŷ = W2 W1 x, no biases
    c.model.hidden = 32  # hidden width h >= C
    c.model.init = "aligned"  # aligned: W1 = a0 Σ h_k e_kᵀ, W2 = a0 Σ e_k h_kᵀ | random: N(0, 1/fan_in) · a0
    c.model.init_scale = 0.1  # a0: every class starts with output a0² = 0.01

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "square"  # ½‖ŷ − onehot‖², the theory's loss
    c.loss.reweight_exponent = 0.0  # plain loss
    c.loss.logit_adjustment = 0.0  # no logit adjustment

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "gd"  # gradient descent: t = η × step
    c.optimizer.learning_rate = 0.1  # η (η π_max = 0.03)
    c.optimizer.momentum = 0.0  # (unused by gd)
    c.optimizer.b1 = 0.9  # (unused)
    c.optimizer.b2 = 0.999  # (unused)
    c.optimizer.eps = 1e-8  # (unused)
    c.optimizer.weight_decay = 0.0  # none
    c.optimizer.schedule = "constant"  # constant step size
    c.optimizer.warmup_steps = 0  # no warmup

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 3000  # t = 300: the rarest class (t ≈ 124) is learned well before the end
    c.train.batch_size = 0  # full batch
    c.train.chunk_steps = 1000  # steps per compiled scan
    c.train.num_log_points = 100  # log-spaced records; learning times are interpolated between them
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # not needed
    c.train.extra_metrics = ()  # none
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints

    c.select = ml_collections.ConfigDict()
    c.select.rule = "none"  # fixed step size
    c.select.metric = "loss"  # (unused with rule none)

    c.figures = ("theory_curves", "deep_linear_learning_times")  # sigmoids dashed; learning times
    return c


def get_sweep():
    """The aligned initialisation (exact theory) and a small random one of the same scale."""
    return sweep.axis("model.init", ["aligned", "random"])

"""Saxe, McClelland, Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks", applied to imbalanced classes (theory/deep_linear.py): a two-layer linear
network trained by GD on the square loss with one-hot inputs. From the small balanced
initialisation aligned with the classes, each class's error follows its own sigmoid and class k is
learned at t_k ≈ (1/(2π_k)) log(1/a0²): frequent classes first, rare ones 1/π_k later. The
simulated per-class curves lie on the sigmoids (figures/theory_curves.png, agreement.csv); a
small random initialisation of the same scale departs from them (second panel, and
figures/deep_linear_learning_times.png: measured against predicted learning times).

Measured (agreement.csv): aligned init, per-class learning times within 0.9% of
(1/(2π_k)) log((1 − a0²)/a0²), curves within 4.1% (max |ℓ_sim − ℓ_th| / max(ℓ_th, 0.01), the
largest late, where ℓ < 0.01 and discrete GD decays at a slightly different rate); random init,
learning times up to 38% later than the aligned prediction.

Run:     python -m dynamics.main --config=configs/theory_deep_linear.py --workdir=/tmp/theory_deep_linear
Small:   python -m dynamics.main --config=configs/theory_deep_linear.py:small --workdir=/tmp/theory_deep_linear_small
         (C = 8, hidden 8, 1024 steps: tests, figures --small)
Runtime: measured 39 s wall (20 s CPU) on the shared, busy 2-core CPU (2 members, 3000 full-batch steps).
"""
from dynamics import config, sweep


def get_config(variant=""):
    c = config.defaults(data="synthetic", model="deep_linear")  # ŷ = W2 W1 x, hidden 32 >= C, aligned init
    c.data.law = "zipf"  # counts ∝ (k+1)^-exponent
    c.data.num_classes = 16  # C
    c.data.num_samples = 1024  # N; π_k = N_k/N (the rarest class gets 19 samples)
    c.data.inputs = "barcodes"  # x = e_y: orthogonal class inputs of norm 1
    c.data.input_dim = 16  # = C
    c.data.input_mean = 0.0  # inputs stay exactly one-hot
    c.model.init_scale = 0.1  # a0: every class starts with output a0² = 0.01
    c.loss.name = "square"  # ½‖ŷ − onehot‖², the theory's loss
    c.train.num_steps = 3000  # t = 300: the rarest class (t ≈ 124) is learned well before the end
    c.train.chunk_steps = 1000  # steps per compiled scan
    c.train.num_log_points = 100  # log-spaced records; learning times are interpolated between them
    c.figures = ("theory_curves", "deep_linear_learning_times")  # sigmoids dashed; learning times
    if config.variant(variant, ("small",)) == "small":
        c.data.num_classes = 8  # C = 8: Zipf 1 gives 92 ... 12 samples
        c.data.num_samples = 256  # N
        c.data.input_dim = 8  # = C
        c.model.hidden = 8  # h = C
        c.train.num_steps = 1024  # 1.2 × the slowest aligned learning time of the tests' grid (Zipf 1.5, η π_max = 0.05)
        c.train.chunk_steps = 1025  # one compiled scan
        c.train.num_log_points = 120  # log-spaced records; learning times are interpolated between them
    return c


def get_sweep(variant=""):
    """The aligned initialisation (exact theory) and a small random one of the same scale."""
    return sweep.axis("model.init", ["aligned", "random"])

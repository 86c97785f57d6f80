"""Misgrokking (Lyu, Jin, Li, Du, Lee, Hu 2024, "Dichotomy of Early and Late Phase Implicit Biases Can
Provably Induce Grokking", Fig. 1b, Sec. 3.2.3): the diagonal linear network f(x) = <u*u - v*v, x>,
u = v = alpha at init, GD with weight decay lambda, on data separated by a large l2 margin along a dense
direction (n = 50 < d = 100). It first fits the data like the kernel (l2 max-margin) predictor, which
generalises (test error ~0.01), and near step log(alpha / alpha_rich) / (eta lambda) turns to the l1
max-margin predictor, which does not (test error ~0.1): test accuracy FALLS late in training. Same model,
optimizer, theory (theory/grokking.py) and prediction (dynamics.predict.grokking, agreement.csv) as
configs/grokking_diagonal.py; only the data differ. The figure is grokking_diagonal's.

Measured (alpha in {1.5, 2, 3} x lambda in {0.01, 0.03}, data seed 0; eta = 0.5 / (2 alpha^2 lambda_max)):
  plateau test error 0.0060-0.0075 vs the kernel predictor's 0.0145; final 0.121-0.150 vs the l1 max-margin
  predictor's 0.1285 (the fall: +0.11 to +0.14); measured / predicted transition step 1.35-1.53 (predicted
  9.6k-134k steps); NTK distance from init ~0 on the plateau, 0.27-0.30 at the end. small (data seeds 0-5):
  plateau <= kernel + 0.0085, final - sparse -0.0135 to +0.008, transition ratio 1.23-1.41
  (tests/test_misgrokking_claims.py).

Run:     python -m dynamics.main --config=configs/misgrokking_diagonal.py --workdir=/tmp/misgrokking_diagonal
Small:   python -m dynamics.main --config=configs/misgrokking_diagonal.py:small --workdir=/tmp/misgrokking_small   (tests, notebooks, figures --small)
Runtime: 11 s of CPU (45 s wall on the loaded shared 2-core CPU): 6 vmapped members x 340k GD steps.
         small: 6.3 s of CPU with start-up (dynamics.main).
"""
from dynamics import config, sweep

INIT_SCALES = (1.5, 2.0, 3.0)  # alpha
WEIGHT_DECAYS = (0.01, 0.03)  # lambda
LAMBDA_MAX = 10.822  # largest eigenvalue of x x^T / n of the data below (seed 0)


def learning_rate(alpha: float) -> float:
    """eta = 0.5 / (2 alpha^2 lambda_max(x x^T / n)): half the kernel regime's stability limit, the rule of
    configs/grokking_diagonal.py (the NTK at u = v = alpha is 8 alpha^2 <x, x'>, logistic curvature <= 1/4)."""
    return 0.5 / (2 * alpha**2 * LAMBDA_MAX)


def get_config(variant=""):
    c = config.defaults(data="margin_classification", model="diagonal_linear")  # n = 50 < d = 100, l2 margin 3
    c.model.init_scale = 2.0  # alpha: u = v = alpha at init (swept)
    c.optimizer.learning_rate = learning_rate(2.0)  # eta (swept with alpha); full-batch GD, as in Lyu et al.
    c.optimizer.weight_decay = 0.01  # lambda: GD on L + (lambda/2)(|u|^2 + |v|^2) (swept)
    c.train.num_steps = 340000  # 2.5 x the largest predicted transition step (alpha 3, lambda 0.01: 134k; the error settles slowly)
    c.train.chunk_steps = 20000  # steps per compiled scan
    c.train.num_log_points = 200  # log-spaced records
    c.train.extra_metrics = ("kernel_distance",)  # NTK distance from init and kernel-target alignment (Kumar et al.)
    c.figures = ("grokking_diagonal",)  # test error vs kernel / sparse predictors and the predicted transition
    if config.variant(variant, ("small",)) == "small":  # tests/test_misgrokking_claims.py's instance
        c.model.init_scale = 1.5  # the smallest alpha of the grid
        c.optimizer.learning_rate = learning_rate(1.5)  # its eta
        c.optimizer.weight_decay = 0.1  # a larger lambda than the grid's: predicted transition at step ~3.3k (seed 0)
        c.train.num_steps = 6000  # 1.7-1.9 x the predicted transition step (the most steps a small variant may take)
        c.train.chunk_steps = 3000  # two compiled chunks
        c.train.num_log_points = 300  # fine enough to read the transition step off
    return c


def get_sweep(variant=""):
    """alpha x lambda, with eta set by alpha; one vmapped program (all numbers are traced). small: one member."""
    if variant == "small":
        return [{}]
    scales = sweep.zip(sweep.axis("model.init_scale", INIT_SCALES),
                       sweep.axis("optimizer.learning_rate", [learning_rate(a) for a in INIT_SCALES]))
    return sweep.product(scales, sweep.axis("optimizer.weight_decay", WEIGHT_DECAYS))

"""Grokking from large initialisation and small weight decay in a diagonal linear network (Lyu, Jin,
Li, Du, Lee, Hu 2024, "Dichotomy of Early and Late Phase Implicit Biases Can Provably Induce
Grokking", Sec. 3.2.3): f(x) = <u*u - v*v, x> with u = v = alpha at init, trained by GD with weight
decay lambda on sparse linear classification (n = 50 < d = 100). It first fits the data like the
kernel predictor (l2 max margin, test error ~0.26 here), and only near step
log(alpha / alpha_rich) / (eta * lambda) jumps to the sparse predictor (l1 max margin, test error 0).
The figure sets the measured plateau error, final error and transition step against
theory/grokking.py's predictions over a grid of alpha and lambda; agreement.csv states the
same per member (dynamics.predict.grokking: measured error against the claim test's tolerance).

Measured (alpha in {1.5, 2, 3} x lambda in {0.01, 0.03}; eta = 0.5 / (2 alpha^2 lambda_max)):
  plateau test error 0.2515-0.2595 vs the kernel predictor's 0.2615;
  final test error 0-0.0015 vs the sparse predictor's 0;
  measured / predicted transition step 0.87-0.94 (predicted 3.85k-56.1k steps). The paper fixes
  the log(alpha) / (eta lambda) law (per doubling of alpha at one eta: 0.991-1.005 x log 2 / (eta
  lambda) over 4 seeds, tests/theory/test_grokking.py); alpha_rich, from the training data alone
  by theory.grokking.rich_scale, is this project's refinement (with the paper's leading order
  alpha_rich = 1 the prediction is ~3x too early, see theory/grokking.py).
The classification version only: the library's losses take integer labels, so the task is
sparse linear classification (logits [0, f]: cross-entropy = logistic loss), not regression.

Run:     python -m dynamics.main --config=configs/grokking_diagonal.py --workdir=/tmp/grokking_diagonal
Small:   python -m dynamics.main --config=configs/grokking_diagonal.py:small --workdir=/tmp/grokking_diagonal_small   (tests, notebooks, figures --small)
Runtime: ~24 s on the shared 2-core CPU (9.7 s of CPU; 6 vmapped members x 90k GD steps in 8 s,
         the rest is start-up and the theory at the end of the run).
         small: 5.3 s of CPU (dynamics.main).
No paper variant: the authors' script (github.com/vfleaking/grokking-dichotomy, train_diag_cls.py) fixes
d = 10^5, a 3-sparse truth, 10^4 test points, GD at 0.01 with weight decay 10^-3 for 10^6 full-batch steps,
but takes n and alpha from the command line (the figure's values are not in the code) and initialises
u = v = alpha / sqrt(2d), so the paper's size cannot be restored from it.
"""
from dynamics import config, sweep

INIT_SCALES = (1.5, 2.0, 3.0)  # alpha
WEIGHT_DECAYS = (0.01, 0.03)  # lambda
LAMBDA_MAX = 5.8779  # largest eigenvalue of x x^T / n of the data below (seed 0)


def learning_rate(alpha: float) -> float:
    """eta = 0.5 / (2 alpha^2 lambda_max(x x^T / n)): half the kernel regime's stability limit
    (the logistic loss has curvature <= 1/4 and the NTK at u = v = alpha is 8 alpha^2 <x, x'>)."""
    return 0.5 / (2 * alpha**2 * LAMBDA_MAX)


def get_config(variant=""):
    c = config.defaults(data="sparse_classification", model="diagonal_linear")  # n = 50 < d = 100, 3-sparse truth
    c.seed = 0  # unused randomness (the initialisation u = v = alpha is deterministic)
    c.model.init_scale = 2.0  # alpha: u = v = alpha at init (swept)
    c.optimizer.learning_rate = learning_rate(2.0)  # eta (swept with alpha); full-batch GD, as in Lyu et al.
    c.optimizer.weight_decay = 0.01  # lambda: GD on L + (lambda/2)(|u|^2 + |v|^2) (swept)
    c.train.num_steps = 90000  # 1.6 x the largest predicted transition step (alpha 3, lambda 0.01)
    c.train.chunk_steps = 10000  # steps per compiled scan
    c.train.num_log_points = 200  # log-spaced records
    c.figures = ("grokking_diagonal",)  # test error vs kernel / sparse predictors and the predicted transition
    if config.variant(variant, ("small",)) == "small":  # tests/test_grokking_claims.py's instance
        c.model.init_scale = 1.5  # the smallest alpha of the grid
        c.optimizer.learning_rate = learning_rate(1.5)  # its eta
        c.optimizer.weight_decay = 0.03  # the larger lambda: predicted transition at step 3850 (seed 0)
        c.train.num_steps = 6000  # 1.2-1.6 x the predicted transition step
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

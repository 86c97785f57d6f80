"""Grokking as the transition from lazy to rich dynamics (Kumar, Bordelon, Gershman, Pehlevan 2024, Sec. 5 and
Fig. 1b): a two-layer network at output scale alpha (Chizat et al.'s centred alpha-scaling), trained by plain
full-batch GD on the squared error of a degree-2 polynomial target with no regularisation. Rich (small alpha):
the hidden weights align with the target's directions and the test error falls with the training error.
Lazy (large alpha): the net first fits the data like kernel regression with its initial NTK (the dashed
plateau: theory/lazy_rich.py on the member's own kernel, no fitting) and generalises only once its kernel has
moved (the kernel_distance record); the delay grows with alpha, and the laziest members never leave the plateau.

Setting: x uniform on {-1, 1}^30, y = x_1 x_2 (data 'boolean_monomial'), P = 300 < d(d-1)/2 samples, N = 50
neurons with phi(z) = z + z^2/2 (model 'lazy_two_layer'), GD step 0.5, alpha swept as a traced number (one
vmapped program). Deviations from the paper (README table): the target is a product of two coordinates on the
hypercube instead of the paper's polynomial of Gaussian inputs (its +-1 values keep the library's integer labels,
and the square loss on logits [-f/2, f/2] is then the squared error of f); readout weights +-1/sqrt(N) and a
trained bias; the paper's alignment parameter epsilon is not swept.

Measured (seeds 0-2 each): grokking delay (test minus train 99%-accuracy step) 84-171 steps at alpha 0.1,
  636-1662 at 0.3, 4324 and 9734 at 0.6 (the third seed reaches 97.6% by 60k steps), none within 60k steps at
  alpha >= 1 (final test accuracy 0.93-0.98 at 1, 0.85-0.95 at 2); at alpha = 10 the final test error is the
  init-NTK kernel predictor's at the same step to within 0.002-0.010 (0.077-0.254) and the NTK moved by
  1.5e-5-5.3e-5 (1 - cos), against 0.17-0.26 at alpha = 0.1. small (alpha 0.1, 0.3, 10; seeds 0-4, 3000
  steps, 500 test points): delays 97-216 vs 616-1349 steps (x6.4-x9.6; seed 4 at 0.3: none), lazy
  |net - kernel predictor| <= 0.004 (tests/test_lazy_rich_claims.py).

Run:     python -m dynamics.main --config=configs/grokking_lazy_rich.py --workdir=/tmp/grokking_lazy_rich
Small:   python -m dynamics.main --config=configs/grokking_lazy_rich.py:small --workdir=/tmp/grokking_lazy_rich_small   (tests, notebooks, figures --small)
Runtime: 52-61 s of CPU (95 s wall on the loaded shared 2-core CPU): 18 vmapped members x 60k GD steps, then the
         init-NTK kernel predictor of each seed (1300 x 3100 tangent features). small: ~8 s of CPU (the claim test).
"""
from dynamics import config, sweep

OUTPUT_SCALES = (0.1, 0.3, 0.6, 1.0, 2.0, 10.0)  # alpha: rich to lazy
SEEDS = (0, 1, 2)  # init and data seed


def get_config(variant=""):
    c = config.defaults(data="boolean_monomial", model="lazy_two_layer")  # y = x_1 x_2 on {-1, 1}^30, P = 300
    c.model.init_scale = 1.0  # alpha, the output scale (swept)
    c.loss.name = "square"  # squared error, as in Kumar et al.
    c.optimizer.learning_rate = 0.5  # GD step on w (alpha-independent function-space speed at init)
    c.train.num_steps = 60000  # alpha = 0.6 generalises by step 10k on 2 of 3 seeds; alpha >= 1 has not by the end
    c.train.chunk_steps = 20000  # steps per compiled scan
    c.train.num_log_points = 120  # log-spaced records
    c.train.extra_metrics = ("kernel_distance",)  # NTK distance from init and kernel-target alignment
    c.figures = ("grokking_lazy_rich",)  # accuracy, loss and kernel distance vs step; delay vs alpha
    if config.variant(variant, ("small",)) == "small":  # tests/test_lazy_rich_claims.py's instance
        c.data.num_test = 500  # half the test points: the kernel predictor's features and the evaluations cost less
        c.train.num_steps = 3000  # enough for alpha = 0.3 to generalise (seeds 0-3: by step 2000)
        c.train.chunk_steps = 1500  # two compiled chunks
        c.train.num_log_points = 60  # log-spaced records
    return c


def get_sweep(variant=""):
    """alpha x seed (init and data), one vmapped program. small: alpha in {0.1, 0.3, 10} x seeds 0-1."""
    scales, seeds = ((0.1, 0.3, 10.0), SEEDS[:2]) if variant == "small" else (OUTPUT_SCALES, SEEDS)
    return sweep.product(sweep.axis("model.init_scale", scales),
                         sweep.zip(sweep.axis("seed", seeds), sweep.axis("data.seed", seeds)))

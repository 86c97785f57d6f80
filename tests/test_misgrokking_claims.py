"""Misgrokking (Lyu et al. 2024, Fig. 1b, Sec. 3.2.3), on configs/misgrokking_diagonal.py's small variant
(the instance the notebook and `dynamics.figures --small` use), over data seeds 0-2 in one vmapped run;
margins measured over data seeds 0-5 (values in the comments)."""
import numpy as np
import pytest

from conftest import load_config
from dynamics import experiment, predict
from dynamics.predict import grokking

SEEDS = (0, 1, 2)


@pytest.mark.slow
def test_large_init_and_small_weight_decay_make_test_accuracy_fall_late_and_the_ntk_move_then():
    """Lyu et al. 2024: with large init alpha and small weight decay lambda the diagonal net first fits the
    data like the kernel (l2 max-margin) predictor and later turns to the l1 max-margin one, near step
    log(alpha / alpha_rich) / (eta lambda) (theory/grokking.py); on data separated by a large l2 margin the
    late predictor is the worse one, so test accuracy FALLS late ("misgrokking"). Kumar et al. 2024's
    diagnostic: the empirical NTK stays at its initial value on the plateau and moves, towards the labels,
    at the transition (dynamics.metrics.kernel). alpha 1.5, lambda 0.1, n = 50 < d = 100, l2 margin 3,
    6000 steps."""
    c, _ = load_config("misgrokking_diagonal", "small")
    history = experiment.run(c, [{"data.seed": s} for s in SEEDS], progress=lambda s: None)
    steps = history.step
    for i in range(len(SEEDS)):
        pred = grokking.diagonal_prediction(history, i)    # seed 0: kernel 0.0145, sparse 0.1285, step 3268
        meas = grokking.diagonal_measurements(history, i, pred)
        assert pred["sparse_error"] - pred["kernel_error"] >= 0.05           # 0.070-0.114: the late bias is worse
        assert meas["fit_step"] < 0.005 * pred["transition_step"]          # measured <= 0.00031
        assert meas["plateau_error"] == pytest.approx(pred["kernel_error"], abs=0.02)  # measured <= 0.0085
        assert meas["final_error"] - meas["plateau_error"] >= 0.04         # the fall: 0.060-0.118
        assert 1.1 <= meas["transition_step"] / pred["transition_step"] <= 1.6  # measured 1.23-1.41
        distance, alignment = history.records["kernel_distance"][i], history.records["kernel_alignment"][i]
        plateau = np.searchsorted(steps, pred["transition_step"] / 4)
        assert distance[plateau] < 1e-3                                      # lazy: measured <= 2.4e-5
        assert distance[-1] > 0.15                                           # rich: measured 0.20-0.26
        assert alignment[-1] - alignment[plateau] > 0.05                    # measured +0.12 to +0.20
    # |final - sparse predictor's| <= 0.025 (FINAL_TOLERANCE): measured -0.0135 to +0.008
    assert predict.agreement(history)["within_tolerance"].all()

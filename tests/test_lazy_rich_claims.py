"""Lazy-to-rich grokking (Kumar, Bordelon, Gershman, Pehlevan 2024), on configs/grokking_lazy_rich.py's small
variant (the instance the notebook and `dynamics.figures --small` use): output scales alpha 0.1 (rich),
0.3 and 10 (lazy) x seeds 0-1 (init and data), 3000 GD steps in one vmapped run; margins measured over
seeds 0-4 (values in the comments)."""
import numpy as np
import pytest

from conftest import load_config
from dynamics import experiment, predict
from dynamics.predict import grokking, lazy_rich


@pytest.mark.slow
def test_the_grokking_delay_grows_with_laziness_and_the_lazy_net_sits_on_the_init_kernel_predictor():
    """Kumar et al. 2024 (Sec. 5, Fig. 1b): a two-layer net on a polynomial target generalises as it fits in
    the rich regime (small output scale alpha); at larger alpha it first fits like kernel regression with its
    initial NTK and generalises only later, once its kernel has moved, and the delay grows with alpha; the
    laziest net stays on the kernel predictor's test error (theory/lazy_rich.py, from the member's own
    initial NTK) with its kernel unmoved."""
    c, members = load_config("grokking_lazy_rich", "small")
    history = experiment.run(c, members, progress=lambda s: None)
    scales = [m["model.init_scale"] for m in members]
    by_scale = {a: [i for i, s in enumerate(scales) if s == a] for a in set(scales)}
    distance = history.records["kernel_distance"][:, -1]
    for rich, middle, lazy in zip(by_scale[0.1], by_scale[0.3], by_scale[10.0]):   # the same seed
        fast, slow = (grokking.grokking_steps(history, i) for i in (rich, middle))
        assert fast["grokking_time"] <= 300                                  # rich: 97-216 steps after the fit
        assert slow["grokking_time"] >= 4 * fast["grokking_time"]             # 616-1349 (x6.4-x9.6; seed 4: never)
        assert np.isnan(grokking.grokking_steps(history, lazy)["generalization_step"])  # never, 5 of 5 seeds
        kernel = lazy_rich.kernel_prediction(history, lazy)                  # seed 0: test error 0.082 at step 3000
        assert 1.0 - history.records["test_accuracy"][lazy, -1] == pytest.approx(kernel["test_error"],
                                                                                abs=lazy_rich.PLATEAU_TOLERANCE)
        # measured |net - kernel predictor| <= 0.004 (0-1 error), <= 0.019 (squared error)
        assert lazy_rich.squared_test_error(history, lazy)[-1] == pytest.approx(kernel["squared_error"], abs=0.04)
        assert distance[rich] > 0.1 > distance[middle] > 0.01 > 1e-4 > distance[lazy]  # 0.16-0.25, 0.023-0.047, <= 3e-5
    rows = predict.agreement(history)
    assert len(rows) == 2 and rows["within_tolerance"].all()                # the lazy members' plateau rows

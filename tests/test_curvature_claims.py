"""Rangwani et al. 2022's claims on configs/curvature_sam.py:small (long-tailed digits, ratio 139, MLP 32-32,
CE re-weighted by 1/n_k, SGD with momentum; SAM at ρ = 0, 0.05 and their 0.5; seeds 0-2, all vmapped in one
program), checked at the last step on the 3 most frequent (head) and 3 rarest (tail) classes. Which of the
paper's claims hold at this scale, and which do not, is stated per test; the margins were measured on all
three seeds (values in the comments, seeds 0 / 1 / 2)."""
import numpy as np
import pytest

from conftest import load_config
from dynamics import train
from dynamics.buckets import class_mean
from dynamics.buckets import head_and_tail
from dynamics.metrics.curvature import saddle_ratio


@pytest.fixture(scope="module")
def finals():
    """{ρ: {quantity: [3 seeds]}} at the last step."""
    config, members = load_config("curvature_sam", "small")
    history = train.run(config, members, progress=lambda s: None)
    assert [m["seed"] for m in history.members] == [0, 1, 2] * 3
    head, tail = head_and_tail(10)
    ratio = saddle_ratio(history)[:, -1]
    records = {k: v[:, -1] for k, v in history.records.items()}
    out = {}
    for j, rho in enumerate([0.0, 0.05, 0.5]):
        mine = slice(3 * j, 3 * j + 3)
        assert all(m["optimizer.rho"] == rho for m in history.members[mine])
        out[rho] = {"ratio_head": class_mean(ratio[mine], head), "ratio_tail": class_mean(ratio[mine], tail),
                    "max_head": class_mean(records["class_hessian_max"][mine], head),
                    "max_tail": class_mean(records["class_hessian_max"][mine], tail),
                    "test_tail": class_mean(records["test_per_class_accuracy"][mine], tail),
                    "train_accuracy": records["accuracy"][mine]}
    return out


@pytest.mark.slow
def test_re_weighted_sgd_leaves_the_tail_classes_no_more_at_a_saddle_than_the_head(finals):
    """Paper (sec. 3, fig. 1): with a re-weighted loss the tail classes converge to saddle points (λ_min << 0
    against λ_max), unlike the head classes. NOT reproduced at this scale: SGD with momentum fits every
    training image, and the tail classes end with λ_min/λ_max of -0.014 / -0.015 / -0.023 (head: -0.017 /
    -0.013 / -0.016), against -0.84 to -0.89 for every class at step 0: the saddle is the initialisation's,
    and training leaves it for head and tail alike. (The same run in the full 24-member program, whose
    float rounding differs: tail -0.024 / -0.015 / -0.025, head -0.022 / -0.014 / -0.017.)"""
    sgd = finals[0.0]
    np.testing.assert_array_equal(sgd["train_accuracy"], 1.0)
    assert np.all(sgd["ratio_tail"] > -0.05) and np.all(sgd["ratio_tail"] < 0)
    assert np.all(np.abs(sgd["ratio_tail"] - sgd["ratio_head"]) < 0.02)  # measured <= 0.008


@pytest.mark.slow
def test_sam_ends_flatter_for_head_and_tail_classes_on_average(finals):
    """Foret et al. 2021 / paper (sec. 4): SAM finds flatter solutions. Holds on the mean over seeds: with
    ρ = 0.05 the final λ_max of the head classes is 0.36 of SGD's and of the tail classes 0.54 (full
    24-member program: 0.48 and 0.61). Not seed by seed: there the long SGD trajectory changes with the
    float rounding (in the full program seed 0's head λ_max is 0.30 under SAM against 0.23 under SGD)."""
    sgd, sam = finals[0.0], finals[0.05]
    assert np.mean(sam["max_head"]) < 0.8 * np.mean(sgd["max_head"])
    assert np.mean(sam["max_tail"]) < 0.8 * np.mean(sgd["max_tail"])


@pytest.mark.slow
def test_the_papers_large_rho_keeps_the_tail_at_a_saddle_and_lowers_its_accuracy(finals):
    """Paper (sec. 4-5): SAM with a large ρ (0.5 for CE+DRW on CIFAR-10-LT) escapes the tail classes' saddles
    and raises their accuracy. NOT reproduced: at ρ = 0.5 with 1/n_k weights the tail classes are not fitted
    and end with λ_min/λ_max of -0.30 / -0.47 / -0.59 (full program: -0.36 / -0.32 / -0.73), and their test
    accuracy falls from SGD's 0.10 / 0.25 / 0.27 to 0.06 / 0.06 / 0.07 (full program: 0.20 / 0.25 / 0.27 to
    0.12 / 0.07 / 0.06). (ρ = 0.05: 0.17 / 0.19 / 0.28, no consistent gain.)"""
    sgd, large = finals[0.0], finals[0.5]
    assert np.all(large["ratio_tail"] < -0.2)
    assert np.all(large["test_tail"] < sgd["test_tail"] - 0.03)

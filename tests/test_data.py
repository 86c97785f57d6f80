import numpy as np
import pytest

from dynamics.data import build_dataset, laws
from dynamics.errors import ConfigError


def synthetic(**overrides):
    fields = dict(name="synthetic", law="step_zipf", num_classes=15, num_samples=64, exponent=1.0, ratio=10.0,
                  inputs="uniform", input_dim=8, input_mean=0.5, class_separation=0.0, seed=0)
    fields.update(overrides)
    return build_dataset(fields)


def test_step_zipf_groups():
    """m=4 groups of 16 samples: 1 class of 16, 2 of 8, 4 of 4, 8 of 2."""
    counts = laws.step_zipf_counts(15, 64)
    np.testing.assert_array_equal(counts, [16] + [8] * 2 + [4] * 4 + [2] * 8)


def test_zipf_counts_sum_exactly_and_decrease():
    for exponent in (0.0, 0.5, 1.0, 2.0):
        counts = laws.zipf_counts(50, 1000, exponent)
        assert counts.sum() == 1000 and counts.min() >= 1
        assert np.all(np.diff(counts) <= 0)
    np.testing.assert_array_equal(laws.two_class_counts(2, 110, 10.0), [100, 10])
    np.testing.assert_array_equal(laws.uniform_counts(3, 10), [4, 3, 3])


def test_labels_are_frequency_ranks():
    data = synthetic(law="zipf", num_classes=10, num_samples=200)
    counts = np.bincount(data.y, minlength=10)
    np.testing.assert_array_equal(counts, data.class_counts)
    assert np.all(np.diff(counts) <= 0)


def test_input_laws():
    uniform = synthetic(num_samples=4096, num_classes=15, input_dim=4)
    assert abs(uniform.x.mean() - 0.5) < 0.02 and uniform.x.min() >= 0.0 and uniform.x.max() <= 1.0
    centred = synthetic(inputs="gaussian", input_mean=0.0, num_samples=4096)
    assert abs(centred.x.mean()) < 0.02 and abs(centred.x.var() - 1 / 12) < 0.01
    codes = synthetic(inputs="barcodes", input_dim=15, input_mean=0.0)
    np.testing.assert_array_equal(codes.x, np.eye(15)[codes.y])


@pytest.mark.parametrize("overrides, message", [
    (dict(law="zipfian"), "valid choices"),
    (dict(law="zipf", exponent=-1.0), "data.exponent must be >= 0"),
    (dict(num_classes=100, num_samples=64, law="zipf"), "num_samples must be an integer >= data.num_classes"),
    (dict(num_classes=14), r"2\^m - 1"),
    (dict(inputs="barcodes", input_dim=4), "input_dim >= data.num_classes"),
    (dict(input_mean=float("nan")), "finite"),
])
def test_bad_data_configs_name_the_problem(overrides, message):
    with pytest.raises(ConfigError, match=message):
        synthetic(**overrides)


def test_unknown_and_missing_keys():
    with pytest.raises(ConfigError, match="unknown keys"):
        synthetic(colour="red")
    with pytest.raises(ConfigError, match="valid choices"):
        build_dataset(dict(name="mnist"))


def test_digits_long_tail_and_barcoded():
    lt = build_dataset(dict(name="digits_long_tail", exponent=1.0, test_fraction=0.2, seed=0))
    assert lt.x.shape[1:] == (8, 8, 1) and lt.num_classes == 10
    assert lt.class_counts[0] / lt.class_counts[-1] >= 9
    np.testing.assert_array_equal(np.bincount(lt.y, minlength=10), lt.class_counts)
    bc = build_dataset(dict(name="digits_barcoded", barcode_classes=20, barcode_samples=3, test_fraction=0.2, seed=0))
    assert bc.num_classes == 30 and np.all(bc.class_counts[10:] == 3)
    rare = bc.x[bc.y >= 10][..., 0]
    codes = {tuple(img[[0, 7]].reshape(-1)) for img in rare}
    assert len(codes) == 20  # one barcode per rare class
    assert np.all(bc.x[bc.y < 10][:, [0, 7]] == 0)  # digits keep the barcode rows blank

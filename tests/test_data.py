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


def test_digits_long_tail():
    lt = build_dataset(dict(name="digits_long_tail", exponent=1.0, test_fraction=0.2, seed=0))
    assert lt.x.shape[1:] == (8, 8, 1) and lt.num_classes == 10
    assert lt.class_counts[0] / lt.class_counts[-1] >= 9
    np.testing.assert_array_equal(np.bincount(lt.y, minlength=10), lt.class_counts)


def barcoded(construction, bits=2, samples=4):
    return build_dataset(dict(name="digits_barcoded", construction=construction, barcode_bits=bits,
                              barcode_samples=samples, test_fraction=0.2, seed=0))


def source_digits(data, x, y):
    """For each rare image: the digit class of the training digit image it copies (columns 1-7;
    the standardisation maps equal pixels to equal values), and its barcode column."""
    digit_of = {img[:, 1:].tobytes(): label for img, label in zip(data.x[data.y < 10][..., 0], data.y[data.y < 10])}
    rare = y >= 10
    return np.array([digit_of.get(img[:, 1:].tobytes(), -1) for img in x[rare][..., 0]]), x[rare][..., 0][:, :, 0], y[rare]


def test_barcoded_digits_as_the_paper():
    """Kunstner et al.'s make_barcoded_mnist(with_mnist=True): the digits keep all their training
    images; one rare class per (nonzero barcode, digit) pair, each of `barcode_samples` images of
    that digit alone; one test image per rare class, from held-out images of its digit."""
    bc = barcoded("paper", bits=2, samples=4)
    assert bc.num_classes == 10 + 10 * 3 and bc.x.shape[1:] == (8, 8, 1)
    np.testing.assert_array_equal(bc.class_counts[10:], 4)
    assert bc.class_counts[:10].sum() == 1797 - bc.x_test[bc.y_test < 10].shape[0]  # every training digit kept
    assert np.all(np.diff(bc.class_counts[:10]) <= 0)  # digits ordered by count
    np.testing.assert_array_equal(np.bincount(bc.y, minlength=40), bc.class_counts)
    np.testing.assert_array_equal(np.bincount(bc.y_test, minlength=40)[10:], 1)
    digits, column, labels = source_digits(bc, bc.x, bc.y)
    assert np.all(digits >= 0)  # every rare training image is a copy of a training digit
    for k in range(10, 40):
        assert np.unique(digits[labels == k]).size == 1  # ... of one digit only
        assert np.unique(column[labels == k], axis=0).shape[0] == 1  # ... under one barcode
    # class 10 + 10 (code - 1) + rank: the digit of rank `rank` under barcode `code`
    np.testing.assert_array_equal(digits, (labels - 10) % 10)
    assert np.unique(column, axis=0).shape[0] == 3  # 2^bits - 1 nonzero barcodes
    # the barcode column carries nothing for the digits: one value per pixel over all of them
    assert np.unique(bc.x[bc.y < 10][..., 0][:, :, 0], axis=0).shape[0] == 1
    # standardised pixels: mean 0 and (sample) std 1 over the training set where they vary
    std = bc.x.std(axis=0, ddof=1)
    np.testing.assert_allclose(bc.x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(std[std > 0], 1, rtol=1e-4)


def test_barcoded_digits_any_digit_variant():
    """The variant: one rare class per barcode, its images drawn from all ten digits."""
    bc = barcoded("any_digit", bits=3, samples=20)
    assert bc.num_classes == 10 + 7
    np.testing.assert_array_equal(bc.class_counts[10:], 20)
    digits, column, labels = source_digits(bc, bc.x, bc.y)
    assert np.all(digits >= 0)
    assert min(np.unique(digits[labels == k]).size for k in range(10, 17)) >= 4  # many digits per class
    assert np.unique(column, axis=0).shape[0] == 7


@pytest.mark.parametrize("change,message", [
    (dict(construction="stamped"), "valid choices"), (dict(barcode_bits=9), "barcode_bits"),
    (dict(barcode_samples=0), "barcode_samples"), (dict(test_fraction=0.001), "holds out no image"),
])
def test_barcoded_digits_rejects_bad_config(change, message):
    fields = dict(name="digits_barcoded", construction="paper", barcode_bits=2, barcode_samples=4,
                  test_fraction=0.2, seed=0)
    with pytest.raises(ConfigError, match=message):
        build_dataset({**fields, **change})

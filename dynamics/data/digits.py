"""scikit-learn's bundled 8x8 digits (no download), made long-tailed or barcoded.

Images are [N, 8, 8, 1] floats in [0, 1]; models that want vectors flatten them.
"""
import numpy as np

from dynamics.data.dataset import Dataset
from dynamics.errors import ConfigError, check_choice, check_range


def _split_digits(test_fraction: float, seed: int):
    """Per-class shuffled train/test split of the 1797 digits; returns lists of image arrays per digit."""
    check_range("data.test_fraction", test_fraction, 0.0, 0.9)
    from sklearn.datasets import load_digits  # imported here: it costs ~2 s of every launch's start-up

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        imgs = images[bunch.target == digit]
        imgs = imgs[rng.permutation(len(imgs))]
        n_test = int(round(test_fraction * len(imgs)))
        test.append(imgs[:n_test])
        train.append(imgs[n_test:])
    return train, test, rng


def _stack(per_class):
    x = np.concatenate(per_class)[..., None]
    y = np.concatenate([np.full(len(a), k, np.int32) for k, a in enumerate(per_class)])
    return x, y


def digits_long_tail(exponent: float = 1.0, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Digits subsampled so that the class of rank k keeps n_max (k+1)^-exponent training images.

    The digit identities are shuffled into ranks by `seed`; the test split stays balanced.
    """
    check_range("data.exponent", exponent, 0.0)
    train, test, rng = _split_digits(test_fraction, seed)
    order = rng.permutation(10)
    train, test = [train[d] for d in order], [test[d] for d in order]
    n_max = min(len(a) for a in train)
    keep = np.maximum(1, np.floor(n_max * np.arange(1, 11, dtype=np.float64) ** -float(exponent))).astype(int)
    train = [a[:k] for a, k in zip(train, keep)]
    x, y = _stack(train)
    x_test, y_test = _stack(test)
    return Dataset(x=x, y=y, class_counts=keep.astype(np.int64), x_test=x_test, y_test=y_test)


BARCODE_CONSTRUCTIONS = ("paper", "any_digit")


def barcode_column(code: int, bits: int) -> np.ndarray:
    """The `bits`-bit pattern of `code` as a column of 8 pixels (bit i at row i, rows >= bits blank)."""
    column = np.zeros(8, np.float32)
    column[:bits] = (code >> np.arange(bits)) & 1
    return column


def standardize(x: np.ndarray, x_test):
    """Each pixel minus its training mean, over its training standard deviation (ddof 1); pixels
    constant over the training set are left as they are (Kunstner et al.'s `safe_normalize`)."""
    mean, std = x.mean(axis=0), x.std(axis=0, ddof=1)
    varies = std > 0
    scale = lambda a: np.where(varies, (a - mean) / np.where(varies, std, 1.0), a).astype(np.float32)
    return scale(x), None if x_test is None else scale(x_test)


def digits_barcoded(construction: str = "paper", barcode_bits: int = 5, barcode_samples: int = 5,
                    test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """The ten digits plus rare barcoded classes (Kunstner et al. 2024, sec. 3; their code's
    `make_barcoded_mnist(with_mnist=True)`).

    A barcode is one of the 2^bits - 1 nonzero `barcode_bits`-bit codes written into the left column
    of the image (row i holds bit i; a set bit takes the images' maximum, 1), a column that is
    blank in 1770 of the 1797 digits and is cleared in all of them, as MNIST's top row, which holds
    the paper's 10-bit barcodes, is blank. (The paper's `itertools.product` also yields the all-zero
    code, whose classes are unmarked copies of digit images under a second label; it is left out.)
    The rare classes:
    - "paper": one class per (barcode, digit) pair, 10 (2^bits - 1) classes; each holds
      `barcode_samples` images drawn with replacement from the training images of its digit only,
      stamped with its barcode, so a model must read both the barcode and the digit;
    - "any_digit": one class per barcode, 2^bits - 1 classes, whose images are drawn from all ten
      digits: the barcode alone separates a rare class.
    The ten digits keep all their training images (classes 0-9, ordered by count); the rare
    classes follow, barcode by barcode (and digit by digit for "paper"). The test split holds each
    digit's held-out share and one image per rare class drawn from held-out images (the paper's
    one validation image per class). Every pixel is then standardised with the training set's
    statistics, as the paper's `normalize=True`.
    """
    check_choice("data.construction", construction, BARCODE_CONSTRUCTIONS)
    if isinstance(barcode_bits, bool) or not isinstance(barcode_bits, int) or not 1 <= barcode_bits <= 8:
        raise ConfigError(f"data.barcode_bits must be an integer in [1, 8] (the 8 pixels of a column), "
                          f"got {barcode_bits!r}")
    if isinstance(barcode_samples, bool) or not isinstance(barcode_samples, int) or barcode_samples < 1:
        raise ConfigError(f"data.barcode_samples must be a positive integer, got {barcode_samples!r}")
    train, test, rng = _split_digits(test_fraction, seed)
    order = np.argsort([-len(a) for a in train], kind="stable")
    train, test = [train[d] for d in order], [test[d] for d in order]
    for images in train + test:
        images[:, :, 0] = 0.0
    sources = (lambda split: list(split)) if construction == "paper" else (lambda split: [np.concatenate(split)])

    def stamped(source, code, count):
        images = source[rng.integers(0, len(source), count)].copy()
        images[:, :, 0] = barcode_column(code, barcode_bits)
        return images

    codes = range(1, 2**barcode_bits)
    rare_train = [stamped(s, c, barcode_samples) for c in codes for s in sources(train)]
    x, y = _stack(train + rare_train)
    x_test, y_test = None, None
    if test_fraction > 0:
        if min(len(a) for a in test) == 0:
            raise ConfigError(f"data.test_fraction={test_fraction} holds out no image of some digit; "
                              "use 0 or >= 0.003")
        x_test, y_test = _stack(test + [stamped(s, c, 1) for c in codes for s in sources(test)])
    x, x_test = standardize(x, x_test)
    counts = np.array([len(a) for a in train + rare_train], dtype=np.int64)
    return Dataset(x=x, y=y, class_counts=counts, x_test=x_test, y_test=y_test)

"""scikit-learn's bundled 8x8 digits (no download), made long-tailed or barcoded.

Images are [N, 8, 8, 1] floats in [0, 1]; models that want vectors flatten them.
"""
import numpy as np

from dynamics.data import laws
from dynamics.data.dataset import Dataset
from dynamics.errors import ConfigError, check_range


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


def digits_long_tail(exponent: float, test_fraction: float, seed: int) -> Dataset:
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


def barcode(code: int) -> np.ndarray:
    """The 16-bit pattern of `code` (1 <= code < 2^16) laid on the top and bottom rows of an 8x8 image."""
    bits = (code >> np.arange(16)) & 1
    return bits.reshape(2, 8).astype(np.float32)


def digits_barcoded(barcode_classes: int, barcode_samples: int, test_fraction: float, seed: int) -> Dataset:
    """The ten digits plus `barcode_classes` rare classes (Kunstner et al. 2024, barcoded MNIST, sec. 3).

    Each rare class is `barcode_samples` random digit images stamped with its own barcode on the
    top and bottom rows; the ten digits keep those rows blank. Classes 0-9 (the digits, ordered
    by count) are frequent, classes 10.. are the barcoded ones. The test split holds the digits'
    held-out images and, for each barcoded class, fresh digit images with the same barcode.
    """
    if isinstance(barcode_classes, bool) or not isinstance(barcode_classes, int) \
            or not 0 <= barcode_classes < 2**16 - 1:
        raise ConfigError(f"data.barcode_classes must be an integer in [0, 65534], got {barcode_classes!r}")
    if isinstance(barcode_samples, bool) or not isinstance(barcode_samples, int) or barcode_samples < 1:
        raise ConfigError(f"data.barcode_samples must be a positive integer, got {barcode_samples!r}")
    train, test, rng = _split_digits(test_fraction, seed)
    order = np.argsort([-len(a) for a in train], kind="stable")
    train, test = [train[d] for d in order], [test[d] for d in order]
    pool, pool_test = np.concatenate(train), np.concatenate(test) if test_fraction > 0 else None

    def stamped(source, code, count):
        imgs = source[rng.integers(0, len(source), count)].copy()
        imgs[:, [0, 7], :] = barcode(code)
        return imgs

    for images in train + test:
        images[:, [0, 7], :] = 0.0
    codes = rng.permutation(np.arange(1, 2**16))[:barcode_classes]
    train += [stamped(pool, c, barcode_samples) for c in codes]
    if pool_test is not None:
        test += [stamped(pool_test, c, barcode_samples) for c in codes]
    x, y = _stack(train)
    x_test, y_test = _stack(test) if pool_test is not None else (None, None)
    counts = np.array([len(a) for a in train], dtype=np.int64)
    return Dataset(x=x, y=y, class_counts=counts, x_test=x_test, y_test=y_test)

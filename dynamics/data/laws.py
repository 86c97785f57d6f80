"""Class-frequency laws: how many training samples each class gets.

Classes are ordered by frequency: class 0 is the most frequent.
"""
import math

import numpy as np

from dynamics.errors import ConfigError, check_choice, check_range


def zipf_counts(num_classes: int, num_samples: int, exponent: float) -> np.ndarray:
    """Counts proportional to (k+1)^-exponent, each >= 1, summing to exactly num_samples."""
    check_range("data.exponent", exponent, 0.0)
    probs = np.arange(1, num_classes + 1, dtype=np.float64) ** -float(exponent)
    return _round_to_total(probs / probs.sum(), num_samples)


def step_zipf_counts(num_classes: int, num_samples: int) -> np.ndarray:
    """Kunstner et al. 2024 (sec. 3): m groups; group i holds 2^i classes of num_samples/(m 2^i) samples.

    So num_classes = 2^m - 1, every group has the same total, and the rarest class is 2^(m-1)
    times rarer than the most frequent.
    """
    groups = round(math.log2(num_classes + 1))
    if 2**groups - 1 != num_classes:
        raise ConfigError(f"step_zipf needs data.num_classes = 2^m - 1 (1, 3, 7, ..., 255), got {num_classes}")
    per_group = num_samples // groups
    if per_group * groups != num_samples or per_group % 2 ** (groups - 1):
        raise ConfigError(
            f"step_zipf with {groups} groups needs data.num_samples divisible by m*2^(m-1) = "
            f"{groups * 2 ** (groups - 1)}, got {num_samples}")
    return np.concatenate([np.full(2**i, per_group // 2**i) for i in range(groups)]).astype(np.int64)


def two_class_counts(num_classes: int, num_samples: int, ratio: float) -> np.ndarray:
    """Two classes, the majority `ratio` times larger than the minority."""
    if num_classes != 2:
        raise ConfigError(f"two_class law needs data.num_classes = 2, got {num_classes}")
    check_range("data.ratio", ratio, 1.0)
    minority = max(1, round(num_samples / (1.0 + ratio)))
    return np.array([num_samples - minority, minority], dtype=np.int64)


def uniform_counts(num_classes: int, num_samples: int) -> np.ndarray:
    """Balanced classes (the remainder goes to the first classes)."""
    return _round_to_total(np.full(num_classes, 1.0 / num_classes), num_samples)


def class_counts(law: str, num_classes: int, num_samples: int, exponent: float, ratio: float) -> np.ndarray:
    """Counts [C] under the named law; `exponent` is used by zipf, `ratio` by two_class."""
    check_choice("frequency law (data.law)", law, ("zipf", "step_zipf", "two_class", "uniform"))
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ConfigError(f"data.num_classes must be a positive integer, got {num_classes!r}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < num_classes:
        raise ConfigError(
            f"data.num_samples must be an integer >= data.num_classes ({num_classes}), got {num_samples!r}")
    check_range("data.exponent", exponent, 0.0)  # checked whatever the law: a bad value is never silently unused
    check_range("data.ratio", ratio, 1.0)
    if law == "zipf":
        return zipf_counts(num_classes, num_samples, exponent)
    if law == "step_zipf":
        return step_zipf_counts(num_classes, num_samples)
    if law == "two_class":
        return two_class_counts(num_classes, num_samples, ratio)
    return uniform_counts(num_classes, num_samples)


def labels_from_counts(counts: np.ndarray) -> np.ndarray:
    """Labels [N], sorted by class: counts[k] copies of k."""
    return np.repeat(np.arange(len(counts)), counts).astype(np.int32)


def _round_to_total(probs: np.ndarray, total: int) -> np.ndarray:
    """Largest-remainder rounding of total*probs with every count >= 1."""
    spare = total - len(probs)
    raw = probs * spare
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: spare - counts.sum()]] += 1
    return counts + 1

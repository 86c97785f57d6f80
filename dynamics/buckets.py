"""Frequency buckets: classes grouped by their sample count, and means over classes that leave out
the classes with no sample (their per-class records are NaN). Used by figures and summaries alike."""
import numpy as np


def frequency_buckets(class_counts: np.ndarray, max_buckets: int = 8) -> list:
    """Classes grouped by frequency, most frequent bucket first: equal-width bins in log(count).
    A class with no sample (count 0) is in no bucket: it has no loss to average."""
    present = np.flatnonzero(np.asarray(class_counts) > 0)
    logc = np.log(np.asarray(class_counts)[present])
    distinct = np.unique(logc)
    if len(distinct) <= max_buckets:
        return [present[logc == v] for v in distinct[::-1]]
    edges = np.linspace(logc.min(), logc.max(), max_buckets + 1)
    which = np.minimum(np.searchsorted(edges, logc, side="right") - 1, max_buckets - 1)
    return [present[which == b] for b in range(max_buckets - 1, -1, -1) if np.any(which == b)]


def class_mean(values: np.ndarray, classes) -> np.ndarray:
    """Mean of values [..., C] over `classes`, leaving out NaN entries (a class with no sample in the
    split); NaN where every entry is NaN (e.g. a diverged member)."""
    picked = np.asarray(values, np.float64)[..., classes]
    finite = ~np.isnan(picked)
    total = np.where(finite, picked, 0.0).sum(-1)
    return np.where(finite.any(-1), total / np.maximum(finite.sum(-1), 1), np.nan)


def sample_mean(values: np.ndarray, class_counts: np.ndarray) -> np.ndarray:
    """The count-weighted mean of values [..., C] over the classes that have samples."""
    present = np.asarray(class_counts) > 0
    weights = np.asarray(class_counts, np.float64)[present]
    return np.asarray(values, np.float64)[..., present] @ (weights / weights.sum())


def head_and_tail(num_classes: int) -> tuple:
    """(head, tail): the 30% most frequent and the 30% rarest classes (at least one each); classes are
    ordered by frequency, class 0 the most frequent (CIFAR-10-LT: classes 0-2 and 7-9)."""
    size = max(1, int(round(0.3 * num_classes)))
    return np.arange(size), np.arange(num_classes - size, num_classes)

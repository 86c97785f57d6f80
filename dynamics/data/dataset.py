"""The Dataset every experiment trains on: arrays only, so it can be jitted, vmapped and stacked."""
from typing import NamedTuple, Optional

import numpy as np


class Dataset(NamedTuple):
    """Training (and optional test) arrays; labels are frequency ranks, class 0 the most frequent.

    x: [N, ...] inputs. y: [N] int labels, or [N, T] for sequence models (one label per position).
    class_counts: [C] number of training labels of each class (the training law).
    x_test, y_test: held-out split, or None; test_class_counts counts its labels.
    extras: named per-sample arrays some metrics need (e.g. 'flipped' [N] bool for noisy labels).
    """

    x: np.ndarray
    y: np.ndarray
    class_counts: np.ndarray
    x_test: Optional[np.ndarray] = None
    y_test: Optional[np.ndarray] = None
    extras: Optional[dict] = None

    @property
    def num_classes(self) -> int:
        return int(self.class_counts.shape[-1])

    @property
    def test_class_counts(self) -> Optional[np.ndarray]:
        """[C] (or [M, C] for member-stacked data) number of test labels of each class; None without a
        test split. Counted from y_test here, once, for every builder."""
        if self.y_test is None:
            return None
        lead = np.shape(self.class_counts)[:-1]
        labels = np.asarray(self.y_test).reshape(int(np.prod(lead)), -1)
        counts = [np.bincount(row, minlength=self.num_classes) for row in labels]
        return np.stack(counts).reshape(lead + (self.num_classes,))

    @property
    def class_probs(self) -> np.ndarray:
        return self.class_counts / self.class_counts.sum(-1, keepdims=True)

"""The Dataset every experiment trains on: arrays only, so it can be jitted, vmapped and stacked."""
from typing import NamedTuple, Optional

import numpy as np


class Dataset(NamedTuple):
    """Training (and optional test) arrays; labels are frequency ranks, class 0 the most frequent.

    x: [N, ...] inputs. y: [N] int labels, or [N, T] for sequence models (one label per position).
    class_counts: [C] number of training labels of each class (the training law).
    x_test, y_test: held-out split, or None.
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
    def class_probs(self) -> np.ndarray:
        return self.class_counts / self.class_counts.sum(-1, keepdims=True)

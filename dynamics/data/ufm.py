"""Inputs for the unconstrained-features model (dynamics/models/collapse.py): x encodes which
free feature a sample owns, labels follow a class-frequency law.

features = 'per_sample': x_i = e_i, one-hot of the sample index (x is [N, N]); the UFM with one
  free feature per sample, the model of the SELI and imbalanced-UFM predictions.
features = 'per_class':  x_i = e_{y_i} / sqrt(n_{y_i}) (x is [N, C]); one feature per class, the
  samples of a class share h_k = u_k / sqrt(n_k). Then ∂L/∂u_k = (sqrt(n_k)/N) Wᵀ g_k, so a GD or
  normalised-GD step moves h_k exactly as per-sample GD moves each of the n_k (collapsed)
  features, and weight decay λ‖u_k‖² = λ n_k ‖h_k‖² is per-sample weight decay: the per-class
  UFM "with multiplicity" of theory/collapse.py. (Adam and sign descent are not invariant to
  this reparameterisation.) Without the 1/sqrt(n_k) the max-margin limit is the ETF, not SELI.
"""
import numpy as np

from dynamics.data import laws
from dynamics.data.dataset import Dataset
from dynamics.errors import ConfigError, check_choice, check_range

LAWS = ("zipf", "step_zipf", "two_class", "uniform", "two_group")
FEATURES = ("per_sample", "per_class")
MAX_PER_SAMPLE = 8192  # x is [N, N] for per-sample features


def two_group_counts(num_classes: int, num_samples: int, ratio: float, minority_classes: int) -> np.ndarray:
    """K_A = C − K_B majority classes of n_A samples, then K_B minority classes of n_B samples.

    n_B = round(N / (K_A ratio + K_B)) (at least 1), n_A = ⌊(N − K_B n_B) / K_A⌋, and the
    remaining < K_A samples go one each to the first majority classes, so the total is exactly N
    (sweeps over the ratio keep their shapes). The realised ratio is counts[0..K_A) / n_B.
    (Two groups as in Fang et al. 2021's minority-collapse experiments.)
    """
    check_range("data.ratio", ratio, 1.0)
    if isinstance(minority_classes, bool) or not isinstance(minority_classes, int) \
            or not 1 <= minority_classes < num_classes:
        raise ConfigError(f"data.minority_classes must be an integer in [1, {num_classes - 1}], "
                          f"got {minority_classes!r}")
    kb = minority_classes
    ka = num_classes - kb
    n_b = max(1, int(round(num_samples / (ka * ratio + kb))))
    n_a = (num_samples - kb * n_b) // ka
    if n_a < n_b:
        raise ConfigError(f"data.num_samples ({num_samples}) is too small for ratio {ratio} with "
                          f"{ka} majority and {kb} minority classes")
    counts = np.r_[np.full(ka, n_a), np.full(kb, n_b)].astype(np.int64)
    counts[: num_samples - counts.sum()] += 1
    return counts


def ufm(law: str = "uniform", num_classes: int = 4, num_samples: int = 20, exponent: float = 2.0,
        ratio: float = 10.0, minority_classes: int = 2, features: str = "per_sample") -> Dataset:
    """Labels from a frequency law (LAWS: those of dynamics/data/laws.py plus two_group), x as above.

    exponent: zipf only; ratio: two_class and two_group; minority_classes: K_B of two_group;
    features: per_sample | per_class (see the module docstring).
    """
    check_choice("frequency law (data.law)", law, LAWS)
    check_choice("feature parameterisation (data.features)", features, FEATURES)
    if isinstance(minority_classes, bool) or not isinstance(minority_classes, int) or minority_classes < 1:
        raise ConfigError(f"data.minority_classes must be a positive integer, got {minority_classes!r}")
    if law == "two_group":
        if not isinstance(num_classes, int) or num_classes < 2 or not isinstance(num_samples, int):
            raise ConfigError(f"two_group needs integer data.num_classes >= 2 and data.num_samples, "
                              f"got {num_classes!r}, {num_samples!r}")
        counts = two_group_counts(num_classes, num_samples, ratio, minority_classes)
    else:
        counts = laws.class_counts(law, num_classes, num_samples, exponent, ratio)
    y = laws.labels_from_counts(counts)
    if features == "per_sample":
        if len(y) > MAX_PER_SAMPLE:
            raise ConfigError(f"per_sample features need data.num_samples <= {MAX_PER_SAMPLE} (x is N x N), "
                              f"got {len(y)}; use data.features='per_class'")
        x = np.eye(len(y), dtype=np.float32)
    else:
        x = (np.eye(num_classes)[y] / np.sqrt(counts[y])[:, None]).astype(np.float32)
    return Dataset(x=x, y=y, class_counts=counts)

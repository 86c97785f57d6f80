"""Input checks shared by the theory modules: a bad argument is a one-line ValueError naming it."""
import numpy as np


def choice(what: str, value, choices) -> None:
    """value must be one of choices."""
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; valid choices: {', '.join(choices)}")


def class_probs(class_probs, size: int = None, min_classes: int = 1, positive: bool = False) -> np.ndarray:
    """π as a normalised float64 vector [C]: finite, >= 0 (> 0 if positive), not all 0, with at least
    min_classes entries (exactly `size` if given)."""
    pi = np.asarray(class_probs, dtype=np.float64)
    if pi.ndim != 1 or pi.size < min_classes or (size is not None and pi.size != size):
        wanted = f"[{size}]" if size is not None else f"a 1-D array of at least {min_classes} classes"
        raise ValueError(f"class_probs must be {wanted}, got shape {pi.shape}")
    if not np.all(np.isfinite(pi)) or np.any(pi < 0) or pi.sum() <= 0:
        raise ValueError("class_probs must be finite, non-negative and not all zero")
    if positive and np.any(pi <= 0):
        raise ValueError("class_probs must be > 0 here (the model's optimum is log π_k)")
    return pi / pi.sum()


def times(times) -> np.ndarray:
    """t as a float64 vector [L] of finite numbers >= 0 (a scalar becomes [1])."""
    t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if t.ndim != 1:
        raise ValueError(f"times must be a 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and >= 0")
    return t

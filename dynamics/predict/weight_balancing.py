"""Weight balancing (Alshammari et al. 2022) read as an implicit logit adjustment (Hasegawa & Sato 2023).

From the History alone (the 'neural_collapse' records classifier_norms, and test per-class accuracy):
- balanced accuracy: the mean over classes of the per-class test accuracy (the papers' "acc-avg-cls";
  digits_long_tail's test split is balanced, so it is also the plain test accuracy);
- the multiplicative logit adjustment the classifier rows' norms imply. Hasegawa & Sato's one-stage
  replacement of weight balancing multiplies logit k by π_k^−τ (their code's LogitAdjuster with
  use_additive=False: x · exp(−τ log π_k); τ tuned per dataset: 0.65 on CIFAR-100-LT, 1.6 on CIFAR-10-LT,
  their jsons/*/second.json). Rows that share a geometry and have ‖w_k‖ ∝ π_k^−τ scale the logits the
  same way, so the exponent the learned norms imply is the least-squares slope τ̂ of log ‖w_k‖ against
  −log π_k (this project's reading), and the rms residual of that fit says how far the norms are from
  any such power law. τ̂ = 0: balanced norms; τ̂ > 0: rare rows longer (the adjustment's direction).

Sources: Hasegawa & Sato's abstract states the effect ("implicit logit adjustment caused by weight
decay and class-balanced loss") and their code the multiplicative adjustment above; the statement of
their sec. 5 could not be read here, so no equation of theirs is quoted. No agreement rows (the module
is not in PHENOMENA): the direction is what is stated, and τ is tuned, not predicted, so no number
stands beside τ̂; the claim tests assert the directions (tests/test_weight_balancing.py) and the
README reports τ̂ beside their tuned τ.
"""
import numpy as np

from dynamics.buckets import class_mean


def balanced_accuracy(history) -> np.ndarray:
    """[M, L]: mean over classes of the test per-class accuracy (classes without a test sample skipped)."""
    accuracy = history.records["test_per_class_accuracy"]
    return class_mean(accuracy, np.arange(accuracy.shape[-1]))


def implied_exponent(norms_C, class_counts_C) -> tuple:
    """(τ̂, rms residual): least squares of log ‖w_k‖ = c + τ (−log π_k) over the classes with samples."""
    counts = np.asarray(class_counts_C, np.float64)
    seen = counts > 0
    x = -np.log(counts[seen] / counts.sum())
    y = np.log(np.asarray(norms_C, np.float64)[seen])
    tau, c = np.polyfit(x, y, 1)
    return float(tau), float(np.sqrt(np.mean((y - c - tau * x) ** 2)))


def implied_exponents(history) -> tuple:
    """(τ̂ [M, L], rms residual [M, L]) of every member at every record."""
    norms = history.records["classifier_norms"]
    fits = np.array([[implied_exponent(norms[i, t], history.class_counts[i]) for t in range(norms.shape[1])]
                     for i in range(norms.shape[0])])
    return fits[..., 0], fits[..., 1]

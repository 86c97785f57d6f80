"""The lazy (kernel) limit of a network trained by GD on the square loss: kernel regression with its
neural tangent kernel at initialisation.

Kumar, Bordelon, Gershman, Pehlevan 2024 ("Grokking as the transition from lazy to rich training
dynamics", Fig. 1b and Sec. 5) draw "the mean-squared error of the best kernel regression estimate with
the NTK at initialization" as the plateau that a lazy network sits on before it learns features. A network
linearised around its initialisation (Jacot, Gabriel, Hongler 2018; Lee et al. 2019, "Wide Neural Networks
of Any Depth Evolve as Linear Models Under Gradient Descent", eq. 9 and its t -> infinity limit) trained on
the square loss from f_0 = 0 converges to the min-norm kernel interpolant

    f_inf(x) = K(x, X) K(X, X)^+ y,

which is what the output-scale alpha -> infinity limit of Chizat et al.'s centred model reaches. Pure
numpy; the kernel matrices come from the model (dynamics.metrics.kernel.empirical_ntk at the member's
initial parameters).
"""
from __future__ import annotations

import numpy as np


def kernel_regression(k_train, y, steps=None, step_size=None):
    """Coefficients c [P] of the kernel predictor f(x) = K(x, X) c; k_train [P, P] = K(X, X), y [P].

    steps=None: the min-norm interpolant, the least-squares (pseudo-inverse) solution of K(X, X) c = y.
    Otherwise the linearised network after `steps` GD steps from f = 0, whose training outputs move as
    f <- f - step_size K (f - y) (Lee et al. 2019, eq. 9, in discrete time):
    c = K^+ (I - (I - step_size K)^steps) y, by the eigendecomposition of K.
    Its test predictions are linear in the features K(x, X), so theory.grokking.test_error(c, K(X_test, X),
    y_test, task) scores them (task 'regression': mean squared error; 'classification': 0-1 error of sign f).
    """
    k_train, y = np.asarray(k_train, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if k_train.shape != (y.shape[0], y.shape[0]):
        raise ValueError(f"Expected k_train [P, P] and y [P]; got {k_train.shape}, {y.shape}.")
    if steps is None:
        return np.linalg.lstsq(k_train, y, rcond=None)[0]
    evals, evecs = np.linalg.eigh(k_train)
    kept = evals > evals.max() * k_train.shape[0] * np.finfo(np.float64).eps
    fitted = 1.0 - np.power(1.0 - step_size * evals[kept], steps)     # the share of each mode fitted
    return evecs[:, kept] @ (fitted / evals[kept] * (evecs[:, kept].T @ y))

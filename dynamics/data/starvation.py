"""Two features of different strength (Pezeshki et al. 2021, "Gradient Starvation"): the paper's
linear toy, with a class-frequency version."""
import numpy as np

from dynamics.data import laws
from dynamics.data.dataset import Dataset
from dynamics.errors import ConfigError, check_range
from theory import gradient_starvation


def two_features(strength_1: float = 4.0, strength_2: float = 2.0, coupling: float = 0.5, ratio: float = 1.0,
                 num_samples: int = 2, seed: int = 0) -> Dataset:
    """Two classes in 2-D whose signed inputs y x_i are the rows of R diag(a) Vᵀ, row g for every
    sample of class g (the paper's toy, authors' Figure_6/toy_fig_6.py): per-sample feature strengths
    a = (strength_1, strength_2), R = [[√(1−δ²), −δ], [δ, √(1−δ²)]] the coupling (δ = coupling),
    V a random rotation (seed).

    The defaults are the paper's toy at s_1 = 4: one sample per class (ratio 1, num_samples 2),
    δ = 0.5. ratio > 1 (class 0 that many times more frequent) is the version where class frequency
    sets the features' strengths, the singular values of YΦ (theory.gradient_starvation.toy_features).
    Labels: class 0 is y = +1, class 1 is y = −1 (x_i = y_i · row i), so the 2-class softmax
    cross-entropy is the paper's log(1 + exp(−y ŷ)) with ŷ = z_0 − z_1.
    extras['feature_loadings'] [N, 2]: U, for the metric 'feature_responses' (z = Uᵀ(y ŷ)).
    """
    check_range("data.strength_1", strength_1, 0.0, low_open=True)
    check_range("data.strength_2", strength_2, 0.0, low_open=True)
    check_range("data.coupling", coupling, 0.0, 1.0)
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 2:
        raise ConfigError(f"data.num_samples must be an integer >= 2 (a sample per class), got {num_samples!r}")
    counts = laws.class_counts("two_class", 2, num_samples, 0.0, ratio)
    loadings, _ = gradient_starvation.toy_features((strength_1, strength_2), coupling, counts)
    rotation, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(2, 2)))
    y = laws.labels_from_counts(counts)
    rows = gradient_starvation.coupling_matrix(coupling) * np.array([strength_1, strength_2])[None, :]
    x = (1.0 - 2.0 * y)[:, None] * (rows @ rotation.T)[y]
    return Dataset(x=x.astype(np.float32), y=y, class_counts=counts,
                   extras={"feature_loadings": loadings.astype(np.float32)})

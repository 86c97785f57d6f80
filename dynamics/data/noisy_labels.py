"""Noisy training labels (Liu, Niles-Weed, Razavian, Fernandez-Granda 2020, "Early-Learning
Regularization Prevents Memorization of Noisy Labels"), for any dataset, and their linear model's data.

`with_label_noise` flips training labels of a built Dataset (test labels stay clean) and keeps, in
Dataset.extras, which samples were flipped ('noisy' [N] bool) and their true labels ('true_label' [N]).
Its keyword defaults are the data section's label-noise keys (dynamics.config.defaults), so every
dataset takes them.
"""
import inspect

import numpy as np

from dynamics.data.dataset import Dataset
from dynamics.errors import ConfigError, check_choice, check_range

LABEL_NOISE = ("none", "symmetric", "pair")


def flipped_labels(y: np.ndarray, num_classes: int, label_noise: str, noise_rate: float, seed: int):
    """(noisy labels [N], noisy [N] bool): in each class, round(noise_rate n_k) samples chosen at random get a
    wrong label: 'symmetric' one drawn uniformly from the other C - 1 classes, 'pair' the next class
    (k -> k+1 mod C, the class-dependent flip of Liu et al.'s CIFAR-100 code). noise_rate is the fraction
    of wrong labels in every class; deterministic given `seed`."""
    rng = np.random.default_rng(seed)
    noisy = np.zeros(y.shape[0], bool)
    for k in range(num_classes):
        members = np.flatnonzero(y == k)
        noisy[rng.permutation(members)[:int(round(noise_rate * len(members)))]] = True
    shift = rng.integers(1, num_classes, y.shape[0]) if label_noise == "symmetric" else np.ones(y.shape[0], int)
    return np.where(noisy, (y + shift) % num_classes, y).astype(y.dtype), noisy


def with_label_noise(dataset: Dataset, label_noise: str = "none", noise_rate: float = 0.0,
                     noise_seed: int = 0) -> Dataset:
    """The dataset with noisy training labels (flipped_labels); class_counts then count the labels as
    given. label_noise: none | symmetric | pair; noise_rate: the fraction of wrong labels in each class;
    noise_seed: which samples are flipped, and to what. Needs one label per sample (y of shape [N])."""
    check_choice("label noise (data.label_noise)", label_noise, LABEL_NOISE)
    check_range("data.noise_rate", noise_rate, 0.0, 1.0)
    if isinstance(noise_seed, bool) or not isinstance(noise_seed, int) or noise_seed < 0:
        raise ConfigError(f"data.noise_seed must be an integer >= 0, got {noise_seed!r}")
    if label_noise == "none":
        return dataset
    if np.ndim(dataset.y) != 1 or dataset.num_classes < 2:
        raise ConfigError("data.label_noise needs one label per sample (y of shape [N]) and at least 2 classes")
    y, noisy = flipped_labels(np.asarray(dataset.y), dataset.num_classes, label_noise, noise_rate, noise_seed)
    counts = np.bincount(y, minlength=dataset.num_classes).astype(np.int64)
    extras = {**(dataset.extras or {}), "noisy": noisy, "true_label": np.asarray(dataset.y)}
    return dataset._replace(y=y, class_counts=counts, extras=extras)


NOISE_DEFAULTS = {p.name: p.default for p in list(inspect.signature(with_label_noise).parameters.values())[1:]}


def two_gaussians(num_samples: int = 200, input_dim: int = 160, sigma: float = 0.1, num_test: int = 1000,
                  seed: int = 0) -> Dataset:
    """Liu et al. 2020 (Sec. 3): x ~ N(+v, σ² I_p) for class 0 and N(-v, σ² I_p) for class 1, v a unit
    vector (here e_1, "an arbitrary unit vector"). num_samples: n; input_dim: p;
    sigma: σ; num_test: clean test samples; seed: the data's own seed. The paper draws each cluster with
    probability 1/2; here each split holds ceil(n/2) samples of class 0 and floor(n/2) of class 1. Label
    noise comes from the data section's label-noise keys (with_label_noise), as for every dataset."""
    for name, value in (("num_samples", num_samples), ("input_dim", input_dim), ("num_test", num_test)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"data.{name} must be a positive integer, got {value!r}")
    check_range("data.sigma", sigma, 0.0, low_open=True)
    rng = np.random.default_rng(seed)

    def draw(n):
        y = np.repeat(np.arange(2, dtype=np.int32), [n - n // 2, n // 2])
        x = sigma * rng.standard_normal((n, input_dim))
        x[:, 0] += 1.0 - 2.0 * y  # ±v, v = e_1
        return x.astype(np.float32), y

    x, y = draw(num_samples)
    x_test, y_test = draw(num_test)
    return Dataset(x=x, y=y, class_counts=np.bincount(y, minlength=2).astype(np.int64), x_test=x_test, y_test=y_test)

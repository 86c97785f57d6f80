"""Datasets by name. `config.data` holds `name`, exactly the keyword arguments of its builder, and the
label-noise keys every dataset takes (dynamics.data.noisy_labels.with_label_noise)."""
import inspect

import numpy as np

from dynamics.data.dataset import Dataset
from dynamics.data.digits import digits_barcoded, digits_long_tail
from dynamics.data.grokking import (boolean_monomial, margin_classification, modular_arithmetic, sparse_classification,
                                    xor_clusters)
from dynamics.data.starvation import two_features
from dynamics.data.noisy_labels import NOISE_DEFAULTS, two_gaussians, with_label_noise
from dynamics.data.synthetic import synthetic
from dynamics.data.ufm import ufm
from dynamics.data.text import cached_text, local_text, wordfreq_markov
from dynamics.errors import ConfigError, check_choice, check_keys

DATASETS = {
    "synthetic": synthetic,
    "digits_long_tail": digits_long_tail,
    "digits_barcoded": digits_barcoded,
    "modular_arithmetic": modular_arithmetic,
    "xor_clusters": xor_clusters,
    "sparse_classification": sparse_classification,
    "margin_classification": margin_classification,
    "boolean_monomial": boolean_monomial,
    "wordfreq_markov": wordfreq_markov,
    "local_text": local_text,
    "cached_text": cached_text,
    "ufm": ufm,
    "two_features": two_features,
    "two_gaussians": two_gaussians,
}


def build_dataset(data_config: dict, datasets: dict = DATASETS) -> Dataset:
    """Builds the named dataset (from `datasets`) and checks it: finite inputs, labels within [0, C)."""
    fields = dict(data_config)
    name = fields.pop("name", None)
    check_choice("dataset (data.name)", name, datasets)
    builder = datasets[name]
    noise = {key: fields.pop(key) for key in NOISE_DEFAULTS if key in fields}  # all absent: clean labels
    if noise and len(noise) < len(NOISE_DEFAULTS):
        raise ConfigError(f"data: missing keys {sorted(set(NOISE_DEFAULTS) - set(noise))}; the label-noise keys "
                          f"{sorted(NOISE_DEFAULTS)} come all together (config.defaults gives them) or not at all")
    check_keys(f"data for {name!r}", fields, inspect.signature(builder).parameters)
    seed = fields["seed"] if "seed" in fields else 0  # a builder's own seed: numpy takes only integers >= 0
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"data.seed must be an integer >= 0, got {seed!r}")
    dataset = with_label_noise(builder(**fields), **noise)
    for split, x in (("training", dataset.x), ("test", dataset.x_test)):
        if x is not None and np.issubdtype(np.asarray(x).dtype, np.floating) and not np.isfinite(x).all():
            raise ConfigError(f"{name}: the {split} inputs contain NaN or Inf")
    if dataset.y.size and not (0 <= dataset.y.min() and dataset.y.max() < dataset.num_classes):
        raise ConfigError(f"{name}: labels must lie in [0, {dataset.num_classes})")
    return dataset


__all__ = ["Dataset", "DATASETS", "build_dataset"]

"""The unconstrained-features model (UFM) of neural-collapse theory, as a Model.

Mixon, Parshall, Pi 2020; Fang et al. 2021; Zhu et al. 2021: the last-layer features are free
parameters trained jointly with the classifier, logits_i = W h_i (no bias, as in the SELI and
regularised-UFM predictions of theory/collapse.py). Here the features are a linear read-out of
the input, h = Uᵀ x, and the `ufm` dataset (dynamics/data/ufm.py) supplies the inputs that make
this the UFM:
  x_i = e_i (one-hot of the sample index): one free feature per sample, h_i = U[i];
  x_i = e_{y_i} / sqrt(n_{y_i}): one feature per class, h = U[y] / sqrt(n_y) — features tied
    within each class, with the step and the weight decay of n_y samples (see the dataset).
Weight decay λ from the optimizer applies to U and W alike: λ_W = λ_H = λ on ‖W‖² and on
Σ_i ‖h_i‖² (per-sample multiplicity in both parameterisations).
"""
import jax
import jax.numpy as jnp

from dynamics.errors import ConfigError
from dynamics.models.base import Model


def ufm(example_x, num_classes: int, feature_dim: int = 8) -> Model:
    """Unconstrained features: params {'features': U [input_dim, d], 'classifier': W [C, d]}.

    apply(params, x) = (x U) Wᵀ; features(params, x) = x U [N, d]; classifier(params) = W.
    Initial entries are N(0, 1/d), so a one-hot input gets a feature of norm about 1 and every
    classifier row has norm about 1 (times model.init_scale).
    """
    if isinstance(feature_dim, bool) or not isinstance(feature_dim, int) or feature_dim < 1:
        raise ConfigError(f"model.feature_dim must be a positive integer, got {feature_dim!r}")
    input_dim = int(example_x.reshape(example_x.shape[0], -1).shape[1])

    def init(key):
        k_u, k_w = jax.random.split(key)
        scale = 1.0 / jnp.sqrt(feature_dim)
        return {"features": scale * jax.random.normal(k_u, (input_dim, feature_dim)),
                "classifier": scale * jax.random.normal(k_w, (num_classes, feature_dim))}

    def features(params, x):
        return jnp.reshape(x, (x.shape[0], -1)) @ params["features"]

    def apply(params, x):
        return features(params, x) @ params["classifier"].T

    return Model(init=init, apply=apply, features=features, classifier=lambda params: params["classifier"])

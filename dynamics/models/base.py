"""A model is a pair of pure functions around a flax module."""
from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from dynamics.errors import ConfigError


class Model(NamedTuple):
    """init(key) -> params; apply(params, x) -> logits [..., C].

    features(params, x) -> the penultimate features [N, D] and classifier(params) -> the last
    layer's weights [C, D], for models that have them (neural-collapse metrics use both).
    trainable(params) -> a prefix tree of bools, False where the optimizer must leave the parameters
    as initialised (None: train everything).
    harmonic_exponent: n > 0 when the logits are the harmonic head's -n log ||w_k - h||
    (dynamics.models.harmonic) rather than W h + b; closed forms that assume a Dense head check it.
    """

    init: Callable
    apply: Callable
    features: Optional[Callable] = None
    classifier: Optional[Callable] = None
    trainable: Optional[Callable] = None
    harmonic_exponent: float = 0.0


def from_flax(module, example_x, head: str = "head") -> Model:
    """Wraps a flax module whose __call__(x, return_features=False) ends in a Dense named `head`."""
    return Model(
        init=lambda key: module.init(key, example_x)["params"],
        apply=lambda params, x: module.apply({"params": params}, x),
        features=lambda params, x: module.apply({"params": params}, x, return_features=True),
        classifier=lambda params: params[head]["kernel"].T,
    )


def head_only(model: Model) -> Model:
    """The model with only its last layer trainable (train.trainable = "head"): the top-level parameter
    groups that model.classifier reads (e.g. {'head': {kernel, bias}}); the rest keeps its start values."""
    if model.classifier is None:
        raise ConfigError("train.trainable='head' needs a model with a classifier (e.g. mlp, linear, cnn, ufm)")
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(model.init, jax.random.PRNGKey(0)))
    reads = jax.grad(lambda p: jnp.sum(model.classifier(p)))(zeros)
    head = {group for group, g in reads.items() if any(bool(jnp.any(leaf != 0)) for leaf in jax.tree.leaves(g))}
    if not head:
        raise ConfigError("train.trainable='head': this model's classifier reads no parameter (it is fixed)")
    return model._replace(trainable=lambda params: {group: group in head for group in params})


def frozen_to_zero(model: Model, tree):
    """`tree` (shaped as the parameters, e.g. a gradient) with zeros where the model is not trained."""
    if model.trainable is None:
        return tree
    return jax.tree.map(lambda train, part: jax.tree.map(lambda a: a if train else jnp.zeros_like(a), part),
                        model.trainable(tree), tree)

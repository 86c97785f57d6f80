"""A model is a pair of pure functions around a flax module."""
from typing import Callable, NamedTuple, Optional


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

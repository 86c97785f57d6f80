"""Models whose dynamics theory/ solves exactly: the bias-only softmax and the two-layer linear net.

- `unigram`: logits = w ∈ R^C for every sample, the input ignored: a bias-only softmax, this
  project's non-separable counterpart of the orthogonal model of Kunstner et al. 2024's
  continuous-time analysis (not a model of theirs; its flows are derived in theory/softmax_flow.py).
  Starts at w = 0 whatever model.init_scale.
- `deep_linear`: ŷ = W2 W1 x, no biases (Saxe, McClelland, Ganguli 2014; theory/deep_linear.py).
  init='aligned' is their balanced initialisation aligned with one-hot class inputs x_k = e_k
  (data.inputs='barcodes', data.input_mean=0): W1 = a0 Σ_k h_k e_kᵀ, W2 = a0 Σ_k e_k h_kᵀ with
  orthonormal hidden directions h_k (a random orthonormal basis) and a0 = model.init_scale (the
  trainer multiplies the unit-scale parameters by it). init='random' draws every entry i.i.d.
  N(0, 1/fan_in) (times a0), the small random start that only approximates the aligned one.

- `linear_no_bias`: logits = W x, exactly 'linear' with use_bias=False, under its own name so that a
  sweep can switch model.name between it and 'unigram' (members share the model section's keys, and
  neither takes any). With init_scale=0 on barcode inputs (x = e_y) it is the orthogonal model of
  theory/softmax_flow.py.
"""
import jax
import jax.numpy as jnp

from dynamics.errors import ConfigError, check_choice
from dynamics.models.base import Model, from_flax
from dynamics.models.mlp import MLP

DEEP_LINEAR_INITS = ("aligned", "random")


def unigram(example_x, num_classes: int) -> Model:
    """Bias-only softmax model: logits = w for every sample, w(0) = 0; params {'bias': [C]}. Takes no
    model keys."""

    def apply(params, x):
        return jnp.broadcast_to(params["bias"], x.shape[:1] + params["bias"].shape)

    return Model(init=lambda key: {"bias": jnp.zeros((num_classes,), jnp.float32)}, apply=apply)


def linear_no_bias(example_x, num_classes: int) -> Model:
    """Linear softmax model without bias, logits = W x (the 'linear' model with use_bias=False). Takes
    no model keys."""
    return from_flax(MLP(hidden=(), num_classes=num_classes, use_bias=False), example_x)


def deep_linear(example_x, num_classes: int, hidden: int = 32, init: str = "aligned") -> Model:
    """Two-layer linear network ŷ = W2 W1 x without biases.

    hidden: the hidden width h (default 32); init: 'aligned' (default, Saxe et al.'s balanced
    initialisation, which the theory solves exactly) | 'random' (see the module doc).

    params {'dense_0': {'kernel': W1ᵀ [d, h]}, 'head': {'kernel': W2ᵀ [h, C]}} (flax layout), so
    features(x) = W1 x and classifier = W2. 'aligned' needs d ≥ C and h ≥ C (see the module doc).
    """
    check_choice("deep_linear init (model.init)", init, DEEP_LINEAR_INITS)
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ConfigError(f"model.hidden must be a positive integer, got {hidden!r}")
    dim = int(example_x.reshape(example_x.shape[0], -1).shape[1])
    if init == "aligned" and (dim < num_classes or hidden < num_classes):
        raise ConfigError(f"deep_linear init 'aligned' needs input dim ({dim}) and model.hidden ({hidden}) "
                          f">= the number of classes ({num_classes}); use barcode inputs")

    def init_params(key):
        if init == "aligned":
            basis, _ = jnp.linalg.qr(jax.random.normal(key, (hidden, hidden)))  # columns: orthonormal h_j
            h = basis[:, :num_classes]  # [h, C]: h_k for class k
            w1 = jnp.zeros((hidden, dim)).at[:, :num_classes].set(h)  # Σ_k h_k e_kᵀ
            w2 = h.T  # Σ_k e_k h_kᵀ
        else:
            k1, k2 = jax.random.split(key)
            w1 = jax.random.normal(k1, (hidden, dim)) / jnp.sqrt(dim)
            w2 = jax.random.normal(k2, (num_classes, hidden)) / jnp.sqrt(hidden)
        return {"dense_0": {"kernel": w1.T.astype(jnp.float32)}, "head": {"kernel": w2.T.astype(jnp.float32)}}

    def features(params, x):
        return jnp.reshape(x, (x.shape[0], -1)) @ params["dense_0"]["kernel"]

    return Model(init=init_params, apply=lambda params, x: features(params, x) @ params["head"]["kernel"],
                 features=features, classifier=lambda params: params["head"]["kernel"].T)

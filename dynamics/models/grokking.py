"""Models of the grokking experiments.

Token models (modular arithmetic; inputs [N, 3] token ids "a b =", vocabulary num_classes + 1, the
last token being '='): an MLP on the embeddings of a and b, and a one-layer transformer. Both keep
their token embedding at params['embed']['embedding'] [vocab, D], which the key-frequency metric reads.
Two-class models (logits [0, f], so cross-entropy is the logistic loss log(1 + exp(-y f)) with
y = 2 * class - 1): Xu et al.'s two-layer ReLU network and Lyu et al.'s diagonal linear network; and
Kumar et al.'s output-scaled two-layer network (logits [-f/2, f/2], for the square loss on y f targets).
"""
import flax.linen as nn
import jax
import jax.numpy as jnp

from dynamics.errors import ConfigError, check_choice
from dynamics.models.base import Model, from_flax

COMBINE = ("concat", "sum")


class EmbedMLP(nn.Module):
    """Embed a and b (one shared table), concatenate or sum, one hidden ReLU layer, a Dense head."""

    vocab_size: int
    embed_dim: int
    hidden_dim: int
    num_classes: int
    combine: str

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        emb = nn.Embed(self.vocab_size, self.embed_dim, name="embed")(x[:, :2])   # [N, 2, E]
        h = emb.reshape(x.shape[0], -1) if self.combine == "concat" else emb.sum(1)
        h = nn.relu(nn.Dense(self.hidden_dim, name="hidden")(h))
        if return_features:
            return h
        return nn.Dense(self.num_classes, name="head")(h)


class OneLayerTransformer(nn.Module):
    """Token + learned position embeddings, one causal attention block and one ReLU MLP block, both
    residual, no layer norm; the logits are read at the last position '=' (Nanda et al. 2023, Sec. 3)."""

    vocab_size: int
    model_dim: int
    num_heads: int
    mlp_dim: int
    num_classes: int

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        tokens = x.shape[1]
        h = nn.Embed(self.vocab_size, self.model_dim, name="embed")(x)             # [N, T, D]
        pos = self.param("pos_embed", nn.initializers.normal(0.02), (tokens, self.model_dim))
        h = h + pos
        mask = nn.make_causal_mask(x)
        h = h + nn.MultiHeadDotProductAttention(num_heads=self.num_heads, name="attention")(h, h, mask=mask)
        mlp = nn.Dense(self.model_dim, name="mlp_out")(nn.relu(nn.Dense(self.mlp_dim, name="mlp_in")(h)))
        h = (h + mlp)[:, -1]
        if return_features:
            return h
        return nn.Dense(self.num_classes, name="head")(h)


def _check_width(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"model.{name} must be a positive integer, got {value!r}")


def _check_tokens(example_x, num_classes):
    if not jnp.issubdtype(jnp.asarray(example_x).dtype, jnp.integer):
        raise ConfigError("this model takes integer token ids (data.name = modular_arithmetic)")
    return num_classes + 1


def embed_mlp(example_x, num_classes: int, embed_dim: int = 128, hidden_dim: int = 256, combine: str = "concat") -> Model:
    """MLP on the concatenated (or summed) embeddings of the tokens a and b.

    embed_dim: token embedding width (128); hidden_dim: the hidden ReLU layer's width (256);
    combine: concat | sum, how the embeddings of a and b are combined (concat). The defaults are
    configs/grokking_modular.py's."""
    vocab = _check_tokens(example_x, num_classes)
    _check_width("embed_dim", embed_dim)
    _check_width("hidden_dim", hidden_dim)
    check_choice("embedding combination (model.combine)", combine, COMBINE)
    return from_flax(EmbedMLP(vocab, embed_dim, hidden_dim, num_classes, combine), example_x)


def modular_transformer(example_x, num_classes: int, model_dim: int = 128, num_heads: int = 4,
                        mlp_dim: int = 512) -> Model:
    """One-layer transformer on the token sequence "a b =" (Nanda et al. 2023).

    model_dim: residual stream width; num_heads: attention heads (dividing model_dim); mlp_dim: the
    MLP's hidden width. The defaults are Nanda et al.'s (Sec. 3: 128, 4 heads of 32, 512)."""
    vocab = _check_tokens(example_x, num_classes)
    for name, value in (("model_dim", model_dim), ("num_heads", num_heads), ("mlp_dim", mlp_dim)):
        _check_width(name, value)
    if model_dim % num_heads:
        raise ConfigError(f"model.model_dim ({model_dim}) must be divisible by model.num_heads ({num_heads})")
    return from_flax(OneLayerTransformer(vocab, model_dim, num_heads, mlp_dim, num_classes), example_x)


def _two_class_logits(f):
    """[0, f]: softmax cross-entropy on these is the logistic loss of y f, y = 2 * class - 1."""
    return jnp.stack([jnp.zeros_like(f), f], axis=-1)


def _check_two_classes(num_classes):
    if num_classes != 2:
        raise ConfigError(f"this model is a binary classifier; the data must have 2 classes, got {num_classes}")


def second_layer(width: int):
    """Xu et al.'s fixed second layer: a_j = +1/sqrt(m) for even j, -1/sqrt(m) for odd j."""
    return jnp.where(jnp.arange(width) % 2 == 0, 1.0, -1.0) / jnp.sqrt(width)


def two_layer_relu(example_x, num_classes: int, width: int = 100) -> Model:
    """f(x) = sum_j a_j ReLU(<w_j, x>), a_j = ±1/sqrt(m) fixed, only W trained (Xu et al. 2024, Sec. 2).

    width: m hidden neurons (100, configs/grokking_xor.py's).
    params {'w': [d, m]} start N(0, 1): model.init_scale is Xu et al.'s initialisation scale omega_init.
    """
    _check_two_classes(num_classes)
    _check_width("width", width)
    dim = int(jnp.size(example_x[0]))
    a = second_layer(width)

    def features(params, x):
        return jax.nn.relu(x.reshape(x.shape[0], -1) @ params["w"])

    return Model(
        init=lambda key: {"w": jax.random.normal(key, (dim, width))},
        apply=lambda params, x: _two_class_logits(features(params, x) @ a),
        features=features,
        classifier=lambda params: jnp.stack([jnp.zeros(width), a]),
    )


def diagonal_linear(example_x, num_classes: int) -> Model:
    """f(x) = <u*u - v*v, x> (Lyu et al. 2024, Sec. 3.2.3); params {'u', 'v'} [d] start at 1, so
    model.init_scale is the paper's alpha (u = v = alpha: f = 0 at init)."""
    _check_two_classes(num_classes)
    dim = int(jnp.size(example_x[0]))

    def apply(params, x):
        return _two_class_logits(x.reshape(x.shape[0], -1) @ (params["u"] ** 2 - params["v"] ** 2))

    return Model(init=lambda key: {"u": jnp.ones(dim), "v": jnp.ones(dim)}, apply=apply)


def lazy_two_layer(example_x, num_classes: int, width: int = 50) -> Model:
    """Kumar et al. 2024's two-layer network at output scale alpha (their Sec. 5; Chizat, Oyallon, Bach 2019's
    centred alpha-scaling): f(x) = alpha [h(w / alpha, x) - h(w0 / alpha, x)] with
    h(u, x) = sum_i a_i phi(z_i), z_i = (u_i[:d] . x + sqrt(d) u_i[d]) / sqrt(d), phi(z) = z + z^2/2 (their
    linear-plus-quadratic activation, alignment epsilon = 1), a_i = ±1/sqrt(N) fixed (alternating signs, as
    `second_layer`), only the first layer (and its bias u_i[d]) trained. Logits [-f/2, f/2]: the square loss
    is (f - y)^2/4 + 1/4, the paper's squared error of f against y = 2 * class - 1 up to scale and offset.

    width: N hidden neurons (50, configs/grokking_lazy_rich.py's). model.init_scale is alpha: params
    {'w': [d + 1, N], 'w0': [d + 1, N], 'alpha': []} start at (W, W, 1), W ~ N(0, 1); the trainer multiplies
    them all by alpha and only 'w' is trained, so u = w / alpha starts at W for every alpha. GD on w with
    step eta is GD on u of Chizat et al.'s alpha^-2 L(alpha f) with step eta: the function-space dynamics at
    init do not depend on alpha, while u moves O(1/alpha) for the same change of f (large alpha: lazy,
    small: rich). alpha is a traced number, so a sweep over it is one vmapped program.
    """
    _check_two_classes(num_classes)
    _check_width("width", width)
    dim = int(jnp.size(example_x[0]))
    readout = second_layer(width)

    def hidden(u, x):
        x = x.reshape(x.shape[0], -1)
        z = (x @ u[:-1] + jnp.sqrt(dim) * u[-1]) / jnp.sqrt(dim)  # the inputs (x, sqrt(d)): u[-1] is a bias
        return (z + 0.5 * z**2) @ readout

    def apply(params, x):
        alpha = params["alpha"]
        f = alpha * (hidden(params["w"] / alpha, x) - hidden(params["w0"] / alpha, x))
        return jnp.stack([-0.5 * f, 0.5 * f], axis=-1)

    def init(key):
        w = jax.random.normal(key, (dim + 1, width))
        return {"w": w, "w0": w, "alpha": jnp.ones(())}

    return Model(init=init, apply=apply, trainable=lambda params: {name: name == "w" for name in params})

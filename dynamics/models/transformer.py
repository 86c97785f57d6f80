"""A small decoder-only transformer language model (flax linen), as in Kunstner et al. 2024's
language experiments (a GPT-style model; Radford et al. 2019): causal self-attention,
pre-LayerNorm residual blocks, learned or rotary positions, tied or untied embeddings.

Inputs are token ids [N, T] (ints in [0, C)); logits are [N, T, C], one prediction per position.
"""
import flax.linen as nn
import jax.numpy as jnp

from dynamics.errors import ConfigError, check_choice
from dynamics.models.base import Model

POSITIONS = ("learned", "rotary")


def rotary(x, base: float = 10000.0):
    """Rotary position embedding (Su et al. 2021, RoFormer, eq. 34) of x [N, T, H, Dh], Dh even:
    pairs (x_2i, x_2i+1) at position t are rotated by the angle t base^(-2i/Dh)."""
    _, length, _, dim = x.shape
    freqs = base ** (-jnp.arange(0, dim, 2, dtype=jnp.float32) / dim)
    angles = jnp.arange(length, dtype=jnp.float32)[:, None] * freqs[None, :]  # [T, Dh/2]
    cos, sin = jnp.cos(angles)[None, :, None, :], jnp.sin(angles)[None, :, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    return jnp.stack([even * cos - odd * sin, even * sin + odd * cos], axis=-1).reshape(x.shape)


class CausalSelfAttention(nn.Module):
    """softmax(q kᵀ/√Dh + mask) v over earlier positions only (Vaswani et al. 2017, eq. 1)."""

    num_heads: int
    positions: str

    @nn.compact
    def __call__(self, h):
        batch, length, width = h.shape
        head_dim = width // self.num_heads
        qkv = nn.Dense(3 * width, use_bias=False, name="qkv")(h).reshape(batch, length, 3, self.num_heads, head_dim)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        if self.positions == "rotary":
            q, k = rotary(q), rotary(k)
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(head_dim).astype(h.dtype)
        causal = jnp.tril(jnp.ones((length, length), dtype=bool))
        scores = jnp.where(causal, scores, jnp.finfo(scores.dtype).min)
        weights = nn.softmax(scores, axis=-1)
        out = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(batch, length, width)
        return nn.Dense(width, use_bias=False, name="out")(out)


class Block(nn.Module):
    """Pre-LayerNorm residual block: h + attn(LN(h)), then h + MLP(LN(h)) with a GELU MLP."""

    num_heads: int
    mlp_ratio: int
    positions: str

    @nn.compact
    def __call__(self, h):
        h = h + CausalSelfAttention(self.num_heads, self.positions, name="attention")(nn.LayerNorm(name="ln_attn")(h))
        width = h.shape[-1]
        m = nn.Dense(self.mlp_ratio * width, name="mlp_in")(nn.LayerNorm(name="ln_mlp")(h))
        return h + nn.Dense(width, name="mlp_out")(nn.gelu(m))


class Transformer(nn.Module):
    """Token embedding (+ learned positions) -> blocks -> final LayerNorm -> logits.

    tie_embeddings: logits = h Eᵀ with the token embedding E [C, D]; otherwise a separate Dense head.
    """

    num_classes: int
    max_len: int
    width: int
    depth: int
    num_heads: int
    mlp_ratio: int
    positions: str
    tie_embeddings: bool

    def setup(self):
        self.embed = nn.Embed(self.num_classes, self.width, embedding_init=nn.initializers.normal(0.02))
        if self.positions == "learned":
            self.position = self.param("position", nn.initializers.normal(0.02), (self.max_len, self.width))
        self.blocks = [Block(self.num_heads, self.mlp_ratio, self.positions, name=f"block_{i}")
                       for i in range(self.depth)]
        self.ln_final = nn.LayerNorm()
        if not self.tie_embeddings:
            self.head = nn.Dense(self.num_classes, name="head")

    def features(self, tokens):
        """The final normalised hidden states [N, T, D]."""
        h = self.embed(tokens)
        if self.positions == "learned":
            h = h + self.position[: tokens.shape[1]]
        for block in self.blocks:
            h = block(h)
        return self.ln_final(h)

    def __call__(self, tokens):
        h = self.features(tokens)
        return self.embed.attend(h) if self.tie_embeddings else self.head(h)


def transformer(example_x, num_classes: int, width: int = 32, depth: int = 2, num_heads: int = 2, mlp_ratio: int = 4,
                positions: str = "learned", tie_embeddings: bool = False) -> Model:
    """Decoder-only transformer on token windows [N, T] (the token vocabulary is the C classes).

    features(params, x) -> [N*T, D] final hidden states (one row per predicted token, in the order
    of y.reshape(-1)); classifier(params) -> [C, D] the output embedding.
    """
    for name, value in (("width", width), ("depth", depth), ("num_heads", num_heads), ("mlp_ratio", mlp_ratio)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"model.{name} must be a positive integer, got {value!r}")
    check_choice("position encoding (model.positions)", positions, POSITIONS)
    check_choice("value for model.tie_embeddings", tie_embeddings, (True, False))
    if width % num_heads:
        raise ConfigError(f"model.width ({width}) must be divisible by model.num_heads ({num_heads})")
    if positions == "rotary" and (width // num_heads) % 2:
        raise ConfigError(f"rotary positions need an even head width (model.width / model.num_heads), "
                          f"got {width // num_heads}")
    if getattr(example_x, "ndim", 0) != 2 or not jnp.issubdtype(example_x.dtype, jnp.integer):
        raise ConfigError("model 'transformer' needs token windows x of shape [N, T] with integer ids")
    module = Transformer(num_classes=num_classes, max_len=example_x.shape[1], width=width, depth=depth,
                         num_heads=num_heads, mlp_ratio=mlp_ratio, positions=positions,
                         tie_embeddings=tie_embeddings)

    def features(params, x):
        h = module.apply({"params": params}, x, method=Transformer.features)
        return h.reshape(-1, h.shape[-1])

    def classifier(params):
        return params["embed"]["embedding"] if tie_embeddings else params["head"]["kernel"].T

    return Model(
        init=lambda key: module.init(key, example_x)["params"],
        apply=lambda params, x: module.apply({"params": params}, x),
        features=features,
        classifier=classifier,
    )

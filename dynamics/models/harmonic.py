"""The harmonic head (Baek, Liu, Tyagi, Tegmark 2025, "Harmonic Loss Trains Interpretable AI Models", Sec. 2).

The last Dense layer's rows w_k become class centres: the harmonic logit is the distance
d_k = ||w_k - h||_2 of the features h to centre k, HarMax gives p_k = d_k^-n / sum_j d_j^-n, and the
harmonic loss is -log p_y. Since p = softmax(-n log d), the head returns the logits z_k = -n log d_k:
the library's cross-entropy on them is the harmonic loss and argmax z = argmin d, so every loss,
accuracy and metric of the library applies unchanged (the closed forms that assume logits W h + b check
Model.harmonic_exponent). Config key model.harmonic_exponent = n
(0: the usual Dense head). Their code (github.com/KindXiaoming/grow-crystals, src/utils/model.py,
DistLayer) raises (d² + 1e-4) / min_j (d_j² + 1e-4) to the power -n': the same HarMax with n = 2n' but
for the 1e-4, which breaks the scale invariance at small distances; here d² is only floored at its
float32 rounding level. Also here: Baek et al.'s MLP for two-token tasks (bottleneck_mlp).
"""
import flax.linen as nn
import jax
import jax.numpy as jnp

from dynamics.errors import ConfigError
from dynamics.models.base import Model, from_flax

# The squared distance is expanded as ||w||² + ||h||² - 2 w·h, whose float32 rounding error is about
# eps (||w||² + ||h||²): it is floored there (scale-free, as HarMax is) so its log stays finite.
RELATIVE_FLOOR = float(jnp.finfo(jnp.float32).eps)


def harmonic_logits(centers_CxD, features, exponent):
    """-n log ||w_k - h||_2 [..., C] for centres w_k [C, D] and features h [..., D] (the last axis, as
    the Dense head reads it), computed in log space: -(n/2) log d², with d² floored at
    RELATIVE_FLOOR (||w_k||² + ||h||²) (plus the smallest normal float, for w = h = 0)."""
    w_sq = jnp.sum(centers_CxD**2, axis=-1)                  # [C]
    h_sq = jnp.sum(features**2, axis=-1, keepdims=True)     # [..., 1]
    scale = w_sq + h_sq
    d_sq = scale - 2.0 * features @ centers_CxD.T
    floor = RELATIVE_FLOOR * scale + jnp.finfo(d_sq.dtype).tiny
    return -0.5 * exponent * jnp.log(jnp.maximum(d_sq, floor))


def with_harmonic_head(model: Model, exponent: float) -> Model:
    """The model with its last Dense layer read as class centres (model.classifier(params) [C, D]) and
    its logits replaced by harmonic_logits of its features, shaped as the Dense head's logits (a sequence
    model's features [N*T, D] give [N, T, C]); exponent 0 returns the model unchanged.
    The Dense layer's bias, if any, is no longer used (Baek et al.'s distance layer has none): its
    gradient is 0 and it stays at its initial value."""
    if exponent == 0:
        return model
    if model.features is None or model.classifier is None:
        raise ConfigError("model.harmonic_exponent > 0 needs a model whose last layer is Dense (one with "
                          "features and classifier: linear, mlp, cnn, transformer, embed_mlp, ...)")

    def apply(params, x):
        logits = harmonic_logits(model.classifier(params), model.features(params, x), exponent)
        return logits.reshape(jax.eval_shape(model.apply, params, x).shape)   # e.g. [N*T, C] -> [N, T, C]

    return model._replace(apply=apply, harmonic_exponent=float(exponent))


class BottleneckMLP(nn.Module):
    """Baek et al.'s MLP for two-token tasks: embed a and b (one table), concatenate, one SiLU hidden
    layer, a linear layer back to the embedding width, then the head (Dense; harmonic with
    model.harmonic_exponent > 0)."""

    vocab_size: int
    embed_dim: int
    hidden_dim: int
    num_classes: int

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        emb = nn.Embed(self.vocab_size, self.embed_dim, name="embed")(x[:, :2]).reshape(x.shape[0], -1)
        h = nn.Dense(self.embed_dim, name="bottleneck")(nn.silu(nn.Dense(self.hidden_dim, name="hidden")(emb)))
        if return_features:
            return h
        return nn.Dense(self.num_classes, name="head")(h)


def bottleneck_mlp(example_x, num_classes: int, embed_dim: int = 16, hidden_dim: int = 100) -> Model:
    """Baek et al. 2025's MLP (their code: src/utils/model.py, MLP / MLP_HS) on the tokens "a b =":
    embedding width embed_dim (16, theirs), hidden SiLU width hidden_dim (100, theirs); the head reads
    the embed_dim-wide output of a linear layer. Their head is tied to the token embedding; here it is
    its own Dense layer (classes are frequency ranks, not token ids). configs/grokking_harmonic.py."""
    if not jnp.issubdtype(jnp.asarray(example_x).dtype, jnp.integer):
        raise ConfigError("model bottleneck_mlp takes integer token ids (data.name = modular_arithmetic)")
    for name, value in (("embed_dim", embed_dim), ("hidden_dim", hidden_dim)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"model.{name} must be a positive integer, got {value!r}")
    return from_flax(BottleneckMLP(num_classes + 1, embed_dim, hidden_dim, num_classes), example_x)

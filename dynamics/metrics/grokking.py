"""Progress measures of the grokking experiments (pure jax, one member; listed in EXTRA_METRICS)."""
import jax.numpy as jnp

from dynamics.errors import ConfigError

NUM_KEY_FREQUENCIES = 6  # k of the key-frequency fraction: the embed_mlp runs here settle on 6-7 frequencies


def embedding_spectrum(embedding_PxD):
    """Squared norm of the token embedding in each Fourier frequency of Z_p: [p//2 + 1].

    Frequency w collects the cos(2πwa/p) and sin(2πwa/p) directions of the embedding over the tokens
    a = 0..p-1 (Nanda et al. 2023, Sec. 4: "key frequencies"); entry 0 is the constant direction.
    The entries sum to ||E||_F^2 (Parseval).
    """
    p = embedding_PxD.shape[0]
    coeffs = jnp.fft.rfft(embedding_PxD, axis=0)                           # [p//2 + 1, D]
    power = jnp.sum(jnp.abs(coeffs) ** 2, axis=1) / p
    return power.at[1:].multiply(2.0)                                      # w and p - w (p odd)


def key_frequencies(model, params, data, config):
    """key_frequency_fraction: the fraction of the embedding's squared norm in its
    NUM_KEY_FREQUENCIES strongest non-constant frequencies; embedding_spectrum [p//2 + 1]: each
    frequency's share. The embedding is params['embed']['embedding'] restricted to the p number tokens."""
    if "embed" not in params:
        raise ConfigError("metric key_frequencies needs a model with a token embedding (embed_mlp, transformer)")
    p = data.class_counts.shape[-1]
    power = embedding_spectrum(params["embed"]["embedding"][:p])
    top = jnp.sort(power[1:])[::-1][:NUM_KEY_FREQUENCIES]
    total = jnp.maximum(jnp.sum(power), 1e-30)
    return {"key_frequency_fraction": jnp.sum(top) / total, "embedding_spectrum": power / total}


def flipped_label_accuracy(model, params, data, config):
    """Training accuracy on the clean and on the flipped samples (data.extras['flipped']; Xu et al. 2024)."""
    if data.extras is None or "flipped" not in data.extras:
        raise ConfigError("metric flipped_label_accuracy needs data with extras['flipped'] (xor_clusters)")
    flipped = data.extras["flipped"].astype(jnp.float32)
    correct = (jnp.argmax(model.apply(params, data.x), -1) == data.y).astype(jnp.float32)
    mean_over = lambda w: jnp.sum(correct * w) / jnp.maximum(jnp.sum(w), 1.0)
    return {"clean_train_accuracy": mean_over(1.0 - flipped), "flipped_train_accuracy": mean_over(flipped)}

"""Progress measures of the grokking experiments (pure jax, one member; listed in EXTRA_METRICS).

Modular arithmetic is read in the Fourier basis of the cyclic group the operation lives in
(dynamics.data.grokking.cyclic_group_coordinates): Z_p for + and −, and for × and ÷ the nonzero
residues re-indexed by a discrete logarithm (Z_{p-1}). a² + ab + b² has no such group: refused.
"""
import jax
import jax.numpy as jnp
import numpy as np

from dynamics import losses
from dynamics.data.grokking import GROUP_OPERATIONS, cyclic_group_coordinates
from dynamics.errors import ConfigError
from dynamics.models.grokking import EmbedMLP, OneLayerTransformer

NUM_KEY_FREQUENCIES = 6  # k of the key-frequency fraction: the embed_mlp runs here settle on 6-7 frequencies
NEURON_EXPLAINED = 0.85  # a neuron belongs to its dominant frequency if it explains this share (Nanda et al.)
KEY_NEURON_SHARE = 0.02  # a key frequency is the dominant frequency of at least this share of the neurons
NEURON_LAYER = {"embed_mlp": "hidden", "modular_transformer": "mlp_in"}  # the Dense before the ReLU neurons


def fold_frequency(n: int) -> np.ndarray:
    """The real frequency min(k, n - k) of each DFT index k = 0..n-1 of Z_n: [n] ints in 0..n//2."""
    k = np.arange(n)
    return np.minimum(k, n - k)


def one_sided_power(coeffs, n: int):
    """|DFT|² of a real signal on Z_n folded onto the real frequencies 0..n//2 (coeffs: rfft along
    axis 0, [n//2 + 1, ...]). w and n - w are one real frequency, counted twice; the constant and, for
    even n, the Nyquist term n/2 are their own conjugates and counted once. Sums to n ||signal||²."""
    doubled = (np.arange(n // 2 + 1) >= 1) & (2 * np.arange(n // 2 + 1) != n)
    weight = np.where(doubled, 2.0, 1.0).reshape((-1,) + (1,) * (coeffs.ndim - 1))
    return weight * jnp.abs(coeffs) ** 2


def embedding_spectrum(embedding_NxD):
    """Squared norm of a token embedding in each Fourier frequency of the cyclic group Z_n whose
    elements index its rows (row i: the token of group element i): [n//2 + 1].

    Frequency w collects the cos(2πwi/n) and sin(2πwi/n) directions (Nanda et al. 2023, Sec. 4:
    "key frequencies"); entry 0 is the constant direction. The entries sum to ||E||_F² (Parseval).
    """
    n = embedding_NxD.shape[0]
    power = one_sided_power(jnp.fft.rfft(embedding_NxD, axis=0), n)    # [n//2 + 1, D]
    return jnp.sum(power, axis=1) / n


def modular_group(config: dict, metric: str):
    """(n, coordinate [p], sign, residue_of [n]) of the member's modular-arithmetic data, or ConfigError."""
    data = config["data"]
    if data["name"] != "modular_arithmetic":
        raise ConfigError(f"metric {metric} needs data.name = modular_arithmetic, got {data['name']!r}")
    if data["operation"] not in GROUP_OPERATIONS:
        raise ConfigError(f"metric {metric} needs data.operation in {', '.join(GROUP_OPERATIONS)} (a group: Fourier "
                          f"basis of Z_p, or of Z_(p-1) by discrete logarithm); {data['operation']!r} has none")
    n, coordinate, sign = cyclic_group_coordinates(data["p"], data["operation"])
    if n < 2:
        raise ConfigError(f"metric {metric} needs a group of at least 2 elements; data.p = {data['p']} with "
                          f"{data['operation']} has {n}")
    residue_of = np.empty(n, np.int64)
    residue_of[coordinate[coordinate >= 0]] = np.flatnonzero(coordinate >= 0)
    return n, coordinate, sign, residue_of


def key_frequencies(model, params, data, config):
    """key_frequency_fraction: the fraction of the embedding's squared norm in its
    NUM_KEY_FREQUENCIES strongest non-constant frequencies; embedding_spectrum [n//2 + 1]: each
    frequency's share. The embedding is params['embed']['embedding'] restricted to the group's
    number tokens, in group order (for × and ÷: token g^i at row i, token 0 left out)."""
    if "embed" not in params:
        raise ConfigError("metric key_frequencies needs a model with a token embedding "
                          "(embed_mlp, modular_transformer)")
    _, _, _, residue_of = modular_group(config, "key_frequencies")
    power = embedding_spectrum(params["embed"]["embedding"][residue_of])
    top = jnp.sort(power[1:])[::-1][:NUM_KEY_FREQUENCIES]
    total = jnp.maximum(jnp.sum(power), 1e-30)
    return {"key_frequency_fraction": jnp.sum(top) / total, "embedding_spectrum": power / total}


def neuron_frequency_masks(n: int) -> np.ndarray:
    """[n//2, n, n] 0/1: for w = 1..n//2, the 2D DFT indices (k1, k2) of Z_n x Z_n whose real
    frequencies are in {0, w}, not both 0: the terms of a function of (i, j) built from frequency w
    alone (cos/sin wi, cos/sin wj and their products: Nanda et al.'s 8 terms; 3 at the Nyquist w)."""
    fold = fold_frequency(n)
    w = np.arange(1, n // 2 + 1)[:, None, None]
    in_w = lambda f: (f == 0) | (f == w)
    return (in_w(fold[None, :, None]) & in_w(fold[None, None, :]) & ~((fold[:, None] == 0) & (fold[None, :] == 0))
            ).astype(np.float32)


def neuron_frequency_explained(activations_NxNxH):
    """Share of each neuron's variance over the group grid (i, j) explained by each frequency w:
    [n//2, H] (Nanda et al. 2023, Sec. 4 and their notebook: centred activations, 2D Fourier basis)."""
    n = activations_NxNxH.shape[0]
    centred = activations_NxNxH - jnp.mean(activations_NxNxH, axis=(0, 1))
    power = jnp.abs(jnp.fft.fft2(centred, axes=(0, 1))) ** 2                # [n, n, H]
    total = jnp.maximum(jnp.sum(power, axis=(0, 1)), 1e-30)                 # dead neuron: explains nothing
    return jnp.einsum("wab,abh->wh", neuron_frequency_masks(n), power) / total


def key_frequency_set(explained_WxH):
    """Each neuron's dominant frequency counts if it explains >= NEURON_EXPLAINED of the neuron;
    key frequencies are those dominant for >= KEY_NEURON_SHARE of the neurons.
    Returns (neuron share per frequency [n//2 + 1], entry 0: neurons no frequency explains;
    key [n//2 + 1] bool, entry 0 (the constant) False)."""
    num_freqs, num_neurons = explained_WxH.shape
    dominant = jnp.argmax(explained_WxH, axis=0) + 1
    clustered = jnp.max(explained_WxH, axis=0) >= NEURON_EXPLAINED
    counts = jnp.zeros(num_freqs + 1).at[jnp.where(clustered, dominant, 0)].add(1.0)
    share = counts / num_neurons
    key = (share >= KEY_NEURON_SHARE).at[0].set(False)
    return share, key


def _diagonal(n: int, sign: int) -> np.ndarray:
    """[n, n] bool: the 2D DFT indices (k, sign k) of Z_n x Z_n, the waves in i + sign j."""
    k = np.arange(n)
    diagonal = np.zeros((n, n), bool)
    diagonal[k, (sign * k) % n] = True
    return diagonal


def key_frequency_logits(logits_NxNxC, key, sign: int):
    """The logits' components along cos(w(i + sign j)) and sin(w(i + sign j)) of the group grid,
    w in the key set (key [n//2 + 1] bool), per output; and the constant (the mean over inputs).
    Returns (those components plus the constant: Nanda et al.'s restricted logits,
             the logits less the key components: their excluded logits)."""
    n = logits_NxNxC.shape[0]
    in_key = jnp.asarray(_diagonal(n, sign)) & key[fold_frequency(n)][:, None]   # key[0] is False: no constant
    constant = jnp.zeros((n, n), bool).at[0, 0].set(True)
    coeffs = jnp.fft.fft2(logits_NxNxC, axes=(0, 1))
    back = lambda mask: jnp.real(jnp.fft.ifft2(coeffs * mask[..., None], axes=(0, 1)))
    key_part = back(in_key)
    return key_part + back(constant), logits_NxNxC - key_part


def logit_frequency_share(logits_NxNxC, sign: int):
    """Share of the logits' variance over the group grid (summed over outputs) in the directions
    cos/sin(w(i + sign j)) of each frequency w: [n//2 + 1], entry 0 zero. Summed over any set of
    frequencies, e.g. the final model's key set after the run, it shows how much of the logits that
    set carries at each step (the restricted loss of that set needs the logits themselves)."""
    n = logits_NxNxC.shape[0]
    power = jnp.sum(jnp.abs(jnp.fft.fft2(logits_NxNxC, axes=(0, 1))) ** 2, axis=-1).at[0, 0].set(0.0)
    fold = np.broadcast_to(fold_frequency(n)[:, None], (n, n))
    on_diagonal = jnp.zeros(n // 2 + 1).at[fold[_diagonal(n, sign)]].add(power[_diagonal(n, sign)])
    return on_diagonal.at[0].set(0.0) / jnp.maximum(jnp.sum(power), 1e-30)


def group_grid_tokens(n: int, residue_of: np.ndarray, p: int) -> np.ndarray:
    """Tokens "a b =" of every pair of group elements (i, j), row-major: [n², 3] int32."""
    a, b = (g.ravel() for g in np.meshgrid(residue_of, residue_of, indexing="ij"))
    return np.stack([a, b, np.full_like(a, p)], axis=1).astype(np.int32)


def neuron_activations(model_config: dict, params, tokens, num_classes: int):
    """The ReLU neurons [N, H] read at the last position (Nanda et al.'s MLP neurons; embed_mlp's
    hidden layer), captured from the model's own flax module."""
    name = model_config["name"]
    if name == "embed_mlp":
        module = EmbedMLP(num_classes + 1, model_config["embed_dim"], model_config["hidden_dim"], num_classes,
                          model_config["combine"])
    elif name == "modular_transformer":
        module = OneLayerTransformer(num_classes + 1, model_config["model_dim"], model_config["num_heads"],
                                     model_config["mlp_dim"], num_classes)
    else:
        raise ConfigError(f"metric progress_measures needs model.name embed_mlp or modular_transformer, got {name!r}")
    layer = NEURON_LAYER[name]
    _, state = module.apply({"params": params}, tokens, capture_intermediates=lambda m, _: m.name == layer,
                            mutable=["intermediates"])
    pre = state["intermediates"][layer]["__call__"][0]
    return jax.nn.relu(pre[:, -1] if pre.ndim == 3 else pre)


def progress_measures(model, params, data, config):
    """Nanda et al. 2023's progress measures (Sec. 5; details as in their notebook) on the group grid
    of all pairs (i, j):

    neuron_frequency_share [n//2 + 1]: share of the neurons whose dominant frequency is w and explains
      >= NEURON_EXPLAINED of them (entry 0: the rest); key_frequencies [n//2 + 1] (0/1) and
      num_key_frequencies: the frequencies dominant for >= KEY_NEURON_SHARE of the neurons;
    restricted_loss: the loss on all pairs of the logits restricted to the key frequencies'
      cos/sin(w(i + sign j)) components and the constant;
    excluded_loss: the training loss of the logits with those components removed;
    logit_frequency_share [n//2 + 1]: each frequency's share of the logits (see logit_frequency_share).
    The key set is the current model's at each logged step: the paper takes the final model's, which
    a single jitted pass does not know yet; logit_frequency_share lets the final set be applied after.
    For × and ÷ the grid leaves out the pairs with a 0 (outside the group).
    """
    n, _, sign, residue_of = modular_group(config, "progress_measures")
    p = data.class_counts.shape[-1]
    tokens = group_grid_tokens(n, residue_of, p)
    is_train = jnp.zeros((p, p), bool).at[data.x[:, 0], data.x[:, 1]].set(True)
    label_of = jnp.zeros((p, p), jnp.int32).at[data.x[:, 0], data.x[:, 1]].set(data.y)
    if data.x_test is not None:
        label_of = label_of.at[data.x_test[:, 0], data.x_test[:, 1]].set(data.y_test)
    labels, train = label_of[tokens[:, 0], tokens[:, 1]], is_train[tokens[:, 0], tokens[:, 1]]
    explained = neuron_frequency_explained(neuron_activations(config["model"], params, tokens, p).reshape(n, n, -1))
    share, key = key_frequency_set(explained)
    logits = model.apply(params, tokens).reshape(n, n, -1)
    restricted, excluded = key_frequency_logits(logits, key, sign)
    sample_loss = losses.LOSSES[config["loss"]["name"]]
    excluded_per_pair = sample_loss(excluded.reshape(n * n, -1), labels)
    num_train = jnp.sum(train)
    return {
        "neuron_frequency_share": share,
        "key_frequencies": key.astype(jnp.float32),
        "num_key_frequencies": jnp.sum(key).astype(jnp.float32),
        "logit_frequency_share": logit_frequency_share(logits, sign),
        "restricted_loss": jnp.mean(sample_loss(restricted.reshape(n * n, -1), labels)),
        "excluded_loss": jnp.where(num_train > 0, jnp.sum(excluded_per_pair * train) / jnp.maximum(num_train, 1),
                                   jnp.nan),
    }


def flipped_label_accuracy(model, params, data, config):
    """Training accuracy on the clean and on the flipped samples (data.extras['flipped']; Xu et al. 2024)."""
    if data.extras is None or "flipped" not in data.extras:
        raise ConfigError("metric flipped_label_accuracy needs data with extras['flipped'] (xor_clusters)")
    flipped = data.extras["flipped"].astype(jnp.float32)
    correct = (jnp.argmax(model.apply(params, data.x), -1) == data.y).astype(jnp.float32)
    mean_over = lambda w: jnp.sum(correct * w) / jnp.maximum(jnp.sum(w), 1.0)
    return {"clean_train_accuracy": mean_over(1.0 - flipped), "flipped_train_accuracy": mean_over(flipped)}

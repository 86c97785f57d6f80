"""Nanda et al. 2023's progress measures on hand-built cases: the Fourier basis of the operation's
cyclic group (discrete logarithm for × and ÷), the Nyquist term, each neuron's dominant frequency,
the key-frequency set, restricted and excluded loss; and the refusals."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics import losses
from dynamics.data import build_dataset
from dynamics.data.grokking import GROUP_OPERATIONS, cyclic_group_coordinates, operation_table, primitive_root
from dynamics.errors import ConfigError
from dynamics.metrics.grokking import (KEY_NEURON_SHARE, NEURON_EXPLAINED, embedding_spectrum, key_frequencies,
                                       key_frequency_logits, key_frequency_set, logit_frequency_share, modular_group,
                                       neuron_activations, neuron_frequency_explained, progress_measures)
from dynamics.models import build_model

MLP = dict(name="embed_mlp", init_scale=1.0, embed_dim=8, hidden_dim=16, combine="concat")
TRANSFORMER = dict(name="modular_transformer", init_scale=1.0, model_dim=8, num_heads=2, mlp_dim=16)


def member_config(p=13, operation="add", model=MLP):
    data = dict(name="modular_arithmetic", p=p, operation=operation, train_fraction=0.5, zipf_exponent=0.0, seed=0)
    return {"data": data, "model": model, "loss": {"name": "cross_entropy"}}


@pytest.mark.parametrize("p", [2, 3, 13, 31])
@pytest.mark.parametrize("operation", GROUP_OPERATIONS)
def test_operations_are_addition_in_a_cyclic_group(p, operation):
    n, coordinate, sign = cyclic_group_coordinates(p, operation)
    assert n == (p if operation in ("add", "subtract") else p - 1)
    assert sorted(coordinate[coordinate >= 0]) == list(range(n))          # a bijection onto Z_n
    a, b, result = operation_table(p, operation)
    inside = (coordinate[a] >= 0) & (coordinate[b] >= 0)                  # × and ÷: pairs without a 0
    residue_of = np.argsort(np.where(coordinate >= 0, coordinate, p))[:n]
    np.testing.assert_array_equal(residue_of[(coordinate[a] + sign * coordinate[b])[inside] % n], result[inside])


def test_primitive_roots_and_refusals():
    for p, g in ((2, 1), (3, 2), (7, 3), (13, 2), (97, 5), (113, 3)):
        assert primitive_root(p) == g
    with pytest.raises(ConfigError, match="a² \\+ ab \\+ b² has none.*valid choices: add, divide, multiply, subtract"):
        cyclic_group_coordinates(13, "quadratic")
    with pytest.raises(ConfigError, match="progress_measures needs data.operation in add, subtract, multiply, divide"):
        modular_group(member_config(operation="quadratic"), "progress_measures")
    with pytest.raises(ConfigError, match="at least 2 elements"):
        modular_group(member_config(p=2, operation="multiply"), "key_frequencies")
    with pytest.raises(ConfigError, match="embed_mlp or modular_transformer"):
        neuron_activations(dict(name="mlp"), None, None, 13)
    xor = {"data": dict(name="xor_clusters")}
    with pytest.raises(ConfigError, match="needs data.name = modular_arithmetic"):
        modular_group(xor, "key_frequencies")


@pytest.mark.parametrize("n", [2, 6, 7])
def test_embedding_spectrum_counts_the_nyquist_term_once(n):
    noise = np.random.default_rng(n).standard_normal((n, 5))
    power = np.asarray(jax.jit(embedding_spectrum)(noise))
    assert power.shape == (n // 2 + 1,)
    np.testing.assert_allclose(power.sum(), (noise ** 2).sum(), rtol=1e-5)                   # Parseval
    if n % 2 == 0:
        alternating = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]                    # cos(π i)
        np.testing.assert_allclose(np.asarray(jax.jit(embedding_spectrum)(alternating)),
                                   np.eye(n // 2 + 1)[n // 2] * n, atol=1e-5)                # n, not 2n


def label_grid(n, sign, p, operation):
    """Labels (residues as classes) of the group grid (i, j), and the residue of each group element."""
    _, coordinate, _ = cyclic_group_coordinates(p, operation)
    residue_of = np.argsort(np.where(coordinate >= 0, coordinate, p))[:n]
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return residue_of[(i + sign * j) % n], residue_of


@pytest.mark.parametrize("operation", ["subtract", "multiply"])
def test_restricted_and_excluded_loss_on_logits_made_of_two_frequencies(operation):
    """Logits that are exactly A (cos w1(i + s j - k) + cos w2(i + s j - k)) for the answer's group
    element k: keeping the key frequencies {w1, w2} keeps the logits (restricted loss = loss);
    removing them leaves constant logits (excluded loss = log p, chance)."""
    p, w1, w2, amplitude = 13, 2, 5, 6.0
    n, _, sign = cyclic_group_coordinates(p, operation)
    labels, residue_of = label_grid(n, sign, p, operation)
    i, j, k = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    in_group = amplitude * sum(np.cos(2 * np.pi * w * (i + sign * j - k) / n) for w in (w1, w2))   # [n, n, n]
    logits = np.zeros((n, n, p), np.float32)
    logits[..., residue_of] = in_group                                    # class = residue; for × and ÷
    loss = lambda l: float(np.mean(losses.cross_entropy(np.asarray(l).reshape(n * n, p), labels.ravel())))
    split = jax.jit(key_frequency_logits, static_argnums=2)
    key = np.isin(np.arange(n // 2 + 1), [w1, w2])
    restricted, excluded = split(logits, key, sign)
    np.testing.assert_allclose(np.asarray(restricted), logits, atol=2e-5)
    assert loss(restricted) == pytest.approx(loss(logits), rel=1e-5)      # 0.0035 here
    np.testing.assert_allclose(np.asarray(excluded), 0.0, atol=2e-5)
    assert loss(excluded) == pytest.approx(np.log(p), rel=1e-5)
    share = np.asarray(jax.jit(logit_frequency_share, static_argnums=1)(logits, sign))
    np.testing.assert_allclose(share, np.isin(np.arange(n // 2 + 1), [w1, w2]) * 0.5, atol=1e-5)
    other = np.isin(np.arange(n // 2 + 1), [1, 3])                      # the wrong frequencies keep nothing
    restricted, excluded = split(logits, other, sign)
    assert loss(restricted) == pytest.approx(np.log(p), rel=1e-5)
    np.testing.assert_allclose(np.asarray(excluded), logits, atol=2e-5)


def test_restricted_logits_keep_the_constant_and_drop_the_wrong_sign():
    """The restricted logits keep each output's mean over the inputs (Nanda et al.'s bias correction);
    for addition, cos(w(i - j)) is not a key-frequency term of cos(w(i + j)) and is dropped."""
    n, w = 11, 3
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    plus, minus = np.cos(2 * np.pi * w * (i + j) / n), np.cos(2 * np.pi * w * (i - j) / n)
    logits = np.stack([plus + 0.7, minus - 0.2], axis=-1)
    key = np.arange(n // 2 + 1) == w
    restricted, excluded = jax.jit(key_frequency_logits, static_argnums=2)(logits, key, 1)
    np.testing.assert_allclose(np.asarray(restricted), np.stack([plus + 0.7, np.full_like(minus, -0.2)], -1), atol=1e-5)
    np.testing.assert_allclose(np.asarray(excluded), np.stack([np.full_like(plus, 0.7), minus - 0.2], -1), atol=1e-5)


def test_each_neurons_dominant_frequency_and_the_key_set():
    """Neurons built from one frequency (linear and product terms, Nanda et al.'s 8 terms) are
    explained by it entirely; a neuron mixing two frequencies equally by neither beyond 0.5; a dead
    neuron by none. The key set: frequencies dominant for >= KEY_NEURON_SHARE of the neurons."""
    n = 10                                                                # even: w = 5 is the Nyquist term
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    c = lambda w, x: np.cos(2 * np.pi * w * x / n)
    s = lambda w, x: np.sin(2 * np.pi * w * x / n)
    neurons = [c(2, i) + 0.5 * s(2, j) + c(2, i) * s(2, j) + 3.0,         # frequency 2
               c(3, i) * c(3, j) - s(3, i) * s(3, j),                     # cos 3(i + j)
               c(5, i) + c(5, i) * c(5, j),                               # the Nyquist frequency 5
               c(1, i) + c(4, j),                                         # two frequencies: no cluster
               np.zeros((n, n))]                                          # dead
    explained = np.asarray(jax.jit(neuron_frequency_explained)(np.stack(neurons, -1).astype(np.float32)))
    assert explained.shape == (n // 2, len(neurons))
    for h, w in enumerate((2, 3, 5)):
        assert explained[w - 1, h] == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(explained[[0, 3], 3], 0.5, atol=1e-5)
    np.testing.assert_allclose(explained[:, 4], 0.0)
    share, key = jax.jit(key_frequency_set)(explained)
    np.testing.assert_allclose(np.asarray(share), [0.4, 0, 0.2, 0.2, 0, 0.2], atol=1e-6)
    np.testing.assert_array_equal(np.flatnonzero(np.asarray(key)), [2, 3, 5])
    assert NEURON_EXPLAINED == 0.85 and 0 < KEY_NEURON_SHARE < 0.2


@pytest.mark.parametrize("operation, model_config",
                         [("add", MLP), pytest.param("multiply", TRANSFORMER, marks=pytest.mark.slow)])
@pytest.mark.slow
def test_progress_measures_at_initialisation(operation, model_config):
    """An untrained model has no key frequency: the restricted logits are each output's mean over
    the grid, and the excluded loss is the plain training loss on the grid (for addition: all of it).
    The neurons are the model's ReLU layer (embed_mlp: its features)."""
    p = 13
    config = member_config(p=p, operation=operation, model=model_config)
    data = build_dataset(config["data"])
    model = build_model(model_config, data.x[:1], data.num_classes)
    params = jax.jit(model.init)(jax.random.PRNGKey(0))
    acts = jax.jit(lambda prm: neuron_activations(model_config, prm, data.x, p))(params)
    assert acts.shape == (len(data.x), 16) and float(acts.min()) >= 0.0
    if model_config["name"] == "embed_mlp":
        np.testing.assert_allclose(np.asarray(acts), np.asarray(jax.jit(model.features)(params, data.x)), rtol=1e-6)
    out = jax.jit(lambda prm: progress_measures(model, prm, data, config))(params)
    n = p if operation == "add" else p - 1
    assert out["key_frequencies"].shape == out["neuron_frequency_share"].shape == (n // 2 + 1,)
    assert float(out["num_key_frequencies"]) == 0.0 and float(out["neuron_frequency_share"][0]) == 1.0
    assert 0.0 < float(out["logit_frequency_share"].sum()) < 1.0                # the rest: other 2D terms
    x = np.concatenate([data.x, data.x_test])
    y = np.concatenate([data.y, data.y_test])
    train = np.arange(len(x)) < len(data.x)
    in_group = (x[:, 0] > 0) & (x[:, 1] > 0) if operation == "multiply" else np.ones(len(x), bool)
    logits = np.asarray(jax.jit(model.apply)(params, x[in_group]))
    per_pair = np.asarray(losses.cross_entropy(jnp.asarray(logits), y[in_group]))
    assert float(out["excluded_loss"]) == pytest.approx(per_pair[train[in_group]].mean(), rel=1e-4)
    constant = np.broadcast_to(logits.mean(0), logits.shape)
    assert float(out["restricted_loss"]) == pytest.approx(
        float(jnp.mean(losses.cross_entropy(jnp.asarray(constant), y[in_group]))), rel=1e-4)
    spectrum = jax.jit(lambda prm: key_frequencies(model, prm, data, config))(params)["embedding_spectrum"]
    assert spectrum.shape == (n // 2 + 1,)
    np.testing.assert_allclose(float(spectrum.sum()), 1.0, rtol=1e-5)

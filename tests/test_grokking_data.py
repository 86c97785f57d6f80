"""The grokking suite's data, models and metrics do what they claim: labels, splits, modular
inverses, frequency ranks, XOR clusters and flips, the Fourier metric, the two-class models, the
grokking columns of members.csv, and the Bayes accuracy of XOR clusters."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics import predict
from dynamics.predict import grokking
from dynamics.data import build_dataset
from dynamics.data.grokking import (OPERATIONS, apply_operation, class_residues,
                                    modular_inverse, operation_table, sparse_classification, xor_clusters)
from dynamics.errors import ConfigError
from dynamics.history import History, first_step_reaching
from dynamics.metrics.grokking import embedding_spectrum, flipped_label_accuracy, key_frequencies
from dynamics.models import build_model
from theory.xor_clusters import bayes_accuracy


def modular(**overrides):
    fields = dict(name="modular_arithmetic", p=13, operation="add", train_fraction=0.4, zipf_exponent=0.0, seed=0)
    fields.update(overrides)
    return build_dataset(fields)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_modular_labels_splits_and_ranks(operation):
    p = 13
    data = modular(p=p, operation=operation)
    a, b, result = operation_table(p, operation)
    residues = class_residues(data, p, operation)
    for x, y in ((data.x, data.y), (data.x_test, data.y_test)):
        assert x.shape[1] == 3 and np.all(x[:, 2] == p)                  # "a b =" with '=' = token p
        np.testing.assert_array_equal(residues[y], apply_operation(operation, x[:, 0], x[:, 1], p))
    # train and test partition every valid pair
    pairs = {tuple(r) for r in np.concatenate([data.x, data.x_test])[:, :2]}
    assert len(pairs) == len(data.x) + len(data.x_test) == len(a)
    assert len(data.x) == round(0.4 * len(a))
    # labels are frequency ranks of the training split
    np.testing.assert_array_equal(np.bincount(data.y, minlength=p), data.class_counts)
    assert np.all(np.diff(data.class_counts) <= 0)
    assert sorted(residues[data.class_counts > 0]) == sorted(np.unique(apply_operation(operation, *data.x[:, :2].T, p)))


def test_modular_operations_and_inverses():
    p = 13
    b = np.arange(1, p)
    np.testing.assert_array_equal(b * modular_inverse(b, p) % p, 1)
    a, b, result = operation_table(p, "divide")
    assert len(a) == p * (p - 1) and np.all(b != 0)                       # b = 0 is left out
    np.testing.assert_array_equal(result * b % p, a)                      # a / b = c  <=>  c b = a
    np.testing.assert_array_equal(apply_operation("subtract", [3, 2], [5, 2], 7), [5, 0])
    np.testing.assert_array_equal(apply_operation("quadratic", [2, 6], [3, 6], 7), [(4 + 6 + 9) % 7, 108 % 7])
    np.testing.assert_array_equal(apply_operation("multiply", [3, 0], [5, 4], 7), [1, 0])


def test_modular_split_is_seeded_and_validated():
    one, again, other = modular(seed=3), modular(seed=3), modular(seed=4)
    np.testing.assert_array_equal(one.x, again.x)
    assert not np.array_equal(one.x, other.x)
    for bad, match in ((dict(p=12), "prime"), (dict(operation="power"), "valid choices"),
                       (dict(train_fraction=1.0), "no training or no test"), (dict(zipf_exponent=-1.0), ">= 0")):
        with pytest.raises(ConfigError, match=match):
            modular(**bad)
    with pytest.raises(ConfigError, match="too large for a zipf split"):
        modular(zipf_exponent=1.0, train_fraction=0.95)


def test_zipf_split_follows_the_law_and_leaves_test_pairs():
    p = 31
    data = modular(p=p, train_fraction=0.3, zipf_exponent=1.5)
    counts = data.class_counts
    assert abs(counts.sum() - 0.3 * p * p) <= p                           # rounding of p counts
    assert counts.max() <= int(0.9 * p) and counts.min() >= 1
    tail = np.arange(10, p)                                               # below the capped head
    ratio = counts[tail] / (counts[10] * ((tail + 1) / 11.0) ** -1.5)    # c (k+1)^-s up to rounding
    assert np.all(np.abs(ratio - 1) < 0.25)
    test_counts = np.bincount(data.y_test, minlength=p)
    assert test_counts.min() >= round(0.1 * p) - 1                        # every class keeps test pairs


def test_xor_clusters():
    n, d, r = 40, 300, 6.0
    data = xor_clusters(n, d, r, 0.2, 400, "stratified", seed=1)
    for x, y, flipped in ((data.x, data.y, data.extras["flipped"]), (data.x_test, data.y_test, None)):
        cluster_axis = np.argmax(np.abs(x[:, :2]), axis=1)                # ||mu|| = 6: the mean's axis stands out
        clean = (cluster_axis == 0).astype(int)                           # class 1 = ±mu1 (no swap: 20/20 here)
        expected = clean if flipped is None else np.where(flipped, 1 - clean, clean)
        np.testing.assert_array_equal(y, expected)
    flipped = data.extras["flipped"]
    assert flipped.sum() == 8 and flipped.dtype == bool                   # 2 of each cluster of 10
    signs = np.sign(data.x[np.arange(n), np.argmax(np.abs(data.x[:, :2]), axis=1)])
    cluster = 2 * np.argmax(np.abs(data.x[:, :2]), axis=1) + (signs < 0)
    np.testing.assert_array_equal(np.bincount(cluster, minlength=4), 10)
    np.testing.assert_array_equal([flipped[cluster == c].sum() for c in range(4)], 2)
    assert data.class_counts[0] >= data.class_counts[1]
    noise = data.x_test[:, 2:]
    assert abs(noise.std() - 1.0) < 0.02 and abs(noise.mean()) < 0.02


def test_xor_clusters_iid_sampling():
    """The paper's sampling: clusters uniform, labels flipped independently with probability eta."""
    n, d, r, eta = 4000, 3, 20.0, 0.2
    data = xor_clusters(n, d, r, eta, 10, "iid", seed=0)
    cluster_axis = np.argmax(np.abs(data.x[:, :2]), axis=1)
    clean = (cluster_axis == 0).astype(int)
    np.testing.assert_array_equal(data.y == clean, ~data.extras["flipped"])  # no class swap at this seed
    signs = np.sign(data.x[np.arange(n), cluster_axis])
    sizes = np.bincount(2 * cluster_axis + (signs < 0), minlength=4)
    assert np.all(np.abs(sizes - n / 4) < 4 * np.sqrt(n * 3 / 16))         # multinomial: 4 standard deviations
    assert abs(data.extras["flipped"].mean() - eta) < 4 * np.sqrt(eta * (1 - eta) / n)
    small = [xor_clusters(40, 5, 3.0, 0.2, 1, "iid", seed=s).extras["flipped"].sum() for s in range(20)]
    assert len(set(small)) > 1                                            # the number flipped varies with the seed
    with pytest.raises(ConfigError, match="valid choices: iid, stratified"):
        xor_clusters(40, 5, 3.0, 0.2, 1, "balanced", seed=0)


def test_sparse_classification_matches_the_theory_instance():
    data = sparse_classification(50, 100, 3, 2000, seed=0)
    rng = np.random.default_rng(0)                                        # tests/theory/test_grokking.py's draws
    x = rng.choice([-1.0, 1.0], (50, 100))
    w = rng.choice([-1.0, 1.0], 3)
    np.testing.assert_array_equal(data.x, x)
    signed = 2 * data.y - 1
    assert np.all(signed == np.sign(x[:, :3] @ w)) or np.all(signed == -np.sign(x[:, :3] @ w))
    assert data.class_counts[0] >= data.class_counts[1] and data.class_counts.sum() == 50
    with pytest.raises(ConfigError, match="odd"):
        sparse_classification(50, 100, 2, 10, seed=0)


@pytest.mark.slow
def test_token_models_and_key_frequency_metric():
    data = modular(p=13)
    for config in (dict(name="modular_transformer", init_scale=1.0, model_dim=8, num_heads=2, mlp_dim=16),):
        # (embed_mlp runs in tests/test_grokking_claims.py)
        model = build_model(config, data.x[:1], data.num_classes)
        params = jax.jit(model.init)(jax.random.PRNGKey(0))               # jitted: eager flax is slow
        assert params["embed"]["embedding"].shape == (14, 8)              # p numbers and '='
        assert jax.jit(model.apply)(params, data.x).shape == (len(data.x), 13)
        config = {"data": dict(name="modular_arithmetic", p=13, operation="add")}
        out = jax.jit(lambda params: key_frequencies(model, params, data, config))(params)
        assert out["embedding_spectrum"].shape == (7,)
        np.testing.assert_allclose(out["embedding_spectrum"].sum(), 1.0, rtol=1e-5)
    with pytest.raises(ConfigError, match="integer token ids"):
        build_model(dict(name="embed_mlp", init_scale=1.0, embed_dim=8, hidden_dim=16, combine="concat"),
                    np.zeros((1, 3), np.float32), 13)


def test_embedding_spectrum_is_parseval_and_finds_pure_frequencies():
    p = 13
    tokens = np.arange(p)[:, None]
    pure = np.concatenate([np.cos(2 * np.pi * 3 * tokens / p), np.sin(2 * np.pi * 5 * tokens / p)], axis=1)
    power = np.asarray(embedding_spectrum(jnp.asarray(pure)))
    np.testing.assert_allclose(power.sum(), (pure ** 2).sum(), rtol=1e-5)
    assert set(np.flatnonzero(power > 1e-6)) == {3, 5}
    noise = np.random.default_rng(0).standard_normal((p, 4))
    np.testing.assert_allclose(np.asarray(embedding_spectrum(jnp.asarray(noise))).sum(), (noise ** 2).sum(), rtol=1e-5)


def test_two_class_models():
    data = xor_clusters(16, 20, 3.0, 0.25, 10, "stratified", seed=0)
    model = build_model(dict(name="two_layer_relu", init_scale=1.0, width=6), data.x[:1], 2)
    assert jax.eval_shape(model.init, jax.random.PRNGKey(0))["w"].shape == (20, 6)
    params = {"w": jnp.asarray(np.random.default_rng(0).standard_normal((20, 6)), jnp.float32)}
    logits = np.asarray(model.apply(params, data.x))
    a = np.array([1, -1, 1, -1, 1, -1]) / np.sqrt(6)
    np.testing.assert_allclose(logits[:, 0], 0.0)
    np.testing.assert_allclose(logits[:, 1], np.maximum(data.x @ params["w"], 0) @ a, rtol=1e-5, atol=1e-6)
    accuracy = flipped_label_accuracy(model, params, data, {})
    correct = np.argmax(logits, -1) == data.y
    flipped = data.extras["flipped"]
    np.testing.assert_allclose(accuracy["flipped_train_accuracy"], correct[flipped].mean())
    np.testing.assert_allclose(accuracy["clean_train_accuracy"], correct[~flipped].mean())
    sparse = sparse_classification(10, 5, 3, 4, seed=0)
    diag = build_model(dict(name="diagonal_linear", init_scale=2.0), sparse.x[:1], 2)
    params = jax.tree.map(lambda p: 2.0 * p, diag.init(None))                      # the trainer's init_scale
    np.testing.assert_allclose(diag.apply(params, sparse.x), 0.0)                  # u = v: f = 0
    params = {"u": jnp.array([2.0, 0, 0, 0, 1]), "v": jnp.array([0, 1.0, 0, 0, 0])}
    np.testing.assert_allclose(diag.apply(params, sparse.x)[:, 1], sparse.x @ np.array([4.0, -1, 0, 0, 1]), rtol=1e-6)
    with pytest.raises(ConfigError, match="2 classes"):
        build_model(dict(name="diagonal_linear", init_scale=1.0), sparse.x[:1], 3)


def test_grokking_columns_of_members_table():
    steps = np.array([0, 1, 2, 4, 8, 16])
    assert first_step_reaching(steps, [0.1, 0.5, 0.99, 1.0, 1.0, 1.0], 0.99) == 2.0
    assert np.isnan(first_step_reaching(steps, np.zeros(6), 0.99))
    np.testing.assert_array_equal(first_step_reaching(steps, np.array([[0, 1.0], [1, 1], [1, 1], [1, 1], [1, 1], [1, 1]]),
                                                      0.99, axis=0), [1.0, 0.0])
    train = np.array([[0.1, 0.5, 1.0, 1.0, 1.0, 1.0], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    test = np.array([[0.0, 0.0, 0.0, 0.5, 0.995, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    history = History(config={}, members=[{}, {}], step=steps, records={"accuracy": train, "test_accuracy": test},
                      class_counts=np.ones((2, 3)), diverged_step=np.array([-1, -1]), selected=np.ones(2, bool))
    table = history.members_table(predict.member_columns(history))
    assert table.loc[0, "fit_step"] == 2 and table.loc[0, "generalization_step"] == 8
    assert table.loc[0, "grokking_time"] == 6
    assert np.isnan(table.loc[1, "grokking_time"])


def test_classes_without_a_test_sample_are_not_counted_as_never_generalised():
    steps = np.array([0, 1, 2])
    ones = np.ones((1, 3))
    test = np.array([[[0.0, 0.0, np.nan], [1.0, 0.5, np.nan], [1.0, 0.5, np.nan]]])   # class 2: no test pair
    history = History(config={}, members=[{}], step=steps,
                      records={"accuracy": ones, "per_class_accuracy": np.ones((1, 3, 3)),
                               "test_per_class_accuracy": test},
                      class_counts=np.ones((1, 3)), diverged_step=np.array([-1]), selected=np.ones(1, bool))
    assert grokking.classes_never_generalised(history, 0) == (1, 2)   # class 1 never; class 2 has no verdict


def test_xor_bayes_accuracy():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((2, 400_000))
    for r in (0.0, 1.0, 2.5):
        assert bayes_accuracy(r) == pytest.approx(np.mean(np.abs(r + g[0]) > np.abs(g[1])), abs=3e-3)
    assert bayes_accuracy(30.0) == pytest.approx(1.0)
    assert bayes_accuracy(1.0, 0.2) == pytest.approx(0.8 * bayes_accuracy(1.0) + 0.2 * (1 - bayes_accuracy(1.0)))

"""Noisy labels (Liu et al. 2020): the label-noise data option, ELR, and the claims on
configs/noisy_labels_linear.py:small (one compiled run of 6 members shared by the claim tests)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import load_config
from dynamics import experiment, losses, pieces, predict, train
from dynamics.data import build_dataset
from dynamics.data.noisy_labels import flipped_labels
from dynamics.errors import ConfigError
from dynamics.predict import noisy_labels as predicted


def digits_config(**noise):
    return {"name": "digits_long_tail", "exponent": 1.0, "test_fraction": 0.2, "seed": 0, **noise}


def test_label_noise_is_deterministic_per_class_and_keeps_the_truth():
    clean = build_dataset(digits_config())
    for kind in ("symmetric", "pair"):
        data = build_dataset(digits_config(label_noise=kind, noise_rate=0.4, noise_seed=3))
        again = build_dataset(digits_config(label_noise=kind, noise_rate=0.4, noise_seed=3))
        noisy, true = data.extras["noisy"], data.extras["true_label"]
        np.testing.assert_array_equal(data.y, again.y)
        np.testing.assert_array_equal(true, clean.y)
        np.testing.assert_array_equal(data.y_test, clean.y_test)  # test labels stay clean
        assert np.all((data.y != true) == noisy)  # every flipped label is wrong, every other one right
        per_class = np.bincount(true[noisy], minlength=10)
        np.testing.assert_array_equal(per_class, np.round(0.4 * clean.class_counts).astype(int))
        np.testing.assert_array_equal(data.class_counts, np.bincount(data.y, minlength=10))
    pair = build_dataset(digits_config(label_noise="pair", noise_rate=0.4, noise_seed=3))
    np.testing.assert_array_equal(pair.y[pair.extras["noisy"]], (pair.extras["true_label"][pair.extras["noisy"]] + 1) % 10)
    other = build_dataset(digits_config(label_noise="symmetric", noise_rate=0.4, noise_seed=4))
    assert not np.array_equal(other.extras["noisy"], build_dataset(digits_config(
        label_noise="symmetric", noise_rate=0.4, noise_seed=3)).extras["noisy"])
    assert build_dataset(digits_config(label_noise="none", noise_rate=0.4, noise_seed=3)).extras is None


def test_symmetric_noise_spreads_over_the_other_classes():
    y = np.repeat(np.arange(5), 2000)
    noisy_y, noisy = flipped_labels(y, 5, "symmetric", 0.5, seed=0)
    moved = (noisy_y[noisy] - y[noisy]) % 5
    np.testing.assert_allclose(np.bincount(moved, minlength=5)[1:] / noisy.sum(), 0.25, atol=0.02)


@pytest.mark.parametrize("noise, message", [
    ({"label_noise": "asym", "noise_rate": 0.2, "noise_seed": 0}, "valid choices: none, pair, symmetric"),
    ({"label_noise": "pair", "noise_rate": 1.5, "noise_seed": 0}, "noise_rate must be <= 1"),
    ({"label_noise": "pair", "noise_rate": 0.2, "noise_seed": -1}, "noise_seed must be"),
    ({"label_noise": "pair"}, r"missing keys \['noise_rate', 'noise_seed'\]")])
def test_bad_label_noise_is_one_line(noise, message):
    with pytest.raises(ConfigError, match=message):
        build_dataset(digits_config(**noise))


ELR_LOSS = {"name": "cross_entropy", "reweight_exponent": 0.0, "logit_adjustment": 0.0, "spectral_decoupling": 0.0,
            "regularizer": "elr", "elr_lambda": 3.0, "elr_beta": 0.7}


def test_elr_gradient_is_lemma_2():
    """Liu et al. 2020, Lemma 2: ∇_z [CE + λ log(1 − <p, t>)] = p − y + λ g, g_c = p_c Σ_k (t_k − t_c) p_k /
    (1 − <p, t>), per sample (here the mean over samples, so 1/n); and t starts at 0, so t = (1 − β) p."""
    logits = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    targets = np.random.default_rng(1).dirichlet(np.ones(4), 5).astype(np.float32)
    labels = np.array([0, 1, 2, 3, 1])

    @jax.jit
    def grad_and_first_targets(z, t):
        grad = jax.grad(lambda z: losses.training_loss(ELR_LOSS, z, labels, jnp.ones(4), t))(z)
        return grad, losses.elr_targets(ELR_LOSS, jnp.zeros_like(t), z)

    grad, first = grad_and_first_targets(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    inner = np.sum(p * targets, -1, keepdims=True)
    g = p * (inner - targets) / (1 - inner)  # Σ_k (t_k − t_c) p_k = <p, t> − t_c
    np.testing.assert_allclose(grad, (p - np.eye(4)[labels] + 3.0 * g) / 5, atol=1e-6)
    np.testing.assert_allclose(first, 0.3 * p, atol=1e-4)  # the clamp to [1e-4, 1 − 1e-4] moves p by < 1e-4


def test_elr_targets_are_carried_by_the_train_step():
    """The state carries ELR's targets [N, C], from 0; a minibatch step sets its own samples' rows to
    (1 − β) p of their predictions and leaves the others. ELR refuses per-class-gradient optimizers."""
    config = load_config("noisy_labels_linear", "small")[0]
    config["data"].update(num_samples=20, input_dim=8, num_test=10)
    config["loss"]["elr_lambda"] = 3.0
    config["train"]["batch_size"] = 5
    _, (group,) = train.plan(config, [{}])
    numbers = {k: v[0] for k, v in group.numbers.items()}
    data = jax.tree.map(jnp.asarray, group.data)  # as the trainer places it on the device
    state = train.init_state(group.setup, numbers, data)
    np.testing.assert_array_equal(state.targets, 0.0)
    after = jax.jit(lambda s: train.train_step(group.setup, numbers, data, s, 0))(state)
    p = jax.nn.softmax(group.setup.model.apply(state.params, data.x))
    changed = np.any(np.asarray(after.targets) != 0, axis=1)
    assert changed.sum() == 5
    np.testing.assert_allclose(after.targets[changed], 0.3 * p[changed], atol=1e-4)
    config["optimizer"]["name"] = "per_class_normalized_gd"
    with pytest.raises(ConfigError, match="needs the plain gradient"):
        train.validate(config, pieces.library())


@pytest.fixture(scope="module")
def small_run():
    """configs/noisy_labels_linear.py:small: 3 seeds (init, data, noise) x {CE, ELR λ = 3}, one compiled group."""
    config, members = load_config("noisy_labels_linear", "small")
    return experiment.run(config, members, progress=lambda line: None)


def members_with(history, elr: bool) -> list:
    return [i for i, m in enumerate(history.members) if (m["loss.elr_lambda"] > 0) == elr]


@pytest.mark.slow
def test_early_learning_then_memorisation_without_elr(small_run):
    """Liu et al. 2020, Theorem 1 / Fig. A.1: with cross-entropy the linear model first predicts the wrong
    labels as their true class (test accuracy near 1), then memorises every wrong label (test accuracy falls).
    Measured over seeds 0-5 (seeds 0-2 here): peak share of wrong labels predicted as true class 0.967-1.0
    with <= 0.033 of them memorised then; peak test accuracy >= 0.991; final: all wrong labels memorised
    (1.0), test accuracy 0.62-0.73 (0.27-0.38 below its peak); wrong labels' share of Σ||p − y||² at step 0
    0.22-0.40, at most 0.68-0.70."""
    rec, h = small_run.records, small_run
    for i in members_with(h, elr=False):
        peak = predicted.early_peak(h, i)
        assert rec["noisy_true_mean"][i, peak] >= 0.9 and rec["noisy_fit_mean"][i, peak] <= 0.1
        assert rec["test_accuracy"][i, :peak + 1].max() >= 0.97
        assert rec["noisy_fit_mean"][i, -1] >= 0.98
        assert rec["test_accuracy"][i, -1] <= rec["test_accuracy"][i].max() - 0.2
        # the gradient coefficients: the wrong labels (30% of the samples) come to carry most of Σ||p − y||²
        assert rec["noisy_gradient_share"][i, 0] < 0.45 and rec["noisy_gradient_share"][i].max() > 0.6


@pytest.mark.slow
def test_elr_prevents_memorisation(small_run):
    """Liu et al. 2020, App. B (Fig. A.1): with ELR the linear model never memorises the wrong labels and
    keeps its test accuracy. Measured over seeds 0-5: final share memorised 0.0, final test accuracy 1.0."""
    rec = small_run.records
    for i in members_with(small_run, elr=True):
        assert rec["noisy_fit_mean"][i, -1] <= 0.02
        assert rec["test_accuracy"][i, -1] >= 0.98


@pytest.mark.slow
def test_theory_agrees_in_the_early_phase_and_predicts_memorisation(small_run, tmp_path):
    """theory/noisy_labels.py's n → ∞ dynamics over the early phase, Theorem 6's memorisation on separable
    data, and ELR's row: every agreement row within its tolerance (dynamics/predict/noisy_labels.py)."""
    table = predict.agreement(small_run)
    mine = table[table.prediction.str.contains("n → ∞|Theorem 6|ELR")]
    assert len(mine) == 3 * 5 + 3 and mine.within_tolerance.all(), mine
    path = experiment.draw(small_run, [str(tmp_path / "noisy_labels.png")])[0]
    assert (tmp_path / "noisy_labels.png").stat().st_size > 0, path

"""Weight balancing and two-stage training (Alshammari et al. 2022; Hasegawa & Sato 2023) on long-tailed
digits: the configs' small variants, first stage in a workdir, second stage started from its final
parameters (init.from_workdir), classifier alone (train.trainable = "head"), with MaxNorm.

Margins measured on the small variants over seeds 0-3 (the configs' small sweep runs seeds 0-1).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import spearmanr

from dynamics import experiment, optimizers, train
from dynamics.errors import ConfigError
from dynamics.plots import FIGURES
from dynamics.predict import weight_balancing as predicted

from conftest import load_config

QUIET = lambda line: None  # noqa: E731


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """(first-stage workdir, its History, second-stage workdir, its History): the configs' small variants
    (no figures: test_figure draws one)."""
    root = tmp_path_factory.mktemp("weight_balancing")
    histories = []
    for name, workdir in (("weight_balancing_digits", root / "first"), ("weight_balancing_digits_stage2", root / "second")):
        config, members = load_config(name, "small")
        config["init"]["from_workdir"] = str(root / "first") if histories else ""
        config["figures"] = ()
        histories.append(experiment.run(config, members, workdir=str(workdir), progress=QUIET))
    return str(root / "first"), histories[0], str(root / "second"), histories[1]


def first_stage(history, weight_decay):
    return [i for i, m in enumerate(history.members) if m["optimizer.weight_decay"] == weight_decay]


@pytest.mark.slow  # shares the two-stage fixture (~10 s CPU)
def test_weight_decay_raises_the_fisher_ratio(stages):
    """Hasegawa & Sato 2023 (sec. 4): weight decay with cross-entropy raises Fisher's discriminant ratio
    of the features. Final tr Σ_B / tr Σ_W with λ = 5e-3 minus without, same seed: measured 0.24-0.33
    (seeds 0-3; with λ = 2e-2 another 0.55-0.66 above)."""
    _, history, _, _ = stages
    fisher = history.records["fisher_ratio"][:, -1]
    gain = fisher[first_stage(history, 5e-3)] - fisher[first_stage(history, 0.0)]
    assert np.all(gain > 0.1), gain


@pytest.mark.slow  # shares the two-stage fixture (~10 s CPU)
def test_first_stage_rows_of_frequent_classes_are_longer(stages):
    """Alshammari et al. 2022 (Fig. 1): trained with plain cross-entropy, the classifier rows of the
    frequent classes are longer. Spearman correlation of the final ‖w_k‖ with the class count:
    measured 0.79-0.95 (every first-stage member, seeds 0-3)."""
    _, history, _, _ = stages
    for i in range(len(history.members)):
        assert spearmanr(history.records["classifier_norms"][i, -1], history.class_counts[i]).correlation > 0.6


@pytest.mark.slow  # shares the two-stage fixture (~10 s CPU)
def test_second_stage_starts_where_the_first_ended_with_frozen_features(stages):
    """init.from_workdir: the second stage's first records are its source member's last (to float
    rounding: another compiled program; measured equal); train.trainable = "head": its final parameters
    (DIR/params.npz) differ from the source's in the head alone."""
    first_dir, first, second_dir, second = stages
    with np.load(f"{first_dir}/params.npz") as a, np.load(f"{second_dir}/params.npz") as b:
        start, end = dict(a), dict(b)
    for i, member in enumerate(second.members):
        source = member["init.from_member"]
        for name in ("classifier_norms", "test_per_class_accuracy"):
            np.testing.assert_allclose(second.records[name][i, 0], first.records[name][source, -1], rtol=1e-6)
        for leaf in ("['dense_0']['kernel']", "['dense_1']['bias']", "['head']['kernel']", "['head']['bias']"):
            same = np.array_equal(end[f"{i}{leaf}"], start[f"{source}{leaf}"])
            assert same == (not leaf.startswith("['head']")), leaf


@pytest.mark.slow  # shares the two-stage fixture (~10 s CPU)
def test_second_stage_raises_balanced_accuracy(stages):
    """Alshammari et al. 2022 (Table 1): retraining the classifier with a class-balanced loss raises the
    balanced (per-class mean) test accuracy over the first stage's. Gain: measured 0.044-0.077 over
    every second-stage member (seeds 0-3, with and without weight decay and MaxNorm)."""
    _, _, _, second = stages
    balanced = predicted.balanced_accuracy(second)
    assert np.all(balanced[:, -1] - balanced[:, 0] > 0.02), balanced[:, [0, -1]]


@pytest.mark.slow  # shares the two-stage fixture (~10 s CPU)
def test_weight_decay_with_the_balanced_loss_lengthens_the_rare_rows(stages):
    """Hasegawa & Sato 2023 (sec. 5): weight decay with the class-balanced loss is an implicit logit
    adjustment: it makes the rare classes' rows relatively longer. The exponent τ̂ of ‖w_k‖ ∝ π_k^-τ̂
    (predict.weight_balancing.implied_exponent) after the second stage, with λ = 0.1 minus without, no
    MaxNorm, same source: measured 0.035-0.057 (seeds 0-3; τ̂ itself -0.008 to +0.012 with λ, -0.03
    to -0.05 without)."""
    _, _, _, second = stages
    tau = predicted.implied_exponents(second)[0][:, -1]
    plain = {(m["init.from_member"], m["optimizer.weight_decay"]): tau[i]
             for i, m in enumerate(second.members) if m["optimizer.max_norm"] == 0.0}
    for source in {m["init.from_member"] for m in second.members}:
        assert plain[source, 0.1] - plain[source, 0.0] > 0.02, plain


@pytest.mark.slow  # shares the two-stage fixture (~10 s CPU)
def test_max_norm_caps_every_row_at_its_threshold(stages):
    """MaxNorm (Alshammari et al. 2022's PGD): no final row is longer than min + q (max − min) of the
    starting norms (q = 0.1); without weight decay, uncapped rows grow past it (measured 1.7-1.9x)."""
    _, _, _, second = stages
    norms = second.records["classifier_norms"]
    threshold = norms[:, 0].min(1) + 0.1 * (norms[:, 0].max(1) - norms[:, 0].min(1))
    final = norms[:, -1].max(1) / threshold
    capped = np.array([m["optimizer.max_norm"] == 0.1 for m in second.members])
    undecayed = np.array([m["optimizer.weight_decay"] == 0.0 for m in second.members])
    assert np.all(final[capped] <= 1 + 1e-5) and np.all(final[~capped & undecayed] > 1.3), final


@jax.jit
def projected_step(params, updates, q):
    tx = optimizers.max_norm(q, lambda p: p["head"]["kernel"].T)
    return tx.update(updates, tx.init(params), params)[0]


def test_max_norm_projects_rows_and_leaves_the_rest():
    """optimizers.max_norm on a toy tree: the step's rows above τ are scaled back to τ, shorter rows and
    the other parameters keep the plain step; q = 0 changes nothing."""
    params = {"head": {"kernel": jnp.array([[3.0, 0.0], [0.0, 1.0]]), "bias": jnp.ones(2)}}  # rows: columns
    classifier = lambda p: p["head"]["kernel"].T  # noqa: E731 - as in projected_step
    updates = {"head": {"kernel": jnp.array([[1.0, 0.0], [0.0, 0.5]]), "bias": jnp.ones(2)}}
    for q, expected in ((0.5, [2.0, 1.5]), (0.0, [4.0, 1.5])):  # τ = 1 + q (3 − 1)
        out = projected_step(params, updates, q)
        stepped = jax.tree.map(jnp.add, params, out)
        np.testing.assert_allclose(jnp.linalg.norm(classifier(stepped), axis=1), expected, rtol=1e-6)
        np.testing.assert_array_equal(out["head"]["bias"], updates["head"]["bias"])


def test_from_workdir_errors_are_one_line(tmp_path):
    """A missing or incomplete workdir, a member it does not hold and a parameter of another shape: one-line
    ConfigErrors, the last naming both shapes (a one-member workdir written by hand: nothing trains)."""
    workdir = tmp_path / "first"
    workdir.mkdir()
    np.savez(workdir / "params.npz", **{"0['dense_0']['bias']": np.zeros(5, np.float32)})
    config, _ = load_config("weight_balancing_digits_stage2", "small")
    cases = [(dict(from_workdir=str(tmp_path / "none")), "holds no complete run"),
             (dict(from_workdir=str(workdir)), "holds no complete run"),  # no complete.json yet
             (dict(from_workdir=str(workdir), from_member=1), "holds 1 members, no member 1"),
             (dict(from_member=-1), r"\['dense_0'\]\['bias'\] of member 0 has shape \(5,\) there, shape \(64,\) in this model")]
    for init, message in cases:
        config["init"].update(init)
        if message.startswith("holds 1"):
            (workdir / experiment.COMPLETE_FILE).write_text("{}")
        with pytest.raises(ConfigError, match=message) as error:
            train.plan(config, [{}])
        assert "\n" not in str(error.value)


@pytest.mark.slow  # shares the two-stage fixture (~10 s CPU)
def test_figure(stages, tmp_path):
    """The weight_balancing figure draws from the second stage's History alone."""
    path = str(tmp_path / "weight_balancing.png")
    FIGURES["weight_balancing"](stages[3], path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

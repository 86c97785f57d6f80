"""The library's simulations against theory/: softmax flows (Kunstner et al. 2024), deep linear
sigmoids (Saxe et al. 2014), class competition and minibatch noise (Francazi et al. 2023).

Every prediction is computed from the History alone (dynamics.predict: flows, competition), never
fitted. Each test starts from its config's "small" variant and narrows it to the grid it checks
(class counts, exponents, seeds, step sizes). Tolerances were measured on these exact grids; the
measured values sit next to each assertion.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from conftest import load_config

from dynamics import experiment, plots, sweep, train
from dynamics.data import build_dataset
from dynamics.data.laws import zipf_counts
from dynamics.errors import ConfigError
from dynamics.metrics.competition import sgd_gradient_cosine
from dynamics.models import build_model
from dynamics.predict import competition
from dynamics.predict import flows as tc
from dynamics.predict.competition import first_step_changes
from theory import class_competition

QUIET = dict(progress=lambda s: None)
EXPONENTS = (0.5, 1.0, 1.5)
SAMPLES = {8: 256, 64: 1024}  # N per C: the rarest Zipf-1.5 class of C = 64 still gets 1 sample


def softmax_config(model, num_classes, num_steps, num_log_points=40):
    """theory_softmax's small config with C classes (N = SAMPLES[C]), one model, num_steps steps."""
    c = load_config("theory_softmax", "small")[0]
    c["data"].update(num_classes=num_classes, input_dim=num_classes, num_samples=SAMPLES[num_classes])
    c["model"]["name"] = model
    c["train"].update(num_steps=num_steps, chunk_steps=num_steps + 1, num_log_points=num_log_points)
    return c


def zipf_members(num_classes, optimizer, eta_times_pi_max=None, learning_rate=None):
    """One member per Zipf exponent (vmapped: same shapes), η = eta_times_pi_max / π_max or fixed."""
    members = []
    for a in EXPONENTS:
        counts = zipf_counts(num_classes, SAMPLES[num_classes], a)
        lr = learning_rate if learning_rate is not None else eta_times_pi_max * counts.sum() / counts.max()
        members.append({"data.exponent": a, "optimizer.name": optimizer, "optimizer.learning_rate": float(lr)})
    return members


@pytest.mark.slow
@pytest.mark.parametrize("num_classes", [8, 64])
def test_orthogonal_gd_follows_gradient_flow(num_classes, tmp_path):
    """Kunstner et al. 2024: under gradient flow the orthogonal model's class k has loss
    ℓ(π_k t), a universal function of π_k t. Library GD (η π_max = 0.05, 400 steps: π_max t = 20)
    against orthogonal_per_class_loss at t = η·step, all 40 logged steps and every class:
    max |ℓ_sim − ℓ_th| / max(ℓ_th, 0.01) measured 0.0078 (C = 8) and 0.0076 (C = 64) for every
    exponent (ℓ is a function of π_k t and η π_max is fixed); asserted ≤ 0.01."""
    history = train.run(softmax_config("linear_no_bias", num_classes, 400),
                        zipf_members(num_classes, "gd", eta_times_pi_max=0.05), **QUIET)
    for i in range(len(history.members)):
        assert tc.prediction(history, i).name == "orthogonal gd flow"
        assert tc.member_agreement(history, i) <= 0.01, history.members[i]
    for name in ("theory_curves", "time_to_threshold"):  # the figures draw from this History alone
        plots.FIGURES[name](history, str(tmp_path / f"{name}.png"))
        assert (tmp_path / f"{name}.png").stat().st_size < 200_000


@pytest.mark.parametrize("num_classes", [8, 64])
@pytest.mark.slow
def test_unigram_gd_excess_follows_gradient_flow(num_classes):
    """Kunstner et al. 2024, bias-only model: the excess loss ℓ_k + log π_k under library GD
    (η π_max = 0.0025, 4000 steps: π_max t = 10) against unigram_per_class_loss. The relative
    error of the excess (floor 0.01 nats: the excess of some classes crosses 0) is ∝ η and peaks
    at those crossings; measured max C=8: 0.0036 / 0.0075 / 0.0093, C=64: 0.0035 / 0.0075 / 0.0131
    (exponents 0.5 / 1 / 1.5); asserted ≤ 0.02."""
    history = train.run(softmax_config("unigram", num_classes, 4000),
                        zipf_members(num_classes, "gd", eta_times_pi_max=0.0025), **QUIET)
    for i in range(len(history.members)):
        assert tc.prediction(history, i).compare == "excess"
        assert tc.member_agreement(history, i) <= 0.02, history.members[i]


@pytest.mark.slow
def test_sign_descent_follows_sign_flow_within_the_step():
    """Kunstner et al. 2024: under sign flow no class's curve depends on π_k (orthogonal model),
    and discrete sign descent at η = 2e-3 lies on it at t = η·step. C = 64, three Zipf exponents,
    up to 0.5 past the unigram flow's final landing ½ log(π_max/π_min).
    Orthogonal: exact in exact arithmetic; the float32 gap (rounding accumulated in W over ~1800
    steps) measured 0.0102 / 0.0102 / 0.0116 η (exponents 0.5 / 1 / 1.5); asserted ≤ 0.02 η.
    Unigram: outside ±0.1 of the final landing (where the last classes land together and the gap
    shrinks only like √η, see theory/softmax_flow.py) measured 1.90 / 1.57 / 1.69 η; asserted ≤ 2.5 η;
    everywhere, window included (few logged steps fall in it), measured 0.0038 / 0.0047 / 0.0034 nats
    (orthogonal: 2.3e-5), asserted < 0.006."""
    eta = 2e-3
    counts = zipf_counts(64, SAMPLES[64], max(EXPONENTS))
    steps = int((0.5 * np.log(counts.max() / counts.min()) + 0.5) / eta)
    for model, bound in (("linear_no_bias", 0.02), ("unigram", 2.5)):
        history = train.run(softmax_config(model, 64, steps, num_log_points=60),
                            zipf_members(64, "sign", learning_rate=eta), **QUIET)
        for i in range(len(history.members)):
            assert tc.max_gap_in_steps(history, i) <= bound, (model, history.members[i])
            predicted = tc.prediction(history, i)
            full_gap = np.abs(history.records["per_class_loss"][i] - predicted.per_class_loss).max()
            assert full_gap < 0.006, (model, history.members[i])


@pytest.mark.slow
def test_deep_linear_learning_times_match_the_sigmoids(tmp_path):
    """Saxe et al. 2014 (theory/deep_linear.py): from the aligned balanced initialisation, class k
    of a two-layer linear net reaches half its target at t_k = (1/(2π_k)) log((1 − a0²)/a0²).
    C = 8, Zipf exponents 0.5 / 1 / 1.5 × a0 ∈ {0.1, 0.3} × seeds 0–2 (the random hidden basis),
    η π_max = 0.05, learning times interpolated between 120 log-spaced records. Measured max
    relative error 0.0141 (a0 = 0.1) and 0.0058 (a0 = 0.3) for every exponent and seed (GD is
    equivariant under the basis rotation: the seeds agree to 1e-6; the error is the step size's);
    asserted ≤ 0.018 and ≤ 0.0075. The per-class curves lie on the sigmoids: max |ℓ_sim − ℓ_th| /
    max(ℓ_th, 0.01) measured 0.0721 (a0 = 0.1) and 0.0563 (a0 = 0.3) for every exponent and seed (the
    largest late, where ℓ < 0.01 and discrete GD decays at a slightly different rate); asserted ≤ 0.09
    (dynamics.predict.flows.DEEP_LINEAR_CURVE_TOLERANCE). The small config (C = 8, h = 8, 1024 steps: 1.2 × the slowest
    learning time of this grid, Zipf 1.5 at a0 = 0.1), its sweep replaced by this grid."""
    c = load_config("theory_deep_linear", "small")[0]
    tolerance = {0.1: 0.018, 0.3: 0.0075}
    members = [dict(m, **{"model.init_scale": a0}) for m in zipf_members(8, "gd", eta_times_pi_max=0.05)
               for a0 in tolerance]
    history = train.run(c, [dict(m, seed=seed) for seed in (0, 1, 2) for m in members], **QUIET)
    for i, member in enumerate(history.members):
        assert tc.learning_time_error(history, i) <= tolerance[member["model.init_scale"]], member
        assert tc.member_agreement(history, i) <= tc.DEEP_LINEAR_CURVE_TOLERANCE, member
    rows = tc.agreement_rows(history)  # as agreement.csv states it: curves and learning times per member
    assert len(rows) == 2 * len(history.members) and all(r["within_tolerance"] for r in rows)
    plots.FIGURES["deep_linear_learning_times"](history, str(tmp_path / "times.png"))


def competition_config(metric):
    """class_competition for one step (records at steps 0 and 1), with one extra metric."""
    c = load_config("class_competition", "small")[0]
    c["train"].update(num_steps=1, chunk_steps=2, num_log_points=2, extra_metrics=(metric,))
    return c


@pytest.mark.slow
def test_first_step_loss_changes_match_the_first_order_prediction(tmp_path):
    """Francazi et al. 2023: to first order a GD step changes class k's loss by −η g_k·Σ_j π_j g_j,
    which is > 0 for the minority when the majority gradient opposes it; per-class normalised GD
    gives −η‖g_k‖(1 + cos) ≤ 0. Two classes 10:1, W = 0 and three random inits (init_scale 1,
    seeds 0–2). The predicted Δℓ of both classes (from the recorded Gram matrix) matches the
    simulated first step: measured |Δℓ_sim − Δℓ_pred| / |Δℓ_pred| over W = 0 and seeds 0–4, GD
    majority 0.038–0.040, minority 0.017–0.021; PCNGD 0.028–0.032 and 0.031–0.036 (second-order
    terms of one step); asserted ≤ 0.05. Measured minority Δℓ, predicted vs simulated: GD +0.0287
    vs +0.0292 (W = 0), +0.023 to +0.030 vs +0.024 to +0.031 (random inits); PCNGD −0.0562 vs
    −0.0544 (W = 0), −0.045 to −0.058 vs −0.043 to −0.056."""
    members = sweep.product(sweep.axis("optimizer.name", ["gd", "per_class_normalized_gd"]),
                            sweep.chain([{"model.init_scale": 0.0, "seed": 0}],
                                        sweep.product(sweep.axis("model.init_scale", [1.0]),
                                                      sweep.axis("seed", [0, 1, 2]))))
    history = train.run(competition_config("class_gradient_gram"), members, **QUIET)
    for i, member in enumerate(history.members):
        predicted, simulated = first_step_changes(history, i)
        assert np.all(np.abs(simulated - predicted) <= 0.05 * np.abs(predicted)), (member, predicted, simulated)
        rising = member["optimizer.name"] == "gd"
        assert (predicted[1] > 0) == rising, (member, predicted)
    rows = competition.agreement_rows(history)  # the same check, as agreement.csv states it
    assert [r["member"] for r in rows] == list(range(len(members))) and all(r["within_tolerance"] for r in rows)
    plots.FIGURES["class_competition"](history, str(tmp_path / "competition.png"))


def test_sgd_gradient_cosines_follow_the_prediction():
    """Francazi et al. 2023: class k's minibatch gradient averages n_k ~ Bin(B, π_k) samples, so its
    cosine with the full-batch gradient is ≈ 1/sqrt(1 + ρ_k²/n_k): lower for the minority, rising
    with B. Measured by the library's metric 'sgd_gradient_cosine' (256 random batches) on the
    class_competition data at W = 0, for B = 8 and 128 in one compiled call (a train.run would
    compile one program per batch size; the config's run draws the full curve), batch draws of
    seeds 0–2. Measured B = 8: majority 0.845 (predicted 0.843), minority 0.558 / 0.555 / 0.575
    (0.568); B = 128: 0.989 (0.989), 0.906 / 0.905 / 0.903 (0.905). Asserted: the predicted order
    (minority < majority, both rising with B) and |measured − predicted| ≤ 0.03 (measured 0.0094 /
    0.0127 / 0.0078; the Monte-Carlo error of 256 batches is ~0.01)."""
    c = load_config("class_competition", "small")[0]
    data = build_dataset(c["data"])
    model = build_model(c["model"], data.x[:1], data.num_classes)
    params = jax.tree.map(jnp.zeros_like, model.init(jax.random.PRNGKey(0)))  # init_scale 0
    sizes = (8, 128)
    configs = [dict(c, train=dict(c["train"], batch_size=b)) for b in sizes]
    cosines = jax.jit(lambda p, seed: [sgd_gradient_cosine(model, p, data, dict(cfg, seed=seed)) for cfg in configs])
    counts = data.class_counts.astype(np.float64)
    for seed in (0, 1, 2):
        records = cosines(params, seed)
        measured = np.array([r["sgd_gradient_cosine"] for r in records], np.float64)
        predicted = np.array([class_competition.minibatch_gradient_cosine(
            b * counts / counts.sum(), np.asarray(r["gradient_noise_to_signal"], np.float64), "binomial",
            batch_size=b, class_sizes=counts) for b, r in zip(sizes, records)])
        assert np.all(np.diff(predicted, axis=0) > 0) and np.all(predicted[:, 1] < predicted[:, 0])
        assert np.all(np.diff(measured, axis=0) > 0) and np.all(measured[:, 1] < measured[:, 0]), measured
        assert np.max(np.abs(measured - predicted)) <= 0.03, (seed, measured, predicted)


@pytest.mark.slow
def test_small_run_writes_agreement_within_tolerance(tmp_path):
    """`python -m dynamics.main --config=configs/theory_softmax.py:small` (in-process: experiment.run,
    the launcher's one call) writes agreement.csv with a row for each of its four members (both
    models × GD and sign descent), each within its stated tolerance. Measured: orthogonal GD 0.0111
    (≤ 0.02), sign 0.0019 η (≤ 0.05 η), unigram GD 0.0095 (≤ 0.02), sign 1.15 η (≤ 3 η)."""
    config, members = load_config("theory_softmax", "small")
    experiment.run(config, members, workdir=str(tmp_path), **QUIET)
    table = pd.read_csv(tmp_path / "agreement.csv")
    assert table["member"].tolist() == [0, 1, 2, 3]
    assert table["within_tolerance"].all(), table.to_string()


# ----------------------------------------------------------------------------- pieces, no training


def test_agreement_crossings_and_slopes_on_hand_made_curves():
    sim, th = np.array([[1.0, 0.004], [0.5, 0.0]]), np.array([[1.1, 0.002], [0.5, 0.001]])
    # |1 − 1.1|/1.1 = 0.0909; |0.004 − 0.002|/max(0.002, 0.01) = 0.2; |0 − 0.001|/0.01 = 0.1
    assert tc.agreement(sim, th) == pytest.approx(0.2)
    assert tc.agreement(sim, th, floor=1e-3) == pytest.approx(1.0)
    t = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    v = np.array([[5, 5], [3, 0.5], [1.5, 2], [1, 0.2], [0.5, 0.1]])
    np.testing.assert_allclose(tc.crossing_times(t, v, 1.0), [4.0, 1 / 1.125])  # linear from t = 0
    np.testing.assert_allclose(tc.crossing_times(t, v, 1.0, stays=True), [4.0, 2 ** (1 + 1 / 1.8)])  # log t
    assert np.isnan(tc.crossing_times(t, v, 0.01)).all()
    pi = np.array([0.5, 0.3, 0.2])
    assert tc.loglog_slope(pi, 3.0 / pi) == pytest.approx(-1.0)
    assert tc.loglog_slope(pi, np.array([2.0, 2.0, np.nan])) == pytest.approx(0.0)


def test_solvable_models_and_which_members_have_a_prediction():
    x = np.eye(4, dtype=np.float32)[[0, 1, 1, 3]]
    unigram = build_model({"name": "unigram", "init_scale": 1.0}, x[:1], 4)
    params = unigram.init(jax.random.PRNGKey(0))
    assert unigram.apply({"bias": jnp.arange(4.0)}, x).tolist() == [[0.0, 1.0, 2.0, 3.0]] * 4
    assert not np.any(params["bias"])
    aligned = build_model({"name": "deep_linear", "init_scale": 1.0, "hidden": 6, "init": "aligned"}, x[:1], 4)
    params = aligned.init(jax.random.PRNGKey(1))
    np.testing.assert_allclose(aligned.apply(params, np.eye(4, dtype=np.float32)), np.eye(4), atol=1e-6)  # W2 W1 = I
    np.testing.assert_allclose(aligned.features(params, x) @ aligned.classifier(params).T, aligned.apply(params, x))
    with pytest.raises(ConfigError, match="hidden"):
        build_model({"name": "deep_linear", "init_scale": 1.0, "hidden": 3, "init": "aligned"}, x[:1], 4)
    base = load_config("theory_softmax")[0]
    assert tc.why_no_prediction(base) is None
    for key, value in (("optimizer.name", "adam"), ("model.init_scale", 0.5), ("data.inputs", "uniform"),
                       ("train.batch_size", 8), ("optimizer.weight_decay", 1e-3), ("loss.name", "square")):
        assert tc.why_no_prediction(sweep.member_configs(base, [{key: value}])[0]) is not None, key

"""The neural-collapse metrics (dynamics/metrics/collapse.py) on hand-built geometries.

Papyan, Han, Donoho 2020: at neural collapse NC1 = 0 (features equal their class mean), the
centred class means and the classifiers form a simplex ETF (NC2 = 0) and coincide up to scale
(NC3 = 0), and the classifier agrees with the nearest class centre (NC4 = 0). Thrampoulidis et
al. 2022: under imbalance the geometry is SELI, which is the ETF when classes are balanced (its
distance is computed from the recorded Grams by dynamics.predict.collapse).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics.metrics import EXTRA_METRICS
from dynamics.metrics import collapse as nc
from dynamics.predict.collapse import seli_grams
from theory import collapse as theory

ATOL = 1e-5  # float32 metrics; measured <= 2e-6 on every exact geometry below
_collapse_metrics = jax.jit(nc.collapse_metrics)  # one compile per shape instead of op-by-op dispatch


def _factor(gram_CxC, dim):
    """Rows X [C, dim] with X Xᵀ = gram (PSD)."""
    evals, evecs = np.linalg.eigh(gram_CxC)
    rows = evecs * np.sqrt(np.clip(evals, 0.0, None))
    out = np.zeros((gram_CxC.shape[0], dim))
    out[:, : min(dim, rows.shape[1])] = rows[:, ::-1][:, :dim]
    return out


def _metrics(means_CxD, classifier_CxD, counts, offset=0.0, noise=0.0, seed=0):
    """Metrics of features = class mean of the label (+ a common offset, + noise)."""
    labels = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng(seed)
    features = means_CxD[labels] + offset + noise * rng.normal(size=(len(labels), means_CxD.shape[1]))
    logits = features @ classifier_CxD.T
    out = _collapse_metrics(jnp.asarray(features, jnp.float32), jnp.asarray(labels), jnp.asarray(logits, jnp.float32),
                            jnp.asarray(classifier_CxD, jnp.float32))
    out = {k: np.asarray(v) for k, v in out.items()}
    gram_w, gram_m = seli_grams(counts)  # the prediction layer's SELI distances, from the recorded Grams
    out["seli_distance_classifiers"] = theory.gram_distance(out["nc_classifier_gram"], gram_w)
    out["seli_distance_means"] = theory.gram_distance(out["nc_class_mean_gram"], gram_m)
    return out, features, labels


@pytest.mark.parametrize("num_classes", [3, 10])
def test_exact_etf_gives_zero_nc1_nc2_nc3_nc4(num_classes):
    etf = theory.simplex_etf(num_classes, num_classes + 2)
    offset = 0.7 * np.ones(num_classes + 2)  # a common shift: removed by centring on the global mean
    m, _, _ = _metrics(3.0 * etf, 2.0 * etf, np.full(num_classes, 4), offset=offset)
    for key in ("nc1", "nc2_equinorm_means", "nc2_equinorm_classifiers", "nc2_equiangular_means",
                "nc2_equiangular_classifiers", "nc2_etf_distance_means", "nc2_etf_distance_classifiers",
                "nc3_self_duality", "nc4_ncc_mismatch", "seli_distance_means", "seli_distance_classifiers"):
        assert abs(m[key]) <= ATOL, (key, m[key])
    # The rarest classes of an ETF are as far apart as any: cosine −1/(C − 1).
    assert m["minority_cosine"] == pytest.approx(-1.0 / (num_classes - 1), abs=ATOL)


def test_nc1_matches_numpy_reference_and_vanishes_without_within_class_spread():
    rng = np.random.default_rng(1)
    counts = np.array([7, 5, 3, 2])
    means = rng.normal(size=(4, 6))
    w = rng.normal(size=(4, 6))
    m, features, labels = _metrics(means, w, counts, noise=0.3)
    mu = np.stack([features[labels == k].mean(0) for k in range(4)])
    centred = mu - features.mean(0)  # per-sample global mean
    dev = features - mu[labels]
    sigma_w = dev.T @ dev / len(labels)
    sigma_b = centred.T @ centred / 4
    reference = np.trace(sigma_w @ np.linalg.pinv(sigma_b, rcond=1e-10)) / 4
    assert m["nc1"] == pytest.approx(reference, rel=1e-4)  # measured rel. error 3e-7
    assert m["nc1"] > 0.01
    assert _metrics(means, w, counts)[0]["nc1"] <= ATOL  # identical features per class


def test_w_equal_to_centred_means_gives_zero_nc3_and_not_otherwise():
    rng = np.random.default_rng(2)
    counts = np.array([9, 4, 4, 1, 1])
    means = rng.normal(size=(5, 7))
    centred = means - (counts / counts.sum()) @ means  # M: centred on the per-sample mean
    assert _metrics(means, 5.0 * centred, counts)[0]["nc3_self_duality"] <= ATOL
    assert _metrics(means, rng.normal(size=(5, 7)), counts)[0]["nc3_self_duality"] > 0.1


def test_equinorm_equiangularity_and_ncc_on_a_distorted_etf():
    c = 4
    etf = theory.simplex_etf(c, c)
    scaled = etf * np.array([1.0, 1.0, 2.0, 2.0])[:, None]  # equal angles, unequal norms (CV = 1/3)
    m, _, _ = _metrics(etf, scaled, np.full(c, 3))
    assert m["nc2_equinorm_classifiers"] == pytest.approx(1.0 / 3.0, abs=ATOL)
    assert m["nc2_equiangular_classifiers"] <= ATOL
    assert m["nc2_etf_distance_classifiers"] > 0.1
    # A classifier that swaps two classes disagrees with the nearest centre on their samples.
    swapped = etf[[1, 0, 2, 3]]
    assert _metrics(etf, swapped, np.full(c, 3))[0]["nc4_ncc_mismatch"] == pytest.approx(0.5)


def test_minority_cosine_is_one_when_the_rarest_classifiers_coincide():
    c = 6
    w = theory.simplex_etf(c, c)
    w[3:] = w[3]  # the bottom half (classes 3, 4, 5) share one classifier
    m, _, _ = _metrics(theory.simplex_etf(c, c), w, np.array([50, 40, 30, 3, 2, 1]))
    assert m["minority_cosine"] == pytest.approx(1.0, abs=ATOL)
    assert nc.num_rarest(6) == 3 and nc.num_rarest(2) == 2 and nc.num_rarest(3) == 2


def test_seli_distance_is_zero_on_the_seli_geometry_and_equals_etf_distance_when_balanced():
    counts = np.array([20, 5, 2, 1])
    seli = theory.seli_geometry(counts)
    means, w = _factor(seli.class_mean_gram, 6), _factor(seli.classifier_gram, 6)
    m, _, _ = _metrics(means, w, counts, offset=1.5)
    assert m["seli_distance_classifiers"] <= ATOL and m["seli_distance_means"] <= ATOL
    assert m["nc2_etf_distance_classifiers"] > 0.4  # measured 0.45: SELI is not the ETF
    # Balanced: SELI is the ETF, so the two distances agree on any geometry.
    rng = np.random.default_rng(3)
    b, _, _ = _metrics(rng.normal(size=(4, 6)), rng.normal(size=(4, 6)), np.full(4, 5))
    assert b["seli_distance_classifiers"] == pytest.approx(b["nc2_etf_distance_classifiers"], abs=ATOL)
    assert b["seli_distance_means"] == pytest.approx(b["nc2_etf_distance_means"], abs=ATOL)


def test_metric_is_registered_and_vmaps_over_members_with_different_counts():
    assert EXTRA_METRICS["neural_collapse"] is nc.neural_collapse
    counts = np.array([[20, 5, 2, 1], [7, 7, 7, 7]])
    geometries = [theory.seli_geometry(cnt) for cnt in counts]
    labels = np.stack([np.repeat(np.arange(4), cnt) for cnt in counts])
    means = np.stack([_factor(g.class_mean_gram, 6) for g in geometries])
    ws = np.stack([_factor(g.classifier_gram, 6) for g in geometries])
    features = np.stack([mu[y] for mu, y in zip(means, labels)])
    logits = np.einsum("mnd,mcd->mnc", features, ws)
    f32 = lambda a: jnp.asarray(a, jnp.float32)
    out = jax.jit(jax.vmap(nc.collapse_metrics))(f32(features), jnp.asarray(labels), f32(logits), f32(ws))
    for i, cnt in enumerate(counts):  # each member's recorded Grams are its own SELI geometry
        gram_w, gram_m = seli_grams(cnt)
        assert theory.gram_distance(np.asarray(out["nc_classifier_gram"][i]), gram_w) <= ATOL
        assert theory.gram_distance(np.asarray(out["nc_class_mean_gram"][i]), gram_m) <= ATOL


def test_gram_distance_is_the_same_function_on_jax_arrays_inside_jit():
    """theory.collapse.gram_distance is the one Gram normalisation: numpy (float64) and traced jax
    (float32) give the same distance."""
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(5, 5)), theory.simplex_etf_gram(5)
    traced = jax.jit(theory.gram_distance)(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32))
    assert float(traced) == pytest.approx(theory.gram_distance(a, b), abs=ATOL)
    assert float(jax.jit(theory.gram_distance)(jnp.zeros((3, 3)), jnp.asarray(b[:3, :3]))) == pytest.approx(1.0)

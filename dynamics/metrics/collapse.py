"""Neural-collapse metrics of the last layer, on any Model with `features` and `classifier`.

Papyan, Han, Donoho 2020 ("Prevalence of neural collapse", NC1-NC4), Fang et al. 2021 (minority
collapse). Pure jax, one member, training split only. Only what is measured: the distances to
predicted geometries other than the ETF (SELI, closed-form minimisers) are computed afterwards from
the recorded Grams, in dynamics/predict/collapse.py.

Which means are used (with imbalance the choice matters):
- global mean μ_G = (1/N) Σ_i h_i: the per-sample (count-weighted) mean of the features;
- class means μ_k = mean of h_i over class k, and the centred class means M = [μ_k − μ_G] [C, D]:
  every metric on class means uses M, each class counting once (unweighted over classes);
- classifier rows w_k are used as they are (uncentred, as Papyan et al.); the theory Grams
  they are compared with (ETF, SELI) have Σ_k w_k = 0.
Grams are compared after Frobenius normalisation: d(A, B) = ‖A/‖A‖_F − B/‖B‖_F‖_F ∈ [0, 2]
(theory.collapse.gram_distance, called here on traced arrays); predictions of the class-mean Gram
are centred on the same per-sample mean (theory.collapse.center_gram with the class counts).
"""
import jax.numpy as jnp

from dynamics.errors import ConfigError
from dynamics.losses import class_means
from theory import collapse as theory

SVD_RTOL = 1e-4  # singular values of M below this fraction of the largest are treated as 0 in Σ_B⁺


def within_class_variability(features_NxD, labels_N, means_CxD, centred_means_CxD):
    """NC1 = tr(Σ_W Σ_B⁺) / C (Papyan et al. 2020, Sec. 5 / Fig. 6).

    Σ_W = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ (per-sample average: weighted by counts);
    Σ_B = (1/C) Σ_k (μ_k − μ_G)(μ_k − μ_G)ᵀ (unweighted over classes, μ_G the per-sample mean).
    With M = U S Vᵀ: tr(Σ_W Σ_B⁺)/C = Σ_r v_rᵀ Σ_W v_r / s_r² over s_r > SVD_RTOL s_max.
    """
    deviations = features_NxD - means_CxD[labels_N]
    _, s, vt = jnp.linalg.svd(centred_means_CxD, full_matrices=False)
    keep = s > SVD_RTOL * s[0]
    projected_var = jnp.mean((deviations @ vt.T) ** 2, axis=0)  # v_rᵀ Σ_W v_r
    nc1 = jnp.sum(jnp.where(keep, projected_var / jnp.where(keep, s, 1.0) ** 2, 0.0))
    return jnp.where(s[0] > 0, nc1, jnp.nan)  # undefined when all class means coincide


def fisher_ratio(features_NxD, labels_N, means_CxD, centred_means_CxD):
    """Fisher's discriminant ratio tr(Σ_B) / tr(Σ_W), with the Σ_W (per-sample) and Σ_B (unweighted
    over classes) of NC1: large when classes are far apart compared with their spread (the feature
    measure Hasegawa & Sato 2023 track over weight balancing's first stage)."""
    within = jnp.mean(jnp.sum((features_NxD - means_CxD[labels_N]) ** 2, axis=1))
    between = jnp.mean(jnp.sum(centred_means_CxD**2, axis=1))
    return jnp.where(within > 0, between / jnp.where(within > 0, within, 1.0), jnp.inf)


def coefficient_of_variation(norms_C):
    """std / mean of the norms (NC2 equinorm, Papyan et al. 2020 Fig. 2)."""
    return jnp.std(norms_C) / jnp.maximum(jnp.mean(norms_C), 1e-30)


def cosine_matrix(x_CxD):
    """Cosines between the rows [C, C] (0 for a zero row)."""
    norms = jnp.linalg.norm(x_CxD, axis=1)
    unit = x_CxD / jnp.where(norms > 0, norms, 1.0)[:, None]
    return unit @ unit.T


def off_diagonal_std(matrix_CxC):
    """Standard deviation of the off-diagonal entries (NC2 equiangularity: std of cos(·,·), Papyan Fig. 3)."""
    c = matrix_CxC.shape[0]
    mask = ~jnp.eye(c, dtype=bool)
    mean = jnp.sum(jnp.where(mask, matrix_CxC, 0.0)) / (c * (c - 1))
    return jnp.sqrt(jnp.sum(jnp.where(mask, (matrix_CxC - mean) ** 2, 0.0)) / (c * (c - 1)))


def self_duality(classifier_CxD, centred_means_CxD):
    """NC3 = ‖W/‖W‖_F − M/‖M‖_F‖_F (Papyan et al. 2020, Fig. 4), rows w_k against μ_k − μ_G."""
    unit = lambda a: a / jnp.maximum(jnp.linalg.norm(a), 1e-30)
    return jnp.linalg.norm(unit(classifier_CxD) - unit(centred_means_CxD))


def ncc_mismatch(features_NxD, logits_NxC, means_CxD):
    """NC4: fraction of training samples where argmax of the logits ≠ the nearest class mean
    (Papyan et al. 2020, Fig. 7; centring does not change distances)."""
    sq_dist = jnp.sum(features_NxD**2, 1)[:, None] - 2 * features_NxD @ means_CxD.T + jnp.sum(means_CxD**2, 1)[None]
    return jnp.mean(jnp.argmax(logits_NxC, -1) != jnp.argmin(sq_dist, -1))


def num_rarest(num_classes: int) -> int:
    """How many classes count as "the rarest": the bottom half by frequency rank, at least 2."""
    return max(2, num_classes // 2)


def minority_cosine(classifier_CxD):
    """Mean cosine between the (uncentred) classifier rows of the num_rarest(C) rarest classes, over
    distinct pairs (classes are ordered by frequency: the last ones). 1 = minority collapse
    (Fang et al. 2021); for a simplex ETF it is −1/(C−1)."""
    c = classifier_CxD.shape[0]
    k = num_rarest(c)
    cos = cosine_matrix(classifier_CxD[c - k:])
    return (jnp.sum(cos) - jnp.trace(cos)) / (k * (k - 1))


def collapse_metrics(features_NxD, labels_N, logits_NxC, classifier_CxD) -> dict:
    """Every neural-collapse record from the penultimate features, labels, logits and classifier."""
    num_classes = classifier_CxD.shape[0]
    means, counts = class_means(features_NxD, labels_N, num_classes)
    global_mean = jnp.sum(counts[:, None] * means, 0) / jnp.sum(counts)  # per-sample mean
    centred = means - global_mean
    gram_w, gram_m = classifier_CxD @ classifier_CxD.T, centred @ centred.T
    etf = jnp.asarray(theory.simplex_etf_gram(num_classes), jnp.float32)
    return {
        "nc1": within_class_variability(features_NxD, labels_N, means, centred),
        "nc2_equinorm_means": coefficient_of_variation(jnp.linalg.norm(centred, axis=1)),
        "nc2_equinorm_classifiers": coefficient_of_variation(jnp.linalg.norm(classifier_CxD, axis=1)),
        "nc2_equiangular_means": off_diagonal_std(cosine_matrix(centred)),
        "nc2_equiangular_classifiers": off_diagonal_std(cosine_matrix(classifier_CxD)),
        "nc2_etf_distance_means": theory.gram_distance(gram_m, etf),
        "nc2_etf_distance_classifiers": theory.gram_distance(gram_w, etf),
        "nc3_self_duality": self_duality(classifier_CxD, centred),
        "nc4_ncc_mismatch": ncc_mismatch(features_NxD, logits_NxC, means),
        "minority_cosine": minority_cosine(classifier_CxD),
        "fisher_ratio": fisher_ratio(features_NxD, labels_N, means, centred),
        "nc_class_mean_gram": theory.normalize_gram(gram_m),
        "nc_classifier_gram": theory.normalize_gram(gram_w),
    }


def neural_collapse(model, params, data, config) -> dict:
    """EXTRA_METRICS['neural_collapse']: the records of `collapse_metrics` on the training split.

    nc1; nc2_equinorm_{means,classifiers}; nc2_equiangular_{means,classifiers};
    nc2_etf_distance_{means,classifiers}; nc3_self_duality; nc4_ncc_mismatch; minority_cosine;
    fisher_ratio;
    nc_{class_mean,classifier}_gram [C, C] (normalised Grams, class means centred on the per-sample
    mean) for the comparisons of dynamics.predict.collapse (SELI, closed forms) from the History.
    """
    del config
    if model.features is None or model.classifier is None:
        raise ConfigError("extra metric 'neural_collapse' needs a model with penultimate features "
                          "and a classifier (e.g. mlp, linear, ufm)")
    if data.y.ndim != 1:
        raise ConfigError("extra metric 'neural_collapse' needs one label per sample (y of shape [N])")
    features = model.features(params, data.x)
    return collapse_metrics(features, data.y, model.apply(params, data.x), model.classifier(params))


def classifier_norms(model, params, data, config) -> dict:
    """EXTRA_METRICS['classifier_norms']: ‖w_k‖ [C] of each classifier row (Alshammari et al. 2022's
    per-class weight norms), alone: cheap enough for runs whose features do not move (train.trainable = "head")."""
    del data, config
    if model.classifier is None:
        raise ConfigError("extra metric 'classifier_norms' needs a model with a classifier (e.g. mlp, linear, ufm)")
    return {"classifier_norms": jnp.linalg.norm(model.classifier(params), axis=1)}

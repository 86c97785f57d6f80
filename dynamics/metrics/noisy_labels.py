"""Early learning and memorisation of noisy labels, class by class (Liu et al. 2020, Fig. 1 and B.1).

Needs data with label noise (data.label_noise != "none": Dataset.extras 'noisy' and 'true_label').
"""
import jax
import jax.numpy as jnp

from dynamics import losses
from dynamics import metrics as metrics_lib
from dynamics.errors import ConfigError


def label_noise_fit(model, params, data, config):
    """Per true class k [C] (NaN for a class without such samples), on the training set:
    clean_fit: the share of its clean samples predicted as their label; noisy_fit: of its noisy samples,
    predicted as their given (wrong) label, i.e. memorised; noisy_true: of its noisy samples, predicted
    as their true class k; clean_residual / noisy_residual: the mean of ||p_i − y_i||², the coefficient
    of sample i in the cross-entropy gradient (Liu et al. eq. 6), over its clean / noisy samples;
    noisy_fit_by_label: noisy_fit over the noisy samples whose given label is k; noisy_count: its number
    of noisy samples. And their means over all samples: clean_fit_mean, noisy_fit_mean, noisy_true_mean,
    and noisy_gradient_share = Σ_noisy ||p_i − y_i||² / Σ_all ||p_i − y_i||²."""
    extras = data.extras or {}
    if "noisy" not in extras or "true_label" not in extras:
        raise ConfigError("metric label_noise_fit needs noisy labels: set data.label_noise to symmetric or pair")
    num_classes = data.class_counts.shape[-1]
    logits = model.apply(params, data.x)
    predicted = jnp.argmax(logits, -1)
    given, true, noisy = data.y, extras["true_label"], extras["noisy"]
    residual = jnp.sum((jax.nn.softmax(logits, -1) - jax.nn.one_hot(given, num_classes)) ** 2, -1)
    fit = (predicted == given).astype(jnp.float32)
    right = (predicted == true).astype(jnp.float32)
    clean_class = jnp.where(noisy, num_classes, true)  # out of range: left out of the per-class means
    noisy_class = jnp.where(noisy, true, num_classes)
    by_class = lambda values, classes: losses.per_class_mean(values, classes, num_classes)
    weight = noisy.astype(jnp.float32)
    mean_over = lambda values, w: jnp.sum(values * w) / jnp.maximum(jnp.sum(w), 1.0)
    return {
        "clean_fit": by_class(fit, clean_class), "noisy_fit": by_class(fit, noisy_class),
        "noisy_true": by_class(right, noisy_class),
        "clean_residual": by_class(residual, clean_class), "noisy_residual": by_class(residual, noisy_class),
        "noisy_fit_by_label": by_class(fit, jnp.where(noisy, given, num_classes)),
        "noisy_count": jax.ops.segment_sum(weight, true, num_classes),
        "clean_fit_mean": mean_over(fit, 1.0 - weight), "noisy_fit_mean": mean_over(fit, weight),
        "noisy_true_mean": mean_over(right, weight),
        "noisy_gradient_share": jnp.sum(residual * weight) / jnp.maximum(jnp.sum(residual), 1e-30),
    }


def two_gaussians_alignment(model, params, data, config):
    """alignment a = θ·v and classifier_norm ||θ|| of θ = Θ_0 − Θ_1, the difference of a two-class linear
    classifier's rows, on the two_gaussians data (v = e_1): the state of theory/noisy_labels.py."""
    if config["data"]["name"] != "two_gaussians" or not metrics_lib.has_dense_head_only(model, params):
        raise ConfigError("metric two_gaussians_alignment needs data.name = two_gaussians and a linear model")
    theta = model.classifier(params)[0] - model.classifier(params)[1]
    return {"alignment": theta[0], "classifier_norm": jnp.linalg.norm(theta)}

"""Per-sample losses, their per-class breakdown, and class-reweighted / logit-adjusted objectives."""
import jax
import jax.numpy as jnp

from dynamics.errors import ConfigError, check_choice, check_keys, check_range


def cross_entropy(logits, labels):
    """-log softmax(logits)[label], per sample: logits [..., C], labels [...] -> [...].

    Written as softplus(logsumexp_{j≠y}(z_j − z_y)) = log(1 + Σ_{j≠y} e^{z_j − z_y}), which keeps
    the loss and its gradient accurate to relative precision at large margins (the usual
    logsumexp(z) − z_y rounds to 0 in float32 once the margin passes ~17 and then gives a wrong
    gradient, 0 on the label's logit; separable problems trained long get there).
    """
    is_label = jnp.arange(logits.shape[-1]) == labels[..., None]
    label_logit = jnp.take_along_axis(logits, labels[..., None], axis=-1)
    others = jax.nn.logsumexp(jnp.where(is_label, -jnp.inf, logits - label_logit), axis=-1)
    return jax.nn.softplus(others)


def square_loss(logits, labels):
    """0.5 ||logits - onehot(label)||^2, per sample."""
    return 0.5 * jnp.sum((logits - jax.nn.one_hot(labels, logits.shape[-1])) ** 2, axis=-1)


LOSSES = {"cross_entropy": cross_entropy, "square": square_loss}


def class_means(rows_NxD, labels_N, num_classes: int):
    """(mean of the rows over the samples of each class [C, D], 0 for a class with no sample; the
    sample count of each class [C]). The one per-class mean: losses, collapse and competition metrics."""
    rows_NxD = jnp.asarray(rows_NxD)
    counts = jax.ops.segment_sum(jnp.ones(labels_N.shape[0], jnp.promote_types(rows_NxD.dtype, jnp.float32)),
                                 labels_N, num_classes)
    sums = jax.ops.segment_sum(rows_NxD, labels_N, num_classes)
    return sums / jnp.maximum(counts, 1.0)[:, None], counts


def per_class_mean(values, labels, num_classes: int):
    """Mean of `values` over the samples of each class: [...], [...] -> [C]; NaN for a class with no
    sample (it has no mean: a 0 would read as a perfectly learned class in every bucket and average)."""
    means, counts = class_means(values.reshape(-1, 1), labels.reshape(-1), num_classes)
    return jnp.where(counts > 0, means[:, 0], jnp.nan)


def class_weights(class_counts, reweight_exponent):
    """w_k ∝ π_k^-p, normalised so that Σ_k π_k w_k = 1 (p = 1: inverse frequency, p = 1/2: its root)."""
    probs = class_counts / jnp.sum(class_counts)
    raw = jnp.where(class_counts > 0, probs, 1.0) ** -reweight_exponent
    return raw / jnp.sum(probs * raw)


REGULARIZERS = ("none", "elr")
ELR_CLAMP = 1e-4  # Liu et al.'s code clamps the probabilities to [1e-4, 1 - 1e-4] in ELR


def modifications(loss_config: dict, allowed: tuple = ()) -> list:
    """The loss options that make the objective other than the plain mean loss (class weights, logit
    adjustment, penalties, regularisers), less those in `allowed`: predictions made for the plain loss
    check it is []."""
    plain = {"reweight_exponent": 0.0, "logit_adjustment": 0.0, "spectral_decoupling": 0.0, "regularizer": "none"}
    return [k for k, v in plain.items() if k not in allowed and loss_config[k] != v]


def validate_loss(loss_config: dict) -> None:
    check_keys("loss", loss_config, ("name", "reweight_exponent", "logit_adjustment", "spectral_decoupling",
                                     "regularizer", "elr_lambda", "elr_beta"))
    check_choice("loss (loss.name)", loss_config["name"], LOSSES)
    check_range("loss.reweight_exponent", loss_config["reweight_exponent"], 0.0, 2.0)
    check_range("loss.logit_adjustment", loss_config["logit_adjustment"])
    check_range("loss.spectral_decoupling", loss_config["spectral_decoupling"], 0.0)
    check_choice("loss regularizer (loss.regularizer)", loss_config["regularizer"], REGULARIZERS)
    check_range("loss.elr_lambda", loss_config["elr_lambda"], 0.0)
    check_range("loss.elr_beta", loss_config["elr_beta"], 0.0, 1.0)
    if loss_config["elr_beta"] == 1.0:
        raise ConfigError("loss.elr_beta must be < 1 (β = 1 never updates the targets)")


def elr_probabilities(logits):
    """softmax(logits) clamped to [ELR_CLAMP, 1 - ELR_CLAMP], as Liu et al.'s code feeds ELR."""
    return jnp.clip(jax.nn.softmax(logits, axis=-1), ELR_CLAMP, 1.0 - ELR_CLAMP)


def elr_targets(loss_config: dict, targets, logits):
    """Liu et al. 2020 (Sec. 4.3): t_i ← β t_i + (1 − β) p_i, with p_i the (detached) prediction at the
    current parameters, normalised to sum to 1 after clamping as in their code; t_i starts at 0."""
    p = jax.lax.stop_gradient(elr_probabilities(logits))
    beta = loss_config["elr_beta"]
    return beta * targets + (1.0 - beta) * p / jnp.sum(p, axis=-1, keepdims=True)


def training_loss(loss_config: dict, logits, labels, class_counts, targets=None):
    """The objective: mean over samples of w_y * loss(logits + tau log π, y), plus λ/2 ‖logits‖² per
    sample under spectral decoupling, plus, with ELR targets t [..., C] (loss.regularizer = "elr"),
    λ mean log(1 − <p_i, t_i>) (Liu et al. 2020, eq. 7).

    Reweighting as in Kunstner et al. 2024 (app.), logit adjustment as in Menon et al. 2021 (eq. 10),
    spectral decoupling as in Pezeshki et al. 2021 (λ/2 ‖ŷ‖² in place of λ/2 ‖θ‖²).
    """
    probs = class_counts / jnp.sum(class_counts)
    adjusted = logits + loss_config["logit_adjustment"] * jnp.log(jnp.maximum(probs, 1e-30))
    per_sample = LOSSES[loss_config["name"]](adjusted, labels)
    weights = class_weights(class_counts, loss_config["reweight_exponent"])[labels]
    loss = jnp.mean(weights * per_sample) + spectral_decoupling(logits, loss_config["spectral_decoupling"])
    if targets is None:
        return loss
    agreement = jnp.sum(elr_probabilities(logits) * targets, axis=-1)
    return loss + loss_config["elr_lambda"] * jnp.mean(jnp.log(1.0 - agreement))


def spectral_decoupling(logits, strength):
    """Pezeshki et al. 2021's penalty on the network's outputs, λ/2 ‖logits‖², averaged over samples.
    With two classes and z_0 + z_1 = 0 it is (λ/4) ŷ² on the binary logit ŷ = z_0 − z_1."""
    return 0.5 * strength * jnp.mean(jnp.sum(jnp.square(logits), axis=-1))

"""What is recorded at each logged step: per-class loss, accuracy and gradient norm, and more.

Every function here is pure and works on one member; the trainer vmaps it over members.
"""
import jax
import jax.numpy as jnp

from dynamics import losses
from dynamics.metrics.collapse import classifier_norms, neural_collapse
from dynamics.metrics.curvature import class_hessian_spectrum
from dynamics.metrics.competition import class_gradient_gram, sgd_gradient_cosine
from dynamics.metrics.grokking import flipped_label_accuracy, key_frequencies, progress_measures
from dynamics.metrics.hessian import per_class_hessian
from dynamics.metrics.starvation import feature_responses
from dynamics.metrics.noisy_labels import label_noise_fit, two_gaussians_alignment
from dynamics.metrics.kernel import kernel_distance


def per_class_gradients(sample_loss, params, x, y, num_classes: int, chunk: int = 64):
    """∇_θ of each class's mean loss, stacked on a leading class axis [C, ...].

    sample_loss(params, x_i, y_i) -> scalar. Per-sample gradients are summed into their class
    (segment sum) in chunks of `chunk` samples, so the cost is about one backward pass per
    sample and the memory chunk x |θ|. Needs one label per sample (y of shape [N]).
    """
    n = y.shape[0]
    chunk = min(chunk, n)
    pad = (-n) % chunk
    x_pad = jnp.concatenate([x, jnp.zeros((pad,) + x.shape[1:], x.dtype)])
    y_pad = jnp.concatenate([y, jnp.full((pad,), num_classes, y.dtype)])  # out of range: dropped
    counts = jax.ops.segment_sum(jnp.ones(n), y, num_classes)
    per_sample = jax.vmap(jax.grad(sample_loss), in_axes=(None, 0, 0))

    def add_chunk(total, i):
        xs = jax.lax.dynamic_slice_in_dim(x_pad, i * chunk, chunk)
        ys = jax.lax.dynamic_slice_in_dim(y_pad, i * chunk, chunk)
        grads = per_sample(params, xs, ys)
        return jax.tree.map(lambda t, g: t + jax.ops.segment_sum(g, ys, num_classes), total, grads), None

    zeros = jax.tree.map(lambda p: jnp.zeros((num_classes,) + p.shape, p.dtype), params)
    sums, _ = jax.lax.scan(add_chunk, zeros, jnp.arange((n + pad) // chunk))
    scale = 1.0 / jnp.maximum(counts, 1.0)
    return jax.tree.map(lambda s: s * scale.reshape((-1,) + (1,) * (s.ndim - 1)), sums)


def param_norm(params):
    """Euclidean norm of all parameters: inf once it passes the float range, NaN with a NaN parameter
    (train.train_step calls such a member diverged)."""
    return jnp.sqrt(sum(jnp.sum(jnp.square(p.astype(jnp.float32))) for p in jax.tree.leaves(params)))


def head_per_class_grad_norms(model, params, x, y, loss_name: str, num_classes: int, chunk: int = 128):
    """||∇_head ℓ_k|| [C]: the norm of the gradient, with respect to the last Dense layer (kernel and
    bias), of each class's mean plain loss, in closed form (own derivation, as dynamics.metrics.hessian).

    With logits z_i = W h_i + b, residuals r_i = ∂ℓ_i/∂z_i (softmax(z_i) - onehot(y_i) for
    cross-entropy, z_i - onehot(y_i) for the square loss) and h̃_i = (h_i, 1) (h_i without a bias),
    ∇_{W,b} ℓ_k = (1/n_k) Σ_{i: y_i=k} r_i h̃_iᵀ, so
        ||∇_{W,b} ℓ_k||² = (1/n_k²) Σ_{i,j: y_i=y_j=k} (h̃_i·h̃_j) (r_i·r_j):
    two Gram matrices (features and residuals), masked to same-class pairs and summed per class.
    Rows of the Grams are taken `chunk` samples at a time: memory chunk x N instead of C x |θ|.
    For the linear model this is the whole gradient; needs one label per sample (y of shape [N]).
    """
    logits = model.apply(params, x)
    h = model.features(params, x).reshape(logits.shape[0], -1)
    r = jax.grad(lambda z: jnp.sum(losses.LOSSES[loss_name](z, y)))(logits)  # [N, C], row i is ∂ℓ_i/∂z_i
    bias = 1.0 if "bias" in params["head"] else 0.0
    n = y.shape[0]
    chunk = min(chunk, n)
    pad = (-n) % chunk
    rows = lambda a, fill: jnp.concatenate([a, jnp.full((pad,) + a.shape[1:], fill, a.dtype)])
    h_rows, r_rows, y_rows = rows(h, 0), rows(r, 0), rows(y, num_classes)  # padded labels: dropped

    def add_chunk(total, i):
        hs, rs, ys = (jax.lax.dynamic_slice_in_dim(a, i * chunk, chunk) for a in (h_rows, r_rows, y_rows))
        pairs = (hs @ h.T + bias) * (rs @ r.T) * (ys[:, None] == y[None, :])  # [chunk, N]
        return total + jax.ops.segment_sum(jnp.sum(pairs, axis=1), ys, num_classes), None

    sq, _ = jax.lax.scan(add_chunk, jnp.zeros(num_classes, r.dtype), jnp.arange((n + pad) // chunk))
    counts = jax.ops.segment_sum(jnp.ones(n), y, num_classes)
    return jnp.sqrt(jnp.maximum(sq, 0.0)) / jnp.maximum(counts, 1.0)


def has_dense_head_only(model, params) -> bool:
    """Whether the model's parameters are its last Dense layer alone (the linear model): then
    head_per_class_grad_norms is the whole gradient's norm."""
    return (model.features is not None and isinstance(params, dict) and set(params) == {"head"}
            and model.harmonic_exponent == 0)


def tree_norm_per_class(tree):
    """Euclidean norm of each class's slice of a [C, ...] pytree -> [C]."""
    return jnp.sqrt(sum(jnp.sum(t.reshape(t.shape[0], -1) ** 2, axis=1) for t in jax.tree.leaves(tree)))


def per_class_grad_norms(model, loss_name: str, params, x, y, num_classes: int):
    """||∇_θ ℓ_k|| [C] of each class's mean plain loss: in closed form for a model that is a dense
    head alone (head_per_class_grad_norms), else from per-sample gradients (per_class_gradients)."""
    if has_dense_head_only(model, params):
        return head_per_class_grad_norms(model, params, x, y, loss_name, num_classes)

    def sample_loss(p, xi, yi):
        return losses.LOSSES[loss_name](model.apply(p, xi[None])[0], yi)

    return tree_norm_per_class(per_class_gradients(sample_loss, params, x, y, num_classes))


def split_metrics(model, loss_name, params, x, y, num_classes, prefix=""):
    """Per-class loss and accuracy, and their sample-weighted means, on one split."""
    logits = model.apply(params, x)
    sample_loss = losses.LOSSES[loss_name](logits, y)
    correct = (jnp.argmax(logits, -1) == y).astype(jnp.float32)
    return {
        f"{prefix}per_class_loss": losses.per_class_mean(sample_loss, y, num_classes),
        f"{prefix}per_class_accuracy": losses.per_class_mean(correct, y, num_classes),
        f"{prefix}mean_loss": jnp.mean(sample_loss),
        f"{prefix}accuracy": jnp.mean(correct),
    }


def evaluate(model, config, params, data, extra_metrics=None):
    """All records of one member at one step; `config` is the member's resolved config (a dict).

    loss: the training objective (reweighted / adjusted as configured), full batch.
    mean_loss, per_class_loss: the plain loss (loss_config['name']) without weights or adjustment.
    per_class_grad_norm: ||∇_θ ℓ_k||, the gradient norm of class k's mean plain loss.
    A per-class record of a class with no sample in its split is NaN (no value), never 0.
    """
    num_classes = data.class_counts.shape[-1]
    loss_config = config["loss"]
    name = loss_config["name"]
    out = split_metrics(model, name, params, data.x, data.y, num_classes)
    out["loss"] = losses.training_loss(loss_config, model.apply(params, data.x), data.y, data.class_counts)
    out["param_norm"] = param_norm(params)
    if data.x_test is not None:
        out.update(split_metrics(model, name, params, data.x_test, data.y_test, num_classes, prefix="test_"))
    if config["train"]["per_class_grad_norm"]:
        out["per_class_grad_norm"] = jnp.where(data.class_counts > 0, per_class_grad_norms(
            model, name, params, data.x, data.y, num_classes), jnp.nan)
    for metric in config["train"]["extra_metrics"]:
        out.update((extra_metrics or EXTRA_METRICS)[metric](model, params, data, config))
    return out


# Records an experiment asks for by name in config.train.extra_metrics:
# fn(model, params, data, config) -> {record name: array}, pure, one member.
EXTRA_METRICS = {
    "neural_collapse": neural_collapse,
    "key_frequencies": key_frequencies,
    "progress_measures": progress_measures,
    "flipped_label_accuracy": flipped_label_accuracy,
    "per_class_hessian": per_class_hessian,
    "class_gradient_gram": class_gradient_gram,
    "sgd_gradient_cosine": sgd_gradient_cosine,
    "feature_responses": feature_responses,
    "class_hessian_spectrum": class_hessian_spectrum,
    "classifier_norms": classifier_norms,
    "label_noise_fit": label_noise_fit,
    "two_gaussians_alignment": two_gaussians_alignment,
    "kernel_distance": kernel_distance,
}

"""Class competition records (Francazi, Baity-Jesi, Lucchi 2023, "A Theoretical Analysis of the
Learning Dynamics under Class Imbalance"): the Gram matrix of the per-class gradients, which fixes
the first-order change of every class's loss under GD and per-class normalised GD
(theory/class_competition.py), and the directional noise of each class's minibatch gradient.

Both hold every per-sample gradient in memory ([N, P] floats): meant for small models and data.
Gradients are of the plain loss (config.loss.name, no reweighting), like per_class_grad_norm.
"""
import jax
import jax.numpy as jnp

from dynamics import losses
from dynamics.errors import ConfigError

SGD_COSINE_BATCHES = 256  # random batches averaged per record (Monte-Carlo error ~0.01 on a cosine)


def per_sample_gradients(model, params, x, y, loss_name: str):
    """∇_θ of each sample's loss, flattened over all parameters: [N, P]."""
    def sample_loss(p, xi, yi):
        return losses.LOSSES[loss_name](model.apply(p, xi[None])[0], yi)

    grads = jax.vmap(jax.grad(sample_loss), in_axes=(None, 0, 0))(params, x, y)
    return jnp.concatenate([g.reshape(g.shape[0], -1) for g in jax.tree.leaves(grads)], axis=1)


def class_gradient_gram(model, params, data, config) -> dict:
    """Extra metric 'class_gradient_gram': G_kj = ḡ_k·ḡ_j [C, C], ḡ_k the gradient of class k's mean
    loss. theory.class_competition.first_order_loss_change needs only these inner products. A class
    with no sample has ḡ_k = 0 here (it adds nothing to the full-batch gradient), so its row is 0."""
    if data.y.ndim != 1:
        raise ConfigError("metric class_gradient_gram needs one label per sample (y of shape [N])")
    grads = per_sample_gradients(model, params, data.x, data.y, config["loss"]["name"])
    means, _ = losses.class_means(grads, data.y, data.class_counts.shape[-1])
    return {"class_gradient_gram": means @ means.T}


def sgd_gradient_cosine(model, params, data, config) -> dict:
    """Extra metric 'sgd_gradient_cosine': for each class k, the mean over SGD_COSINE_BATCHES batches
    (train.batch_size samples drawn uniformly without replacement, as the trainer draws them) that
    contain class k of cos(ĝ_k, ḡ_k), ĝ_k the mean gradient of the batch's class-k samples and ḡ_k
    the full-batch one [C]. Also 'gradient_noise_to_signal' ρ_k = σ_k/‖ḡ_k‖ [C] with
    σ_k² = mean_{i ∈ k} ‖∇ℓ_i − ḡ_k‖², the input of theory.class_competition.minibatch_gradient_cosine.
    The batches are the same at every record (key from the member's seed). Full-batch training
    (batch_size 0) gives cosine 1: every batch is the whole training set."""
    size = config["train"]["batch_size"] or data.y.shape[0]
    if data.y.ndim != 1:
        raise ConfigError("metric sgd_gradient_cosine needs one label per sample (y of shape [N])")
    num_classes = data.class_counts.shape[-1]
    grads = per_sample_gradients(model, params, data.x, data.y, config["loss"]["name"])
    means, counts = losses.class_means(grads, data.y, num_classes)
    mean_norm = jnp.linalg.norm(means, axis=1)
    spread = jnp.sqrt(jax.ops.segment_sum(jnp.sum((grads - means[data.y]) ** 2, axis=1), data.y, num_classes)
                      / jnp.maximum(counts, 1.0))
    key = jax.random.fold_in(jax.random.PRNGKey(config["seed"]), 0x5CD)
    noise = jax.random.uniform(key, (SGD_COSINE_BATCHES, data.y.shape[0]))
    kth = -jax.lax.top_k(-noise, size)[0][:, -1:]  # the size-th smallest of each row
    in_batch = (noise <= kth).astype(grads.dtype)  # [R, N]: a uniform draw of `size` distinct samples

    def class_cosines(k):  # one class at a time: memory [R, N], not [R, N, C]
        members = in_batch * (data.y == k)[None, :]  # [R, N]: the class-k samples of each batch
        batch_sum = members @ grads  # [R, P]: n_k ĝ_k
        cos = batch_sum @ means[k] / jnp.maximum(jnp.linalg.norm(batch_sum, axis=1) * mean_norm[k], 1e-30)
        return cos, jnp.sum(members, axis=1) > 0

    cos, present = jax.lax.map(class_cosines, jnp.arange(num_classes))  # [C, R] each
    cos, present = cos.T, present.T
    times = jnp.sum(present, axis=0)
    mean_cos = jnp.where(times > 0, jnp.sum(jnp.where(present, cos, 0.0), axis=0) / jnp.maximum(times, 1), jnp.nan)
    return {"sgd_gradient_cosine": mean_cos,  # NaN: class k in no batch (no sample, or too rare)
            "gradient_noise_to_signal": jnp.where(counts > 0, spread / jnp.maximum(mean_norm, 1e-30), jnp.nan)}

"""Per-class gradient and Hessian blocks of the last linear layer (Kunstner et al. 2024, sec. 4,
fig. 6: with heavy-tailed classes, the gradient and Hessian blocks of the classes' weights are
imbalanced and correlated across classes, which is what makes Adam's diagonal scaling help).

For logits z_i = W h_i + b and the plain mean loss L = (1/N) Σ_i ℓ(z_i, y_i), the block of class
k is its row (w_k, b_k). With h̃_i = (h_i, 1) (just h_i without a bias):
  ∇_{w_k,b_k} L = (1/N) Σ_i ∂ℓ_i/∂z_ik h̃_i                         (gradient block)
  Tr ∇²_{w_k,b_k} L = (1/N) Σ_i ∂²ℓ_i/∂z_ik² ‖h̃_i‖²                (its exact trace)
since ∇²_{w_k} L = (1/N) Σ_i ∂²ℓ_i/∂z_ik² h̃_i h̃_iᵀ. For cross-entropy ∂²ℓ/∂z_k² = p_k (1 - p_k),
for the square loss it is 1. For the linear softmax model this is the whole model's block of w_k.
"""
import jax
import jax.numpy as jnp

from dynamics import losses
from dynamics.errors import ConfigError


def logit_hessian_diagonal(loss_name: str, logits):
    """∂²ℓ/∂z_k² for every sample and class [N, C]: p(1-p) for cross-entropy, 1 for the square loss."""
    if loss_name == "cross_entropy":
        probs = jax.nn.softmax(logits, axis=-1)
        return probs * (1.0 - probs)
    return jnp.ones_like(logits)


def log_correlation(a, b, present):
    """Pearson correlation of log a and log b over the classes where `present`; 0 if either is constant."""
    w = present / jnp.maximum(jnp.sum(present), 1.0)
    la, lb = jnp.log(jnp.maximum(a, 1e-30)), jnp.log(jnp.maximum(b, 1e-30))
    da, db = la - jnp.sum(w * la), lb - jnp.sum(w * lb)
    cov, va, vb = jnp.sum(w * da * db), jnp.sum(w * da**2), jnp.sum(w * db**2)
    return jnp.where((va > 1e-20) & (vb > 1e-20), cov / jnp.sqrt(jnp.maximum(va * vb, 1e-40)), 0.0)


def per_class_head_blocks(model, params, x, y, loss_name: str, has_bias: bool):
    """(‖∇_{w_k,b_k} L‖ [C], Tr ∇²_{w_k,b_k} L [C]) of the plain mean loss on (x, y); see the module doc."""
    logits = model.apply(params, x)
    logits = logits.reshape(-1, logits.shape[-1])
    labels = y.reshape(-1)
    features = model.features(params, x).reshape(logits.shape[0], -1)
    mean_loss = lambda z: jnp.mean(losses.LOSSES[loss_name](z, labels))
    dz = jax.grad(mean_loss)(logits)  # [N, C], already carries the 1/N
    grad_w = dz.T @ features  # [C, D]
    grad_sq = jnp.sum(grad_w**2, axis=1) + (jnp.sum(dz, axis=0) ** 2 if has_bias else 0.0)
    sq_norms = jnp.sum(features**2, axis=1) + (1.0 if has_bias else 0.0)
    trace = logit_hessian_diagonal(loss_name, logits).T @ sq_norms / logits.shape[0]
    return jnp.sqrt(grad_sq), trace


def per_class_hessian(model, params, data, config) -> dict:
    """Extra metric 'per_class_hessian' (training split, plain loss, last layer = the linear model):

    per_class_head_grad_norm [C]: ‖∇_{w_k} L‖; per_class_head_hessian_trace [C]: Tr ∇²_{w_k} L;
    head_grad_hessian_correlation: Pearson correlation of their logs over the classes present.
    """
    if model.harmonic_exponent:
        raise ConfigError("metric per_class_hessian needs a Dense last layer (logits W h + b); "
                          "model.harmonic_exponent must be 0")
    has_bias = "bias" in params.get("head", {})
    grad_norm, trace = per_class_head_blocks(model, params, data.x, data.y, config["loss"]["name"], has_bias)
    present = (data.class_counts > 0).astype(jnp.float32)
    return {
        "per_class_head_grad_norm": grad_norm,
        "per_class_head_hessian_trace": trace,
        "head_grad_hessian_correlation": log_correlation(grad_norm, trace, present),
    }

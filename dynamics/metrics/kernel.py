"""How far the network has moved from its kernel regime: the empirical NTK on a fixed probe set, compared
with the one at initialisation, and its alignment with the labels.

Fort, Dziugaite, Paul, Kharaghani, Roy, Ganguli 2020 ("Deep learning versus kernel learning", Sec. 3)
measure kernel distance as 1 - <K_t, K_0>_F / (||K_t||_F ||K_0||_F); Kumar, Bordelon, Gershman, Pehlevan
2024 track it, with the kernel-target alignment (Cristianini et al. 2002, "On kernel-target alignment"),
to show that grokking coincides with leaving the lazy regime.
"""
import jax
import jax.numpy as jnp


def trained_leaves(model, params) -> list:
    """For each leaf of params (jax.tree.leaves order): whether the optimizer trains it (model.trainable)."""
    if model.trainable is None:
        return [True] * len(jax.tree.leaves(params))
    return jax.tree.leaves(jax.tree.map(lambda train, sub: jax.tree.map(lambda _: train, sub),
                                        model.trainable(params), params))


def tangent_features(model, params, x):
    """The Jacobian of the logits with respect to the trained parameters, flattened: x [A, ...] ->
    [A, C * |theta|], so that the trace NTK is tangent_features(x_a) tangent_features(x_b)^T."""
    per_sample = jax.jacrev(lambda p, xi: model.apply(p, xi[None])[0])  # one sample's [C, ...] per leaf
    jacobian = jax.vmap(per_sample, in_axes=(None, 0))(params, x)
    leaves = [j.reshape(x.shape[0], -1) for j, trained in zip(jax.tree.leaves(jacobian), trained_leaves(model, params))
              if trained]
    return jnp.concatenate(leaves, axis=1)


def empirical_ntk(model, params, x_a, x_b):
    """Trace NTK K[a, b] = sum_c <d logit_c(x_a) / d theta, d logit_c(x_b) / d theta> over the trained
    parameters theta: x_a [A, ...], x_b [B, ...] -> [A, B]. Memory (A + B) x C x |theta| (the two Jacobians)."""
    return tangent_features(model, params, x_a) @ tangent_features(model, params, x_b).T


def cosine(a, b):
    """<a, b>_F / (||a||_F ||b||_F)."""
    return jnp.sum(a * b) / (jnp.linalg.norm(a) * jnp.linalg.norm(b))


def kernel_distance(model, params, data, config):
    """{kernel_distance: 1 - cos(K_t, K_0), kernel_alignment: cos(K_t, Y Y^T)} on the first
    train.kernel_probe_size training samples, with K the trace NTK (`empirical_ntk`) of the current and the
    initial parameters (dynamics.train.initial_params: recomputed from the member's seed and init scale) and
    Y the probe labels one-hot, centred (1/C subtracted), flattened per sample (sequence labels [N, T] too).

    Cost per logged step: two per-sample Jacobians of the logits on P probe samples (2 P C backward passes
    of one sample each, vmapped) and two P x P x C|theta| products; memory P x C x |theta|.
    """
    from dynamics.train import initial_params  # train imports the metrics

    probe = min(config["train"]["kernel_probe_size"], data.y.shape[0])
    x, y = data.x[:probe], data.y[:probe]
    current, initial = (features @ features.T for features in
                        (tangent_features(model, p, x) for p in (params, initial_params(model, config))))
    labels = (jax.nn.one_hot(y, data.num_classes) - 1.0 / data.num_classes).reshape(probe, -1)
    return {"kernel_distance": 1.0 - cosine(current, initial), "kernel_alignment": cosine(current, labels @ labels.T)}

"""Optimizers as optax transformations, written to match their update equations.

Every optimizer is chain(direction, decoupled weight decay, -learning_rate * schedule(step)),
except adam, whose weight decay is the coupled L2 term added to the gradient before the
moments (adamw is the decoupled one, Loshchilov & Hutter 2019). Numbers may be traced
values, so one compiled program serves a whole sweep of learning rates; `switch` lets it serve
several optimizers that take the same gradient too.
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from dynamics.errors import ConfigError, check_choice, check_keys, check_range

SCHEDULES = ("constant", "warmup", "cosine")


def sign() -> optax.GradientTransformation:
    """d = sign(u), elementwise (Bernstein et al. 2018, signSGD)."""
    return optax.stateless(lambda updates, params=None: jax.tree.map(jnp.sign, updates))


def scaled_sign() -> optax.GradientTransformation:
    """d = ||u||_1 sign(u) (ℓ1 norm over all parameters): steepest descent in the ℓ∞ norm, the "scaled
    sign descent" of Kunstner et al. 2024 (their code's RescaledSignDescent: no division by the dimension)."""

    def f(updates, params=None):
        l1 = sum(jnp.sum(jnp.abs(u)) for u in jax.tree.leaves(updates))
        return jax.tree.map(lambda u: l1 * jnp.sign(u), updates)

    return optax.stateless(f)


class AdagradState(NamedTuple):
    sum_of_squares: optax.Updates


def adagrad(eps) -> optax.GradientTransformation:
    """s ← s + g², d = g / (√s + eps), s_0 = 0 (Duchi et al. 2011; PyTorch's torch.optim.Adagrad, which
    Kunstner et al. 2024 use)."""

    def init(params):
        return AdagradState(jax.tree.map(jnp.zeros_like, params))

    def update(updates, state, params=None):
        sums = jax.tree.map(lambda s, g: s + g * g, state.sum_of_squares, updates)
        return jax.tree.map(lambda g, s: g / (jnp.sqrt(s) + eps), updates, sums), AdagradState(sums)

    return optax.GradientTransformation(init, update)


def normalize() -> optax.GradientTransformation:
    """d = u / ||u|| (global Euclidean norm over all parameters)."""

    def f(updates, params=None):
        # Rescaled by the largest entry first, so tiny gradients (late in separable training)
        # neither underflow in the squared norm nor blow up: exact unit norm unless u = 0.
        largest = jnp.max(jnp.stack([jnp.max(jnp.abs(u)) for u in jax.tree.leaves(updates)]))
        scaled = jax.tree.map(lambda u: u / jnp.where(largest > 0, largest, 1.0), updates)
        norm = optax.tree.norm(scaled)
        return jax.tree.map(lambda u: u / jnp.maximum(norm, 1e-30), scaled)

    return optax.stateless(f)


def per_class_normalize() -> optax.GradientTransformation:
    """d = Σ_k g_k / ||g_k|| for updates with a leading class axis [C, ...] (Francazi et al. 2023, eq. 9).

    Classes with a zero gradient (e.g. absent from the batch) contribute nothing.
    """

    def f(updates, params=None):
        sq = sum(jnp.sum(u.reshape(u.shape[0], -1) ** 2, axis=1) for u in jax.tree.leaves(updates))
        inv = jnp.where(sq > 0, 1.0 / jnp.sqrt(jnp.where(sq > 0, sq, 1.0)), 0.0)
        return jax.tree.map(lambda u: jnp.tensordot(inv, u, axes=1), updates)

    return optax.stateless(f)


class MaxNormState(NamedTuple):
    threshold: jax.Array  # τ, fixed at init from the starting rows


def max_norm(q, classifier) -> optax.GradientTransformation:
    """Per-class MaxNorm by projected gradient descent (Alshammari et al. 2022, sec. 3.3; their code's
    MaxNorm_via_PGD): after the step, every row w_k of classifier(θ) [C, D] longer than τ is scaled back
    to norm τ, where τ = min_k ‖w_k‖ + q (max_k ‖w_k‖ − min_k ‖w_k‖) over the rows the optimizer starts
    from (their `thresh` = q, set once at the start). q = 0: no projection (the step is unchanged).
    classifier must select the rows linearly from θ (e.g. a kernel's transpose; biases are not capped,
    as theirs): the correction goes back to θ through its transpose. q may be traced."""

    def init(params):
        norms = jnp.linalg.norm(classifier(params), axis=1)
        return MaxNormState(jnp.min(norms) + q * (jnp.max(norms) - jnp.min(norms)))

    def update(updates, state, params):
        stepped = optax.apply_updates(params, updates)
        rows = classifier(stepped)
        norms = jnp.linalg.norm(rows, axis=1)
        scale = jnp.where((q > 0) & (norms > state.threshold), state.threshold / jnp.maximum(norms, 1e-30), 1.0)
        (correction,) = jax.linear_transpose(classifier, stepped)(rows * scale[:, None] - rows)
        return jax.tree.map(jnp.add, updates, correction), state

    return optax.GradientTransformation(init, update)


def schedule_factor(schedule: str, warmup_steps: int, num_steps: int):
    """step -> multiplier of the learning rate: constant, linear warmup, or warmup then cosine to 0."""

    def factor(count):
        count = jnp.asarray(count, jnp.float32)
        warm = jnp.minimum(1.0, (count + 1.0) / max(warmup_steps, 1)) if schedule != "constant" else 1.0
        if schedule != "cosine":
            return warm
        progress = jnp.clip((count - warmup_steps) / max(num_steps - warmup_steps, 1), 0.0, 1.0)
        return warm * 0.5 * (1.0 + jnp.cos(jnp.pi * progress))

    return factor


def _heavy_ball(opt: dict) -> optax.GradientTransformation:
    """m ← βm + d, the step is η m (optax.trace; β = 0: no momentum). Kunstner et al. 2024's Sign_M,
    NormSGD_M and ScaledSign_M put it on the normalised direction d(g)."""
    return optax.trace(decay=opt["momentum"])


# Each optimizer's direction: fn(optimizer section) -> optax transformation (numbers may be traced);
# build_optimizer adds weight decay and the scheduled step size. A caller may add their own for one
# run (dynamics.pieces).
DIRECTIONS = {
    "gd": lambda opt: optax.identity(),
    "heavy_ball": _heavy_ball,
    "adam": lambda opt: optax.scale_by_adam(b1=opt["b1"], b2=opt["b2"], eps=opt["eps"]),
    "adamw": lambda opt: optax.scale_by_adam(b1=opt["b1"], b2=opt["b2"], eps=opt["eps"]),
    "adagrad": lambda opt: adagrad(opt["eps"]),
    "sign": lambda opt: optax.chain(sign(), _heavy_ball(opt)),
    "signum": lambda opt: optax.chain(optax.ema(decay=opt["momentum"], debias=False), sign()),
    "scaled_sign": lambda opt: optax.chain(scaled_sign(), _heavy_ball(opt)),
    "normalized_gd": lambda opt: optax.chain(normalize(), _heavy_ball(opt)),
    "per_class_normalized_gd": lambda opt: per_class_normalize(),
    "sam": _heavy_ball,  # applied to the gradient at the perturbed point (sam_gradient, in train.train_step)
}


def needs_per_class_gradients(name: str) -> bool:
    """Whether the optimizer takes per-class gradients [C, ...] instead of the mean gradient."""
    return name == "per_class_normalized_gd"


def needs_perturbed_gradient(name: str) -> bool:
    """Whether the optimizer takes the gradient at a perturbed point (sam_gradient) instead of at θ."""
    return name == "sam"


def sam_gradient(grad_fn, params, grads, rho):
    """Sharpness-aware minimisation's gradient (Foret et al. 2021, eq. 2 and alg. 1): ∇L(θ + ε) with
    ε = ρ g/||g||, g = grads = ∇L(θ) (ε = 0 when g = 0); grad_fn(params) -> ∇L at params, on the same batch."""
    norm = optax.tree.norm(grads)
    scale = jnp.where(norm > 0, rho / jnp.where(norm > 0, norm, 1.0), 0.0)
    return grad_fn(jax.tree.map(lambda p, g: p + scale * g, params, grads))


def gradient_kind(name: str) -> str:
    """What gradient the optimizer takes: members whose optimizers take the same kind may share one
    compiled program (train.plan; `switch` picks each member's optimizer there)."""
    return "per_class" if needs_per_class_gradients(name) else "perturbed" if needs_perturbed_gradient(name) else "plain"


def switch(transforms: list, index) -> optax.GradientTransformation:
    """transforms[index] (index may be traced): one program runs members of several optimizers. The state
    holds every optimizer's state and only the chosen one's changes; under vmap every optimizer's update
    is computed and the chosen one selected (elementwise work on the parameters and states)."""

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None):
        def branch(i):
            def chosen(operands):
                updates, state, params = operands
                new, own = transforms[i].update(updates, state[i], params)
                return new, state[:i] + (own,) + state[i + 1:]
            return chosen

        return jax.lax.switch(index, [branch(i) for i in range(len(transforms))], (updates, state, params))

    return optax.GradientTransformation(init, update)


def validate_optimizer(opt: dict, directions: dict = DIRECTIONS) -> None:
    check_keys("optimizer", opt, ("name", "learning_rate", "momentum", "b1", "b2", "eps", "weight_decay", "schedule",
                                  "warmup_steps", "rho", "max_norm"))
    check_choice("optimizer (optimizer.name)", opt["name"], directions)
    check_choice("schedule (optimizer.schedule)", opt["schedule"], SCHEDULES)
    check_range("optimizer.learning_rate", opt["learning_rate"], 0.0, low_open=True)
    check_range("optimizer.momentum", opt["momentum"], 0.0, 0.9999)
    check_range("optimizer.b1", opt["b1"], 0.0, 0.9999)
    check_range("optimizer.b2", opt["b2"], 0.0, 0.99999999)
    check_range("optimizer.eps", opt["eps"], 0.0, low_open=True)
    check_range("optimizer.weight_decay", opt["weight_decay"], 0.0)
    check_range("optimizer.rho", opt["rho"], 0.0)
    check_range("optimizer.max_norm", opt["max_norm"], 0.0)
    if isinstance(opt["warmup_steps"], bool) or not isinstance(opt["warmup_steps"], int) or opt["warmup_steps"] < 0:
        raise ConfigError(f"optimizer.warmup_steps must be an integer >= 0, got {opt['warmup_steps']!r}")


def build_optimizer(opt: dict, num_steps: int, directions: dict = DIRECTIONS) -> optax.GradientTransformation:
    """The optimizer named in `opt` (a dict of the config's optimizer section; numbers may be traced),
    its direction from `directions`.

    gd: θ ← θ − η g;  heavy_ball: m ← βm + g, θ ← θ − η m;  with d(g) = sign(g) (sign), ||g||_1 sign(g)
    (scaled_sign) or g/||g||_2 (normalized_gd): m ← βm + d(g), θ ← θ − η m (Kunstner et al. 2024's Sign,
    ScaledSign and NormSGD; β = 0: no momentum); signum: m ← βm + (1−β)g, θ ← θ − η sign(m) (Bernstein
    et al. 2018); per_class_normalized_gd: θ ← θ − η Σ_k g_k/||g_k|| (ignores β);
    adam(w): Kingma & Ba 2015, alg. 1; adagrad: s ← s + g², θ ← θ − η g/(√s + eps);
    sam: heavy_ball on g = ∇L(θ + ρ g₀/||g₀||), g₀ = ∇L(θ) (Foret et al. 2021; sam_gradient, which train.train_step applies).
    Weight decay λ adds ηλθ to the step (adam: λθ is added to g instead).
    """
    name = opt["name"]
    factor = schedule_factor(opt["schedule"], int(opt["warmup_steps"]), num_steps)
    lr = opt["learning_rate"]
    step = optax.scale_by_schedule(lambda count: -lr * factor(count))
    direction = directions[name](opt)
    decay = optax.add_decayed_weights(opt["weight_decay"])
    if name == "adam":
        return optax.chain(decay, direction, step)
    return optax.chain(direction, decay, step)

"""Per-class Hessian spectra: Lanczos on Hessian-vector products, and stochastic Lanczos quadrature.

Rangwani et al. 2022 ("Escaping Saddle Points for Effective Generalization on Class-Imbalanced
Data", sec. 3, fig. 1-2) read the spectrum of the Hessian of each class's loss, ∇²_θ L_k with
L_k = (1/n_k) Σ_{i: y_i=k} ℓ(f_θ(x_i), y_i), computed with PyHessian (Yao et al. 2020): the top
eigenvalue λ_max, the most negative one λ_min (a saddle when λ_min < 0 is large against λ_max), and
the spectral density by stochastic Lanczos quadrature (SLQ; Ghorbani et al. 2019, sec. 2; Golub &
Meurant 2009). Here: Lanczos with full reorthogonalisation on H v = jvp(∇L_k)(θ; v), one Lanczos run
per (class, random probe), vmapped; all inside jit (lax.fori_loop), vmappable over sweep members.
(The authors' hessian_analysis.py: PyHessian's SLQ, 100 Lanczos steps, one Rademacher probe, logging
λ_max/λ_min; here Gaussian probes and a configurable number of steps and probes.)
"""
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from dynamics import losses
from dynamics.errors import ConfigError


def orthogonalize(w, basis_MxP):
    """w minus its projection on the rows of basis_MxP (orthonormal or zero), done twice ("twice is
    enough": Parlett 1998, sec. 6.9), so that float32 Lanczos keeps its basis orthogonal."""
    for _ in range(2):
        w = w - basis_MxP.T @ (basis_MxP @ w)
    return w


def lanczos(matvec, v0, num_iterations: int):
    """Lanczos tridiagonalisation of a symmetric operator from start vector v0, with full
    reorthogonalisation: (Ritz values [m], their SLQ weights [m]), m = num_iterations.

    T = V H Vᵀ is tridiagonal (α on its diagonal, β beside it); its eigenvalues θ_j (Ritz values)
    approximate H's extreme eigenvalues first, and τ_j = (first entry of T's j-th eigenvector)² are
    the Gauss quadrature weights of the spectral measure of H seen from v0 (Σ_j τ_j = 1), which SLQ
    averages over random v0. When the Krylov space is exhausted (β ≈ 0) the next vector is v0 rolled by
    j+1 entries (a fresh direction for a random v0) orthogonalised against the basis, and β is set to 0,
    so T stays exact (block diagonal).
    """
    dim = v0.shape[0]
    basis = jnp.zeros((num_iterations, dim), v0.dtype)

    def step(j, carry):
        basis, alphas, betas, v, v_prev, beta_prev = carry
        basis = basis.at[j].set(v)
        hv = matvec(v)
        alpha = jnp.vdot(v, hv)
        w = orthogonalize(hv - alpha * v - beta_prev * v_prev, basis)
        beta = jnp.linalg.norm(w)
        fresh = orthogonalize(jnp.roll(v0, j + 1), basis)
        exhausted = beta <= 1e-6 * jnp.linalg.norm(hv) + 1e-30
        v_next = jnp.where(exhausted, fresh / jnp.maximum(jnp.linalg.norm(fresh), 1e-30), w / jnp.where(exhausted, 1.0, beta))
        beta = jnp.where(exhausted, 0.0, beta)
        return basis, alphas.at[j].set(alpha), betas.at[j].set(beta), v_next, v, beta

    zeros = jnp.zeros(num_iterations, v0.dtype)
    start = (basis, zeros, zeros, v0 / jnp.linalg.norm(v0), jnp.zeros_like(v0), jnp.zeros((), v0.dtype))
    _, alphas, betas, *_ = jax.lax.fori_loop(0, num_iterations, step, start)
    tridiagonal = jnp.diag(alphas) + jnp.diag(betas[:-1], 1) + jnp.diag(betas[:-1], -1)
    ritz_values, vectors = jnp.linalg.eigh(tridiagonal)
    return ritz_values, vectors[0] ** 2


def class_hessian_lanczos(model, loss_name: str, params, x, y, num_classes: int, num_iterations: int,
                          num_probes: int, key):
    """Ritz values and SLQ weights [C, probes, m] of ∇²_θ L_k for every class k (all parameters),
    L_k the mean plain loss over class k's samples; m = min(num_iterations, number of parameters).
    Needs one label per sample (y of shape [N]).

    Each Hessian-vector product is the jvp of the gradient (forward-over-reverse, linearised once per
    class), on the full training split with the other classes' samples weighted 0.
    """
    flat, unravel = ravel_pytree(params)
    counts = jax.ops.segment_sum(jnp.ones(y.shape[0], flat.dtype), y, num_classes)
    class_weights = jax.nn.one_hot(y, num_classes, dtype=flat.dtype) / jnp.maximum(counts, 1.0)  # [N, C]

    def class_loss(theta, k):
        return jnp.sum(class_weights[:, k] * losses.LOSSES[loss_name](model.apply(unravel(theta), x), y))

    def one_class(k, probes_PxD):  # H_k v = the linearised gradient of L_k at θ, applied to v
        hvp = jax.linearize(lambda theta: jax.grad(class_loss)(theta, k), flat)[1]
        return jax.vmap(lambda v0: lanczos(hvp, v0, m))(probes_PxD)

    m = min(num_iterations, flat.shape[0])
    probes = jax.random.normal(key, (num_classes, num_probes, flat.shape[0]), flat.dtype)
    return jax.vmap(one_class)(jnp.arange(num_classes), probes)


def spectral_density(ritz_values_PxM, weights_PxM, num_bins: int):
    """SLQ density of one class's spectrum on a grid of num_bins points spanning its Ritz values
    (10% margin each side): (grid [G], density [G]) = mean over probes of Σ_j τ_j N(x; θ_j, σ²), with σ
    = 2 grid spacings (PyHessian's `density_generate` uses 10⁴ bins and σ² = 10⁻⁵ max(1, span)), integrating to ~1."""
    low, high = jnp.min(ritz_values_PxM), jnp.max(ritz_values_PxM)
    margin = 0.1 * jnp.maximum(high - low, 1e-6 * jnp.maximum(jnp.abs(high), 1e-30))
    grid = jnp.linspace(low - margin, high + margin, num_bins)
    sigma = 2.0 * (grid[1] - grid[0])
    gauss = jnp.exp(-0.5 * ((grid[:, None] - ritz_values_PxM.reshape(-1)) / sigma) ** 2) / (sigma * jnp.sqrt(2 * jnp.pi))
    return grid, gauss @ weights_PxM.reshape(-1) / ritz_values_PxM.shape[0]


def class_hessian_spectrum(model, params, data, config) -> dict:
    """Extra metric 'class_hessian_spectrum' (training split, plain loss): for every class k, the
    spectrum of ∇²_θ L_k over all parameters (see the module doc):

    class_hessian_max [C], class_hessian_min [C]: its largest and smallest (most negative) eigenvalues,
      the extreme Ritz values over train.lanczos_probes Lanczos runs of train.lanczos_iterations steps;
    class_hessian_density [C, G] on class_hessian_density_grid [C, G]: the SLQ spectral density
      (G = train.density_bins). NaN for a class with no training sample.
    The probes are fixed per member (drawn from its seed), the same at every logged step.
    Cost per logged step: classes x probes x iterations Hessian-vector products, each a tangent pass
    forward and back over the full training split (the other classes' samples weighted 0). Measured for
    configs/curvature_sam.py (MLP 32-32, 3466 parameters, 210 images, 10 classes x 2 probes x 20
    iterations): 0.10 CPU-s per member per logged step (0.25 ms per product), against 0.002 s for all
    the other records together; 4 s of compilation once (2-core CPU, under load).
    """
    train = config["train"]  # positive integers (train.validate)
    num_iterations, num_probes, num_bins = train["lanczos_iterations"], train["lanczos_probes"], train["density_bins"]
    if num_bins < 2:
        raise ConfigError(f"train.density_bins must be >= 2 for class_hessian_spectrum, got {num_bins}")
    num_classes = data.class_counts.shape[-1]
    key = jax.random.fold_in(jax.random.PRNGKey(config["seed"]), 0x5E55)
    ritz, weights = class_hessian_lanczos(model, config["loss"]["name"], params, data.x, data.y, num_classes,
                                          num_iterations, num_probes, key)
    grid, density = jax.vmap(spectral_density, in_axes=(0, 0, None))(ritz, weights, num_bins)
    present = data.class_counts > 0
    absent_nan = lambda a: jnp.where(present.reshape((-1,) + (1,) * (a.ndim - 1)), a, jnp.nan)
    return {
        "class_hessian_max": absent_nan(jnp.max(ritz, axis=(1, 2))),
        "class_hessian_min": absent_nan(jnp.min(ritz, axis=(1, 2))),
        "class_hessian_density": absent_nan(density),
        "class_hessian_density_grid": absent_nan(grid),
    }


def saddle_ratio(history):
    """λ_min / λ_max of every class's Hessian [M, L, C]: about -1 at a strong saddle, ~0 at a minimum."""
    return history.records["class_hessian_min"] / history.records["class_hessian_max"]

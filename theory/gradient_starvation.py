"""Gradient starvation in the linear regime (Pezeshki et al. 2021, "Gradient Starvation: A Learning
Proclivity in Neural Networks", NeurIPS): the responses to two features under cross-entropy, with an
L2 penalty on the parameters or with spectral decoupling.

What the paper states (its linear-regime analysis and its spectral decoupling; the toy is the
authors' Figure_6/toy_fig_6.py, which draws their Figure 6):
- binary labels y = ±1, the network linearised at its initialisation, ŷ = Φθ (Φ: the neural tangent
  random features), trained on the ridge-regularised cross-entropy
      L(θ) = 1·log(1 + exp(−Yŷ)) + λ/2 ‖θ‖²,            Y = diag(y);
- the singular value decomposition YΦ = U S Vᵀ: the columns of V are the features, s_j their
  strengths, and z = S Vᵀθ = Uᵀ(Yŷ) the network's responses to them (what toy_fig_6.py records);
- the toy: two samples, two features, coupling U = [[√(1−δ²), −δ], [δ, √(1−δ²)]] with δ = 0.5,
  strengths (s_1, 2) for s_1 = 2 … 6, V a random rotation, θ₀ = 0, GD at step 0.05 for 5000 steps;
- gradient starvation: with coupled features (δ ≠ 0) a stronger feature 1 lowers the response to
  feature 2 where training ends (the toy's figure: z₂ falls as s₁ grows);
- spectral decoupling (SD) replaces λ/2 ‖θ‖² by λ/2 ‖ŷ‖², which decouples the responses: each z_j*
  no longer depends on the other features' strengths.
The paper's equation numbers are not given here: the text reachable for this work was the abstract
and the authors' code; the formulas above are the paper's as its code and a secondary source
(MichielStock/STMOZOO, notebook/gradientstarvation.jl) write them. The paper derives its results
through the Legendre (dual) form of the loss; everything below is our own derivation instead.

Our own derivation (not in the paper in this form). With the loss averaged over the N samples,
    L(θ) = (1/N) Σ_i [log(1 + exp(−m_i)) + (λ_SD/2) m_i²] + (λ_L2/2) ‖θ‖²,   m = Yŷ = U z,
and U [N, F] with orthonormal columns (for any linear model's data: the left singular vectors of YΦ),
gradient flow θ̇ = −∇L reads, in the responses,
    ż = (1/N) S² [Uᵀ σ(−U z) − λ_SD z] − λ_L2 z                                    (1)
(σ the logistic function; exact for a linear model whose θ₀ lies in the row space of Φ, e.g. θ₀ = 0
or a square invertible Φ). Its fixed point z* is the root of the right side; with λ_L2 > 0 the
strength s_k enters every response through Uᵀσ(−Uz) (the coupling). With λ_L2 = 0 and the grouped U
of `toy_features` (U = B P: B the orthonormal class indicators, P a 2 x 2 rotation), each class's
margin μ_g = (P z)_g / √n_g solves σ(−μ) = λ_SD μ by itself, so z* = Pᵀ(√n ⊙ μ*) does not depend on
S at all: ∂z*/∂s_k = 0, the decoupling, and every class reaches the same margin μ*.
GD on θ at step h moves z by exactly h ż (Euler's step of eq. (1)): `response_steps`. `sensitivity`
computes ∂z*/∂s_k from (1) by the implicit function theorem, U held fixed.
"""
import numpy as np
import scipy  # its submodules load when first used


def coupling_matrix(delta: float) -> np.ndarray:
    """The toy's coupling U = [[√(1−δ²), −δ], [δ, √(1−δ²)]] (toy_fig_6.py, δ = 0.5 there)."""
    c = np.sqrt(1.0 - delta**2)
    return np.array([[c, -delta], [delta, c]])


def toy_features(per_sample_strengths, delta: float, class_counts) -> tuple:
    """(U [N, 2] with orthonormal columns, strengths s [2]): the SVD YΦ = U diag(s) Wᵀ of the paper's
    two-feature toy with its sample g repeated n_g times (class g; samples sorted by class), i.e.
    signed inputs y_i x_i = (R diag(a) Vᵀ)_{g_i} with R = coupling_matrix(δ), a the per-sample strengths.

    One sample per class is the paper's toy: U = R, s = a. Equal counts n give U = B R, s = √n a
    (B[i, g] = 1/√n_g for sample i of class g). Unequal counts: the SVD of D R diag(a), D = diag(√n),
    gives U = B P, s its singular values: class frequency sets the strengths (own construction); P's
    columns are ordered and signed as R's, so feature j stays the one built as feature j.
    """
    counts = np.asarray(class_counts, dtype=np.int64)
    strengths = np.asarray(per_sample_strengths, np.float64)
    coupling = coupling_matrix(delta)
    groups = np.repeat(np.arange(len(counts)), counts)
    indicators = np.eye(len(counts))[groups] / np.sqrt(counts)[groups][:, None]
    if counts.min() == counts.max():  # D R diag(a) = √n R diag(a) is already an SVD (even for a_1 = a_2)
        return indicators @ coupling, np.sqrt(counts[0]) * strengths
    rotation, singular, _ = np.linalg.svd(np.sqrt(counts)[:, None] * coupling * strengths[None, :])
    if abs(rotation[:, 0] @ coupling[:, 0]) < abs(rotation[:, 0] @ coupling[:, 1]):
        rotation, singular = rotation[:, ::-1], singular[::-1]
    rotation = rotation * np.where(np.diag(coupling.T @ rotation) < 0, -1.0, 1.0)
    return indicators @ rotation, singular


def response_velocity(z_F, strengths_F, loadings_NxF, l2: float, sd: float) -> np.ndarray:
    """ż of eq. (1): (1/N) S² [Uᵀσ(−Uz) − λ_SD z] − λ_L2 z."""
    u = np.asarray(loadings_NxF, np.float64)
    drive = u.T @ scipy.special.expit(-(u @ z_F)) - sd * z_F
    return np.asarray(strengths_F) ** 2 * drive / u.shape[0] - l2 * z_F


def response_jacobian(z_F, strengths_F, loadings_NxF, l2: float, sd: float) -> np.ndarray:
    """∂ż/∂z of eq. (1) [F, F]."""
    u = np.asarray(loadings_NxF, np.float64)
    m = u @ z_F
    slope = scipy.special.expit(m) * scipy.special.expit(-m)  # −dσ(−m)/dm
    inner = -(u.T * slope) @ u - sd * np.eye(len(z_F))
    return (np.asarray(strengths_F) ** 2)[:, None] * inner / u.shape[0] - l2 * np.eye(len(z_F))


def response_flow(times_L, z0_F, strengths_F, loadings_NxF, l2: float, sd: float) -> np.ndarray:
    """z(t) [L, F] of eq. (1) from z(0) = z0, at the (increasing) times t ≥ 0."""
    times_L = np.asarray(times_L, np.float64)
    solution = scipy.integrate.solve_ivp(lambda t, z: response_velocity(z, strengths_F, loadings_NxF, l2, sd),
                                   (0.0, float(times_L[-1])), np.asarray(z0_F, np.float64), method="LSODA",
                                   t_eval=times_L, rtol=1e-10, atol=1e-12,
                                   jac=lambda t, z: response_jacobian(z, strengths_F, loadings_NxF, l2, sd))
    return solution.y.T


def response_steps(steps_L, z0_F, step_size: float, strengths_F, loadings_NxF, l2: float, sd: float) -> np.ndarray:
    """z after each of the (increasing) step counts [L, F] of gradient descent on θ at step h: eq. (1)
    stepped by Euler, z ← z + h ż(z), which is exactly GD's map for a linear model (own derivation)."""
    steps_L = np.asarray(steps_L, np.int64)
    z, out, k = np.asarray(z0_F, np.float64), [], 0
    for target in steps_L:
        for _ in range(target - k):
            z = z + step_size * response_velocity(z, strengths_F, loadings_NxF, l2, sd)
        k = target
        out.append(z)
    return np.array(out)


def steady_state(strengths_F, loadings_NxF, l2: float, sd: float) -> np.ndarray:
    """The fixed point z* of eq. (1) [F] (needs l2 > 0 or sd > 0: plain cross-entropy has none)."""
    if l2 <= 0 and sd <= 0:
        raise ValueError("eq. (1) has a fixed point only with an L2 or an SD penalty")
    start = response_flow([0.0, 50.0 / max(l2, sd)], np.zeros(len(strengths_F)), strengths_F, loadings_NxF, l2, sd)[-1]
    root = scipy.optimize.root(response_velocity, start, args=(strengths_F, loadings_NxF, l2, sd), jac=response_jacobian,
                         method="hybr", tol=1e-13)
    return root.x


def sensitivity(strengths_F, loadings_NxF, l2: float, sd: float, k: int) -> np.ndarray:
    """∂z*/∂s_k [F] at fixed U: −J⁻¹ ∂ż/∂s_k at z* (implicit function theorem on eq. (1))."""
    strengths_F = np.asarray(strengths_F, np.float64)
    u = np.asarray(loadings_NxF, np.float64)
    z = steady_state(strengths_F, u, l2, sd)
    drive = u.T @ scipy.special.expit(-(u @ z)) - sd * z
    d_velocity = np.zeros_like(z)
    d_velocity[k] = 2.0 * strengths_F[k] * drive[k] / u.shape[0]
    return -np.linalg.solve(response_jacobian(z, strengths_F, u, l2, sd), d_velocity)


def class_margins(z_F, loadings_NxF, labels_N, num_classes: int) -> np.ndarray:
    """Mean margin y ŷ of each class's samples, from the responses: m = U z [C]."""
    m = np.asarray(loadings_NxF, np.float64) @ np.asarray(z_F, np.float64)
    return np.bincount(labels_N, weights=m, minlength=num_classes) / np.bincount(labels_N, minlength=num_classes)

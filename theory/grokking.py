"""Grokking in diagonal linear networks: the kernel predictor, the sparse predictor, and when one
turns into the other.

Lyu, Jin, Li, Du, Lee, Hu (ICLR 2024), "Dichotomy of Early and Late Phase Implicit Biases Can
Provably Induce Grokking", arXiv:2311.18817 ("Lyu et al." below). Setting (their Sec. 3.2.3 for
classification; its regression analogue):

    f(x) = <u*u - v*v, x> = <theta, x>,   u = v = alpha * 1 at step 0 (so f = 0 at init),
    GD with step eta on  L(theta) + (lambda/2)(|u|^2 + |v|^2),
    L = (1/2n) sum_i (f(x_i) - y_i)^2            (task='regression', y real)
    L = (1/n) sum_i log(1 + exp(-y_i f(x_i)))   (task='classification', y in {-1, +1}).

Conventions. `alpha` is the value of every coordinate of u and v at init (the paper's
||theta_init|| is alpha * sqrt(2d) in their code; only log(alpha) enters, so the two differ by
an O(1/lambda) offset, see `transition_step`). Plain GD with weight decay in the gradient:
u <- (1 - eta*lambda) u - eta dL/du, likewise v (optax.chain(add_decayed_weights(lambda),
sgd(eta))). The predictions below are for GD/gradient flow, not for Adam. Shapes: x [N, D],
y [N], theta [D].

The two phases (Lyu et al., main theorems of Sec. 3, classification, and their regression
counterparts; the paper states them for homogeneous nets at init scale alpha -> infinity,
lambda -> 0):
  * for t <= (1-c) log(alpha)/lambda (gradient-flow time; steps = t/eta) the net is in the kernel
    regime; its NTK at u = v = alpha*1 is K(x, x') = 8 alpha^2 <x, x'>, so it fits the data with
    the kernel predictor: the min-l2 interpolant (regression) or the l2 max-margin direction
    (classification);
  * for t >= (1+c) log(alpha)/lambda it reaches the min-norm / max-margin predictor in parameter
    space; min_{u^2 - v^2 = theta} (|u|^2 + |v|^2) = ||theta||_1, so this is the min-l1
    interpolant or the l1 max-margin direction.

Derivation used here (exact for gradient flow, our own, consistent with the paper's constant):
u_i(t) = alpha e^{-lambda t} e^{-2 G_i(t)}, v_i(t) = alpha e^{-lambda t} e^{+2 G_i(t)} with
G(t) = int_0^t grad L(theta(s)) ds, which lies in the row space of x. Hence

    theta(t) = -2 beta(t)^2 sinh(4 G(t)),   beta(t) = alpha e^{-lambda t}   (u_i v_i = beta^2),

which is exactly the KKT condition of  min Q_beta(theta) s.t. x theta = x theta(t), with
Q_beta the hypentropy potential of Woodworth et al. 2020 ("Kernel and Rich Regimes in
Overparametrized Models", Thm. 1). For regression, once the data are fitted, theta(t) is the
hypentropy interpolant at the *effective scale* beta(t): l2-like while beta^2 >> |theta_i|,
l1-like when beta^2 << |theta_i|. Weight decay lowers beta geometrically, (1 - eta*lambda) per
GD step, so the test error of GD follows `hypentropy_interpolant` along beta(step).

What is the paper's and what is ours. The paper's time scale: kernel behaviour up to
(1-c) log(alpha)/lambda, min-norm / max-margin behaviour after (1+c) log(alpha)/lambda. Its
consequence tested here: each doubling of alpha delays the transition by log(2)/lambda, i.e.
log(2)/(-log(1 - eta*lambda)) GD steps (measured 0.991-1.005 x that over 4 seeds); that the
offset does not depend on alpha is our derivation above (beta(t) alone sets the path). This
project's refinement, not in the paper: the O(1/lambda) offset predicted from the training data,
as the effective scale `rich_scale` where the hypentropy path is halfway from l2 to l1 (over the
same seeds: measured/predicted transition step 0.60-1.00; the paper's leading order alone is
2.8-3.9 times too early at alpha = 2-3). For classification G(t) has no fixed point (margins keep
growing), so there the hypentropy path is used at the margin of the late-phase limit, an
approximation (`rich_scale`).
"""
from __future__ import annotations

import numpy as np
import scipy  # its submodules load when first used

TASKS = ("regression", "classification")


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; valid tasks: {', '.join(TASKS)}.")


def _as_arrays(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"Expected x [N, D] and y [N]; got x {x.shape}, y {y.shape}.")
    return x, y


def test_error(theta, x_test, y_test, task: str = "regression") -> float:
    """Test error of the linear predictor x -> <theta, x>.

    regression: mean squared error  mean_i (<theta, x_i> - y_i)^2  (no factor 1/2);
    classification: 0-1 error  mean_i 1[y_i <theta, x_i> < 0] + 1/2 * 1[<theta, x_i> = 0],
    so the zero predictor (the net at init) scores 1/2, as in Lyu et al.'s code.
    theta [D], x_test [M, D], y_test [M] -> float.
    """
    _check_task(task)
    x_test, y_test = _as_arrays(x_test, y_test)
    preds = x_test @ np.asarray(theta, dtype=np.float64)
    if task == "regression":
        return float(np.mean((preds - y_test) ** 2))
    signed = y_test * preds
    return float(np.mean((signed < 0) + 0.5 * (signed == 0)))


def _l2_max_margin(x, y):
    """argmin ||theta||_2 s.t. y_i <x_i, theta> >= 1, as a least-distance program solved by NNLS
    (Lawson & Hanson 1974, Solving Least Squares Problems, ch. 23, Alg. LDP)."""
    g = y[:, None] * x                                   # constraints g theta >= 1   [N, D]
    e = np.vstack([g.T, np.ones((1, g.shape[0]))])       # [D+1, N]
    f = np.zeros(g.shape[1] + 1)
    f[-1] = 1.0
    coef, _ = scipy.optimize.nnls(e, f, maxiter=50 * e.shape[1])
    r = e @ coef - f
    if abs(r[-1]) < 1e-12:
        raise ValueError("The training data are not linearly separable through the origin.")
    return -r[:-1] / r[-1]


def kernel_predictor(x, y, task: str = "regression"):
    """Early-phase (kernel) predictor, theta [D], from x [N, D], y [N].

    The NTK of the diagonal net at u = v = alpha*1 is 8 alpha^2 <x, x'> (a linear kernel), so the
    kernel-regime predictor (Lyu et al.'s early phase, Sec. 3 and its regression counterpart) is
    regression: the min-l2-norm interpolant x^+ y;
    classification: the hard-margin l2 SVM without bias, argmin ||theta||_2 s.t.
    y_i <x_i, theta> >= 1 (margin 1; its direction is the l2 max-margin direction).
    """
    _check_task(task)
    x, y = _as_arrays(x, y)
    if task == "regression":
        return np.linalg.lstsq(x, y, rcond=None)[0]
    return _l2_max_margin(x, y)


def sparse_predictor(x, y, task: str = "regression"):
    """Late-phase predictor, theta [D], from x [N, D], y [N], by an LP (scipy HiGHS).

    min over (u, v) of |u|^2 + |v|^2 with u^2 - v^2 = theta is ||theta||_1, so the parameter-space
    min-norm / max-margin predictor of Lyu et al.'s late phase (Sec. 3 and its regression
    counterpart) is
    regression: argmin ||theta||_1 s.t. x theta = y (basis pursuit);
    classification: argmin ||theta||_1 s.t. y_i <x_i, theta> >= 1 (the l1 max-margin direction,
    scaled to margin 1).
    Written as theta = p - q with p, q >= 0 and objective sum(p + q).
    """
    _check_task(task)
    x, y = _as_arrays(x, y)
    n, d = x.shape
    a = np.hstack([x, -x])
    if task == "regression":
        res = scipy.optimize.linprog(np.ones(2 * d), A_eq=a, b_eq=y, bounds=(0, None),
                                     method="highs")
    else:
        res = scipy.optimize.linprog(np.ones(2 * d), A_ub=-y[:, None] * a, b_ub=-np.ones(n),
                                     bounds=(0, None), method="highs")
    if res.status != 0:
        raise ValueError(f"The l1 program has no solution ({res.message}).")
    return res.x[:d] - res.x[d:]


def regularised_predictor(x, y, weight_decay: float, task: str = "regression"):
    """The global minimiser of the trained objective at finite weight decay, theta [D].

    Minimising L(u^2 - v^2) + (lambda/2)(|u|^2 + |v|^2) over (u, v) equals minimising
    L(theta) + (lambda/2)||theta||_1 over theta (the lasso, or l1-penalised logistic regression),
    whose lambda -> 0 limit is `sparse_predictor` (Lyu et al.'s late phase). This is where GD ends
    at the given lambda. Solved with L-BFGS-B on theta = p - q, p, q >= 0.
    """
    _check_task(task)
    x, y = _as_arrays(x, y)
    n, d = x.shape
    half_lam = 0.5 * weight_decay

    def objective(pq):
        theta = pq[:d] - pq[d:]
        out = x @ theta
        if task == "regression":
            resid = out - y
            loss, dout = 0.5 * np.mean(resid ** 2), resid / n
        else:
            m = y * out
            loss = np.mean(np.logaddexp(0.0, -m))
            dout = -y * scipy.special.expit(-m) / n
        g = x.T @ dout
        return loss + half_lam * pq.sum(), np.concatenate([g + half_lam, -g + half_lam])

    res = scipy.optimize.minimize(objective, np.zeros(2 * d), jac=True, method="L-BFGS-B",
                                  bounds=[(0, None)] * (2 * d),
                                  options=dict(maxiter=20000, ftol=1e-15, gtol=1e-12))
    return res.x[:d] - res.x[d:]


def _hypentropy_solve(a, target, scale: float, nonneg: bool):
    """theta = 2 beta^2 sinh(a^T w) for the w [N] minimising the convex dual
    phi(w) = 2 beta^2 sum_j (cosh((a^T w)_j) - 1) - <w, target>  (over w >= 0 if `nonneg`).

    Its KKT conditions are those of min Q_beta(theta) s.t. a theta = target (or >= target, with
    w the multipliers). Projected Newton (Bertsekas 1982) with an Armijo search on phi; near the
    optimum, where phi's decrease is below rounding, a step is instead accepted if it shrinks the
    natural residual |w - max(0, w - grad)| (|grad| without bounds).
    """
    b2 = 2.0 * float(scale) ** 2

    def evaluate(w):
        z = a.T @ w
        if np.max(np.abs(z)) > 300.0:                    # far outside any solution: reject
            return np.inf, None, None, np.inf
        theta = b2 * np.sinh(z)
        grad = a @ theta - target
        resid = w - np.maximum(w - grad, 0.0) if nonneg else grad
        phi = 2.0 * b2 * np.sum(np.sinh(0.5 * z) ** 2) - w @ target   # 2 sinh^2(z/2) = cosh(z) - 1
        return phi, theta, grad, np.linalg.norm(resid)

    w = np.zeros(a.shape[0])
    phi, theta, grad, res = evaluate(w)
    tol = 1e-11 * (1.0 + np.linalg.norm(target))
    for _ in range(500):
        if res < tol:
            return theta
        free = ~(nonneg & (w <= min(1e-3, res)) & (grad > 0))   # Bertsekas' binding set, fixed
        z = a.T @ w
        hess = (a[free] * (b2 * np.cosh(z))) @ a[free].T
        step = grad.copy()
        step[free] = np.linalg.solve(hess, grad[free])
        t = 1.0
        while t > 1e-14:
            w_new = w - t * step
            if nonneg:
                w_new = np.maximum(w_new, 0.0)
            new = evaluate(w_new)
            decrease = grad @ (w - w_new)
            if new[0] <= phi - 0.25 * decrease:
                break
            if decrease < 1e-12 * (1.0 + abs(phi)) and new[3] <= (1.0 - 0.5 * t) * res:
                break
            t *= 0.5
        if t <= 1e-14:                                   # stalled at float precision
            break
        w, (phi, theta, grad, res) = w_new, new
    if res < 1e-7 * (1.0 + np.linalg.norm(target)):
        return theta
    raise RuntimeError(f"hypentropy solve did not converge at scale {scale} (residual {res:.2e}).")


def hypentropy_interpolant(x, y, scale: float):
    """argmin Q_beta(theta) s.t. x theta = y, with beta = `scale`; x [N, D], y [N] -> theta [D].

    Q_beta(theta) = sum_j theta_j arcsinh(theta_j / 2beta^2) - sqrt(theta_j^2 + 4beta^4) + 2beta^2
    is the hypentropy potential of Woodworth et al. 2020 (Thm. 1): gradient flow on the square
    loss from u = v = beta*1 converges to this interpolant. It is ~ the min-l2 interpolant for
    beta^2 >> |theta| and tends to the min-l1 one as beta -> 0. With weight decay lambda the net
    follows it along beta(t) = alpha e^{-lambda t} (module docstring), which turns Lyu et al.'s
    kernel-to-rich dichotomy into a curve. KKT: theta = 2 beta^2 sinh(x^T w).
    """
    x, y = _as_arrays(x, y)
    return _hypentropy_solve(x, y, scale, nonneg=False)


def hypentropy_max_margin(x, y, scale: float, margin: float = 1.0):
    """argmin Q_beta(theta) s.t. y_i <x_i, theta> >= margin; x [N, D], y [N] in {-1, 1} -> [D].

    The classification counterpart of `hypentropy_interpolant`: l2 max-margin (Lyu et al.'s kernel
    phase, Sec. 3) for beta^2 >> |theta|, l1 max-margin (their late phase) as beta -> 0. Only the
    ratio beta^2 / margin matters: theta(beta, m) = m * theta(beta / sqrt(m), 1).
    """
    x, y = _as_arrays(x, y)
    return _hypentropy_solve(y[:, None] * x, np.full(x.shape[0], float(margin)), scale, nonneg=True)


def effective_scale(steps, init_scale: float, weight_decay: float, learning_rate: float):
    """beta(step) = alpha (1 - eta*lambda)^step, the init scale that weight decay has left.

    u_i v_i = beta^2 is conserved by the loss gradient and shrunk only by weight decay (exact in
    gradient flow; per GD step up to a factor 1 - 4 eta^2 g_i^2 / (1 - eta*lambda)^2, the
    step-size effect of Even et al. 2023). steps [...] -> [...].
    """
    steps = np.asarray(steps, dtype=np.float64)
    return init_scale * np.exp(steps * np.log1p(-learning_rate * weight_decay))


def rich_scale(x, y, task: str = "regression", weight_decay: float | None = None,
               num_grid: int = 60) -> float:
    """The effective init scale beta_c at which the implicit bias has turned halfway from l2 to l1,
    computed from the training data alone; x [N, D], y [N] -> float.

    This project's refinement of Lyu et al.'s transition time, our own derivation (module
    docstring), not stated in the paper: along the hypentropy path theta(beta), beta_c is where
    ||theta(beta)||_1 is halfway between the kernel predictor's and the sparse predictor's l1 norms
    (the norm the late phase minimises). No test data and no simulation enter.
    regression: theta(beta) = `hypentropy_interpolant(x, y, beta)`, which GD follows exactly in the
    gradient-flow, data-fitted limit.
    classification (needs `weight_decay`): theta(beta) = `hypentropy_max_margin(x, y, beta, m)` at
    the margin m = min_i y_i <x_i, theta_lambda> of the late-phase limit theta_lambda =
    `regularised_predictor(x, y, weight_decay, 'classification')`, and both predictors are scaled
    to margin m. An approximation: the margin is not pinned during the kernel phase.
    Measured / predicted transition step (tests/theory/test_grokking.py): 0.85-1.00 for
    regression (seeds 0-4), 0.60-0.91 for classification (seeds 0-3, alpha 1-4).

    Found by walking down a log grid (10 per decade) from 10 * max(1, sqrt(max |theta_kernel|))
    to the first crossing, then bisection in log(beta).
    """
    _check_task(task)
    x, y = _as_arrays(x, y)
    theta_k, theta_s = kernel_predictor(x, y, task), sparse_predictor(x, y, task)
    if task == "regression":
        path = lambda beta: hypentropy_interpolant(x, y, beta)
        margin = 1.0
    else:
        if weight_decay is None:
            raise ValueError("rich_scale(task='classification') needs weight_decay.")
        margin = float(np.min(y * (x @ regularised_predictor(x, y, weight_decay, task))))
        path = lambda beta: hypentropy_max_margin(x, y, beta, margin)
    target = 0.5 * margin * (np.abs(theta_k).sum() + np.abs(theta_s).sum())
    above = lambda log_b: np.abs(path(np.exp(log_b))).sum() > target
    hi = np.log(10.0 * max(1.0, np.sqrt(margin * np.max(np.abs(theta_k)))))
    if not above(hi):
        raise ValueError("The hypentropy path starts below the midpoint l1 norm "
                         "(kernel and sparse predictors have alike l1 norms?).")
    for _ in range(num_grid):
        lo = hi - np.log(10.0) / 10
        if not above(lo):
            break
        hi = lo
    else:
        raise ValueError("The hypentropy path does not reach the midpoint l1 norm on the grid.")
    for _ in range(20):
        mid = 0.5 * (hi + lo)
        if above(mid):
            hi = mid
        else:
            lo = mid
    return float(np.exp(0.5 * (hi + lo)))


def transition_step(init_scale, weight_decay, learning_rate, alpha_rich):
    """Predicted GD step of the kernel-to-rich jump in test error (arrays broadcast).

    Lyu et al. (main theorems, Sec. 3) put the transition of gradient flow with weight decay
    lambda and init scale alpha at t* = log(alpha)/lambda: kernel behaviour for t <= (1-c) t*,
    min-norm / max-margin behaviour for t >= (1+c) t*, as alpha -> infinity.
    Constant in GD steps: the loss gradient leaves u_i v_i unchanged and weight decay multiplies it
    by (1 - eta*lambda)^2 per step, so the effective scale is beta(k) = alpha (1 - eta*lambda)^k
    (`effective_scale`). The jump comes when beta(k) reaches the scale alpha_rich at which the
    implicit bias turns from l2 to l1:

        k* = log(alpha / alpha_rich) / (-log(1 - eta*lambda))  ~  log(alpha / alpha_rich) / (eta*lambda).

    alpha_rich = 1 is the paper's leading order log(alpha)/(eta*lambda); the paper fixes the
    coefficient of log(alpha) (the step shift per doubling of alpha,
    log 2 / (-log(1 - eta*lambda)), which does not depend on alpha_rich), not the O(1/(eta*lambda))
    offset, which at moderate alpha is as large as the leading term (measured/predicted 2.8-3.9 at
    alpha = 2-3 on the seed-0 test instances). Pass alpha_rich = `rich_scale(x, y, ...)` for this
    project's prediction of the offset from the training data (measured agreement in its docstring).
    """
    init_scale, weight_decay, learning_rate, alpha_rich = (
        np.asarray(a, dtype=np.float64) for a in (init_scale, weight_decay, learning_rate, alpha_rich))
    return np.log(init_scale / alpha_rich) / -np.log1p(-learning_rate * weight_decay)


def predicted_test_error(steps, x, y, x_test, y_test, init_scale: float, weight_decay: float,
                         learning_rate: float):
    """Predicted test MSE of GD on the diagonal net (regression) at each step; steps [S] -> [S].

    Two pieces, both from the data and hyperparameters:
      * fitting (Lyu et al.'s kernel regime): linearised GD on the outputs with NTK Gram
        8 alpha^2 x x^T / n leaves the residual r_k = (I - 8 eta alpha^2 x x^T / n)^k (-y);
      * after it (module docstring): theta_k = hypentropy interpolant of the fitted targets
        y + r_k at the effective scale beta(k) = alpha (1 - eta*lambda)^k.
    Plateau: the kernel predictor's error; end: the sparse predictor's (up to the lasso bias of
    `regularised_predictor`). The prediction assumes gradient-flow-like steps (eta well inside
    stability, eta * 8 alpha^2 lambda_max(x x^T / n) < 2) and lambda small enough for the data to
    stay fitted.
    """
    x, y = _as_arrays(x, y)
    n = x.shape[0]
    steps = np.asarray(steps)
    gram = 8.0 * init_scale ** 2 * (x @ x.T) / n
    evals, evecs = np.linalg.eigh(gram)
    factor = 1.0 - learning_rate * evals
    coords = evecs.T @ y
    betas = effective_scale(steps, init_scale, weight_decay, learning_rate).reshape(-1)
    out = []
    for k, beta in zip(steps.reshape(-1), betas):
        fitted = y - evecs @ (np.power(factor, int(k)) * coords)
        theta = hypentropy_interpolant(x, fitted, beta) if np.any(fitted) else np.zeros(x.shape[1])
        out.append(test_error(theta, x_test, y_test))
    return np.asarray(out).reshape(steps.shape)

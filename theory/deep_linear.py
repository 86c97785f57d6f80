"""Per-class learning curves of a two-layer linear network (Saxe, McClelland, Ganguli 2014).

Saxe, McClelland, Ganguli (2014), "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks". With a small, balanced initialisation aligned with the singular modes of
the input–output correlation, every mode strength follows a sigmoid in time and a mode of
strength s is learned at t ≈ (1/(2s)) log(s/u0): strong modes first, weak ones later.

Setting and conventions (what a simulated History must match):
- Network ŷ = W2 W1 x, W1 ∈ R^{h×d}, W2 ∈ R^{C×h}, hidden width h ≥ C, no biases.
- Data: every sample of class k has the same input x_k, the x_k mutually orthogonal with norms
  r_k = `input_norms` (default 1; any orthogonal directions in R^d, d ≥ C), and the one-hot
  target e_k. Class frequencies π_k = N_k/N (`class_probs`, normalised here).
- Objective: mean over samples of the square loss ½‖ŷ − onehot‖² (dynamics.losses.square_loss),
  L = Σ_k π_k ½‖e_k − W2 W1 x_k‖². "Error of class k" is that class's mean square loss, a
  History's per_class_loss[m, l, k] with loss 'square'.
- Time t = learning_rate × step (gradient descent W ← W − η∇L). Saxe et al. write τ dW/dt = ...
  with τ = 1/η and time in steps; our t is their t/τ, i.e. τ = 1.
- Initialisation ("aligned, balanced", `init_scale` = a0): W1 = a0 Σ_k h_k x̂_kᵀ and
  W2 = a0 Σ_k e_k h_kᵀ with orthonormal hidden directions h_k and x̂_k = x_k/r_k, so
  W2 W1 x_k = a0² r_k e_k: every class starts with output y_k(0) = a0² r_k on its own
  coordinate and 0 elsewhere. A small *random* initialisation only approximates this (its modes
  start misaligned and with random strengths), which is why simulations from it depart from
  these curves.

Map from classes to modes (derived here, Saxe et al. §2 for the whitened case): the input
correlation Σ^{xx} = Σ_k π_k x_k x_kᵀ and the input–output correlation Σ^{yx} = Σ_k π_k e_k x_kᵀ
share the singular vectors (e_k, x̂_k); the mode of class k has input variance λ_k = π_k r_k²
and input–output singular value (mode strength)

    s_k = π_k r_k.

With aligned balanced init the weights stay aligned, W2 W1 = Σ_k v_k e_k x̂_kᵀ with
dv_k/dt = 2 v_k (s_k − λ_k v_k), and the output on class k, y_k = r_k v_k, is logistic:

    dy_k/dt = 2 s_k y_k (1 − y_k),  y_k(t) = y0 e^{2 s_k t} / (1 − y0 + y0 e^{2 s_k t}),  y0 = a0² r_k.

In Saxe's variables u_k = λ_k v_k = s_k y_k, this is their sigmoid
u(t) = s e^{2st} / (e^{2st} − 1 + s/u0) (their eq. for the mode strength with τ = 1), with
u0 = s_k y0; it reduces to theirs exactly when inputs are whitened (λ_k = 1).
"""
import numpy as np

from theory import checks


def _norms(input_norms, size):
    if input_norms is None:
        return np.ones(size)
    r = np.broadcast_to(np.asarray(input_norms, dtype=np.float64), (size,)).copy()
    if not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("input_norms must be finite and > 0")
    return r


def _class_variables(class_probs, init_scale, input_norms):
    """(π [C], input norms r [C], initial outputs y0 = a0² r [C]), checked."""
    pi = checks.class_probs(class_probs)
    a0 = float(init_scale)
    if not a0 > 0:
        raise ValueError("init_scale must be > 0")
    r = _norms(input_norms, pi.size)
    return pi, r, a0 * a0 * r


def saxe_mode(strength, times, init_strength):
    """Exact mode strength u(t) = s e^{2st}/(e^{2st} − 1 + s/u0) of a whitened mode: [T, modes].

    Saxe et al. 2014, §2 (two-layer network, balanced aligned initial condition, τ = 1):
    du/dt = 2u(s − u), u(0) = u0 > 0, u → s. Broadcasts strength and init_strength over modes.
    Written as s/(1 + (s/u0 − 1) e^{−2st}) so that it cannot overflow.
    """
    s = np.atleast_1d(np.asarray(strength, dtype=np.float64))
    u0 = np.broadcast_to(np.asarray(init_strength, dtype=np.float64), s.shape)
    if np.any(s <= 0) or np.any(u0 <= 0):
        raise ValueError("strength and init_strength must be > 0")
    t = checks.times(times)[:, None]
    return s / (1.0 + (s / u0 - 1.0) * np.exp(-2.0 * s * t))


def mode_strengths(class_probs, input_norms=None):
    """Singular values s_k = π_k r_k of Σ^{yx} for one-hot targets and orthogonal class inputs: [C].

    Saxe et al. 2014 §2 (modes of the input–output correlation), applied to class-structured data:
    Σ^{yx} = Σ_k π_k e_k x_kᵀ has singular value π_k r_k on mode (e_k, x_k/r_k). The matching input
    variance is λ_k = π_k r_k² (`input_variances`); the output of class k converges to 1.
    """
    pi = checks.class_probs(class_probs)
    return pi * _norms(input_norms, pi.size)


def input_variances(class_probs, input_norms=None):
    """Eigenvalues λ_k = π_k r_k² of the input correlation Σ^{xx} = Σ_k π_k x_k x_kᵀ: [C]."""
    pi = checks.class_probs(class_probs)
    return pi * _norms(input_norms, pi.size) ** 2


def per_class_output(class_probs, times, init_scale, input_norms=None):
    """Output y_k(t) of the network on class k's input, on the class's own coordinate: [T, C].

    Saxe et al. 2014 §2 sigmoid, in the class variables above: with s_k = π_k r_k and
    y0 = init_scale² r_k, y_k(t) = y0 e^{2 s_k t}/(1 − y0 + y0 e^{2 s_k t}) (→ 1). The other output
    coordinates stay exactly 0 under the aligned initialisation. Time t = learning_rate × step.
    """
    pi, r, y0 = _class_variables(class_probs, init_scale, input_norms)
    t = checks.times(times)[:, None]
    rate = 2.0 * pi * r
    # y = 1/(1 + (1/y0 − 1) e^{−2 s t}), stable for all t and for y0 ≥ 1 as well
    return 1.0 / (1.0 + (1.0 / y0 - 1.0) * np.exp(-rate * t))


def per_class_error(class_probs, times, init_scale, input_norms=None):
    """Square loss of each class, ½‖e_k − W2 W1 x_k‖² = ½(1 − y_k(t))²: [T, C].

    Saxe et al. 2014 §2 (per-mode sigmoids); y_k from `per_class_output`. Starts at ½(1 − a0² r_k)²
    and falls in a sigmoid step at `learning_times`. Matches per_class_loss of a History trained
    with the mean of dynamics.losses.square_loss (½, summed over outputs), t = η × step.
    """
    y = per_class_output(class_probs, times, init_scale, input_norms)
    return 0.5 * (1.0 - y) ** 2


def learning_times(class_probs, init_scale, input_norms=None, fraction=0.5):
    """Time at which class k's output reaches `fraction` of its target: [C] (t = η × step).

    Saxe et al. 2014 §2, learning time of a mode: from the logistic solution,
        t_k = (1/(2 s_k)) log( f (1 − y0) / (y0 (1 − f)) ),  s_k = π_k r_k, y0 = a0² r_k,
    which for f = ½ and small y0 is t_k ≈ (1/(2 s_k)) log(1/y0) = (1/(2 s_k)) log(s_k/u0) with
    u0 = s_k y0 Saxe's initial mode strength: inversely proportional to the class frequency.
    0 where the output already exceeds the fraction at t = 0; inf where π_k = 0.
    """
    f = float(fraction)
    if not 0 < f < 1:
        raise ValueError("fraction must be in (0, 1)")
    pi, r, y0 = _class_variables(class_probs, init_scale, input_norms)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(f * (1.0 - y0) / (y0 * (1.0 - f))) / (2.0 * pi * r)
    t = np.where(y0 >= f, 0.0, t)
    return np.where((pi == 0) & (y0 < f), np.inf, t)

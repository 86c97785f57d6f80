"""theory/gradient_starvation.py: eq. (1) against gradient descent on θ written out in numpy, its
flow against its steps, and the fixed point's (de)coupling."""
import numpy as np
import pytest
from scipy import special

from theory import gradient_starvation


@pytest.mark.parametrize("l2, sd", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.05)])
def test_steps_are_gradient_descent_on_theta(l2, sd):
    """GD on θ of (1/N) Σ [log(1 + e^{−m}) + (λ_SD/2) m²] + (λ_L2/2)‖θ‖², m = YΦθ, seen through
    z = S Vᵀθ, is eq. (1) stepped by Euler: random YΦ [5, 2] (so U is not the toy's), random θ₀."""
    rng = np.random.default_rng(0)
    signed = rng.normal(size=(5, 2))
    loadings, strengths, directions_t = np.linalg.svd(signed, full_matrices=False)
    theta = rng.normal(size=2)
    z0 = strengths * (directions_t @ theta)
    for _ in range(50):
        m = signed @ theta
        theta = theta - 0.3 * (signed.T @ (-special.expit(-m) + sd * m) / 5 + l2 * theta)
    steps = gradient_starvation.response_steps([0, 50], z0, 0.3, strengths, loadings, l2, sd)
    np.testing.assert_allclose(steps[-1], strengths * (directions_t @ theta), rtol=1e-12)
    np.testing.assert_allclose(steps[0], z0)


def test_small_steps_approach_the_flow():
    """Euler's error is O(h): halving h halves the gap to the flow (measured: ratio 2.005, gap 1.5e-3 at h = 0.01)."""
    loadings, strengths = gradient_starvation.toy_features((4.0, 2.0), 0.5, [1, 1])
    flow = gradient_starvation.response_flow([0.0, 20.0], np.zeros(2), strengths, loadings, 0.005, 0.0)[-1]
    gaps = [np.max(np.abs(gradient_starvation.response_steps([0, int(20 / h)], np.zeros(2), h, strengths,
                                                             loadings, 0.005, 0.0)[-1] - flow)) for h in (0.02, 0.01)]
    assert 1.9 < gaps[0] / gaps[1] < 2.1 and gaps[1] < 3e-3


def test_theory_starvation_needs_coupling_and_sd_removes_it():
    """Eq. (1)'s fixed point: under L2, ∂z_2*/∂s_1 < 0 with coupling δ = 0.5 (measured −0.096 … −0.143
    for s_1 = 3 … 6) and 0 without (δ = 0); under SD it is 0 and every class's margin solves
    σ(−μ) = λ_SD μ alone (own derivation, theory/gradient_starvation.py)."""
    for s1 in (3.0, 4.0, 6.0):
        coupled = gradient_starvation.toy_features((s1, 2.0), 0.5, [1, 1])
        assert gradient_starvation.sensitivity(coupled[1], coupled[0], 0.005, 0.0, k=0)[1] < -0.09
        uncoupled = gradient_starvation.toy_features((s1, 2.0), 0.0, [1, 1])
        assert abs(gradient_starvation.sensitivity(uncoupled[1], uncoupled[0], 0.005, 0.0, k=0)[1]) < 1e-9
        assert np.max(np.abs(gradient_starvation.sensitivity(coupled[1], coupled[0], 0.0, 0.002, k=0))) < 1e-9
    loadings, strengths = gradient_starvation.toy_features((4.0, 2.0), 0.5, [18, 2])
    z = gradient_starvation.steady_state(strengths, loadings, 0.0, 0.002)
    margins = gradient_starvation.class_margins(z, loadings, np.repeat([0, 1], [18, 2]), 2)
    np.testing.assert_allclose(special.expit(-margins), 0.002 * margins, rtol=1e-9)

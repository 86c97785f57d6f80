"""The Bayes-optimal classifier of XOR cluster data (Xu, Wang, Frei, Vardi, Hu 2024, "Benign
Overfitting and Grokking in ReLU Networks for XOR Cluster Data", Sec. 2).

x = mu + xi, mu uniform over {±mu1, ±mu2}, mu1 ⊥ mu2, ||mu1|| = ||mu2|| = r, xi ~ N(0, I_d);
clean label +1 on ±mu1, -1 on ±mu2. With equal norms p(x | mu) ∝ exp(<x, mu>), so
P(y = +1 | x) ∝ cosh(<x, mu1>) and the Bayes rule is  sign(|<x, mu1>| - |<x, mu2>|).
For x from the +mu1 cluster, <x, mu1> = r^2 + r g1 and <x, mu2> = r g2 with g1, g2 iid N(0, 1), so

    accuracy on clean labels = P(|r + g1| > |g2|) = E_g1[2 Phi(|r + g1|) - 1],

the same for every cluster by symmetry. With labels flipped at rate eta < 1/2 (a noisy test set)
the Bayes rule is unchanged and its accuracy is (1 - eta) A + eta (1 - A). Xu et al. call test
accuracy close to this "near-optimal".
"""
import numpy as np
import scipy  # its submodules load when first used


def bayes_accuracy(mean_norm: float, flip_fraction: float = 0.0) -> float:
    """Accuracy of the Bayes-optimal classifier on XOR cluster data with ||mu|| = mean_norm, on a
    test set whose labels are flipped at rate flip_fraction (0: clean labels). Module docstring."""
    if not 0.0 <= flip_fraction < 0.5:
        raise ValueError(f"flip_fraction must be in [0, 1/2), got {flip_fraction}")
    r = float(mean_norm)
    integrand = lambda g: scipy.stats.norm.pdf(g) * (2.0 * scipy.stats.norm.cdf(abs(r + g)) - 1.0)
    clean, _ = scipy.integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-12)
    return float((1.0 - flip_fraction) * clean + flip_fraction * (1.0 - clean))

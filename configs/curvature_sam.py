"""Rangwani et al. 2022, "Escaping Saddle Points for Effective Generalization on Class-Imbalanced
Data": per-class Hessian spectra (λ_min, λ_max, density) of a network trained with a re-weighted
loss on long-tailed data, under SGD with momentum and under SAM (Foret et al. 2021) over ρ.

Setting (theirs -> ours): CIFAR-10-LT, imbalance 100, ResNet-32 -> sklearn digits made long-tailed
(Zipf, exponent 2: 139 ... 1 training images, ratio 139), ReLU MLP 32-32; CE + DRW (inverse
effective-number weights from epoch 160) -> CE re-weighted by 1/n_k from step 0; SGD, momentum 0.9,
batch 128, lr 0.1, wd 2e-4, 200 epochs, 5 warm-up epochs, step decay -> same momentum and wd, batch 32,
lr 0.05, 1300 steps (~200 epochs of 210 images), 33 warm-up steps (5 epochs), cosine decay; SAM ρ = 0.5
(their CE+DRW+SAM on CIFAR-10-LT) -> ρ in {0, 0.05, 0.2, 0.5}, ρ = 0 being exactly SGD with momentum.
Per-class spectra: PyHessian on the trained ResNet -> Lanczos / SLQ on every class at every logged step
(dynamics/metrics/curvature.py).

Measured (3 seeds, full variant, final step): see the README row and tests/test_curvature_claims.py.

Run:     python -m dynamics.main --config=configs/curvature_sam.py --workdir=runs/curvature_sam
Small:   python -m dynamics.main --config=configs/curvature_sam.py:small --workdir=/tmp/curvature_sam_small
         (MLP 16-16, 300 steps, ρ in {0, 0.05}, 3 seeds: the claim tests, the notebook and figures --small)
Runtime: measured CPU time in the README row (one compiled program: every ρ and seed vmapped).
"""
from dynamics import config, sweep


def get_config(variant=""):
    c = config.defaults(data="digits_long_tail", model="mlp")  # sklearn's 8x8 digits, Zipf-subsampled; ReLU MLP
    c.data.exponent = 2.0  # class k keeps 139 (k+1)^-2 images: imbalance 139, near CIFAR-10-LT's 100
    c.model.hidden = (32, 32)  # narrower than the default 64-64: the per-class Lanczos runs dominate the cost
    c.loss.reweight_exponent = 1.0  # class weights ∝ 1/n_k (their DRW's effective-number weights at these counts)
    c.optimizer.name = "sam"  # SGD with momentum on the gradient at θ + ρ g/||g|| (ρ = 0: plain SGD with momentum)
    c.optimizer.momentum = 0.9  # their SGD momentum
    c.optimizer.learning_rate = 0.05  # stable for every ρ here (their 0.1 is for batch 128)
    c.optimizer.weight_decay = 2e-4  # their weight decay
    c.optimizer.schedule = "cosine"  # warm-up then decay to 0 (theirs: warm-up then steps x0.01, x0.0001)
    c.optimizer.warmup_steps = 33  # 5 epochs of 210 images at batch 32, as their 5 warm-up epochs
    c.train.batch_size = 32  # SGD minibatches
    c.train.num_steps = 1300  # ~200 epochs, as theirs
    c.train.chunk_steps = 1300  # one compiled scan
    c.train.num_log_points = 12  # log-spaced records
    c.train.extra_metrics = ("class_hessian_spectrum",)  # per-class λ_max, λ_min and SLQ density
    c.train.lanczos_probes = 2  # random start vectors per class
    c.figures = ("curvature_sam",)  # dynamics.plots.FIGURES
    if config.variant(variant, ("small",)) == "small":
        c.train.num_log_points = 4  # steps 0, 1, 36 and the last
        c.train.lanczos_iterations = 10  # the extreme Ritz values are within 1% by then (measured)
        c.train.lanczos_probes = 1  # one start vector per class
    return c


def get_sweep(variant=""):
    """Re-weighted or plain loss x SAM's ρ (ρ = 0: SGD with momentum) x 3 seeds, all vmapped in one program;
    small: the re-weighted loss and ρ in {0, 0.05, 0.5} only."""
    if variant == "small":
        return sweep.product(sweep.axis("optimizer.rho", [0.0, 0.05, 0.5]), sweep.axis("seed", [0, 1, 2]))
    return sweep.product(sweep.axis("loss.reweight_exponent", [1.0, 0.0]), sweep.axis("optimizer.rho", [0.0, 0.05, 0.2, 0.5]),
                         sweep.axis("seed", [0, 1, 2]))

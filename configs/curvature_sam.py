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

Measured with this file (final step, seeds 0 / 1 / 2; head = classes 0-2, tail = 7-9, 1-2 images each;
tests/test_curvature_claims.py asserts them on the small variant):
- At step 0 every class sits at a saddle of the random initialisation: λ_min/λ_max = -0.84 to -0.89.
- Re-weighted SGD (ρ = 0) fits every image and leaves it for head and tail alike: λ_min/λ_max head
  -0.022 / -0.014 / -0.017, tail -0.024 / -0.015 / -0.025 (plain CE: tail -0.031 / -0.037 / -0.043).
  The paper's saddle for the minority under re-weighting does not appear at this scale.
- SAM ends flatter: ρ = 0.05 takes the seed-mean λ_max from 0.49 to 0.24 (head) and 0.13 to 0.079
  (tail); plain CE: 0.41 -> 0.23 (head), 8.5 -> 4.2 (tail). Not seed by seed (seed 0 head: 0.23 -> 0.30).
- The paper's large ρ = 0.5 does not escape: the tail classes stay unfitted at a saddle, λ_min/λ_max
  -0.36 / -0.32 / -0.73, and their test accuracy falls from 0.20 / 0.25 / 0.27 (ρ = 0) to
  0.12 / 0.07 / 0.06; ρ = 0.05: 0.17 / 0.19 / 0.28, ρ = 0.2: 0.11 / 0.32 / 0.30 (no consistent gain).
These long SGD runs are chaotic: the per-seed numbers move with the float rounding (the same members in
a smaller vmapped program give e.g. a tail accuracy of 0.10 instead of 0.20 for seed 0 at ρ = 0); the
statements above hold in both.

Run:     python -m dynamics.main --config=configs/curvature_sam.py --workdir=runs/curvature_sam
Small:   python -m dynamics.main --config=configs/curvature_sam.py:small --workdir=/tmp/curvature_sam_small
         (re-weighted loss only, ρ in {0, 0.05, 0.5}, 3 seeds, 4 logged steps, 10 Lanczos steps and 1 probe:
         the claim tests, the notebook and figures --small; 12 s CPU, mostly compilation)
Runtime: 41 s CPU (174 s wall at load ~12) on the shared 2-core CPU: 24 members in one compiled program,
         1300 steps, 12 logged steps; the per-class spectra take ~28 s of it (0.1 CPU-s per member and
         logged step).
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

"""Neural-collapse geometry of the unconstrained-features model (UFM), simulation against theory.

Claims reproduced (theory in theory/collapse.py, predictions and their agreement.csv rows in
dynamics/predict/collapse.py, figures in dynamics/plots/collapse.py); numbers measured with this
file as it is (C = 4, d = 8, full batch, float32):
- Balanced classes, cross-entropy, GD lr 1 (Papyan, Han, Donoho 2020; Zhu et al. 2021): the
  classifier and class-mean Grams reach the simplex ETF.
  * weight decay λ = 0.005 (the ETF is the global minimiser): ETF distance of W <= 0.05 from
    step 172 on for both seeds (0.013 / 0.032 at step 172, 0.004 / 0.008 at step 305, < 1e-4
    from step 1272).
  * no weight decay: directional convergence is logarithmic and seed-dependent: W at 0.036 /
    0.096 (seeds 0 / 1) at step 129, 0.019 / 0.043 at step 1272, 0.016 / 0.034 at step 3000.
- Imbalanced classes (Zipf exponent 2: counts 18/5/3/2), cross-entropy, no weight decay: the
  Grams approach SELI (Thrampoulidis et al. 2022), not the ETF (final ETF distance of W 0.37).
  Plain GD converges in direction only logarithmically, so these members use NORMALISED GD,
  θ ← θ − η g/‖g‖ with η = 0.0125 (the parameter norm grows linearly). While the loss is O(1)
  (steps < 400) the distance sits near 0.5; once the data are separated it falls at every
  logged step: W 0.52 / 0.54 at step 405, 0.15 / 0.11 at step 1272, 0.072 / 0.045 at step 1693
  (the first logged step <= 0.1, class means 0.067 / 0.048), 0.003 / 0.004 at step 3000 (class
  means 0.005 / 0.004).
  float32: cross-entropy is computed as softplus(logsumexp_{j≠y}(z_j − z_y))
  (dynamics/losses.py), exact at large margins, and normalised GD rescales by the largest
  gradient entry before taking the norm, so the direction stays exact until the smallest margin
  passes ~85; then every per-sample gradient underflows to 0 and the normalised step is 0, so
  training stops by itself (near step 3000 here: loss 8e-37; with η = 0.05 near step 700).
- Square loss with weight decay λ = 0.04 on W and on every feature (imbalanced, no bias): the
  Grams reach the closed-form minimiser (theory.collapse.ufm_square_loss, an orthogonal frame
  with class-dependent norms): distance 6e-4 (W) / 2e-3 (means) at step 305, < 1e-5 at 1272.
- Weight decay and minority collapse: 2 majority + 2 minority classes, N = 2000, λ = 0.00477,
  GD lr 3: the minority classifiers' cosine grows with the imbalance ratio R and is 1 from the
  predicted threshold R* = 9.99 on (theory.collapse.regularized_ufm_collapse_threshold: collapse
  iff n_minor <= N² λ_W λ_H), and it equals the numerically solved optimum
  (theory.collapse.regularized_ufm_minority_cosine): |gap| <= 2e-4 at R <= 8 and R >= 12; near
  R* convergence slows down (gap 0.004 at R = 9, 0.023 at R = 9.99 after 3000 steps). Once the
  minority classifiers coincide their samples can no longer be told apart: training accuracy
  0.97-0.99 for R >= 16.

Optimizer weight decay applies to all parameters, so λ_W = λ_H = λ (separate values are not
supported; theory is evaluated at λ_W = λ_H). The per-class-feature members carry multiplicity
(dynamics/data/ufm.py), which makes them exactly per-sample GD with collapsed features.

agreement.csv (final records against dynamics.predict.collapse, tolerances from the tests): 28 of
29 rows within tolerance; the one outside is the member at R = 9.99, right at R* (gap 0.023 >
0.01). Small variant: all 16 rows within (worst error / tolerance 0.36: balanced, no weight decay).

Run:     python -m dynamics.main --config=configs/collapse_ufm.py --workdir=runs/collapse_ufm
Small:   python -m dynamics.main --config=configs/collapse_ufm.py:small --workdir=/tmp/collapse_ufm_small
         (seed 0, 1500 steps, normalised GD at η = 0.05 for SELI, six ratios: tests, notebook,
         figures --small)
Runtime: 29 s wall, 34 s CPU measured with dynamics.main on the 2-core CPU at load ~1.5 (4
         compiled groups, 19 members, 3000 full-batch steps; ~12 s CPU of it solves the two-group
         optimum for agreement.csv, a few more the theory curve of the minority figure); about 2
         minutes at load ~8. Small: 20 s wall, 20 s CPU (load ~2).
No paper variant: the claims are properties of the UFM's optimum and of its GD path at any C <= d + 1,
checked against theory/collapse.py; the papers' size-bearing experiments train deep networks on image
datasets, not this model.
"""
from dynamics import config, sweep

WEIGHT_DECAY = 0.00477  # minority-collapse members: R* = (1/(N λ²) − K_B)/K_A ≈ 10 at N = 2000
RATIOS = [1.0, 2.0, 4.0, 6.0, 8.0, 9.0, 10.0, 11.0, 12.0, 16.0, 24.0, 40.0]  # n_A / n_B, dense near R*
SMALL_RATIOS = [1.0, 2.0, 5.0, 12.0, 16.0, 24.0]  # small: both sides of R* ≈ 10 (R = 8 needs more than 1500 steps)


def get_config(variant=""):
    c = config.defaults(data="ufm", model="ufm")  # logits = W h, h = Uᵀ x, both trained, no bias; C = 4, N = 20
    c.model.init_scale = 0.1  # multiplies the N(0, 1/d) initial entries of U and W: start near 0
    c.optimizer.learning_rate = 1.0  # step size η (step length for normalized_gd); set per experiment below
    c.train.num_steps = 3000  # optimizer steps (shared by every member)
    c.train.chunk_steps = 1000  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 30  # records taken at this many log-spaced steps
    c.train.extra_metrics = ("neural_collapse",)  # NC1-NC4, minority cosine, ETF distances, Grams
    c.figures = ("collapse_ufm_geometry", "collapse_ufm_minority")  # dynamics.plots.FIGURES
    if config.variant(variant, ("small",)) == "small":
        c.train.num_steps = 1500  # minority members reach the optimum to 1e-4 away from R*
        c.train.chunk_steps = 1500  # one compiled scan
        c.train.num_log_points = 20  # log-spaced records
    return c


def get_sweep(variant=""):
    """Five experiments, chained; members whose data differ only in values are vmapped together.

    small: seed 0 only, normalised GD at η = 0.05 for SELI (it reaches SELI, and float32
    saturation, by step ~700 instead of ~3000) and six imbalance ratios."""
    small = variant == "small"

    def fixed(settings):
        return [sweep.axis(key, [value]) for key, value in settings.items()]

    seeds = sweep.axis("seed", [0] if small else [0, 1])
    balanced = sweep.product(*fixed({"data.law": "uniform", "data.num_samples": 20}),
                             sweep.axis("optimizer.weight_decay", [0.0, 0.005]), seeds)
    seli = sweep.product(*fixed({"data.law": "zipf", "data.num_samples": 28, "optimizer.name": "normalized_gd",
                                 "optimizer.learning_rate": 0.05 if small else 0.0125}), seeds)
    square = sweep.product(*fixed({"data.law": "zipf", "data.num_samples": 28, "loss.name": "square",
                                   "optimizer.weight_decay": 0.04, "model.init_scale": 1.0}))
    minority = sweep.product(*fixed({"data.law": "two_group", "data.num_samples": 2000, "data.features": "per_class",
                                     "optimizer.learning_rate": 3.0, "optimizer.weight_decay": WEIGHT_DECAY,
                                     "model.init_scale": 1.0}),
                             sweep.axis("data.ratio", SMALL_RATIOS if small else RATIOS))
    return sweep.chain(balanced, seli, square, minority)

"""Neural-collapse geometry of the unconstrained-features model (UFM), simulation against theory.

Claims reproduced (theory in theory/collapse.py, figures in dynamics/plots/collapse.py); numbers
measured with this file as it is (C = 4, d = 8, full batch, float32):
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

Run:     python -m dynamics.main --config=configs/collapse_ufm.py --workdir=runs/collapse_ufm
Runtime: about 2 minutes measured on the shared 2-core CPU at load ~8 (4 compiled groups, 19
         members, 3000 full-batch steps; ~20 s of it solves the theory curve of the minority figure).
"""
import ml_collections

from dynamics import sweep

WEIGHT_DECAY = 0.00477  # minority-collapse members: R* = (1/(N λ²) − K_B)/K_A ≈ 10 at N = 2000
RATIOS = [1.0, 2.0, 4.0, 6.0, 8.0, 9.0, 10.0, 11.0, 12.0, 16.0, 24.0, 40.0]  # n_A / n_B, dense near R*


def get_config():
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation randomness of each member

    c.data = ml_collections.ConfigDict()
    c.data.name = "ufm"  # one-hot inputs that make the ufm model the unconstrained-features model
    c.data.law = "uniform"  # zipf | step_zipf | two_class | uniform | two_group
    c.data.num_classes = 4  # C (every member must have the same C)
    c.data.num_samples = 20  # N
    c.data.exponent = 2.0  # Zipf exponent (law=zipf only)
    c.data.ratio = 10.0  # majority/minority count ratio (two_class, two_group)
    c.data.minority_classes = 2  # K_B, the number of minority classes (two_group only)
    c.data.features = "per_sample"  # per_sample: h_i free; per_class: h tied within a class, with multiplicity

    c.model = ml_collections.ConfigDict()
    c.model.name = "ufm"  # logits = W h, h = Uᵀ x, both trained; no bias
    c.model.feature_dim = 8  # d >= C − 1 (SELI and the ETF need C − 1 dimensions)
    c.model.init_scale = 0.1  # multiplies the N(0, 1/d) initial entries of U and W

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "cross_entropy"  # cross_entropy | square
    c.loss.reweight_exponent = 0.0  # class weights ∝ π_k^-p (0: plain loss; SELI assumes 0)
    c.loss.logit_adjustment = 0.0  # τ in logits + τ log π (0: none)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "gd"  # gd | normalized_gd | ... (see dynamics/optimizers.py)
    c.optimizer.learning_rate = 1.0  # step size η (step length for normalized_gd)
    c.optimizer.momentum = 0.0  # heavy_ball / sign momentum (unused here)
    c.optimizer.b1 = 0.9  # adam(w) first-moment decay (unused here)
    c.optimizer.b2 = 0.999  # adam(w) second-moment decay (unused here)
    c.optimizer.eps = 1e-8  # adam(w) denominator offset (unused here)
    c.optimizer.weight_decay = 0.0  # λ = λ_W = λ_H: GD on L + λ/2 (‖W‖² + Σ_i ‖h_i‖²)
    c.optimizer.schedule = "constant"  # constant | warmup | cosine
    c.optimizer.warmup_steps = 0  # linear warmup length (warmup, cosine)

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 3000  # optimizer steps (shared by every member)
    c.train.batch_size = 0  # 0: full batch
    c.train.chunk_steps = 1000  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 30  # records taken at this many steps
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # not needed here
    c.train.extra_metrics = ("neural_collapse",)  # NC1-NC4, minority cosine, ETF/SELI distances, Grams
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)
    c.train.matmul_precision = "float32"  # float32 | high | bfloat16 (dynamics/config.py)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "none"  # every member is shown
    c.select.metric = "loss"  # unused with rule none

    c.figures = ("collapse_ufm_geometry", "collapse_ufm_minority")  # dynamics.plots.FIGURES
    return c


def get_sweep():
    """Five experiments, chained; members whose data differ only in values are vmapped together."""
    def fixed(settings):
        return [sweep.axis(key, [value]) for key, value in settings.items()]

    balanced = sweep.product(*fixed({"data.law": "uniform", "data.num_samples": 20}),
                             sweep.axis("optimizer.weight_decay", [0.0, 0.005]), sweep.axis("seed", [0, 1]))
    seli = sweep.product(*fixed({"data.law": "zipf", "data.num_samples": 28, "optimizer.name": "normalized_gd",
                                 "optimizer.learning_rate": 0.0125}),
                         sweep.axis("seed", [0, 1]))
    square = sweep.product(*fixed({"data.law": "zipf", "data.num_samples": 28, "loss.name": "square",
                                   "optimizer.weight_decay": 0.04, "model.init_scale": 1.0}))
    minority = sweep.product(*fixed({"data.law": "two_group", "data.num_samples": 2000, "data.features": "per_class",
                                     "optimizer.learning_rate": 3.0, "optimizer.weight_decay": WEIGHT_DECAY,
                                     "model.init_scale": 1.0}),
                             sweep.axis("data.ratio", RATIOS))
    return sweep.chain(balanced, seli, square, minority)

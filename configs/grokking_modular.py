"""Grokking on modular addition (Power et al. 2022, "Grokking: Generalization Beyond Overfitting on
Small Algorithmic Datasets"; Nanda et al. 2023, "Progress Measures for Grokking via Mechanistic
Interpretability"): an MLP on token embeddings, trained full batch by AdamW with weight decay on a
fraction of the pairs (a, b) of Z_97, fits them long before it generalises; meanwhile the weight norm
falls and the token embedding concentrates on a few Fourier frequencies of Z_97.

Measured (seed 0): train accuracy >= 99% at step 35, test accuracy >= 99% at step 484: grokking
time 449 steps (members.csv), 13x the time to fit; the weight norm peaks at ~86 (step ~60) and
falls to 62; the key-frequency fraction (top 6 of 48 frequencies) goes 0.14 -> 0.85, the embedding
ending on 7 frequencies {4, 7, 9, 20, 21, 26, 43}. Nanda et al.'s progress measures
(dynamics.metrics.grokking.progress_measures; key set = the current model's neurons' dominant
frequencies): no key frequency before step 368 (restricted loss 4.6, excluded = train loss); at
step 403 key set {4, 7, 20, 21, 43}, restricted 0.28, excluded 0.49 (train 0.0008, test 0.96); at
484 restricted 0.024, excluded 1.39 (test 0.074); at 1200 the 7 embedding frequencies (8-14% of
the 256 neurons each) plus 12 (2.3%), restricted 7e-6, excluded 3.2 while the train loss is 1e-6.
The logits' share in the final key set's waves (logit_frequency_share, the paper's final-set view)
grows ahead of generalisation: 0.005 at step 103, 0.05 at 213, 0.20 at 307, 0.56 at 403, 0.98 at 1200.
Seeds 1, 2 (init and split): see the README. Nanda et al.'s one-layer transformer:
configs/grokking_modular_transformer.py.

Run:     python -m dynamics.main --config=configs/grokking_modular.py --workdir=/tmp/grokking_modular
Runtime: 31 s on the shared 2-core CPU (dynamics.figures, both modular configs: 54 s of CPU),
         1200 full-batch steps.
"""
import ml_collections


def get_config():
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation randomness

    c.data = ml_collections.ConfigDict()
    c.data.name = "modular_arithmetic"  # all pairs (a, b) of Z_p, label a ∘ b mod p
    c.data.p = 97  # the modulus (a prime)
    c.data.operation = "add"  # add | subtract | multiply | divide | quadratic (a² + ab + b²: no Fourier metrics)
    c.data.train_fraction = 0.4  # fraction of the p² pairs used for training; the rest is the test set
    c.data.zipf_exponent = 0.0  # 0: a uniformly random split; s > 0: Zipfian training set over the output
    c.data.seed = 0  # the split's own seed

    c.model = ml_collections.ConfigDict()
    c.model.name = "embed_mlp"  # embed_mlp | modular_transformer
    c.model.embed_dim = 128  # token embedding width
    c.model.hidden_dim = 256  # hidden ReLU layer width
    c.model.combine = "concat"  # concat | sum: how the embeddings of a and b are combined
    c.model.init_scale = 1.0  # multiplies flax's default initialisation

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "cross_entropy"  # cross_entropy | square
    c.loss.reweight_exponent = 0.0  # class weights ∝ π_k^-p (0: plain loss)
    c.loss.logit_adjustment = 0.0  # τ in logits + τ log π (0: none)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adamw"  # gd | heavy_ball | adam | adamw | sign | normalized_gd | per_class_normalized_gd
    c.optimizer.learning_rate = 1e-2  # step size η
    c.optimizer.momentum = 0.0  # heavy_ball's β, and sign's EMA β
    c.optimizer.b1 = 0.9  # adamw first-moment decay
    c.optimizer.b2 = 0.98  # adamw second-moment decay (Nanda et al. use 0.98)
    c.optimizer.eps = 1e-8  # adamw denominator offset
    c.optimizer.weight_decay = 1.0  # λ, decoupled: θ ← θ − η(adam direction + λθ)
    c.optimizer.schedule = "constant"  # constant | warmup | cosine
    c.optimizer.warmup_steps = 0  # linear warmup length (warmup, cosine)

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 1200  # full-batch optimizer steps
    c.train.batch_size = 0  # 0: full batch (Power et al. and Nanda et al. train full batch)
    c.train.chunk_steps = 200  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 80  # log-spaced records (fit and generalisation steps are read off them)
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # per-class gradient norms (not needed here)
    c.train.extra_metrics = ("key_frequencies", "progress_measures")  # embedding spectrum; Nanda et al.'s measures
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "none"  # none | best_lr
    c.select.metric = "loss"  # unused with rule none

    c.figures = ("grokking_modular",)  # names from dynamics.plots.FIGURES
    return c

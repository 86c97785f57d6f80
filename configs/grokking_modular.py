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
Small:   python -m dynamics.main --config=configs/grokking_modular.py:small --workdir=/tmp/grokking_modular_small   (tests, notebooks, figures --small)
Runtime: 31 s on the shared 2-core CPU (dynamics.figures, both modular configs: 54 s of CPU),
         1200 full-batch steps.
         small: 9.6 s of CPU (dynamics.main).
Paper:   python -m dynamics.main --config=configs/grokking_modular.py:paper --workdir=DIR
         (meant for an accelerator; not run here): Power et al.'s optimisation (their app. A.1: AdamW at
         1e-3, β2 0.98, λ = 1, 10 warmup steps, minibatches of min(512, half the training set) = 512,
         10^5 steps) on p = 97 with the default's 40% of the pairs. Still this MLP: Power et al.'s 2-layer
         transformer is not in the library (the paper's own model and size: grokking_modular_transformer.py:paper).
"""
from dynamics import config


def get_config(variant=""):
    c = config.defaults(data="modular_arithmetic", model="embed_mlp")  # Z_97 addition, 40% of pairs; MLP 128/256
    c.optimizer.name = "adamw"  # AdamW, as in Power et al. and Nanda et al.
    c.optimizer.learning_rate = 1e-2  # step size η
    c.optimizer.b2 = 0.98  # second-moment decay (Nanda et al. use 0.98)
    c.optimizer.weight_decay = 1.0  # λ, decoupled: θ ← θ − η(adam direction + λθ); grokking needs it
    c.train.num_steps = 1200  # full-batch steps (Power et al. and Nanda et al. train full batch)
    c.train.chunk_steps = 200  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 80  # log-spaced records (fit and generalisation steps are read off them)
    c.train.extra_metrics = ("key_frequencies", "progress_measures")  # embedding spectrum; Nanda et al.'s measures
    c.figures = ("grokking_modular",)  # accuracy, weight norm, key frequencies, spectrum, progress measures
    if config.variant(variant, ("small", "paper")) == "paper":  # Power et al. 2022, app. A.1 (optimisation)
        c.optimizer.learning_rate = 1e-3  # lr 10^-3
        c.optimizer.schedule = "warmup"  # linear learning-rate warmup, then constant
        c.optimizer.warmup_steps = 10  # over the first 10 updates
        c.train.batch_size = 512  # min(512, |train| / 2) with |train| = 0.4 x 97² = 3764
        c.train.num_steps = 100000  # 10^5 optimization steps
        c.train.chunk_steps = 5000  # steps per compiled scan
        c.train.num_log_points = 120  # log-spaced records over 10^5 steps
    if variant == "small":  # tests/test_grokking_claims.py's instance
        c.data.p = 31  # Z_31: 961 pairs
        c.data.train_fraction = 0.5  # 480 training pairs (at 0.4 of Z_31 it groks later)
        c.model.embed_dim = 64  # smaller MLP
        c.model.hidden_dim = 128  # smaller MLP
        c.optimizer.learning_rate = 0.03  # groks within 1200 steps (seeds 0-5: at steps 526-1018)
        c.train.chunk_steps = 600  # two compiled chunks
        c.train.num_log_points = 45  # fewer records
    return c

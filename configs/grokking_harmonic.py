"""Harmonic loss against grokking (Baek, Liu, Tyagi, Tegmark 2025, "Harmonic Loss Trains Interpretable AI
Models", Sec. 3, Fig. 3c: harmonic models show less grokking). Baek et al.'s MLP (dynamics.models.harmonic.
bottleneck_mlp) on modular addition in Z_31, trained as configs/grokking_modular.py:small (half the pairs,
full-batch AdamW, lr 0.03, weight decay 1), once with the Dense head and cross-entropy and once with the
harmonic head and loss (p_k ∝ ||w_k - h||^-n) at the exponents their code suggests (n' = 1, √D, D on the
squared distance, D = 16: n = 2, 8, 32 on the distance), 8 seeds each (init and split).

Measured (seeds 0-7; grokking time = generalisation step - fit step at 99% accuracy, predict.grokking):
see the README's reproduction table (filled from members.csv of the run below).

Run:     python -m dynamics.main --config=configs/grokking_harmonic.py --workdir=/tmp/grokking_harmonic
Small:   python -m dynamics.main --config=configs/grokking_harmonic.py:small --workdir=/tmp/grokking_harmonic_small   (tests, notebooks, figures --small)
Runtime: see the README (CPU seconds, measured under load).
"""
from dynamics import config, sweep

SEEDS = tuple(range(8))  # init seed = data split seed
EXPONENTS = (0.0, 2.0, 8.0, 32.0)  # 0: Dense head + cross-entropy; n > 0: harmonic head + loss


def get_config(variant=""):
    c = config.defaults(data="modular_arithmetic", model="bottleneck_mlp")  # Baek et al.'s MLP: 16-wide embedding, SiLU 100
    c.data.p = 31  # Z_31, the modulus of Baek et al.'s modular addition
    c.data.train_fraction = 0.5  # 480 training pairs, as grokking_modular:small
    c.optimizer.name = "adamw"  # AdamW, as Baek et al. and grokking_modular
    c.optimizer.learning_rate = 0.03  # as grokking_modular:small
    c.optimizer.b2 = 0.98  # as grokking_modular
    c.optimizer.weight_decay = 1.0  # as grokking_modular: cross-entropy groks within the budget
    c.train.num_steps = 1200  # full-batch steps
    c.train.chunk_steps = 600  # two compiled chunks
    c.train.num_log_points = 100  # log-spaced records, dense enough to catch the harmonic runs' brief peak
    c.train.extra_metrics = ("key_frequencies",)  # Fourier concentration of the token embedding
    c.figures = ("grokking_harmonic",)  # train/test accuracy per seed for each head; fit vs generalisation step
    if config.variant(variant, ("small",)) == "small":  # tests/test_harmonic_claims.py's instance
        c.train.num_steps = 500  # cross-entropy generalises by step 500 on seeds 0-2
        c.train.chunk_steps = 500  # one compiled chunk
        c.train.num_log_points = 80  # at 40 the log grid missed one harmonic seed's peak (seeds 0-5)
        c.train.extra_metrics = ()  # accuracy only
    return c


def get_sweep(variant=""):
    exponents = (0.0, 8.0) if variant == "small" else EXPONENTS  # small: cross-entropy and n = 2√D only
    seeds = SEEDS[:3] if variant == "small" else SEEDS
    return sweep.product(sweep.axis("model.harmonic_exponent", exponents),
                         sweep.zip(sweep.axis("seed", seeds), sweep.axis("data.seed", seeds)))

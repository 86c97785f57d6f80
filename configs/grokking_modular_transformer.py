"""Grokking on modular addition with Nanda et al.'s one-layer transformer (Nanda et al. 2023,
"Progress Measures for Grokking via Mechanistic Interpretability", Sec. 3: tokens "a b =", one
attention and one ReLU-MLP block, no layer norm; AdamW with weight decay 1, full batch) — the
transformer version of configs/grokking_modular.py, on Z_31 so that it runs on a CPU.

Training fraction 0.7 rather than Nanda et al.'s 0.3: at p = 31 (their p = 113 does not run on a CPU)
grokking within 1500 steps needs more of the 961 pairs. Measured over seeds 0-5 (init and split):
at 0.5, seed 0 generalises (step 708) but seeds 1 and 2 do not within 1500 steps (seed 1 not
within 3000); at 0.7, seeds 0, 1, 3, 4, 5 generalise at steps 587, 645, 855, 679, 750 and seed 2
stalls at test loss ~0.2 on two key frequencies (2500 steps).

Measured (seed 0): train accuracy >= 99% at step 56, test accuracy >= 99% at step 587 (grokking
time 531 steps); test accuracy sits near 0.65 from the fit to step ~200 (about the share of test
pairs (a, b) whose swap (b, a) is a training pair: addition is commutative); the key-frequency
fraction (top 6 of 15 frequencies) goes 0.45 -> 0.98, the embedding ending on {7, 11, 12}.
Nanda et al.'s progress measures (key set = the current model's neurons' dominant frequencies):
{7} from the fit (step 56) to step 535 (restricted loss 2.1 -> 1.5: the other two frequencies are
not yet in the set), {7, 11, 12} from step 587 (39%, 25%, 19% of the 256 neurons); restricted loss
1e-5 at 587 and 5e-8 at 1500; excluded loss 3.2 at the fit, 6.5 at 587, 5.2 at 1500 while the
train loss is 5e-8. The logits' share in the final key set's waves: 0.65 at the fit, 0.85 at
404, 0.93 at 587, 0.98 at 1500.

Run:     python -m dynamics.main --config=configs/grokking_modular_transformer.py --workdir=/tmp/grokking_modular_transformer
Small:   python -m dynamics.main --config=configs/grokking_modular_transformer.py:small --workdir=/tmp/grokking_modular_transformer_small   (tests, notebooks, figures --small)
Runtime: 32 s on the shared 2-core CPU (dynamics.figures), 1500 full-batch steps.
         small: 15.9 s of CPU (dynamics.main).
Paper:   python -m dynamics.main --config=configs/grokking_modular_transformer.py:paper --workdir=DIR
         (meant for an accelerator; not run here): Nanda et al.'s own setting: p = 113, 30% of the pairs,
         d_model 128, d_mlp 512, AdamW at 1e-3 (β2 0.98, λ = 1), 40000 full-batch steps, seeds 0-4
         (initialisation and split together; their runs fix data seed 598 and model seed 999).
"""
from dynamics import config, sweep


def get_config(variant=""):
    c = config.defaults(data="modular_arithmetic", model="modular_transformer")  # Nanda et al.'s transformer
    c.data.p = 31  # the modulus (Nanda et al.: 113, which does not run on a CPU)
    c.data.train_fraction = 0.7  # Nanda et al.: 0.3 of 113²; at p = 31 grokking in 1500 steps needs more (docstring)
    c.model.model_dim = 64  # residual stream width (Nanda et al.: 128; CPU)
    c.model.mlp_dim = 256  # MLP hidden width (Nanda et al.: 512; CPU)
    c.optimizer.name = "adamw"  # AdamW, as in Nanda et al.
    c.optimizer.learning_rate = 3e-3  # step size η (Nanda et al.: 1e-3; fewer steps here)
    c.optimizer.b2 = 0.98  # second-moment decay (Nanda et al. use 0.98)
    c.optimizer.weight_decay = 1.0  # λ, decoupled, as in Nanda et al.
    c.train.num_steps = 1500  # full-batch steps (Nanda et al. train full batch)
    c.train.chunk_steps = 250  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 80  # log-spaced records (fit and generalisation steps are read off them)
    c.train.extra_metrics = ("key_frequencies", "progress_measures")  # embedding spectrum; Nanda et al.'s measures
    c.figures = ("grokking_modular",)  # the modular figure, as for the MLP
    if config.variant(variant, ("small", "paper")) == "paper":  # Nanda et al. 2023, Sec. 3 and app. (the README row's values)
        c.data.p = 113  # P = 113
        c.data.train_fraction = 0.3  # 30% of the 113² pairs for training
        c.model.model_dim = 128  # d_model = 128 (4 heads of 32)
        c.model.mlp_dim = 512  # d_mlp = 512
        c.optimizer.learning_rate = 1e-3  # lr = 1e-3
        c.train.num_steps = 40000  # 40k full-batch epochs
        c.train.chunk_steps = 2000  # steps per compiled scan
        c.train.num_log_points = 120  # log-spaced records over 40k steps
    if variant == "small":  # the figure's layout in seconds (it fits, does not grok)
        c.train.num_steps = 300  # past the fit (step ~56)
        c.train.chunk_steps = 300  # one compiled chunk
        c.train.num_log_points = 30  # fewer records
    return c


def get_sweep(variant=""):
    """One member; paper: Nanda et al.'s five seeds (here seed = data.seed = 0..4: initialisation and split;
    all in one vmapped program)."""
    if variant == "paper":
        return sweep.zip(sweep.axis("seed", range(5)), sweep.axis("data.seed", range(5)))
    return [{}]

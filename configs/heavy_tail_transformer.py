"""Kunstner et al. 2024, "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent
on Language Models", fig. 1: a decoder-only transformer on next-token prediction. Under GD the
loss of the rare tokens barely moves while the frequent ones are learned; under Adam every
frequency bucket goes down.

Data: an order-1 Markov chain whose unigram law is English's (wordfreq's top 1000 words + <unk>;
see dynamics/data/text.py), so the next-token classes are heavy-tailed like real text.

Run:     python -m dynamics.main --config=configs/heavy_tail_transformer.py --workdir=/tmp/heavy_tail_transformer
Runtime: 1.8 min of CPU time on a 2-core CPU (GD and Adam x 2 learning rates, 300 full-batch
         steps on 64 windows of 32 tokens, a 2-layer width-32 model; 30 warmup steps); measured
         7.4 min wall-clock while the machine was shared (load average ~7).
Paper-like sizes for an accelerator (10 000-word vocabulary, 4 layers of width 256, 1024 windows
of 256 tokens, minibatch SGD (64 windows) vs Adam, 5000 steps; not run here: no accelerator;
the full-batch records hold [1024, 256, 10001] logits, about 10 GB):
         python -m dynamics.main --config=configs/heavy_tail_transformer.py:paper --workdir=DIR
"""
import ml_collections

from dynamics import sweep

SCALES = ("cpu", "paper")


def get_config(scale: str = "cpu"):
    """scale: 'cpu' (default) or 'paper', given as configs/heavy_tail_transformer.py:paper."""
    scale = scale or "cpu"
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid choices: {', '.join(SCALES)}")
    paper = scale == "paper"
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation (and minibatch) randomness of each member

    c.data = ml_collections.ConfigDict()
    c.data.name = "wordfreq_markov"  # wordfreq_markov | local_text | cached_text
    c.data.vocab_size = 10000 if paper else 1000  # top-V English words (+ <unk>): V+1 classes
    c.data.seq_len = 256 if paper else 32  # T: tokens per window (the model's context)
    c.data.num_sequences = 1024 if paper else 64  # N windows (N*T labels; records take full-batch logits [N, T, V+1])
    c.data.num_test_sequences = 0  # held-out windows from the same chain (0: none)
    c.data.unigram_mix = 0.3  # α: probability a token is drawn afresh from the unigram law
    c.data.num_successor_maps = 4  # K random successor maps of the Markov chain
    c.data.seed = 0  # the data's own seed, fixed across members

    c.model = ml_collections.ConfigDict()
    c.model.name = "transformer"  # decoder-only, causal, pre-LayerNorm
    c.model.width = 256 if paper else 32  # D: embedding / residual width
    c.model.depth = 4 if paper else 2  # number of blocks
    c.model.num_heads = 4 if paper else 2  # attention heads (D divisible by it)
    c.model.mlp_ratio = 4  # MLP hidden width = mlp_ratio * D
    c.model.positions = "learned"  # learned | rotary
    c.model.tie_embeddings = False  # True: the output layer is the input embedding
    c.model.init_scale = 1.0  # multiplies the default initialisation

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "cross_entropy"  # cross_entropy | square
    c.loss.reweight_exponent = 0.0  # class weights ∝ π_k^-p (0: plain loss)
    c.loss.logit_adjustment = 0.0  # τ in logits + τ log π (0: none)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "gd"  # gd | heavy_ball | adam | adamw | sign | normalized_gd | per_class_normalized_gd
    c.optimizer.learning_rate = 0.1  # peak step size η (swept below)
    c.optimizer.momentum = 0.0  # heavy_ball's β, and sign's EMA β
    c.optimizer.b1 = 0.9  # adam(w) first-moment decay
    c.optimizer.b2 = 0.999  # adam(w) second-moment decay
    c.optimizer.eps = 1e-8  # adam(w) denominator offset
    c.optimizer.weight_decay = 0.0  # λ (coupled for adam, decoupled otherwise)
    c.optimizer.schedule = "warmup"  # constant | warmup | cosine
    c.optimizer.warmup_steps = 500 if paper else 30  # linear warmup length (warmup, cosine)

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 5000 if paper else 300  # optimizer steps
    c.train.batch_size = 64 if paper else 0  # 0: full batch (GD); >0: SGD minibatches of that many windows
    c.train.chunk_steps = 250 if paper else 50  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 24 if paper else 16  # records taken at this many steps
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # needs one label per sample; off for sequences
    c.train.extra_metrics = ()  # names from dynamics.metrics.EXTRA_METRICS
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)
    c.train.matmul_precision = "float32"  # float32 | high | bfloat16 (dynamics/config.py)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "best_lr"  # none | best_lr: per optimizer, the lr with the lowest final metric
    c.select.metric = "loss"  # a scalar record: loss | mean_loss | accuracy | ...

    c.figures = ("heavy_tail_buckets",)  # names from dynamics.plots.FIGURES
    return c


def get_sweep():
    """GD and Adam, each over its own learning-rate grid (vmapped: one program per optimizer)."""
    def grid(name, rates):
        return sweep.product(sweep.axis("optimizer.name", [name]), sweep.axis("optimizer.learning_rate", rates))

    return sweep.chain(grid("gd", [0.3, 1.0]), grid("adam", [3e-3, 1e-2]))

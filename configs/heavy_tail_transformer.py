"""Kunstner et al. 2024, "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent
on Language Models", fig. 1: a decoder-only transformer on next-token prediction. Under GD the
loss of the rare tokens barely moves while the frequent ones are learned; under Adam every
frequency bucket goes down.

Data: an order-1 Markov chain whose unigram law is English's (wordfreq's top 1000 words + <unk>;
see dynamics/data/text.py), so the next-token classes are heavy-tailed like real text.

Run:     python -m dynamics.main --config=configs/heavy_tail_transformer.py --workdir=/tmp/heavy_tail_transformer
Small:   python -m dynamics.main --config=configs/heavy_tail_transformer.py:small --workdir=/tmp/heavy_tail_transformer_small
         (300 words, 32 windows of 8 tokens, 1 block of width 16, 60 constant-rate steps, GD at lr 1 and Adam at
         1e-2: tests, figures --small)
Runtime: 1.8 min of CPU time on a 2-core CPU (GD and Adam x 2 learning rates, 300 full-batch
         steps on 64 windows of 32 tokens, a 2-layer width-32 model; 30 warmup steps); measured
         7.4 min wall-clock while the machine was shared (load average ~7).
Paper-like sizes for an accelerator (10 000-word vocabulary, 4 layers of width 256, 1024 windows
of 256 tokens, minibatch SGD (64 windows) vs Adam, 5000 steps; not run here: no accelerator;
the full-batch records hold [1024, 256, 10001] logits, about 10 GB):
         python -m dynamics.main --config=configs/heavy_tail_transformer.py:paper --workdir=DIR
"""
from dynamics import config, sweep


def get_config(variant=""):
    config.variant(variant, ("small", "paper"))
    c = config.defaults(data="wordfreq_markov", model="transformer")  # 1000 words, 64 windows of 32; 2 blocks of width 32
    c.optimizer.schedule = "warmup"  # linear warmup, then constant
    c.optimizer.warmup_steps = 30  # warmup length
    c.train.num_steps = 300  # full-batch steps
    c.train.chunk_steps = 50  # steps per compiled scan
    c.train.num_log_points = 16  # records
    c.select.rule = "best_lr"  # per optimizer, the stable lr with the lowest worst tail loss
    c.figures = ("heavy_tail_buckets",)  # loss per token-frequency bucket
    if variant == "paper":
        c.data.vocab_size = 10000  # top-V English words (+ <unk>)
        c.data.seq_len = 256  # T: tokens per window
        c.data.num_sequences = 1024  # N windows
        c.model.width = 256  # D
        c.model.depth = 4  # blocks
        c.model.num_heads = 4  # heads
        c.optimizer.warmup_steps = 500  # warmup length
        c.train.num_steps = 5000  # optimizer steps
        c.train.batch_size = 64  # minibatch SGD of 64 windows
        c.train.chunk_steps = 250  # steps per compiled scan
        c.train.num_log_points = 24  # records
    if variant == "small":  # tests/test_heavy_tail_claims.py's measured setting
        c.data.vocab_size = 300  # 300 words (+ <unk>)
        c.data.seq_len = 8  # T
        c.data.num_sequences = 32  # N windows
        c.model.width = 16  # D
        c.model.depth = 1  # one block
        c.model.mlp_ratio = 2  # MLP hidden width 32
        c.optimizer.schedule = "constant"  # no warmup in 60 steps
        c.train.num_steps = 60  # optimizer steps
        c.train.chunk_steps = 60  # one compiled scan
        c.train.num_log_points = 12  # records
    return c


def get_sweep(variant=""):
    """GD and Adam, each over its own learning-rate grid (vmapped: one program per optimizer); small: the
    upper rate of each (sweep.thin's middle of two)."""
    def grid(name, rates):
        return sweep.product(sweep.axis("optimizer.name", [name]), sweep.axis("optimizer.learning_rate", rates))

    members = sweep.chain(grid("gd", [0.3, 1.0]), grid("adam", [3e-3, 1e-2]))
    return sweep.thin(members) if variant == "small" else members

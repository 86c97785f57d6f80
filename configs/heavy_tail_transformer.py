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
Paper:   python -m dynamics.main --config=configs/heavy_tail_transformer.py:paper --workdir=DIR \
             --config.data.path=PATH/TO/wiki.train.tokens
         (meant for an accelerator; not run here) fig. 1's setting as the authors' code gives it
         (bigger_models/gpt2small_wt103/): GPT2-Small (12 blocks of width 768, 12 heads, MLP 4x) on
         WikiText-103, read from the local text file the user points to (`local_text`, word level;
         nothing is downloaded), windows of 1024 tokens, SGD with momentum 0.9 at 10^-2 against Adam at
         10^-4.5, constant step sizes, 15000 steps, seed 0. Where it still differs, and why: a word
         vocabulary of the 10000 most frequent words + <unk> (theirs: a SentencePiece BPE model whose
         size their code does not state; no BPE here); 512 training windows (0.5M tokens, not the whole
         corpus) and minibatches of 32 windows for both optimizers (theirs: 256 for SGD, 512 for Adam, by
         gradient accumulation over 2 GPUs, which this trainer does not do), because every logged step
         evaluates all training windows at once (the [512, 1024, 10001] logits and their log-softmax
         alone take 39 GiB per member); learned positions (theirs sinusoidal); no dropout (theirs 0.1).
         local_text reads and tokenizes the whole file (WikiText-103: ~0.5 GB) before taking its windows.
         Memory: the planner's lower bound is 41-42 GiB per member; XLA's analysis of the compiled chunk
         (CPU backend, a stand-in text of the same shapes) gives 100 GiB per member (99 GiB temporaries):
         one member per device of ~140 GiB (measured when the two optimizers were two programs; they now share
         one, whose members also hold GD's step count).
"""
from dynamics import config, sweep


def get_config(variant=""):
    paper = config.variant(variant, ("small", "paper")) == "paper"
    c = config.defaults(data="local_text" if paper else "wordfreq_markov", model="transformer")  # 1000 words, 64 windows of 32; 2 blocks of width 32
    c.optimizer.schedule = "warmup"  # linear warmup, then constant
    c.optimizer.warmup_steps = 30  # warmup length
    c.train.num_steps = 300  # full-batch steps
    c.train.chunk_steps = 50  # steps per compiled scan
    c.train.num_log_points = 16  # records
    c.select.rule = "best_lr"  # per optimizer, the stable lr with the lowest worst tail loss
    c.figures = ("heavy_tail_buckets",)  # loss per token-frequency bucket
    if paper:  # Kunstner et al.'s fig. 1 (their bigger_models/gpt2small_wt103/); data.path: the user's WikiText-103 file
        c.data.vocab_size = 10000  # top-V words + <unk> (their SentencePiece BPE size is not in their code; docstring)
        c.data.seq_len = 1024  # T: their target_length (gpt2small_wt103_with_class_stats_long.py)
        c.data.max_sequences = 512  # training windows: the records evaluate all of them at every logged step (docstring)
        c.model.width = 768  # GPT2-Small's emb_dim (general_settings.py)
        c.model.depth = 12  # GPT2-Small's depth (general_settings.py)
        c.model.num_heads = 12  # GPT2-Small's num_heads (general_settings.py)
        c.optimizer.schedule = "constant"  # their LightningExperiment has no schedule
        c.optimizer.warmup_steps = 0  # no warmup (idem)
        c.train.num_steps = 15000  # their steps (gpt2small_wt103_with_class_stats_long.py)
        c.train.batch_size = 32  # windows per step (theirs 256 / 512 by gradient accumulation; docstring)
        c.train.chunk_steps = 500  # steps per compiled scan
        c.train.num_log_points = 40  # records
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
    """GD and Adam, each over its own learning-rate grid (vmapped: one program for both); small: the
    upper rate of each (sweep.thin's middle of two); paper: the authors' SGD with momentum and Adam runs."""
    def grid(name, rates):
        return sweep.product(sweep.axis("optimizer.name", [name]), sweep.axis("optimizer.learning_rate", rates))

    if variant == "paper":  # fig. 1's two runs: SGD_M at 10^-2 and Adam at 10^-4.5 (gpt2small_wt103_with_class_stats_long.py)
        return sweep.chain(sweep.product(grid("heavy_ball", [1e-2]), sweep.axis("optimizer.momentum", [0.9])),
                           grid("adam", [10**-4.5]))
    members = sweep.chain(grid("gd", [0.3, 1.0]), grid("adam", [3e-3, 1e-2]))
    return sweep.thin(members) if variant == "small" else members

"""Next-token prediction data with heavy-tailed token classes: real English word frequencies
(Kunstner et al. 2024, sec. 2: the frequency of tokens in language data is heavy-tailed).

Every builder returns x = token windows [N, T] and y = the next tokens [N, T]. Tokens are
frequency ranks (class 0 the most frequent); the vocabulary is the top `vocab_size` units plus one
unknown token, which takes the rank of its own (total) frequency. class_counts [V+1] counts the
labels y of the training split.

wordfreq_markov: a corpus sampled from a first-order Markov chain whose stationary law is exactly
the unigram law of English (the `wordfreq` package's frequencies, shipped with it, no download).
local_text: any UTF-8 text file, word- or byte-level.
cached_text: WikiText-2 or TinyStories from the Hugging Face `datasets` cache (never downloads).
"""
import functools
import importlib.util
import os

import numpy as np

from dynamics.data.dataset import Dataset
from dynamics.errors import ConfigError, check_choice, check_range

LEVELS = ("word", "byte")
CACHED_CORPORA = {  # name -> (Hugging Face dataset, configuration, text column)
    "wikitext2": ("wikitext", "wikitext-2-raw-v1", "text"),
    "tinystories": ("roneneldan/TinyStories", None, "text"),
}


def _check_int(name: str, value, low: int, high: int = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ConfigError(f"{name} must be an integer {bound}, got {value!r}")


@functools.lru_cache(maxsize=8)
def english_unigram_law(vocab_size: int) -> tuple:
    """(words [V+1], probs [V+1]) sorted by decreasing probability; the unknown word is '<unk>'.

    The top `vocab_size` English words of wordfreq keep their relative frequencies; '<unk>' gets
    the mass of every other word, 1 - Σ_top f_w / Σ_all f_w (0.29 for V = 1000, 0.08 for V = 10 000),
    and its rank follows from that mass (rank 0 for V = 1000). Ties keep wordfreq's order.
    """
    import wordfreq

    every = wordfreq.get_frequency_dict("en")
    words = wordfreq.top_n_list("en", vocab_size)
    if len(words) < vocab_size:
        raise ConfigError(f"data.vocab_size must be at most {len(words)} (wordfreq's English list), got {vocab_size}")
    freqs = np.array([every[w] for w in words], dtype=np.float64)
    total = float(sum(every.values()))
    unknown = max(total - freqs.sum(), 0.0)
    words, freqs = words + ["<unk>"], np.append(freqs, unknown) / total
    order = np.argsort(-freqs, kind="stable")
    return tuple(words[i] for i in order), freqs[order] / freqs.sum()


def successor_maps(num_classes: int, num_maps: int, rng) -> np.ndarray:
    """num_maps random orderings [K, C] of the classes; each lays the classes' intervals out anew."""
    return np.stack([rng.permutation(num_classes) for _ in range(num_maps)])


def transition_matrix(probs: np.ndarray, maps: np.ndarray, unigram_mix: float) -> np.ndarray:
    """The chain's dense transition matrix P [C, C] (for checks on small vocabularies).

    P(j | i) = α π_j + (1-α)/K Σ_k |I_i ∩ J^k_j| / π_i, where I_i is class i's interval of length
    π_i when the classes are laid on [0, 1) in rank order and J^k_j its interval in the order maps[k].
    Each map is a coupling of π with itself (the north-west corner / quantile coupling), so
    Σ_i π_i P(j | i) = α π_j + (1-α) π_j = π_j: π is stationary, exactly.
    """
    num = len(probs)
    lo, hi = np.concatenate([[0.0], np.cumsum(probs)[:-1]]), np.cumsum(probs)
    coupling = np.zeros((num, num))
    for order in maps:
        hi_k = np.cumsum(probs[order])
        lo_k = hi_k - probs[order]
        overlap = np.clip(np.minimum(hi[:, None], hi_k[None]) - np.maximum(lo[:, None], lo_k[None]), 0.0, None)
        coupling[:, order] += overlap / len(maps)
    return unigram_mix * probs[None, :] + (1.0 - unigram_mix) * coupling / probs[:, None]


def sample_markov(probs: np.ndarray, maps: np.ndarray, unigram_mix: float, num_sequences: int, length: int,
                  rng) -> np.ndarray:
    """Sequences [N, length] of the chain of `transition_matrix`, started from π (so every position has law π).

    A step from class i: with probability α draw afresh from π; otherwise pick a map k uniformly,
    a point u uniformly in I_i, and move to the class j whose interval J^k_j holds u.
    Rare classes (short I_i) thus have one or two successors per map; frequent ones spread over many.
    """
    num = len(probs)
    cum = np.cumsum(probs)
    cum_maps = np.cumsum(probs[maps], axis=1)

    def draw_unigram(size):
        return np.minimum(np.searchsorted(cum, rng.random(size) * cum[-1], side="right"), num - 1)

    out = np.empty((num_sequences, length), dtype=np.int32)
    out[:, 0] = draw_unigram(num_sequences)
    for t in range(1, length):
        current = out[:, t - 1]
        point = cum[current] - probs[current] * rng.random(num_sequences)
        which = rng.integers(0, len(maps), num_sequences)
        slot = np.minimum(_search_rows(cum_maps, which, point), num - 1)
        fresh = rng.random(num_sequences) < unigram_mix
        out[:, t] = np.where(fresh, draw_unigram(num_sequences), maps[which, slot])
    return out


def _search_rows(cum_maps: np.ndarray, which: np.ndarray, point: np.ndarray) -> np.ndarray:
    """searchsorted(cum_maps[which[n]], point[n], 'right') for every n, vectorised per map."""
    slot = np.empty(len(point), dtype=np.int64)
    for k in range(len(cum_maps)):
        sel = which == k
        slot[sel] = np.searchsorted(cum_maps[k], point[sel], side="right")
    return slot


def _windows(sequences: np.ndarray):
    return sequences[:, :-1].astype(np.int32), sequences[:, 1:].astype(np.int32)


def _label_counts(y: np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(y.reshape(-1), minlength=num_classes).astype(np.int64)


def wordfreq_markov(vocab_size: int = 1000, seq_len: int = 32, num_sequences: int = 64, num_test_sequences: int = 0,
                    unigram_mix: float = 0.3, num_successor_maps: int = 4, seed: int = 0) -> Dataset:
    """Token windows from an order-1 Markov chain whose unigram law is English's (wordfreq).

    Classes: the top `vocab_size` English words plus '<unk>', ranked by frequency
    (`english_unigram_law`). Chain: `transition_matrix` with α = unigram_mix (the probability a
    token is drawn afresh from the unigram law) and K = num_successor_maps random successor maps;
    its stationary law is the unigram law, and each sequence starts from it, so the tokens at
    every position follow the real frequencies. With V = 1000, α = 0.3 and K = 4 the unigram entropy
    is 4.44 nats and the chain's entropy rate 3.54 nats: the previous token carries 0.9 nats about
    the next one. x [N, seq_len] are tokens 0..T-1 of each
    sequence, y [N, seq_len] tokens 1..T. The test split (num_test_sequences > 0) is a fresh
    sample of the same chain.
    """
    _check_int("data.vocab_size", vocab_size, 2)
    _check_int("data.seq_len", seq_len, 1)
    _check_int("data.num_sequences", num_sequences, 1)
    _check_int("data.num_test_sequences", num_test_sequences, 0)
    _check_int("data.num_successor_maps", num_successor_maps, 1)
    check_range("data.unigram_mix", unigram_mix, 0.0, 1.0)
    _, probs = english_unigram_law(vocab_size)
    rng = np.random.default_rng(seed)
    maps = successor_maps(len(probs), num_successor_maps, rng)
    x, y = _windows(sample_markov(probs, maps, unigram_mix, num_sequences, seq_len + 1, rng))
    x_test = y_test = None
    if num_test_sequences:
        x_test, y_test = _windows(sample_markov(probs, maps, unigram_mix, num_test_sequences, seq_len + 1, rng))
    return Dataset(x=x, y=y, class_counts=_label_counts(y, len(probs)), x_test=x_test, y_test=y_test)


def tokenize(text: str, level: str) -> list:
    """Words (wordfreq's English tokenizer: lower-cased, punctuation dropped) or raw UTF-8 bytes."""
    check_choice("tokenization level (data.level)", level, LEVELS)
    if level == "byte":
        return list(text.encode("utf-8"))
    import wordfreq

    return wordfreq.tokenize(text, "en")


def rank_vocabulary(units: list, vocab_size: int) -> dict:
    """{unit: class}: the top `vocab_size` units by count get their own class, every other unit the
    unknown class; classes are frequency ranks, the unknown class ranked by its total count."""
    values, counts = np.unique(np.array(units, dtype=object), return_counts=True)
    order = np.lexsort((values.astype(str), -counts))  # by count, ties alphabetically
    kept, rest = order[:vocab_size], order[vocab_size:]
    unknown_count = int(counts[rest].sum())
    entries = [(int(counts[i]), values[i]) for i in kept] + [(unknown_count, None)]
    entries.sort(key=lambda e: -e[0])  # stable: the unknown class goes after words of equal count
    return {unit: rank for rank, (_, unit) in enumerate(entries)}


def token_windows(units: list, vocab_size: int, seq_len: int, max_sequences: int, test_fraction: float) -> Dataset:
    """Consecutive windows of seq_len+1 tokens (stride seq_len) of the unit stream, as a Dataset.

    The vocabulary is ranked on the training part (the first 1 - test_fraction of the stream);
    the test windows come from the rest. max_sequences > 0 keeps at most that many training windows.
    """
    _check_int("data.vocab_size", vocab_size, 1)
    _check_int("data.seq_len", seq_len, 1)
    _check_int("data.max_sequences", max_sequences, 0)
    check_range("data.test_fraction", test_fraction, 0.0, 0.9)
    cut = int(round(len(units) * (1.0 - test_fraction)))
    if cut < seq_len + 1:
        raise ConfigError(f"the text is too short for one training window of data.seq_len + 1 = {seq_len + 1} tokens "
                          f"({cut} training tokens)")
    ranks = rank_vocabulary(units[:cut], vocab_size)
    unknown = ranks[None]
    tokens = np.array([ranks.get(u, unknown) for u in units], dtype=np.int32)

    def windows(stream, limit):
        count = (len(stream) - 1) // seq_len
        if limit:
            count = min(count, limit)
        if count < 1:
            return None, None
        starts = np.arange(count)[:, None] * seq_len
        return _windows(stream[starts + np.arange(seq_len + 1)])

    x, y = windows(tokens[:cut], max_sequences)
    x_test, y_test = windows(tokens[cut:], 0) if test_fraction > 0 else (None, None)
    return Dataset(x=x, y=y, class_counts=_label_counts(y, len(ranks)), x_test=x_test, y_test=y_test)


def local_text(path: str = "", level: str = "word", vocab_size: int = 1000, seq_len: int = 32,
               max_sequences: int = 64, test_fraction: float = 0.0) -> Dataset:
    """Next-token windows from a local UTF-8 text file, word- or byte-level (`token_windows`)."""
    if not isinstance(path, str) or not os.path.isfile(path):
        raise ConfigError(f"data.path must name a readable text file, got {path!r}")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise ConfigError(f"data.path {path!r} is not UTF-8 text: {e.reason} at byte {e.start}")
    return token_windows(tokenize(text, level), vocab_size, seq_len, max_sequences, test_fraction)


def cached_text(corpus: str = "wikitext2", level: str = "word", vocab_size: int = 1000, seq_len: int = 32,
                max_sequences: int = 64, test_fraction: float = 0.0) -> Dataset:
    """WikiText-2 or TinyStories (training split) read offline from the Hugging Face `datasets` cache.

    Never downloads: sets HF_DATASETS_OFFLINE=1 and HF_HUB_OFFLINE=1 in this process and fails
    with a ConfigError unless `datasets` is installed and the corpus is already cached. Rows are
    read until max_sequences (> 0) training windows are filled.
    """
    check_choice("cached corpus (data.corpus)", corpus, CACHED_CORPORA)
    _check_int("data.max_sequences", max_sequences, 1)
    check_range("data.test_fraction", test_fraction, 0.0, 0.9)
    if importlib.util.find_spec("datasets") is None:
        raise ConfigError("data.name='cached_text' needs the `datasets` package (pip install datasets) "
                          f"and {corpus} in its cache; use 'local_text' or 'wordfreq_markov' instead")
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    import datasets

    datasets.config.HF_DATASETS_OFFLINE = True
    repo, name, column = CACHED_CORPORA[corpus]
    try:
        rows = datasets.load_dataset(repo, name, split="train", streaming=False)
    except Exception as e:  # noqa: BLE001 - any failure here means: not in the cache
        raise ConfigError(f"{corpus} is not in the local `datasets` cache (no download is attempted): "
                          f"{str(e).splitlines()[0] if str(e) else type(e).__name__}")
    needed = int(np.ceil((max_sequences * seq_len + 1) / (1.0 - test_fraction)))
    units = []
    for row in rows:
        units.extend(tokenize(row[column], level))
        if len(units) >= needed:
            break
    return token_windows(units[:needed], vocab_size, seq_len, max_sequences, test_fraction)

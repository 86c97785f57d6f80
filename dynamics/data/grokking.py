"""Datasets of the grokking experiments: modular arithmetic, XOR clusters with flipped labels, and
sparse linear classification for the diagonal linear network.

Every builder returns labels as frequency ranks of the TRAINING split (class 0 the most frequent,
ties broken by a fixed order); `class_residues` maps a modular-arithmetic rank back to its residue.
"""
import numpy as np

from dynamics.data.dataset import Dataset
from dynamics.errors import ConfigError, check_choice, check_range

OPERATIONS = ("add", "subtract", "multiply", "divide", "quadratic")
HELD_OUT_PER_CLASS = 0.1  # zipf splits keep at least this fraction of each class's pairs for the test set


def is_prime(p: int) -> bool:
    return p >= 2 and all(p % k for k in range(2, int(p**0.5) + 1))


def modular_inverse(b, p: int):
    """b^(p-2) mod p, the inverse of b != 0 in Z_p (Fermat's little theorem); b int array."""
    return np.array([pow(int(v), p - 2, p) for v in np.ravel(b)], dtype=np.int64).reshape(np.shape(b))


def apply_operation(operation: str, a, b, p: int):
    """a ∘ b mod p for int arrays a, b; 'divide' is a * b^-1 (b != 0), 'quadratic' is a² + ab + b²."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    if operation == "add":
        return (a + b) % p
    if operation == "subtract":
        return (a - b) % p
    if operation == "multiply":
        return (a * b) % p
    if operation == "divide":
        return (a * modular_inverse(b, p)) % p
    return (a * a + a * b + b * b) % p


def primitive_root(p: int) -> int:
    """The smallest generator g of the multiplicative group Z_p^* (p prime): g^((p-1)/q) != 1 for
    every prime q dividing p - 1."""
    factors = [q for q in range(2, p) if (p - 1) % q == 0 and is_prime(q)]
    return next(g for g in range(1, p) if all(pow(g, (p - 1) // q, p) != 1 for q in factors))


GROUP_OPERATIONS = ("add", "subtract", "multiply", "divide")  # a ∘ b = a + s b in a cyclic group


def cyclic_group_coordinates(p: int, operation: str):
    """The operation as addition in a cyclic group Z_n: (n, coordinate [p], sign) with
    a ∘ b = residue(coordinate[a] + sign * coordinate[b] mod n).

    add / subtract: Z_p itself (coordinate[r] = r, sign ±1). multiply / divide: the nonzero
    residues re-indexed by the discrete logarithm, r = g^coordinate[r] for the primitive root g, so
    Z_p^* becomes Z_{p-1}; residue 0 lies outside the group (coordinate -1). 'quadratic'
    (a² + ab + b²) is no group operation: ConfigError.
    """
    check_choice("group operation for a Fourier basis (data.operation; a² + ab + b² has none)", operation,
                 GROUP_OPERATIONS)
    sign = 1 if operation in ("add", "multiply") else -1
    if operation in ("add", "subtract"):
        return p, np.arange(p, dtype=np.int64), sign
    g, coordinate = primitive_root(p), np.full(p, -1, np.int64)
    coordinate[[pow(g, i, p) for i in range(p - 1)]] = np.arange(p - 1)
    return p - 1, coordinate, sign


def operation_table(p: int, operation: str):
    """Every valid pair: a [P], b [P], a ∘ b mod p [P]; division leaves out b = 0."""
    a, b = (g.ravel() for g in np.meshgrid(np.arange(p), np.arange(p), indexing="ij"))
    if operation == "divide":
        a, b = a[b != 0], b[b != 0]
    return a, b, apply_operation(operation, a, b, p)


def _zipf_train_counts(full_counts, exponent, total, rng):
    """Training pairs per residue: the residue of (random) rank k keeps min(cap, c (k+1)^-s), at least
    1, with cap = (1 - HELD_OUT_PER_CLASS) of its pairs and c set by bisection so the sum is `total`."""
    p = len(full_counts)
    order = rng.permutation(p)                               # order[k]: the residue given rank k
    caps = np.floor((1.0 - HELD_OUT_PER_CLASS) * full_counts[order]).astype(np.int64)
    shape = np.arange(1, p + 1, dtype=np.float64) ** -float(exponent)

    def counts(c):
        return np.minimum(caps, np.maximum(1, np.round(c * shape))).astype(np.int64)

    lo, hi = 0.0, float(full_counts.max()) * float(p) ** float(exponent) + 1.0
    if counts(hi).sum() < total:
        raise ConfigError(f"data.train_fraction is too large for a zipf split: at most "
                          f"{1 - HELD_OUT_PER_CLASS:g} of each class's pairs can be used for training")
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if counts(mid).sum() < total else (lo, mid)
    per_residue = np.zeros(p, np.int64)
    per_residue[order] = counts(hi)
    return per_residue


def modular_arithmetic(p: int = 97, operation: str = "add", train_fraction: float = 0.4,
                       zipf_exponent: float = 0.0, seed: int = 0) -> Dataset:
    """All pairs (a, b), a, b < p, labelled by a ∘ b mod p (Power et al. 2022; Nanda et al. 2023).

    Defaults (configs/grokking_modular.py): p = 97 (Power et al.'s modulus), addition, 40% of the
    pairs for training drawn uniformly (zipf_exponent 0), split seed 0. operation: add | subtract |
    multiply | divide | quadratic (a² + ab + b²).

    Inputs: x [N, 3] int32 tokens (a, b, p) — the sequence "a b =" with token p standing for '='
    (Nanda et al.'s format; the operation is fixed per dataset, so it gets no token). Vocabulary p + 1.
    Split: zipf_exponent = 0 draws `train_fraction` of all pairs uniformly at random (Power et al.);
    zipf_exponent = s > 0 makes the TRAINING set Zipfian over the output: the residue of (random)
    rank k keeps min(0.9 n_k, c (k+1)^-s) of its n_k pairs (at least 1), c set so that
    `train_fraction` of all pairs are kept. The test set is every other pair.
    Labels: the residue's frequency rank in the training split (ties by residue), so class 0 is the
    most frequent; `class_residues` gives the residue of each class.
    """
    if isinstance(p, bool) or not isinstance(p, int) or not is_prime(p):
        raise ConfigError(f"data.p must be a prime number, got {p!r}")
    check_choice("modular operation (data.operation)", operation, OPERATIONS)
    check_range("data.train_fraction", train_fraction, 0.0, 1.0, low_open=True)
    check_range("data.zipf_exponent", zipf_exponent, 0.0)
    a, b, result = operation_table(p, operation)
    total = int(round(train_fraction * len(a)))
    if not 1 <= total < len(a):
        raise ConfigError(f"data.train_fraction={train_fraction} leaves no training or no test pairs")
    rng = np.random.default_rng(seed)
    if zipf_exponent == 0:
        is_train = np.zeros(len(a), bool)
        is_train[rng.permutation(len(a))[:total]] = True
    else:
        per_residue = _zipf_train_counts(np.bincount(result, minlength=p), zipf_exponent, total, rng)
        is_train = np.zeros(len(a), bool)
        for r in range(p):
            members = np.flatnonzero(result == r)
            is_train[rng.permutation(members)[:per_residue[r]]] = True
    train_counts = np.bincount(result[is_train], minlength=p)
    residues = np.argsort(-train_counts, kind="stable")      # residues[c]: the residue of class c
    rank = np.argsort(residues)                              # rank[r]: the class of residue r
    tokens = np.stack([a, b, np.full_like(a, p)], axis=1).astype(np.int32)
    labels = rank[result].astype(np.int32)
    order = rng.permutation(len(a))                          # shuffle so no split is sorted by pair
    tokens, labels, is_train = tokens[order], labels[order], is_train[order]
    return Dataset(x=tokens[is_train], y=labels[is_train], class_counts=train_counts[residues].astype(np.int64),
                   x_test=tokens[~is_train], y_test=labels[~is_train])


def class_residues(data: Dataset, p: int, operation: str) -> np.ndarray:
    """The residue of each class of a `modular_arithmetic` dataset: [C] ints (-1: class never seen).

    Read off the data (each class is one residue): residue[c] = a ∘ b mod p of any pair labelled c.
    """
    x = np.concatenate([data.x, data.x_test]) if data.x_test is not None else data.x
    y = np.concatenate([data.y, data.y_test]) if data.y_test is not None else data.y
    residues = np.full(data.num_classes, -1, np.int64)
    residues[y] = apply_operation(operation, x[:, 0], x[:, 1], p)
    return residues


def _frequency_ranked(y_train, y_test):
    """Binary labels {0, 1} swapped if needed so that class 0 is the more frequent in training.
    Returns y_train, y_test and the training counts [2]."""
    counts = np.bincount(y_train, minlength=2)
    swap = counts[1] > counts[0]
    if swap:
        y_train, y_test, counts = 1 - y_train, 1 - y_test, counts[::-1]
    return y_train.astype(np.int32), y_test.astype(np.int32), counts.astype(np.int64)


XOR_SAMPLINGS = ("iid", "stratified")


def xor_clusters(num_samples: int = 40, input_dim: int = 20000, mean_norm: float = 30.0, flip_fraction: float = 0.2,
                 num_test: int = 1000, sampling: str = "stratified", seed: int = 0) -> Dataset:
    """XOR cluster data with flipped training labels (Xu, Wang, Frei, Vardi, Hu 2024, "Benign
    Overfitting and Grokking in ReLU Networks for XOR Cluster Data", Sec. 2).

    x = mu + xi, mu one of {±mu1, ±mu2}, xi ~ N(0, I_d), mu1 = mean_norm e_1 ⊥ mu2 = mean_norm e_2
    (any orthogonal pair: the law is rotation invariant). Clean label: +1 on ±mu1, -1 on ±mu2,
    i.e. class 1 = {±mu1}, class 0 = {±mu2} (swapped if class 1 is the more frequent in training).
    Training set (`sampling`, flipped labels in extras['flipped'] bool [N]):
      'iid': the paper's: each sample's cluster uniform over the four, its label flipped with
        probability flip_fraction, independently;
      'stratified': the clusters take turns (sizes differ by at most 1) and in each cluster
        round(flip_fraction * size) labels, chosen at random, are flipped (at small n, 'iid' can
        leave one cluster with a third of its labels flipped).
    The `num_test` test samples are i.i.d. and clean.
    Defaults (configs/grokking_xor.py, its docstring says why): n = 40 training samples, d = 20000,
    ||mu|| = 30, 20% flipped labels, 1000 test samples, stratified sampling, data seed 0.
    """
    for name, value, low in (("num_samples", num_samples, 2), ("input_dim", input_dim, 2), ("num_test", num_test, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"data.{name} must be an integer >= {low}, got {value!r}")
    check_range("data.mean_norm", mean_norm, 0.0)
    check_range("data.flip_fraction", flip_fraction, 0.0, 0.5)
    check_choice("XOR training-set sampling (data.sampling)", sampling, XOR_SAMPLINGS)
    rng = np.random.default_rng(seed)

    def sample(cluster):                                     # 0: +mu1, 1: -mu1, 2: +mu2, 3: -mu2
        x = rng.standard_normal((len(cluster), input_dim))
        x[np.arange(len(cluster)), np.where(cluster < 2, 0, 1)] += np.where(cluster % 2 == 0, mean_norm, -mean_norm)
        return x.astype(np.float32), (cluster < 2).astype(np.int64)

    if sampling == "iid":
        cluster = rng.integers(0, 4, num_samples)
        x, y = sample(cluster)
        flipped = rng.random(num_samples) < flip_fraction
    else:
        cluster = rng.permutation(np.arange(num_samples) % 4)
        x, y = sample(cluster)
        flipped = np.zeros(num_samples, bool)
        for c in range(4):
            members = rng.permutation(np.flatnonzero(cluster == c))
            flipped[members[:int(round(flip_fraction * len(members)))]] = True
    y = np.where(flipped, 1 - y, y)
    x_test, y_test = sample(rng.integers(0, 4, num_test))
    y, y_test, counts = _frequency_ranked(y, y_test)
    return Dataset(x=x, y=y, class_counts=counts, x_test=x_test, y_test=y_test, extras={"flipped": flipped})


def sparse_classification(num_samples: int = 50, input_dim: int = 100, num_relevant: int = 3,
                          num_test: int = 2000, seed: int = 0) -> Dataset:
    """Sparse linear classification for the diagonal linear network (Lyu et al. 2024, "Dichotomy of
    Early and Late Phase Implicit Biases Can Provably Induce Grokking", Sec. 3.2.3 setting).

    x uniform on {-1, 1}^d; y = sign(<w*, x>) with w* = ±1 (random signs) on the first `num_relevant`
    coordinates (odd, so no ties) and 0 elsewhere. Class 1 is y = +1, class 0 is y = -1; if class 1
    is the more frequent in training the two are swapped (the same task with w* negated), so the
    signed label y = 2 * class - 1 is sign(<±w*, x>) and the model's f is its logit. Same draws as
    tests/theory/test_grokking.py's classification_instance for the same seed.
    Only the classification version exists: the library's losses and metrics take integer labels;
    with logits [0, f] cross-entropy is the logistic loss log(1 + exp(-y f)) of theory/grokking.py.
    Defaults (configs/grokking_diagonal.py): n = 50 < d = 100, a 3-sparse truth, 2000 test samples,
    data seed 0 (tests/theory/test_grokking.py's instance).
    """
    for name, value, low in (("num_samples", num_samples, 2), ("input_dim", input_dim, 1), ("num_test", num_test, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"data.{name} must be an integer >= {low}, got {value!r}")
    if isinstance(num_relevant, bool) or not isinstance(num_relevant, int) or num_relevant % 2 != 1 \
            or not 1 <= num_relevant <= input_dim:
        raise ConfigError(f"data.num_relevant must be an odd integer in [1, data.input_dim = {input_dim}], "
                          f"got {num_relevant!r}")
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], (num_samples, input_dim))
    w = rng.choice([-1.0, 1.0], num_relevant)
    x_test = rng.choice([-1.0, 1.0], (num_test, input_dim))
    to_class = lambda inputs: (inputs[:, :num_relevant] @ w > 0).astype(np.int64)
    y, y_test, counts = _frequency_ranked(to_class(x), to_class(x_test))
    return Dataset(x=x.astype(np.float32), y=y, class_counts=counts, x_test=x_test.astype(np.float32), y_test=y_test)


def _check_counts(**values):
    for name, (value, low) in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"data.{name} must be an integer >= {low}, got {value!r}")


def margin_classification(num_samples: int = 50, input_dim: int = 100, margin: float = 3.0, num_test: int = 2000,
                          seed: int = 0) -> Dataset:
    """Linear classification with a large l2 margin along a dense direction, for misgrokking (Lyu et al.
    2024, Fig. 1b / Sec. 3.2.3: a dataset "linearly separated by a large L2-margin", where the
    kernel (l2 max-margin) predictor generalises and the late-phase l1 max-margin one does not).

    Our construction (the paper states the property, not this law): y = ±1 equally likely,
    x = y * margin * u + z with z ~ N(0, I_d) and u = (±1, ..., ±1) / sqrt(d) (random signs), so every
    coordinate carries the label weakly and no few coordinates carry it well. Class 1 is y = +1 (swapped if
    it is the more frequent in training, as sparse_classification). Defaults (configs/misgrokking_diagonal.py):
    n = 50 < d = 100, margin 3 (theory/grokking.py: kernel test error 0.009-0.015, sparse 0.11-0.13, seeds 0-1).
    """
    _check_counts(num_samples=(num_samples, 2), input_dim=(input_dim, 1), num_test=(num_test, 1))
    check_range("data.margin", margin, 0.0)
    rng = np.random.default_rng(seed)
    direction = rng.choice([-1.0, 1.0], input_dim) / np.sqrt(input_dim)

    def draw(count):
        labels = rng.integers(0, 2, count)
        return (2.0 * labels - 1.0)[:, None] * margin * direction + rng.normal(size=(count, input_dim)), labels

    (x, labels), (x_test, labels_test) = draw(num_samples), draw(num_test)
    y, y_test, counts = _frequency_ranked(labels, labels_test)
    return Dataset(x=x.astype(np.float32), y=y, class_counts=counts, x_test=x_test.astype(np.float32), y_test=y_test)


def boolean_monomial(num_samples: int = 300, input_dim: int = 30, degree: int = 2, num_test: int = 1000,
                     seed: int = 0) -> Dataset:
    """Polynomial regression on the hypercube for lazy-to-rich grokking (Kumar, Bordelon, Gershman, Pehlevan
    2024, "Grokking as the transition from lazy to rich training dynamics", Sec. 5: a low-degree polynomial
    target of a few directions, misaligned with the initial NTK's top eigenfunctions).

    x uniform on {-1, 1}^d, target y = x_1 x_2 ... x_k (k = degree), a degree-k polynomial whose values are
    ±1, so the square loss on the two-class logits [-f/2, f/2] is the paper's mean squared error of f
    against y (up to a factor and a constant) while the labels stay integers: class 1 is y = +1 (swapped
    if it is the more frequent in training). A rotation-invariant kernel needs ~d^k/k! samples to learn
    it, a network whose hidden weights align with e_1..e_k far fewer. Defaults
    (configs/grokking_lazy_rich.py): P = 300 samples in d = 30 (d(d-1)/2 = 435 > P), degree 2.
    """
    _check_counts(num_samples=(num_samples, 2), input_dim=(input_dim, 1), num_test=(num_test, 1))
    if isinstance(degree, bool) or not isinstance(degree, int) or not 1 <= degree <= input_dim:
        raise ConfigError(f"data.degree must be an integer in [1, data.input_dim = {input_dim}], got {degree!r}")
    rng = np.random.default_rng(seed)

    def draw(count):
        x = rng.choice([-1.0, 1.0], (count, input_dim))
        return x, (np.prod(x[:, :degree], axis=1) > 0).astype(np.int64)

    (x, labels), (x_test, labels_test) = draw(num_samples), draw(num_test)
    y, y_test, counts = _frequency_ranked(labels, labels_test)
    return Dataset(x=x.astype(np.float32), y=y, class_counts=counts, x_test=x_test.astype(np.float32), y_test=y_test)

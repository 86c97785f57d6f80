"""Configs: every section's defaults, written once, and the one loader of config files.

A config file (configs/NAME.py) states only what it changes from these defaults:

    from dynamics import config

    def get_config(variant=""):
        c = config.defaults(data="synthetic", model="linear")  # every key, locked
        c.optimizer.name = "adam"
        if config.variant(variant, ("small", "paper")) == "small":
            c.train.num_steps = 60
        return c

and may define get_sweep(variant="") -> members (dynamics.sweep). The variant is the text after
':' in --config=configs/NAME.py:small; "small" is the one shrunken setting that the tests, the
notebooks and `dynamics.figures --small` all use, "paper" the paper's size where it exists.

The data and model sections take their keys and defaults from the builder's signature
(dynamics.data.DATASETS, dynamics.models.MODELS, or the caller's own builders), so a builder's
defaults are written once, in its signature, and documented in its docstring.
"""
import inspect
import os

import ml_collections

from dynamics.errors import ConfigError, check_choice

CONFIGS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


def _sections() -> ml_collections.ConfigDict:
    """The defaults of every section but data and model."""
    c = ml_collections.ConfigDict()
    c.seed = 0  # initialisation (and minibatch) randomness of each member

    c.loss = ml_collections.ConfigDict()
    c.loss.name = "cross_entropy"  # cross_entropy | square
    c.loss.reweight_exponent = 0.0  # class weights ∝ π_k^-p (0: plain loss)
    c.loss.logit_adjustment = 0.0  # τ in logits + τ log π (0: none)
    c.loss.spectral_decoupling = 0.0  # λ of the logit penalty λ/2 ‖z‖² per sample (Pezeshki et al. 2021; 0: none)
    c.loss.regularizer = "none"  # none | elr: early-learning regularisation (Liu et al. 2020; not in the loss record)
    c.loss.elr_lambda = 3.0  # ELR's λ in CE + λ mean log(1 − <p_i, t_i>) (Liu et al.'s CIFAR-10 symmetric value)
    c.loss.elr_beta = 0.7  # ELR's β in t_i ← β t_i + (1 − β) p_i (likewise)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "gd"  # a name from dynamics.optimizers.DIRECTIONS
    c.optimizer.learning_rate = 0.1  # peak step size η
    c.optimizer.momentum = 0.0  # heavy_ball's β, and sign's EMA β (0: plain sign descent)
    c.optimizer.b1 = 0.9  # adam(w) first-moment decay
    c.optimizer.b2 = 0.999  # adam(w) second-moment decay
    c.optimizer.eps = 1e-8  # adam(w) denominator offset
    c.optimizer.weight_decay = 0.0  # λ (coupled for adam, decoupled otherwise)
    c.optimizer.schedule = "constant"  # constant | warmup | cosine
    c.optimizer.warmup_steps = 0  # linear warmup length (warmup, cosine)
    c.optimizer.rho = 0.05  # sam's radius ρ: the gradient is taken at θ + ρ g/||g|| (Foret et al. 2021's default)
    c.optimizer.max_norm = 0.0  # MaxNorm q (Alshammari et al. 2022): after every step, classifier rows longer than min + q (max − min) of the rows' starting norms are scaled back to it (0: off)

    c.train = ml_collections.ConfigDict()
    c.train.num_steps = 500  # optimizer steps
    c.train.batch_size = 0  # 0: full batch; >0: SGD minibatches of that size
    c.train.chunk_steps = 100  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 24  # records taken at this many steps
    c.train.log_spacing = "log"  # log | linear
    c.train.per_class_grad_norm = False  # record ||∇ℓ_k|| of every class (about one backward pass per sample per logged step)
    c.train.extra_metrics = ()  # names from dynamics.metrics.EXTRA_METRICS
    c.train.lanczos_iterations = 20  # Lanczos steps per class and probe (class_hessian_spectrum): Ritz values reach the extreme eigenvalues first
    c.train.lanczos_probes = 2  # random start vectors per class (class_hessian_spectrum: stochastic Lanczos quadrature)
    c.train.density_bins = 64  # grid points of each class's Hessian spectral density (class_hessian_spectrum)
    c.train.checkpoint_keep = 2  # checkpoints kept in DIR/checkpoints (one saved per chunk; resume by relaunching)
    c.train.trainable = "all"  # all | head: head updates only the parameter group holding model.classifier (the last layer), the rest keeps its start
    c.train.matmul_precision = "float32"  # float32 | high | bfloat16: jax.default_matmul_precision (TPU: 3 / 1 bf16 passes; GPU: TF32 for both; CPU: float32)
    c.train.kernel_probe_size = 32  # training samples (the first ones) on which the kernel_distance metric takes the NTK

    c.init = ml_collections.ConfigDict()
    c.init.from_workdir = ""  # start from the final parameters of a member of this complete workdir ("": fresh init)
    c.init.from_member = -1  # which member of from_workdir (-1: the one with this member's index, or its only one)

    c.select = ml_collections.ConfigDict()
    c.select.rule = "none"  # none | best_lr: per setting, the learning rate with the best score
    c.select.metric = "loss"  # a scalar record: loss | mean_loss | accuracy | ...

    c.figures = ()  # names from dynamics.plots.FIGURES
    return c


def builder_defaults(section: str, name: str, builders: dict, skip: int = 0) -> dict:
    """{parameter: default} of builders[name]'s parameters after the first `skip` (the config
    section `section` holds exactly these keys besides its name)."""
    check_choice(f"{section}.name", name, builders)
    params = list(inspect.signature(builders[name]).parameters.values())[skip:]
    missing = [p.name for p in params if p.default is inspect.Parameter.empty]
    if missing:
        raise ConfigError(f"{section} builder {name!r} must give every parameter a default; "
                          f"{', '.join(missing)} have none")
    return {p.name: p.default for p in params}


def defaults(data: str, model: str, datasets: dict = None, models: dict = None) -> ml_collections.ConfigDict:
    """The full config of an experiment on dataset `data` with model `model`, every key at its
    default, locked (setting an unknown key fails, naming the valid ones).

    datasets / models: a caller's own builders {name: fn}, besides the library's.
    """
    from dynamics.data import DATASETS
    from dynamics.data.noisy_labels import NOISE_DEFAULTS
    from dynamics.models import MODELS

    c = _sections()
    c.data = {"name": data, **builder_defaults("data", data, {**DATASETS, **(datasets or {})}),
              **NOISE_DEFAULTS}  # every dataset's label-noise keys (dynamics.data.noisy_labels.with_label_noise)
    c.model = {"name": model, "init_scale": 1.0,  # init_scale multiplies the initial parameters
               **builder_defaults("model", model, {**MODELS, **(models or {})}, skip=2)}
    c.model.harmonic_exponent = 0.0  # n > 0: harmonic head (Baek et al. 2025), logits -n log||w_k - h||; 0: Dense
    c.lock()
    return c


def variant(arg: str, valid: tuple = ()) -> str:
    """arg, checked to be "" or one of the config file's `valid` variants."""
    check_choice("config variant (the text after ':' in --config)", arg, ("",) + tuple(valid))
    return arg


def split_argument(path: str) -> tuple:
    """'configs/NAME.py:small' -> ('configs/NAME.py', 'small')."""
    path, _, arg = path.partition(":")
    return path, arg


def path_of(name: str, configs_dir: str = CONFIGS_DIR) -> str:
    """configs/NAME.py for a NAME from `names`."""
    check_choice("config", name, names(configs_dir))
    return os.path.join(configs_dir, f"{name}.py")


def names(configs_dir: str = CONFIGS_DIR) -> list:
    """Every config under configs_dir, by file name (configs/NAME.py -> NAME), sorted."""
    files = os.listdir(configs_dir) if os.path.isdir(configs_dir) else []
    return sorted(f[:-3] for f in files if f.endswith(".py") and not f.startswith("_"))


def load_module(path: str):
    """The config file's module; a missing file, a directory or a file that fails to import is a ConfigError."""
    import importlib.util

    if not path or not os.path.isfile(path):
        what = "a directory" if path and os.path.isdir(path) else "not a file"
        raise ConfigError(f"config file {path!r} is {what}; pass --config=configs/NAME.py")
    spec = importlib.util.spec_from_file_location(f"config_{os.path.basename(path)[:-3]}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - any failure of the user's file is reported in one line
        raise ConfigError(f"config file {path!r} failed to load: {type(e).__name__}: {_first_line(e)}")
    if not callable(getattr(module, "get_config", None)):
        raise ConfigError(f"config file {path!r} defines no get_config()")
    return module


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else ""


def _call(module, fn: str, arg: str):
    """module.fn(arg), or module.fn() when arg is "" and fn takes none; failures are ConfigErrors."""
    function = getattr(module, fn)
    takes_arg = bool(inspect.signature(function).parameters)
    if arg and not takes_arg:
        raise ConfigError(f"{fn}() of {module.__file__!r} takes no variant, got {arg!r}")
    try:
        return function(arg) if takes_arg else function()
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001
        raise ConfigError(f"{fn}({arg!r}) of {module.__file__!r} failed: {type(e).__name__}: {_first_line(e)}")


def get_members(module, arg: str = "") -> list:
    """The members from the module's get_sweep(arg), or one member if it has none."""
    if not hasattr(module, "get_sweep"):
        return [{}]
    members = _call(module, "get_sweep", arg)
    if not isinstance(members, list) or not members or not all(isinstance(m, dict) for m in members):
        raise ConfigError(f"get_sweep() must return a non-empty list of members ({{dotted key: value}} dicts), "
                          f"got {members!r}"[:300])
    return members


def load(path: str) -> tuple:
    """(config dict, members) of 'configs/NAME.py[:variant]': get_config(variant) and get_sweep(variant)."""
    path, arg = split_argument(path)
    module = load_module(path)
    config = _call(module, "get_config", arg)
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigError(f"get_config() of {path!r} must return an ml_collections.ConfigDict, got {type(config).__name__}")
    return config.to_dict(), get_members(module, arg)


def load_named(name: str, arg: str = "", configs_dir: str = CONFIGS_DIR) -> tuple:
    """(config dict, members) of configs/NAME.py in variant `arg` ("" or e.g. "small")."""
    return load(f"{path_of(name, configs_dir)}:{arg}" if arg else path_of(name, configs_dir))


def based_on(name: str, arg: str = "", configs_dir: str = CONFIGS_DIR) -> ml_collections.ConfigDict:
    """configs/NAME.py's config in variant `arg`, locked, for a config file that is another one with a
    few changes (its get_sweep can return load_named(name, arg)[1])."""
    based = ml_collections.ConfigDict(load_named(name, arg, configs_dir)[0])
    based.lock()
    return based


def without_overridden(members: list, overridden) -> list:
    """Command-line overrides win over the sweep: drops the dotted keys they set from every member
    (and the duplicates this makes)."""
    unique = {}
    for member in members:
        kept = {k: v for k, v in member.items() if k not in set(overridden)}
        unique.setdefault(repr(sorted(kept.items())), kept)
    return list(unique.values())

"""The named pieces a run is built from: datasets, models, optimizers and extra metrics.

The library's own are plain dicts (dynamics.data.DATASETS, dynamics.models.MODELS,
dynamics.optimizers.DIRECTIONS, dynamics.metrics.EXTRA_METRICS). A caller brings their own for
one run, from Python or a notebook, and names them in the config as usual:

    history = experiment.run(config, members, models={"mine": build_mine})

A dataset builder takes the data section's keys as keyword arguments and returns a
dynamics.data.Dataset; a model builder is fn(example_x, num_classes, **model keys) -> Model
(dynamics.models.base.from_flax wraps a flax module); an optimizer is fn(optimizer section) ->
the optax transformation of its direction (the library adds weight decay, the step size and its
schedule); a metric is fn(model, params, data, config) -> {record name: array}. Every keyword
argument of a builder needs a default: dynamics.config.defaults reads the section's keys from it.
"""
from typing import NamedTuple

from dynamics.errors import ConfigError


class Pieces(NamedTuple):
    datasets: dict
    models: dict
    optimizers: dict
    metrics: dict


def library() -> Pieces:
    """The library's own pieces."""
    from dynamics.data import DATASETS
    from dynamics.metrics import EXTRA_METRICS
    from dynamics.models import MODELS
    from dynamics.optimizers import DIRECTIONS

    return Pieces(dict(DATASETS), dict(MODELS), dict(DIRECTIONS), dict(EXTRA_METRICS))


def with_own(datasets: dict = None, models: dict = None, optimizers: dict = None, metrics: dict = None) -> Pieces:
    """The library's pieces plus a caller's; a name the library already uses is refused."""
    own = Pieces(datasets or {}, models or {}, optimizers or {}, metrics or {})
    merged = []
    for kind, mine, theirs in zip(Pieces._fields, library(), own):
        if not isinstance(theirs, dict) or not all(isinstance(k, str) and callable(v) for k, v in theirs.items()):
            raise ConfigError(f"{kind} must be a dict {{name: function}}, got {theirs!r}")
        clash = sorted(set(mine) & set(theirs))
        if clash:
            raise ConfigError(f"{kind} {clash} are the library's own names; give yours another name")
        merged.append({**mine, **theirs})
    return Pieces(*merged)

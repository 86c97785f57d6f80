"""Bring your own pieces: a caller's dataset, model, optimizer and metric run like the library's,
named in the config, with sweeps and the workdir unchanged; clashes and unknown names fail in one line."""
import json

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from dynamics import config, experiment, sweep
from dynamics.data import Dataset
from dynamics.errors import ConfigError
from dynamics.models.base import from_flax


class TanhNet(nn.Module):
    width: int
    num_classes: int

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        h = jnp.tanh(nn.Dense(self.width, name="hidden")(x))
        return h if return_features else nn.Dense(self.num_classes, name="head")(h)


def tanh_net(example_x, num_classes: int, width: int = 8):
    return from_flax(TanhNet(width, num_classes), example_x)


def two_blobs(num_samples: int = 40, spread: float = 0.3, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], [num_samples - num_samples // 4, num_samples // 4]).astype(np.int32)
    x = (np.where(y[:, None] == 0, 1.0, -1.0) + spread * rng.normal(size=(num_samples, 2))).astype(np.float32)
    return Dataset(x=x, y=y, class_counts=np.bincount(y, minlength=2))


def clipped_gd(opt):
    """d = clip(g, ±1): a direction of the caller's own."""
    return optax.clip(1.0)


def head_norm(model, params, data, cfg):
    return {"head_norm": jnp.linalg.norm(params["head"]["kernel"])}


OWN = dict(datasets={"two_blobs": two_blobs}, models={"tanh_net": tanh_net},
           optimizers={"clipped_gd": clipped_gd}, metrics={"head_norm": head_norm})


def own_config():
    c = config.defaults(data="two_blobs", model="tanh_net", datasets=OWN["datasets"], models=OWN["models"])
    c.optimizer.name = "clipped_gd"
    c.train.num_steps = 20
    c.train.chunk_steps = 10
    c.train.num_log_points = 5
    c.train.extra_metrics = ("head_norm",)
    c.figures = ("per_class_loss",)
    return c.to_dict()


@pytest.mark.slow
def test_own_pieces_run_in_a_sweep_and_are_recorded_by_name(tmp_path):
    members = sweep.axis("optimizer.learning_rate", [0.05, 0.2])
    history = experiment.run(own_config(), members, str(tmp_path / "run"), progress=lambda s: None, **OWN)
    assert history.records["head_norm"].shape == (2, len(history.step))
    assert np.all(history.records["loss"][:, -1] < history.records["loss"][:, 0])  # it learns
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["config"]["model"] == {"name": "tanh_net", "init_scale": 1.0, "harmonic_exponent": 0.0, "width": 8}
    assert (tmp_path / "run" / "figures" / "per_class_loss.png").stat().st_size > 0


def test_own_pieces_are_refused_when_they_clash_or_are_missing():
    with pytest.raises(ConfigError, match=r"models \['linear'\] are the library's own names"):
        experiment.run(own_config(), models={"linear": tanh_net})
    with pytest.raises(ConfigError, match="unknown metric .*'head_norm'"):
        experiment.run(own_config())  # the caller forgot to pass their pieces
    with pytest.raises(ConfigError, match="must give every parameter a default"):
        config.defaults(data="synthetic", model="mine", models={"mine": lambda example_x, num_classes, width: None})

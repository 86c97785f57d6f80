"""A small convolutional network for image classes such as the barcoded 8x8 digits
(Kunstner et al. 2024, sec. 3, use a CNN on barcoded MNIST)."""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from dynamics.errors import ConfigError
from dynamics.models.base import Model, from_flax


class CNN(nn.Module):
    """3x3 'same' convolutions with ReLU (one per entry of `channels`), each followed by a 2x2
    average pool if `pool`, then flatten, a ReLU Dense layer of width `hidden` (none if 0, as in
    Kunstner et al.'s SimpleMNISTCNN) and a Dense head."""

    channels: Sequence[int]
    hidden: int
    pool: bool
    num_classes: int

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        h = x
        for i, width in enumerate(self.channels):
            h = nn.relu(nn.Conv(width, (3, 3), padding="SAME", name=f"conv_{i}")(h))
            if self.pool:
                h = nn.avg_pool(h, (2, 2), strides=(2, 2), padding="SAME")
        h = jnp.reshape(h, (h.shape[0], -1))
        if self.hidden:
            h = nn.relu(nn.Dense(self.hidden, name="dense")(h))
        if return_features:
            return h
        return nn.Dense(self.num_classes, name="head")(h)


def cnn(example_x, num_classes: int, channels: tuple = (8, 8), hidden: int = 0, pool: bool = True) -> Model:
    """CNN on images [N, H, W, channels]."""
    if not isinstance(channels, (tuple, list)) or not channels \
            or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in channels):
        raise ConfigError(f"model.channels must be a non-empty tuple of positive integers, got {channels!r}")
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 0:
        raise ConfigError(f"model.hidden must be an integer >= 0 (0: no Dense layer before the head), got {hidden!r}")
    if pool not in (True, False):
        raise ConfigError(f"model.pool must be True or False, got {pool!r}")
    if getattr(example_x, "ndim", 0) != 4:
        raise ConfigError("model 'cnn' needs images x of shape [N, H, W, channels]")
    return from_flax(CNN(channels=tuple(channels), hidden=hidden, pool=pool, num_classes=num_classes), example_x)

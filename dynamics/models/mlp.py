"""Linear and multilayer-perceptron classifiers on flattened inputs."""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


class MLP(nn.Module):
    """Flatten, `hidden` ReLU layers, then a Dense head; hidden=() is the linear model."""

    hidden: Sequence[int]
    num_classes: int
    use_bias: bool = True

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        h = jnp.reshape(x, (x.shape[0], -1))
        for i, width in enumerate(self.hidden):
            h = nn.relu(nn.Dense(width, use_bias=self.use_bias, name=f"dense_{i}")(h))
        if return_features:
            return h
        return nn.Dense(self.num_classes, use_bias=self.use_bias, name="head")(h)

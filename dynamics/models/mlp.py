"""Linear and multilayer-perceptron classifiers on flattened inputs."""
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

INITS = ("lecun_normal", "pytorch_uniform")


def dense(features: int, fan_in: int, use_bias: bool, init: str, name: str) -> nn.Dense:
    """A Dense layer initialised as flax does (lecun_normal: kernel N(0, 1/fan_in) truncated, bias 0) or as
    PyTorch's nn.Linear does (pytorch_uniform: kernel and bias U[-1/sqrt(fan_in), 1/sqrt(fan_in)])."""
    if init == "lecun_normal":
        return nn.Dense(features, use_bias=use_bias, name=name)
    bound = 1.0 / jnp.sqrt(fan_in)
    uniform = lambda key, shape, dtype=jnp.float32: jax.random.uniform(key, shape, dtype, -bound, bound)
    return nn.Dense(features, use_bias=use_bias, kernel_init=uniform, bias_init=uniform, name=name)


class MLP(nn.Module):
    """Flatten, `hidden` ReLU layers, then a Dense head; hidden=() is the linear model."""

    hidden: Sequence[int]
    num_classes: int
    use_bias: bool = True
    initializer: str = "lecun_normal"  # one of INITS (flax reserves the name `init`)

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        h = jnp.reshape(x, (x.shape[0], -1))
        for i, width in enumerate(self.hidden):
            h = nn.relu(dense(width, h.shape[-1], self.use_bias, self.initializer, f"dense_{i}")(h))
        if return_features:
            return h
        return dense(self.num_classes, h.shape[-1], self.use_bias, self.initializer, "head")(h)

"""Models by name. `config.model` holds `name`, `init_scale`, `harmonic_exponent` (dynamics.models.harmonic)
and exactly the keyword arguments of its builder.

Every builder takes the dataset's example input and number of classes first.
"""
import inspect

from dynamics.errors import ConfigError, check_choice, check_keys
from dynamics.models.base import Model, from_flax
from dynamics.models.mlp import INITS, MLP
from dynamics.models.cnn import cnn
from dynamics.models.collapse import ufm
from dynamics.models.grokking import diagonal_linear, embed_mlp, lazy_two_layer, modular_transformer, two_layer_relu
from dynamics.models.harmonic import bottleneck_mlp
from dynamics.models.transformer import transformer
from dynamics.models.solvable import deep_linear, linear_no_bias, unigram


def check_bool(name: str, value) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")


def linear(example_x, num_classes: int, use_bias: bool = True, init: str = "lecun_normal") -> Model:
    """Linear softmax model: logits = W x (+ b); init: lecun_normal (flax) | pytorch_uniform (nn.Linear)."""
    check_bool("model.use_bias", use_bias)
    check_choice("initialisation (model.init)", init, INITS)
    return from_flax(MLP(hidden=(), num_classes=num_classes, use_bias=use_bias, initializer=init), example_x)


TRAINABLE = ("all", "head")


def mlp(example_x, num_classes: int, hidden: tuple = (64, 64), use_bias: bool = True, init: str = "lecun_normal",
        trainable: str = "all") -> Model:
    """ReLU multilayer perceptron with the given hidden widths; init as for `linear`. trainable='head'
    trains the last layer only (Kunstner et al. 2024's last-layer runs): the hidden layers keep their init."""
    if not isinstance(hidden, (tuple, list)) or not hidden or any(
            isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in hidden):
        raise ConfigError(f"model.hidden must be a non-empty tuple of positive integers, got {hidden!r}")
    check_bool("model.use_bias", use_bias)
    check_choice("initialisation (model.init)", init, INITS)
    check_choice("trainable parameters (model.trainable)", trainable, TRAINABLE)
    model = from_flax(MLP(hidden=tuple(hidden), num_classes=num_classes, use_bias=use_bias, initializer=init), example_x)
    if trainable == "head":
        model = model._replace(trainable=lambda params: {layer: layer == "head" for layer in params})
    return model


MODELS = {"linear": linear, "mlp": mlp, "transformer": transformer, "cnn": cnn,
          "embed_mlp": embed_mlp, "modular_transformer": modular_transformer,
          "two_layer_relu": two_layer_relu, "diagonal_linear": diagonal_linear,
          "ufm": ufm, "unigram": unigram, "linear_no_bias": linear_no_bias,
          "deep_linear": deep_linear, "lazy_two_layer": lazy_two_layer,
          "bottleneck_mlp": bottleneck_mlp}


TRAINER_KEYS = ("name", "init_scale", "harmonic_exponent")  # config.model keys that are not the builder's


def build_model(model_config: dict, example_x, num_classes: int, models: dict = MODELS) -> Model:
    """The named model; `init_scale` is applied by the trainer (it multiplies the initial parameters)."""
    fields = {k: v for k, v in dict(model_config).items() if k not in TRAINER_KEYS}
    name = model_config.get("name")
    check_choice("model (model.name)", name, models)
    builder = models[name]
    expected = list(inspect.signature(builder).parameters)[2:]
    check_keys(f"model {name!r}", fields, expected)
    return builder(example_x, num_classes, **fields)


__all__ = ["Model", "MODELS", "build_model"]

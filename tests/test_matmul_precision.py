"""train.matmul_precision (float32 | high | bfloat16): checked before anything runs (one-line error
naming the valid choices), applied around compilation, and recorded in the workdir's config.json."""
import json

import pytest

from dynamics import config, experiment
from dynamics.errors import ConfigError

QUIET = lambda line: None  # noqa: E731


def tiny(precision) -> dict:
    c = config.defaults(data="synthetic", model="linear").to_dict()
    c["data"].update(num_classes=7, num_samples=48, input_dim=8)
    c["train"].update(num_steps=4, chunk_steps=4, num_log_points=3, matmul_precision=precision)
    return c


def test_default_is_float32():
    assert config.defaults(data="synthetic", model="linear").train.matmul_precision == "float32"


@pytest.mark.parametrize("bad", ["tf32", "highest", 32, None])
def test_an_unknown_precision_is_refused_in_one_line(tmp_path, bad):
    with pytest.raises(ConfigError) as error:
        experiment.run(tiny(bad), workdir=str(tmp_path / "run"), progress=QUIET)
    message = str(error.value)
    assert "\n" not in message and "train.matmul_precision" in message and "bfloat16, float32, high" in message
    assert not (tmp_path / "run").exists()  # nothing written


def test_the_precision_is_recorded_in_config_json(tmp_path):
    experiment.run(tiny("high"), workdir=str(tmp_path), progress=QUIET)
    assert json.loads((tmp_path / "config.json").read_text())["config"]["train"]["matmul_precision"] == "high"

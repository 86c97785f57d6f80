"""Memory planning (dynamics.memory.fit): a group too large for one device runs as several programs of
members that fit, with the History it would have had in one; a member that alone cannot fit is refused
in one line that gives the numbers, before anything is written."""
import os
from unittest import mock

import numpy as np
import pytest

from dynamics import experiment, memory, sweep, train
from dynamics.errors import ConfigError

LEARNING_RATES = sweep.axis("optimizer.learning_rate", [0.1, 0.2, 0.3, 0.4, 0.5])


@pytest.mark.slow  # seven compilations of a tiny program
def test_a_group_too_large_for_one_program_runs_as_several_with_the_same_history(tiny_config):
    tiny_config["train"]["per_class_grad_norm"] = False  # a smaller program: five compilations here
    whole = train.run(tiny_config, LEARNING_RATES, progress=lambda s: None)
    _, groups = train.plan(tiny_config, LEARNING_RATES)
    three = train.program_bytes(groups[0], 3)  # measured: 1-5 members 20, 28, 39, 49, 78 KB
    lines = []
    with mock.patch.object(memory, "available_bytes", return_value=(three + 1) / memory.USABLE):
        split = train.run(tiny_config, LEARNING_RATES, progress=lines.append)
    assert any("run as 2 programs of 3 members" in line for line in lines), lines  # the second padded to 3
    assert whole.members == split.members and list(whole.records) == list(split.records)
    for name in whole.records:  # measured: up to 1.9e-7 relative (XLA vectorises 3 members unlike 5)
        np.testing.assert_allclose(split.records[name], whole.records[name], rtol=1e-6, atol=1e-7, err_msg=name)


def test_a_member_that_alone_does_not_fit_is_refused_with_the_numbers(tiny_config, tmp_path):
    workdir = str(tmp_path / "run")
    with mock.patch.object(memory, "available_bytes", return_value=5000), \
            pytest.raises(ConfigError, match=r"one member of group 1/1 needs 0\.\d\d GiB on a device .* 0\.00 GiB usable"):
        experiment.run(tiny_config, LEARNING_RATES, workdir, progress=lambda s: None)
    assert not os.path.exists(workdir)


def test_step_profile_counts_the_largest_array_and_the_matrix_product_flops():
    """memory.one_at_a_time's inputs, by hand: logits [512, 600] (1.2 MB) from a [512, 64] x [64, 600] product
    (2 * 512 * 600 * 64 flops), then a softmax; members run one after another only while the product does
    fewer than INTENSITY flops per byte of the largest array (here 32)."""
    import jax
    import jax.numpy as jnp

    step = lambda x, w: jax.nn.softmax(x @ w)  # noqa: E731
    args = (jnp.zeros((512, 64)), jnp.zeros((64, 600)))
    largest, flops = memory.step_profile(jax.make_jaxpr(step)(*args).jaxpr)
    assert (largest, flops) == (512 * 600 * 4, 2 * 512 * 600 * 64)
    if jax.device_count() > 1:
        pytest.skip("several devices always keep members side by side")
    assert memory.one_at_a_time(step, *args)
    wide = (jnp.zeros((512, 4096)), jnp.zeros((4096, 600)))  # 2048 flops per byte: compute-bound
    assert not memory.one_at_a_time(step, *wide)

"""TensorBoard: a run with a workdir writes event files per member, with every scalar record, the per-bucket
losses and accuracies, and the hyperparameters; they are written after each chunk, so a run that stops mid-way
has its records so far."""
import os
import struct

import numpy as np
import pytest

from dynamics import summaries, sweep, train
from dynamics.plots import frequency_buckets


class Interrupt(Exception):
    pass


def read_events(run_dir: str) -> tuple:
    """({tag: {step: value}}, {summary tags without a value}) from a run directory's event files.

    Event files are TFRecords (length, its CRC, an Event proto, its CRC); tensorboardX ships the proto.
    """
    from tensorboardX.proto import event_pb2

    scalars, others = {}, set()
    for name in sorted(os.listdir(run_dir)):
        with open(os.path.join(run_dir, name), "rb") as f:
            data = f.read()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            for value in event.summary.value:
                if value.WhichOneof("value") == "simple_value":
                    scalars.setdefault(value.tag, {})[event.step] = value.simple_value
                else:
                    others.add(value.tag)
    return scalars, others


@pytest.mark.slow
def test_event_files_hold_scalars_buckets_and_hparams(tiny_config, tmp_path):
    members = sweep.axis("optimizer.learning_rate", [0.3, 1.0])
    history = train.run(tiny_config, members, lambda line: None, workdir=str(tmp_path))
    logdir = tmp_path / summaries.SUMMARY_DIR
    assert sorted(os.listdir(logdir)) == ["member_000", "member_001"]
    buckets = frequency_buckets(history.class_counts[1])
    scalars, others = read_events(str(logdir / "member_001"))
    expected = {"loss", "mean_loss", "accuracy", "param_norm"} | {f"bucket_loss/{b}" for b in range(len(buckets))} \
        | {f"bucket_accuracy/{b}" for b in range(len(buckets))}
    assert expected <= set(scalars), sorted(scalars)
    assert {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"} <= others
    assert sorted(scalars["loss"]) == list(history.step)
    np.testing.assert_array_equal([scalars["loss"][s] for s in history.step], history.records["loss"][1])
    rare = history.records["per_class_loss"][1][:, buckets[-1]].mean(axis=1)
    np.testing.assert_allclose([scalars[f"bucket_loss/{len(buckets) - 1}"][s] for s in history.step], rare,
                               rtol=1e-6)


@pytest.mark.slow
def test_summaries_are_written_while_the_run_trains(tiny_config, tmp_path):
    """Stopped during the second chunk (of 16 steps): the steps logged before step 16 are already in the files."""
    lines = []

    def stop(line):
        lines.append(line)
        if len(lines) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train.run(tiny_config, [{}], stop, workdir=str(tmp_path))
    scalars, _ = read_events(str(tmp_path / summaries.SUMMARY_DIR / "member_000"))
    logged = train.log_steps(40, 8, "log")
    assert sorted(scalars["loss"]) == [s for s in logged if s < 16]

"""A class with no sample in a split has no loss: its per-class records are NaN (never 0), it is in
no frequency bucket and no mean, and each split's class_count in metrics.csv counts that split's labels."""
import numpy as np
import pytest
from conftest import load_config

from dynamics import losses, summaries, train
from dynamics.history import History
from dynamics.plots import class_mean, frequency_buckets, sample_mean


def test_per_class_mean_of_an_empty_class_is_nan():
    values = np.array([1.0, 3.0, 10.0, 0.0])
    means = np.asarray(losses.per_class_mean(values, np.array([0, 0, 2, 2]), 4))
    np.testing.assert_array_equal(np.isnan(means), [False, True, False, True])
    np.testing.assert_allclose(means[[0, 2]], [2.0, 5.0])


def test_buckets_and_means_leave_out_absent_classes():
    counts = np.array([8, 4, 0, 1, 0])
    buckets = frequency_buckets(counts)
    assert [b.tolist() for b in buckets] == [[0], [1], [3]]
    values = np.array([[1.0, 2.0, np.nan, 6.0, np.nan]])
    np.testing.assert_allclose(class_mean(values, [1, 2, 3]), [4.0])
    np.testing.assert_allclose(sample_mean(values, counts), [(8 * 1.0 + 4 * 2.0 + 6.0) / 13])
    assert np.isnan(class_mean(values, [2, 4]))[0]
    scalars = summaries.bucket_scalars({"per_class_loss": values}, [np.array([1, 2, 3])])
    np.testing.assert_allclose(scalars["bucket_loss/0"], [4.0])


@pytest.mark.slow  # 3.6 CPU-s, mostly compilation
def test_run_records_nan_for_absent_classes_and_per_split_counts(tmp_path):
    """Modular addition mod 5 on 30% of the pairs: classes 3 and 4 have no training pair and class
    0 has no test pair."""
    c = load_config("grokking_modular")[0]
    c["data"].update(p=5, train_fraction=0.3, zipf_exponent=0.0, seed=0)
    c["model"].update(embed_dim=4, hidden_dim=8)
    c["train"].update(num_steps=2, chunk_steps=3, num_log_points=3, extra_metrics=())
    c["select"]["rule"] = "none"
    history = train.run(c, [{}], lambda line: None)
    counts, test_counts = history.class_counts[0], history.test_class_counts[0]
    assert counts.tolist() == [5, 2, 1, 0, 0] and test_counts.tolist() == [0, 3, 4, 5, 5]
    for prefix, split_counts in (("", counts), ("test_", test_counts)):
        for name in ("loss", "accuracy"):
            values = history.records[f"{prefix}per_class_{name}"][0]
            assert np.all(np.isnan(values[:, split_counts == 0]))
            assert np.all(np.isfinite(values[:, split_counts > 0]))
    history.save(str(tmp_path))
    table = History.load(str(tmp_path)).metrics_table()
    for split, split_counts in (("train", counts), ("test", test_counts)):
        rows = table[(table.split == split) & (table.step == history.step[-1])]
        np.testing.assert_array_equal(rows.class_count, split_counts)
        assert rows.loss.isna().sum() == np.sum(split_counts == 0)
    old = tmp_path / "old"  # a workdir written before test counts were recorded still loads
    history.test_class_counts = None
    history.save(str(old))
    loaded = History.load(str(old))
    assert loaded.test_class_counts is None
    assert loaded.metrics_table().query("split == 'test'").class_count.isna().all()

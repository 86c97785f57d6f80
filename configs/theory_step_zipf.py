"""Empirical extension of Kunstner et al. 2024's orthogonal-model analysis (not exact theory): on
the Foundation's uniform-input step-Zipf linear model (the data and model defaults, as in
configs/heavy_tail_linear.py: 255 classes, U[0, 1] inputs shared by all classes, d = 256, bias),
the time t_k = η·step at which class k's loss reaches ½ log C and ⅕ log C against its frequency
(log-log), with the fitted slopes of GD, Adam and sign descent in figures/time_to_threshold.png,
beside the orthogonal model's prediction (slope −1 for GD, 0 for sign) drawn as a reference. A
reported figure, not a tolerance test: the slopes depend on the threshold and the learning rate,
and classes that never reach a threshold are left out of the fit. Step sizes: GD η = 0.3, the
largest rate of configs/heavy_tail_linear.py's grid at which GD does not oscillate (η = 1 ends at
a lower loss but the frequent classes' losses spike to ~50 nats along the way, so "time to
threshold" would measure the oscillation); Adam 0.01 and sign descent 1e-3, the middle of their grids.

Measured (fitted slopes of log t_k on log π_k): at ½ log C, GD −0.42 (25 of 255 classes never get
there), Adam +0.11, sign +0.01 (orthogonal model: −1 and 0); at ⅕ log C no class gets there under
GD within 1500 steps, Adam +0.39, sign +0.40 (7 never): with d = 256 inputs the rare classes'
few samples are memorised quickly by the adaptive methods.

Run:     python -m dynamics.main --config=configs/theory_step_zipf.py --workdir=/tmp/theory_step_zipf
Small:   python -m dynamics.main --config=configs/theory_step_zipf.py:small --workdir=/tmp/theory_step_zipf_small
         (m = 5 groups: 31 classes, d = 32, 300 steps: figures --small; the layout, not the numbers)
Runtime: measured 3 min 19 s wall (81 s CPU) on the shared, busy 2-core CPU (3 members, 1500
full-batch steps).
"""
from dynamics import config, sweep


def get_config(variant=""):
    c = config.defaults(data="synthetic", model="linear")  # step-Zipf, U[0, 1] inputs; logits = Wx + b
    c.model.init_scale = 0.0  # starts from W = 0, b = 0
    c.optimizer.learning_rate = 1.0  # η (every member sets its own, below)
    c.train.num_steps = 1500  # optimizer steps
    c.train.chunk_steps = 500  # steps per compiled scan (one progress line each)
    c.train.num_log_points = 80  # log-spaced records; crossing times are interpolated between them
    c.figures = ("time_to_threshold", "per_class_loss")  # t_k against π_k with fitted slopes; bucket curves
    if config.variant(variant, ("small",)) == "small":
        c.data.num_classes = 31  # m = 5 groups
        c.data.num_samples = 320  # 64 samples per group
        c.data.input_dim = 32  # d < n still
        c.train.num_steps = 300  # optimizer steps
        c.train.chunk_steps = 300  # one compiled scan
        c.train.num_log_points = 40  # log-spaced records
    return c


def get_sweep(variant=""):
    """GD, Adam and sign descent at fixed step sizes (one program for the three)."""
    return sweep.zip(sweep.axis("optimizer.name", ["gd", "adam", "sign"]),
                     sweep.axis("optimizer.learning_rate", [0.3, 1e-2, 1e-3]))

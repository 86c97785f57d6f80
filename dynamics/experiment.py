"""The one entry point: an experiment end to end. Plan, train (resuming from the workdir's
checkpoint), select, save, predict, draw. dynamics.main and dynamics.figures only parse their
flags and call `run`; a notebook calls it the same way (without a workdir it only trains, keeps what
the predictions need from the data (dynamics.predict.with_data_records) and selects).
"""
import contextlib
import os

from dynamics import atomic, checkpoint, distributed, lock, pieces, plots, predict, train
from dynamics import history as history_lib
from dynamics.data import build_dataset
from dynamics.errors import ConfigError, check_choice, check_keys

AGREEMENT_FILE = "agreement.csv"


def check_figures(config: dict) -> None:
    if not isinstance(config["figures"], (tuple, list)):
        raise ConfigError(f"figures must be a tuple of figure names, got {config['figures']!r}")
    for name in config["figures"]:
        check_choice("figure (figures)", name, plots.FIGURES)


def run(config: dict, members: list = ({},), workdir: str = None, overwrite: bool = False, progress=print,
        datasets: dict = None, models: dict = None, optimizers: dict = None, metrics: dict = None
        ) -> history_lib.History:
    """Runs every member of the sweep; with a workdir, also saves, predicts and draws there.

    Everything before training may raise ConfigError, and then nothing has been written. A workdir
    that already holds results is refused unless overwrite; one holding a checkpoint resumes.
    datasets / models / optimizers / metrics: the caller's own pieces {name: function}, besides
    the library's (dynamics.pieces), named in the config like the library's.
    """
    leader = distributed.is_leader()  # in a multi-process run only process 0 writes and reports
    progress = progress if leader else (lambda line: None)
    own = pieces.with_own(datasets, models, optimizers, metrics)
    check_keys("config", config, train.SECTIONS)
    check_figures(config)
    if workdir is None:
        return trained(config, members, progress, None, False, own)
    with lock.held(workdir) if leader else contextlib.nullcontext():  # before anything in the workdir is read or written
        existing = [f for f in history_lib.RESULT_FILES if os.path.exists(os.path.join(workdir, f))]
        if existing and not overwrite and not checkpoint.exists(workdir):
            raise ConfigError(f"workdir {workdir!r} already holds results ({', '.join(existing)}); "
                              "pass --overwrite to replace them")
        history = trained(config, members, progress, workdir, overwrite, own)
        table = predict.agreement(history)
        distributed.barrier("experiment.run: trained")
        if leader:
            history.save(workdir, predict.member_columns(history))
            if table is not None:
                atomic.write_bytes(os.path.join(workdir, AGREEMENT_FILE), lambda f: table.to_csv(f, index=False))
            os.makedirs(os.path.join(workdir, "figures"), exist_ok=True)
            draw(history, [os.path.join(workdir, "figures", f"{name}.png") for name in config["figures"]])
            checkpoint.remove(workdir)  # marks the run complete: once, after every process finished training
        distributed.barrier("experiment.run: results written")
    written = ", ".join(history_lib.RESULT_FILES + ((AGREEMENT_FILE,) if table is not None else ()))
    progress(f"wrote {workdir}: {written}, figures/, tensorboard/")
    return history


def trained(config: dict, members: list, progress, workdir, overwrite: bool, own: pieces.Pieces) -> history_lib.History:
    """train.run, then the records a prediction needs from the data, then the learning-rate selection."""
    history = train.run(config, members, progress, workdir=workdir, fresh=overwrite, pieces=own)
    history = predict.with_data_records(history, lambda data: build_dataset(data, own.datasets))
    if config["select"]["rule"] == "best_lr":
        history = history_lib.select_best_lr(history, config["select"]["metric"])
    return history


def draw(history: history_lib.History, paths: list) -> list:
    """Draws each figure of history.config["figures"] to the matching path, from the History alone."""
    check_figures(history.config)
    for name, path in zip(history.config["figures"], paths):
        atomic.write(path, lambda tmp, name=name: plots.FIGURES[name](history, tmp))
    return paths

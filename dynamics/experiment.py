"""The one entry point: an experiment end to end. Plan, train (resuming from the workdir's
checkpoint), select, save, predict, draw. dynamics.main and dynamics.figures only parse their
flags and call `run`; a notebook calls it the same way (without a workdir it only trains, keeps what
the predictions need from the data (dynamics.predict.with_data_records) and selects).
"""
import contextlib
import json
import os

from dynamics import atomic, checkpoint, disk, distributed, lock, pieces, plots, predict, train
from dynamics import history as history_lib
from dynamics.data import build_dataset
from dynamics.errors import ConfigError, check_choice, check_keys

AGREEMENT_FILE = "agreement.csv"
COMPLETE_FILE = "complete.json"  # written last by run: the workdir's files are all of one finished run


def check_figures(config: dict) -> None:
    if not isinstance(config["figures"], (tuple, list)):
        raise ConfigError(f"figures must be a tuple of figure names, got {config['figures']!r}")
    for name in config["figures"]:
        check_choice("figure (figures)", name, plots.FIGURES)


def run(config: dict, members: list = ({},), workdir: str = None, overwrite: bool = False, progress=print,
        datasets: dict = None, models: dict = None, optimizers: dict = None, metrics: dict = None,
        name: str = None) -> history_lib.History:
    """Runs every member of the sweep; with a workdir, also saves, predicts and draws there.

    Everything before training may raise ConfigError, and then nothing has been written. A workdir
    that already holds results is refused unless overwrite; one holding a checkpoint resumes.
    Completion is marked once, last, in COMPLETE_FILE (with `name`, the config's NAME, which
    dynamics.figures --from checks); the mark is removed before anything else is written, so a reader
    (`load`) never trusts a workdir that a kill left half old, half new.
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
    try:
        return saved(config, members, workdir, overwrite, progress, own, name)
    except Exception as e:  # noqa: BLE001 - only a full disk is turned into one line; the rest is re-raised
        if not disk.out_of_space(e):
            raise
        raise ConfigError(f"the disk of workdir {workdir!r} is full ({type(e).__name__}); free space and relaunch "
                          "the same command: it resumes from the last checkpoint") from None


def saved(config: dict, members: list, workdir: str, overwrite: bool, progress, own: pieces.Pieces,
          name: str) -> history_lib.History:
    """run with a workdir: under its lock, trains (resuming), then saves, predicts, draws and marks completion."""
    leader = distributed.is_leader()
    with lock.held(workdir) if leader else contextlib.nullcontext():  # before anything in the workdir is read or written
        existing = [f for f in history_lib.RESULT_FILES if os.path.exists(os.path.join(workdir, f))]
        if existing and not overwrite and not checkpoint.exists(workdir):
            state = "" if os.path.exists(os.path.join(workdir, COMPLETE_FILE)) else \
                f", incomplete or from before {COMPLETE_FILE} marked completion"
            raise ConfigError(f"workdir {workdir!r} already holds results ({', '.join(existing)}{state}); "
                              "pass --overwrite to replace them")
        mark = os.path.join(workdir, COMPLETE_FILE)
        if leader and os.path.exists(mark):
            os.remove(mark)  # from here until the mark is written again, the workdir is incomplete
        history = trained(config, members, progress, workdir, overwrite, own)
        table = predict.agreement(history)
        distributed.barrier("experiment.run: trained")
        written = history_lib.RESULT_FILES + (checkpoint.PARAMS_FILE,) + ((AGREEMENT_FILE,) if table is not None else ())
        if leader:
            history.save(workdir, predict.member_columns(history))
            if table is not None:
                atomic.write_bytes(os.path.join(workdir, AGREEMENT_FILE), lambda f: table.to_csv(f, index=False))
            os.makedirs(os.path.join(workdir, "figures"), exist_ok=True)
            draw(history, [os.path.join(workdir, "figures", f"{figure}.png") for figure in config["figures"]])
            checkpoint.remove(workdir)  # once every process finished training
            atomic.write_bytes(mark, lambda f: f.write(json.dumps({"name": name, "files": written}).encode()))
        distributed.barrier("experiment.run: results written")
    written = ", ".join(written)
    progress(f"wrote {workdir}: {written}, figures/, tensorboard/")
    return history


def load(workdir: str, name: str = None) -> history_lib.History:
    """The History of a complete workdir (one whose run wrote COMPLETE_FILE last); name: the config
    NAME it must hold. Anything else is a one-line ConfigError that says to rerun with --overwrite."""
    try:
        with open(os.path.join(workdir, COMPLETE_FILE)) as f:
            mark = json.load(f)
        recorded = mark["name"]
    except FileNotFoundError:
        raise ConfigError(f"workdir {workdir!r} is incomplete (interrupted, being written, or from before "
                          f"{COMPLETE_FILE} marked completion); rerun it with --overwrite")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"cannot read {os.path.join(workdir, COMPLETE_FILE)}: {type(e).__name__}; "
                          "rerun it with --overwrite")
    history = history_lib.History.load(workdir)
    if name is not None and recorded != name:
        held = f"config {recorded!r}" if recorded else "a run of no named config (e.g. from a notebook)"
        raise ConfigError(f"workdir {workdir!r} holds {held}, not {name!r}")
    return history


def trained(config: dict, members: list, progress, workdir, overwrite: bool, own: pieces.Pieces) -> history_lib.History:
    """train.run, then the records a prediction needs from the data, then the learning-rate selection."""
    history = train.run(config, members, progress, workdir=workdir, fresh=overwrite, pieces=own)
    history = predict.with_data_records(history, lambda data: build_dataset(data, own.datasets))
    if config["select"]["rule"] == "best_lr":
        history = history_lib.select_best_lr(history, config["select"]["metric"])
    return history


def draw(history: history_lib.History, paths: list) -> list:
    """Draws each figure of history.config["figures"] to the matching path, from the History alone (a
    History with no member selected: a panel saying that every learning rate diverged)."""
    check_figures(history.config)
    nothing = not history.selected.any()  # every learning rate diverged (history.select_best_lr)
    for name, path in zip(history.config["figures"], paths):
        figure = plots.nothing_selected if nothing else plots.FIGURES[name]
        atomic.write(path, lambda tmp, figure=figure: figure(history, tmp))
    return paths

"""The figure gallery: python -m dynamics.figures [NAME ...] --outdir=DIR [--small] [--from=RUNS] [--figdir=FIGDIR].

A NAME is a config file configs/NAME.py; its figures are those named in its `figures` field
(dynamics.plots.FIGURES). With no NAME, every config is done, in alphabetical order. For each NAME:
- it runs the config's sweep into the workdir DIR/NAME/ (dynamics.experiment.run, which saves the
  History and draws the figures from it; an interrupted run resumes), or reuses a complete workdir
  holding the same config and members and redraws its figures from the saved History, then
- puts each figure at FIGDIR/NAME.png (FIGDIR/NAME-FIGURE.png when the config draws several;
  FIGDIR defaults to DIR), and prints one progress line per figure.
--from=RUNS trains nothing: each figure is redrawn from the History in RUNS/NAME/, or in RUNS
itself when it is a workdir and one NAME is given.
--small runs each config's "small" variant (get_config("small"), get_sweep("small")): the one
shrunken setting the tests and notebooks use too; the figures have the right layout, not the
paper's numbers. --distributed: as in dynamics.main (process 0 writes). An unknown NAME gets one line on stderr naming the valid ones, and exit code 2.
"""
import json
import os
import shutil
import time

from absl import app, flags
from absl import logging as absl_logging

from dynamics import atomic, checkpoint, config, disk, distributed, experiment
from dynamics.errors import ConfigError, fail
from dynamics.history import RESULT_FILES

_OUTDIR = flags.DEFINE_string("outdir", None, "Directory for the workdirs (DIR/NAME/) and, by default, the PNGs.")
_FIGDIR = flags.DEFINE_string("figdir", None, "Directory for the PNGs (default: --outdir), e.g. docs/figures.")
_SMALL = flags.DEFINE_bool("small", False, "Run each config's small variant (tests, quick looks).")
_FROM = flags.DEFINE_string("from", None, "Redraw from saved workdirs RUNS/NAME/ (or one workdir) instead of running.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Rerun where DIR/NAME/ already holds results.")
_INITIALIZE_DISTRIBUTED = distributed.define_flags()


def figure_paths(name: str, figure_names, figdir: str) -> list:
    """FIGDIR/NAME.png for a config with one figure, FIGDIR/NAME-FIGURE.png for each of several."""
    figure_names = list(figure_names)
    if len(figure_names) == 1:
        return [os.path.join(figdir, f"{name}.png")]
    return [os.path.join(figdir, f"{name}-{figure}.png") for figure in figure_names]


def is_complete(workdir: str, config_dict: dict, members: list) -> bool:
    """Whether workdir holds finished results (marked complete) of exactly this config and these members."""
    needed = RESULT_FILES + (experiment.COMPLETE_FILE,)
    if checkpoint.exists(workdir) or not all(os.path.exists(os.path.join(workdir, f)) for f in needed):
        return False
    try:
        with open(os.path.join(workdir, "config.json")) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return False  # unreadable: rerun
    return saved == json.loads(json.dumps({"config": config_dict, "members": members}))


def run_figure(name: str, outdir: str, figdir: str = None, small: bool = False, overwrite: bool = False,
               progress=print, configs_dir: str = config.CONFIGS_DIR) -> list:
    """Runs configs/NAME.py into OUTDIR/NAME/ (or reuses a complete identical run) and draws its figures."""
    config_dict, members = config.load_named(name, "small" if small else "", configs_dir)
    workdir = os.path.join(outdir, name)
    figdir = figdir or outdir
    os.makedirs(figdir, exist_ok=True)
    paths = figure_paths(name, config_dict["figures"], figdir)
    if not overwrite and is_complete(workdir, config_dict, members):
        return experiment.draw(experiment.load(workdir, name), paths) if distributed.is_leader() else paths  # reused
    experiment.run(config_dict, members, workdir, overwrite, progress=lambda line: progress(f"  {name}: {line}"),
                   name=name)
    if not distributed.is_leader():
        return paths  # process 0 copies them
    for figure, path in zip(config_dict["figures"], paths):  # experiment.run drew them from the History it saved
        atomic.write(path, lambda tmp, figure=figure: shutil.copyfile(os.path.join(workdir, "figures", f"{figure}.png"), tmp))
    return paths


def redraw_figure(name: str, runs: str, figdir: str) -> list:
    """Draws NAME's figures from the saved History in RUNS/NAME/ (or RUNS, if that is a workdir)."""
    workdir = os.path.join(runs, name)
    if not os.path.exists(os.path.join(workdir, "history.npz")):
        workdir = runs
    if not os.path.exists(os.path.join(workdir, "history.npz")):
        raise ConfigError(f"no saved results for {name!r}: neither {os.path.join(runs, name)} nor {runs} holds history.npz")
    history = experiment.load(workdir, name)  # complete, and of config NAME
    os.makedirs(figdir, exist_ok=True)
    return experiment.draw(history, figure_paths(name, history.config["figures"], figdir))


def describe(paths: list) -> str:
    """'a.png (52 KB), b.png (230 KB, over 200 KB)', or that there is none."""
    parts = []
    for path in paths:
        size = os.path.getsize(path) // 1024
        parts.append(f"{path} ({size} KB{', over 200 KB' if size > 200 else ''})")
    return ", ".join(parts) or "no figure (the config draws none)"


def parse_flags(argv):
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        fail(str(e).splitlines()[0])


def main(argv):
    if not flags.FLAGS["verbosity"].present:
        absl_logging.set_verbosity(absl_logging.WARNING)  # orbax logs every checkpoint at INFO
    names = list(argv[1:])
    if not _OUTDIR.value:
        fail("--outdir=DIR is required")
    runs = _FROM.value
    valid = config.names()
    unknown = [n for n in names if n not in valid]
    if unknown:
        fail(f"unknown figure {unknown[0]!r}; valid names: {', '.join(valid)}")
    if not names:
        names = valid if runs is None else [n for n in valid if os.path.exists(os.path.join(runs, n, "history.npz"))]
    if runs is not None and len(names) != 1 and os.path.exists(os.path.join(runs, "history.npz")):
        fail(f"--from={runs} is one workdir: name the one figure it holds")
    if not names:
        fail(f"--from={runs} holds no workdir NAME/ with results; valid names: {', '.join(valid)}")
    figdir = _FIGDIR.value or _OUTDIR.value
    for flag, path in (("--outdir", _OUTDIR.value), ("--figdir", figdir)):
        if os.path.exists(path) and not os.path.isdir(path):
            fail(f"{flag}={path} is a file, not a directory; choose a directory")
    try:
        _INITIALIZE_DISTRIBUTED()  # before anything touches the backend
    except ConfigError as e:
        fail(str(e))
    for k, name in enumerate(names, 1):
        start = time.time()
        try:
            if runs is None:
                paths = run_figure(name, _OUTDIR.value, figdir, _SMALL.value, _OVERWRITE.value)
            elif distributed.is_leader():
                paths = redraw_figure(name, runs, figdir)
        except ConfigError as e:
            fail(f"{name}: {e}")
        except OSError as e:  # writing the PNGs into --figdir (experiment.run reports its own full disk)
            if not disk.out_of_space(e):
                raise
            fail(f"{name}: the disk of {figdir} is full; the previous figures there are intact")
        if not distributed.is_leader():
            continue
        verb = "redrew" if runs is not None else "made"
        print(f"[{k}/{len(names)}] {name}: {verb} {describe(paths)} in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)

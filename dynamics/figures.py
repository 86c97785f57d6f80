"""The figure gallery: python -m dynamics.figures [NAME ...] --outdir=DIR [--small] [--from=RUNS].

A NAME is a config file configs/NAME.py; its figures are those named in its `figures` field
(dynamics.plots.FIGURES). With no NAME, every config is done, in alphabetical order. For each NAME:
- it runs the config's sweep into the workdir DIR/NAME/ (dynamics.main.run, which saves the History
  and draws the figures from it; an interrupted run resumes), or reuses a complete workdir holding
  the same config and members and redraws its figures from the saved History, then
- puts each figure at FIGDIR/NAME.png (FIGDIR/NAME-FIGURE.png when the config draws several;
  FIGDIR defaults to DIR), and prints one progress line per figure.
--from=RUNS trains nothing: each figure is redrawn from the History in RUNS/NAME/ (the layout this
command writes, and the README's runs/NAME), or in RUNS itself when it is a workdir and one NAME is
given. A figure from a big accelerator sweep can so be redrawn on a laptop from its workdir.
--small shrinks every run for tests and quick looks (SMALL_STEPS, SMALL_OVERRIDES, one learning rate
and one seed per setting): the figures have the right layout but not the paper's numbers.
An unknown NAME gets one line on stderr naming the valid ones, and exit code 2.
"""
import glob
import importlib.util
import json
import os
import shutil
import time

from absl import app, flags
from absl import logging as absl_logging

from dynamics import checkpoint, main, plots, sweep
from dynamics.errors import ConfigError, check_choice
from dynamics.history import LR_KEY, RESULT_FILES, History

CONFIGS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")

# --small: every run takes at most this many optimizer steps (chunk_steps and num_log_points shrink with it).
SMALL_STEPS = 60
SMALL_LOG_POINTS = 12
# --small: per config, {dotted key: value} that shrink its data and model as well (set in the base
# config and in every sweep member). A config without an entry only gets the generic shrinking.
_SMALL_STEP_ZIPF = {"data.num_classes": 31, "data.num_samples": 320, "data.input_dim": 32}  # m = 5 groups
_SMALL_PAPER_STEP_ZIPF = {"data.num_classes": 31, "data.num_samples": 160, "data.input_dim": 192}  # the paper's, m = 5
SMALL_OVERRIDES = {
    "heavy_tail_linear": _SMALL_PAPER_STEP_ZIPF,
    "heavy_tail_linear_centered": _SMALL_PAPER_STEP_ZIPF,
    "heavy_tail_hessian": _SMALL_PAPER_STEP_ZIPF,
    "heavy_tail_reweighting": _SMALL_STEP_ZIPF,
    "heavy_tail_cnn": {"data.barcode_bits": 2},
    "heavy_tail_transformer": {"data.vocab_size": 100, "data.seq_len": 16, "data.num_sequences": 8,
                               "model.width": 16, "model.depth": 1, "optimizer.warmup_steps": 5},
    "collapse_digits_lt": {"model.hidden": (16, 16)},
    "grokking_modular": {"data.p": 23, "model.embed_dim": 16, "model.hidden_dim": 32},
    "grokking_xor": {"data.input_dim": 2000, "data.num_test": 200},
}

_OUTDIR = flags.DEFINE_string("outdir", None, "Directory for the workdirs (DIR/NAME/) and, by default, the PNGs.")
_FIGDIR = flags.DEFINE_string("figdir", None, "Directory for the PNGs (default: --outdir), e.g. docs/figures.")
_SMALL = flags.DEFINE_bool("small", False, "Shrink every run (tests, quick looks): not the paper's numbers.")
_FROM = flags.DEFINE_string("from", None, "Redraw from saved workdirs RUNS/NAME/ (or one workdir) instead of running.")
# --overwrite (defined by dynamics.main, which this module imports): rerun where DIR/NAME/ holds results.


def gallery_names(configs_dir: str = CONFIGS_DIR) -> list:
    """Every config under configs_dir, by file name (configs/NAME.py -> NAME), sorted."""
    paths = glob.glob(os.path.join(configs_dir, "*.py"))
    return sorted(os.path.basename(p)[:-3] for p in paths if not os.path.basename(p).startswith("_"))


def load_experiment(name: str, configs_dir: str = CONFIGS_DIR) -> tuple:
    """(config dict, members) of configs/NAME.py: get_config().to_dict() and get_sweep() (or [{}])."""
    check_choice("figure", name, gallery_names(configs_dir))
    path = os.path.join(configs_dir, f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"configs_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config().to_dict(), main.load_sweep(path)


def small_setting(name: str, config: dict, members: list) -> tuple:
    """(config, members) shrunk for --small: SMALL_OVERRIDES[name] set everywhere, at most SMALL_STEPS
    steps, and per setting of the other swept keys only the middle learning rate and the first seed."""
    overrides = dict(SMALL_OVERRIDES.get(name, {}))
    flat = sweep.flatten(config)
    steps = min(flat["train.num_steps"], SMALL_STEPS)
    overrides.update({"train.num_steps": steps, "train.chunk_steps": min(flat["train.chunk_steps"], steps),
                      "train.num_log_points": min(flat["train.num_log_points"], SMALL_LOG_POINTS)})
    for key, value in overrides.items():
        if key not in flat:
            raise ConfigError(f"SMALL_OVERRIDES[{name!r}] names unknown config key {key!r}")
        flat[key] = value
    members = [{k: (overrides[k] if k in overrides else v) for k, v in m.items()} for m in members]
    return sweep.unflatten(flat), thin_members(members)


def thin_members(members: list) -> list:
    """Per setting of the swept keys other than the learning rate and seed: the middle learning
    rate of its grid and the first seed (member order kept)."""
    settings = {}
    for i, member in enumerate(members):
        rest = repr(sorted((k, repr(v)) for k, v in member.items() if k not in (LR_KEY, "seed")))
        settings.setdefault(rest, []).append(i)
    kept = []
    for indices in settings.values():
        rates = list(dict.fromkeys(repr(members[i].get(LR_KEY)) for i in indices))
        rate = rates[len(rates) // 2]
        first_seed = repr(members[indices[0]].get("seed"))
        kept += [i for i in indices if repr(members[i].get(LR_KEY)) == rate and repr(members[i].get("seed")) == first_seed]
    return [dict(members[i]) for i in sorted(set(kept))]


def figure_paths(name: str, figure_names, figdir: str) -> list:
    """FIGDIR/NAME.png for a config with one figure, FIGDIR/NAME-FIGURE.png for each of several."""
    figure_names = list(figure_names)
    if len(figure_names) == 1:
        return [os.path.join(figdir, f"{name}.png")]
    return [os.path.join(figdir, f"{name}-{figure}.png") for figure in figure_names]


def draw(history: History, name: str, figdir: str) -> list:
    """Draws every figure the History's config names, from the History alone; returns the paths."""
    figure_names = list(history.config["figures"])
    for figure in figure_names:
        check_choice("figure (figures)", figure, plots.FIGURES)
    os.makedirs(figdir, exist_ok=True)
    paths = figure_paths(name, figure_names, figdir)
    for figure, path in zip(figure_names, paths):
        main.write_figure(plots.FIGURES[figure], history, path)
    return paths


def is_complete(workdir: str, config: dict, members: list) -> bool:
    """Whether workdir holds finished results of exactly this config and these members."""
    if checkpoint.exists(workdir) or not all(os.path.exists(os.path.join(workdir, f)) for f in RESULT_FILES):
        return False
    with open(os.path.join(workdir, "config.json")) as f:
        saved = json.load(f)
    return saved == json.loads(json.dumps({"config": config, "members": members}))


def run_figure(name: str, outdir: str, figdir: str = None, small: bool = False, overwrite: bool = False,
               progress=print, configs_dir: str = CONFIGS_DIR) -> list:
    """Runs configs/NAME.py into OUTDIR/NAME/ (or reuses a complete identical run) and draws its figures."""
    config, members = load_experiment(name, configs_dir)
    if small:
        config, members = small_setting(name, config, members)
    workdir = os.path.join(outdir, name)
    figdir = figdir or outdir
    if not overwrite and is_complete(workdir, config, members):
        return draw(History.load(workdir), name, figdir)  # reused: redrawn from the saved History
    main.run(config, members, workdir, overwrite, progress=lambda line: progress(f"  {name}: {line}"))
    os.makedirs(figdir, exist_ok=True)
    paths = figure_paths(name, config["figures"], figdir)
    for figure, path in zip(config["figures"], paths):  # main.run drew them from the History it saved
        shutil.copyfile(os.path.join(workdir, "figures", f"{figure}.png"), path)
    return paths


def redraw_figure(name: str, runs: str, figdir: str) -> list:
    """Draws NAME's figures from the saved History in RUNS/NAME/ (or RUNS, if that is a workdir)."""
    workdir = os.path.join(runs, name)
    if not os.path.exists(os.path.join(workdir, "history.npz")):
        workdir = runs
    if not os.path.exists(os.path.join(workdir, "history.npz")):
        raise ConfigError(f"no saved results for {name!r}: neither {os.path.join(runs, name)} nor {runs} holds history.npz")
    return draw(History.load(workdir), name, figdir)


def describe(paths: list) -> str:
    """'a.png (52 KB), b.png (230 KB, over 200 KB)'."""
    parts = []
    for path in paths:
        size = os.path.getsize(path) // 1024
        parts.append(f"{path} ({size} KB{', over 200 KB' if size > 200 else ''})")
    return ", ".join(parts)


def main_figures(argv):
    if not flags.FLAGS["verbosity"].present:
        absl_logging.set_verbosity(absl_logging.WARNING)  # orbax logs every checkpoint at INFO
    names = list(argv[1:])
    if not _OUTDIR.value:
        main.fail("--outdir=DIR is required")
    runs = _FROM.value
    valid = gallery_names()
    unknown = [n for n in names if n not in valid]
    if unknown:
        main.fail(f"unknown figure {unknown[0]!r}; valid names: {', '.join(valid)}")
    if not names:
        names = valid if runs is None else [n for n in valid if os.path.exists(os.path.join(runs, n, "history.npz"))]
    if runs is not None and len(names) != 1 and os.path.exists(os.path.join(runs, "history.npz")):
        main.fail(f"--from={runs} is one workdir: name the one figure it holds")
    if not names:
        main.fail(f"--from={runs} holds no workdir NAME/ with results; valid names: {', '.join(valid)}")
    figdir = _FIGDIR.value or _OUTDIR.value
    for k, name in enumerate(names, 1):
        start = time.time()
        try:
            if runs is None:
                paths = run_figure(name, _OUTDIR.value, figdir, _SMALL.value, flags.FLAGS.overwrite)
            else:
                paths = redraw_figure(name, runs, figdir)
        except ConfigError as e:
            main.fail(f"{name}: {e}")
        verb = "redrew" if runs is not None else "made"
        print(f"[{k}/{len(names)}] {name}: {verb} {describe(paths)} in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    app.run(main_figures, flags_parser=main.parse_flags)

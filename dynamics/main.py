"""Launcher: python -m dynamics.main --config=configs/NAME.py --workdir=DIR [--config.KEY=VALUE ...].

Runs every member of the config's sweep (get_sweep(), if the file defines one; a --config.KEY
override applies to every member and replaces that key's sweep axis), then writes
config.json, history.npz, members.csv, metrics.csv and figures/ into the workdir. Bad input
gets one line on stderr and exit code 2; nothing is written.

While it trains the workdir holds checkpoints/ (the last train.checkpoint_keep, one per chunk) and
tensorboard/ (`tensorboard --logdir DIR`). Relaunching the same command resumes from the last
checkpoint, with the same result as an uninterrupted run; a different config is refused. Once the
results and figures are written (each to a temporary name, then renamed) the checkpoints are
removed: a workdir with results and no checkpoints is complete and is only replaced with --overwrite.
"""
import importlib.util
import logging
import os
import sys

from absl import app, flags
from absl import logging as absl_logging
from ml_collections import config_flags

from dynamics import checkpoint, plots, train
from dynamics import history as history_lib
from dynamics.errors import ConfigError, check_choice, check_keys

logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)  # no "no TPU here" line on every CPU run

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/NAME.py).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for the results.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace results already in the workdir.")


def fail(message: str) -> None:
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)


def parse_flags(argv):
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        fail(str(e).splitlines()[0])
    except (KeyError, AttributeError) as e:
        fail(f"unknown config key in an override: {str(e).strip(chr(34))}; see the config file for the valid keys")
    except (ValueError, TypeError, AttributeError, OSError, SyntaxError) as e:
        fail(f"cannot load the config: {str(e).splitlines()[0] if str(e) else type(e).__name__}")


def load_sweep(config_path: str) -> list:
    """The members from the config file's get_sweep(), or one member if it has none.

    config_path may end in ':ARG' (ml_collections passes ARG to get_config); get_sweep() takes none."""
    config_path = config_path.split(":", 1)[0]
    spec = importlib.util.spec_from_file_location("experiment_config", config_path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except OSError as e:
        raise ConfigError(f"cannot read the config file {config_path!r}: {e.strerror}")
    members = module.get_sweep() if hasattr(module, "get_sweep") else [{}]
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise ConfigError(f"get_sweep() must return a list of members ({{dotted key: value}} dicts), got {members!r}")
    return members


def without_overridden(members: list, argv) -> list:
    """Command-line overrides win over the sweep: drop the keys they set from every member (and duplicates)."""
    overridden = {arg[len("--config."):].split("=")[0] for arg in argv if arg.startswith("--config.")}
    unique = {}
    for member in members:
        kept = {k: v for k, v in member.items() if k not in overridden}
        unique.setdefault(repr(sorted(kept.items())), kept)
    return list(unique.values())


def run(config: dict, members: list, workdir: str, overwrite: bool, progress=print) -> history_lib.History:
    """Validates, trains (resuming from the workdir's checkpoint if it has one), selects and saves.

    Everything before training may raise ConfigError, and then nothing has been written.
    """
    check_keys("config", config, train.SECTIONS)
    if not isinstance(config["figures"], (tuple, list)):
        raise ConfigError(f"figures must be a tuple of figure names, got {config['figures']!r}")
    for name in config["figures"]:
        check_choice("figure (figures)", name, plots.FIGURES)
    existing = [f for f in history_lib.RESULT_FILES if os.path.exists(os.path.join(workdir, f))]
    if existing and not overwrite and not checkpoint.exists(workdir):
        raise ConfigError(f"workdir {workdir!r} already holds results ({', '.join(existing)}); "
                          "pass --overwrite to replace them")
    result = train.run(config, members, progress, workdir=workdir, fresh=overwrite)
    if config["select"]["rule"] == "best_lr":
        result = history_lib.select_best_lr(result, config["select"]["metric"])
    result.save(workdir)
    os.makedirs(os.path.join(workdir, "figures"), exist_ok=True)
    for name in config["figures"]:
        write_figure(plots.FIGURES[name], result, os.path.join(workdir, "figures", f"{name}.png"))
    checkpoint.remove(workdir)
    progress(f"wrote {workdir}: {', '.join(history_lib.RESULT_FILES)}, figures/, tensorboard/")
    return result


def write_figure(draw, history: history_lib.History, path: str) -> None:
    """Draws to a temporary name, then renames: a crash never leaves a half-written figure."""
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.path.basename(path)}")
    try:
        draw(history, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv):
    if not flags.FLAGS["verbosity"].present:
        absl_logging.set_verbosity(absl_logging.ERROR)  # orbax logs every save, and resuming, on stderr
    if len(argv) > 1:
        fail(f"unexpected arguments {argv[1:]}")
    if _CONFIG.value is None or not _WORKDIR.value:
        fail("both --config=configs/NAME.py and --workdir=DIR are required")
    try:
        members = without_overridden(load_sweep(config_flags.get_config_filename(flags.FLAGS["config"])), sys.argv)
        run(_CONFIG.value.to_dict(), members, _WORKDIR.value, _OVERWRITE.value)
    except ConfigError as e:
        fail(str(e))


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)

"""Launcher: python -m dynamics.main --config=configs/NAME.py --workdir=DIR [--config.KEY=VALUE ...].

Runs every member of the config's sweep (get_sweep(), if the file defines one; a --config.KEY
override applies to every member and replaces that key's sweep axis), then writes
config.json, history.npz, members.csv, metrics.csv and figures/ into the workdir. Bad input
gets one line on stderr and exit code 2; nothing is written.
"""
import importlib.util
import logging
import os
import sys

from absl import app, flags
from ml_collections import config_flags

from dynamics import history as history_lib
from dynamics import plots, train
from dynamics.errors import ConfigError, check_choice

logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)  # no "no TPU here" line on every CPU run

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/NAME.py).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for the results.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace results already in the workdir.")


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
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
    """The members from the config file's get_sweep(), or one member if it has none."""
    spec = importlib.util.spec_from_file_location("experiment_config", config_path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except OSError as e:
        raise ConfigError(f"cannot read the config file {config_path!r}: {e.strerror}")
    return module.get_sweep() if hasattr(module, "get_sweep") else [{}]


def without_overridden(members: list, argv) -> list:
    """Command-line overrides win over the sweep: drop the keys they set from every member (and duplicates)."""
    overridden = {arg[len("--config."):].split("=")[0] for arg in argv if arg.startswith("--config.")}
    unique = {}
    for member in members:
        kept = {k: v for k, v in member.items() if k not in overridden}
        unique.setdefault(repr(sorted(kept.items())), kept)
    return list(unique.values())


def run(config: dict, members: list, workdir: str, overwrite: bool, progress=print) -> history_lib.History:
    """Validates, trains, selects and saves; everything before training may raise ConfigError."""
    existing = [f for f in history_lib.RESULT_FILES if os.path.exists(os.path.join(workdir, f))]
    if existing and not overwrite:
        raise ConfigError(f"workdir {workdir!r} already holds results ({', '.join(existing)}); "
                          "pass --overwrite to replace them")
    for name in config["figures"]:
        check_choice("figure (figures)", name, plots.FIGURES)
    result = train.run(config, members, progress)
    if config["select"]["rule"] == "best_lr":
        result = history_lib.select_best_lr(result, config["select"]["metric"])
    result.save(workdir)
    os.makedirs(os.path.join(workdir, "figures"), exist_ok=True)
    for name in config["figures"]:
        plots.FIGURES[name](result, os.path.join(workdir, "figures", f"{name}.png"))
    progress(f"wrote {workdir}: {', '.join(history_lib.RESULT_FILES)}, figures/")
    return result


def main(argv):
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

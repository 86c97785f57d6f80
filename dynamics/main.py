"""Launcher: python -m dynamics.main --config=configs/NAME.py[:VARIANT] --workdir=DIR [--config.KEY=VALUE ...].

Runs every member of the config's sweep (get_sweep(), if the file defines one; a --config.KEY
override applies to every member and replaces that key's sweep axis) and writes config.json,
history.npz, members.csv, metrics.csv, agreement.csv (configs with a theory prediction) and
figures/ into the workdir (dynamics.experiment.run). VARIANT is "small" (a shrunken run) or,
where the config has it, "paper". Bad input gets one line on stderr and exit code 2; nothing is written.

While it trains the workdir holds checkpoints/ and tensorboard/. Relaunching the same command
resumes from the last checkpoint; a different config is refused. A workdir is complete once
complete.json (written last, naming the config) is there; one with results is only replaced with --overwrite.

--distributed runs one sweep in several processes (dynamics.distributed): under SLURM, Open MPI or
on a TPU pod slice the cluster is detected; elsewhere give --coordinator=HOST:PORT
--num_processes=N --process_id=I. Process 0 writes the workdir.
"""
import logging
import os
import sys

from absl import app, flags
from absl import logging as absl_logging
from ml_collections import config_flags

from dynamics import config, distributed, experiment
from dynamics.errors import ConfigError, fail

logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)  # no "no TPU here" line on every CPU run

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/NAME.py[:VARIANT]).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for the results.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace results already in the workdir.")
_INITIALIZE_DISTRIBUTED = distributed.define_flags()


def parse_flags(argv):
    """absl's parser, with every error (a bad flag, a config file that fails, a bad override) in one line."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        message, error = str(e).splitlines()[0], e.__cause__ or e.__context__
    except Exception as e:  # noqa: BLE001 - reported in one line below
        message, error = None, e
    path = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
    if error is not None and path is not None:
        try:
            config.load(path)  # the config file itself: config.load says what is wrong with it
        except ConfigError as reason:
            fail(str(reason))
    if isinstance(error, (KeyError, AttributeError)):
        fail(f"unknown config key in an override: {str(error).strip(chr(34))}")
    fail(message or f"cannot apply the overrides: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")


def main(argv):
    if not flags.FLAGS["verbosity"].present:
        absl_logging.set_verbosity(absl_logging.ERROR)  # orbax logs every save, and resuming, on stderr
    if len(argv) > 1:
        fail(f"unexpected arguments {argv[1:]}")
    if _CONFIG.value is None or not _WORKDIR.value:
        fail("both --config=configs/NAME.py and --workdir=DIR are required")
    try:
        _INITIALIZE_DISTRIBUTED()  # before anything touches the backend
        flag = flags.FLAGS["config"]
        _, members = config.load(config_flags.get_config_filename(flag))
        members = config.without_overridden(members, config_flags.get_override_values(flag))
        path = config.split_argument(config_flags.get_config_filename(flag))[0]
        experiment.run(_CONFIG.value.to_dict(), members, _WORKDIR.value, _OVERWRITE.value,
                       name=os.path.splitext(os.path.basename(path))[0])
    except ConfigError as e:
        fail(str(e))
    except KeyboardInterrupt:
        print(f"interrupted: {_WORKDIR.value}/checkpoints keeps the last finished chunk; "
              "relaunch the same command to resume", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)

"""Predictions: the theory package's curves for the members of a History, and how well they agree.

One module per phenomenon; each computes from the History alone (its config, class counts and
records) and offers agreement_rows(history) -> [row], one row per (member, prediction, quantity):
the measured error and the tolerance this project states for it (the margin its tests assert).
`agreement` gathers them into the table a run saves as agreement.csv.
A phenomenon may also offer data_records(config, build_data) -> {name: value}: what its predictions
need from a member's data, kept in the History (`with_data_records`); and member_columns(history)
-> {column: [M] values}: its own members.csv columns (`member_columns`).
"""
import dataclasses

import numpy as np
import pandas as pd

from dynamics import sweep
from dynamics.predict import collapse, competition, flows, grokking, lazy_rich, noisy_labels, starvation

PHENOMENA = (flows, competition, grokking, collapse, starvation, noisy_labels, lazy_rich)
COLUMNS = ("member", "prediction", "quantity", "error", "tolerance", "within_tolerance")


def row(member: int, prediction: str, quantity: str, error: float, tolerance: float) -> dict:
    """One row of the agreement table."""
    return dict(zip(COLUMNS, (member, prediction, quantity, float(error), float(tolerance), bool(error <= tolerance))))


def agreement(history) -> "pd.DataFrame | None":
    """Every prediction's agreement with the History's members, or None when nothing is predicted."""
    rows = [r for phenomenon in PHENOMENA for r in phenomenon.agreement_rows(history)]
    return pd.DataFrame(rows, columns=list(COLUMNS)) if rows else None


def with_data_records(history, build_dataset):
    """The History plus each phenomenon's data_records of every member, computed at the end of a run
    from the member's dataset (build_dataset(data config) -> Dataset; a phenomenon builds it only for
    a member whose config asks) and kept as records constant over the logged steps [M, L] (NaN for a
    member without them), so predictions and figures need the History alone."""
    values = [{name: value for p in PHENOMENA if hasattr(p, "data_records")
               for name, value in p.data_records(config, lambda: build_dataset(config["data"])).items()}
              for config in sweep.member_configs(history.config, history.members)]
    names = list(dict.fromkeys(name for v in values for name in v))
    extra = {name: np.repeat(np.array([[v.get(name, np.nan)] for v in values], np.float64), len(history.step), axis=1)
             for name in names}
    return dataclasses.replace(history, records={**history.records, **extra}) if extra else history


def member_columns(history) -> dict:
    """Every phenomenon's own members.csv columns {name: [M] values}."""
    return {name: values for p in PHENOMENA if hasattr(p, "member_columns")
            for name, values in p.member_columns(history).items()}

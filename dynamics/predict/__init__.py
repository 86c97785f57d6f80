"""Predictions: the theory package's curves for the members of a History, and how well they agree.

One module per phenomenon; each computes from the History alone (its config, class counts and
records) and offers agreement_rows(history) -> [row], one row per (member, prediction, quantity):
the measured error and the tolerance this project states for it (the margin its tests assert).
`agreement` gathers them into the table a run saves as agreement.csv.
"""
import pandas as pd

from dynamics.predict import collapse, competition, flows

PHENOMENA = (flows, competition, collapse)
COLUMNS = ("member", "prediction", "quantity", "error", "tolerance", "within_tolerance")


def row(member: int, prediction: str, quantity: str, error: float, tolerance: float) -> dict:
    """One row of the agreement table."""
    return dict(zip(COLUMNS, (member, prediction, quantity, float(error), float(tolerance), bool(error <= tolerance))))


def agreement(history) -> "pd.DataFrame | None":
    """Every prediction's agreement with the History's members, or None when nothing is predicted."""
    rows = [r for phenomenon in PHENOMENA for r in phenomenon.agreement_rows(history)]
    return pd.DataFrame(rows, columns=list(COLUMNS)) if rows else None

"""The budget frontier of one result: what the plan's shortfall would be with more or less money.

A budget is an assumption (the seed gives none), so one point on it says little:
``compute`` re-solves the result's own dataset with every budget row (national
and regional caps, every year) scaled by each factor of ``SCALES`` and records
each point's stage optima and figures: the target-year shortfall counting
trainees and on the qualified basis, the weighted target and sustain
shortfalls, the cost in the decision years and after them. The points are
re-solved in one kept model (``reuse.SolveCache``: budgets are right-hand sides).
A point below the cost already committed (pipeline trainees, minimum intakes,
decline limits) is infeasible, and says so.

Saved as ``budget_frontier.csv`` in the results folder, so the HTML report, the
workbook and the terminal summary read it like the other tables.
"""

from __future__ import annotations

import click
import pandas as pd

from models.inputs import Dataset
from models.results import SUMMARY_FIGURES
from optimiser.deltas import with_changes
from optimiser.whatif.frontier import UNIT_LABEL, unit_point
from optimiser.output import atomic_write, csv_bytes

FRONTIER_TABLE = "budget_frontier"
FRONTIER_CSV = FRONTIER_TABLE + ".csv"
#: Factors applied to every budget row: from a cut to a generous rise around the dataset's budget.
SCALES = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5)
COLUMNS = ("scale", "budget_gbp", "status", *SUMMARY_FIGURES)


class FrontierError(Exception):
    """The frontier cannot be computed for this result."""


#: A change smaller than this shows as none (it prints as 0.0 WTE).
SHOWN_WTE = 0.05


def scaled_budgets(dataset: Dataset, scale: float) -> Dataset:
    """``dataset`` with every budget row (national and regional, every year) times ``scale``."""
    rows = tuple(type(row)(**{**row.model_dump(), "budget_gbp": row.budget_gbp * scale}) for row in dataset.budget)
    return Dataset(**{**{name: getattr(dataset, name) for name in Dataset.model_fields}, "budget": rows})


def compute(dataset: Dataset, scales=SCALES, **options) -> pd.DataFrame:
    """One row per scale: the national budget summed over the years, the status and the figures
    (``models.results.SUMMARY_FIGURES``; blank where the point has no plan)."""
    from optimiser import pipeline
    from optimiser.reuse import SolveCache

    if not dataset.national_budget_gbp and not dataset.regional_budget_gbp:
        raise FrontierError("the dataset has no budget rows, so there is no budget to vary")
    from optimiser.console import progress

    cache = SolveCache()
    rows = []
    for scale in progress(scales, total=len(scales), desc="Budget frontier"):
        summary = pipeline.run(scaled_budgets(dataset, scale), None, cache=cache, **options).summary
        row = {"scale": scale, "budget_gbp": scale * sum(dataset.national_budget_gbp.values()),
               "status": summary.status}
        row.update({key: getattr(summary, key) for key in SUMMARY_FIGURES})
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return with_changes(table, unit_point(table["scale"]), UNIT_LABEL)


def add_frontier(folder, dataset: Dataset, **options) -> None:
    """Compute the frontier of ``folder``'s dataset and save it in the folder (``FRONTIER_CSV``)."""
    click.echo(f"Budget frontier: re-solving with the budgets x {', '.join(f'{s:g}' for s in SCALES)}...",
               err=True)
    table = compute(dataset, **{k: v for k, v in options.items() if v is not None})
    folder.tables[FRONTIER_TABLE] = table
    atomic_write(folder.path / FRONTIER_CSV, csv_bytes(table))


def sentences(table: pd.DataFrame | None, target_label: str) -> list[str]:
    """What the frontier says, in words: the points with a plan, from the least money to the most."""
    if table is None or table.empty:
        return []
    out = []
    for row in table.to_dict(orient="records"):
        money = f"GBP {row['budget_gbp'] / 1e6:,.0f}m over the years (x{row['scale']:g})"
        if row["status"] != "optimal" or pd.isna(row["total_shortfall_wte"]):
            out.append(f"{money}: no plan ({str(row['status']).replace('_', ' ')})")
            continue
        sustain = ("" if pd.isna(row["sustain_shortfall"]) else
                   f"; sustain years {row['sustain_shortfall']:,.1f} (weighted)")
        change = row.get(f"total_shortfall_wte_change_vs_{UNIT_LABEL}")
        if change is None or pd.isna(change) or row["scale"] == 1:
            against = ""
        elif abs(change) < SHOWN_WTE:
            against = " (no change against x1)"
        else:
            against = f" ({change:+,.1f} WTE against x1)"
        out.append(f"{money}: {target_label} shortfall {row['total_shortfall_wte']:,.1f} WTE{against}, "
                   f"{row['qualified_shortfall_wte']:,.1f} of qualified staff{sustain}")
    return out

"""A large batch summarised: statistics, the scenarios at each end, and the grid of a sweep.

A batch of more than ``CASES_DRAWN_MAX`` scenarios is not drawn case by case
(200 bars make a page 47,696 px tall): the page shows the spread of the
shortfall and cost, the best and worst scenarios, and one picture of the whole
batch. When the cases are a sweep (``name--label=value--label=value``, as
``optimiser batch`` names them), that picture is a heat map of the target-year
shortfall over the first two swept values, one small panel per value of any
further swept column; otherwise a scatter of cost against shortfall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

#: A batch with more scenarios than this is summarised rather than drawn and listed case by case.
CASES_DRAWN_MAX = 40
#: Scenarios listed at each end (smallest and largest shortfall) of a summarised batch.
EXTREMES_SHOWN = 10
#: Rows of each ranking table a summarised batch shows (the workbook lists every scenario).
RANKED_SHOWN = 15
#: Small panels a sweep heat map may have (one per value of the swept columns beyond the first two).
MAX_PANELS = 6
#: Quantiles the statistics table shows, with their names.
QUANTILES = (("smallest", 0.0), ("lower quartile", 0.25), ("median", 0.5), ("upper quartile", 0.75),
             ("largest", 1.0))

_PART = re.compile(r"^(?P<label>[^=]+)=(?P<value>.+)$")


@dataclass(frozen=True)
class Sweep:
    """The swept columns of a batch: each label with its values in order, and each case's values."""

    labels: tuple[str, ...]
    values: dict[str, list[str]]
    cases: dict[str, dict[str, str]]


def _sort_key(value: str):
    number = re.sub(r"^[x+]", "", value)
    try:
        return (0, float(number), value)
    except ValueError:
        return (1, 0.0, value)


def sweep_of(names: list[str]) -> Sweep | None:
    """The sweep the case names spell (``prefix--a=1--b=2``), or ``None`` if they are not one sweep
    of at least one column with every combination named once."""
    cases: dict[str, dict[str, str]] = {}
    labels: tuple[str, ...] | None = None
    for name in names:
        parts = str(name).split("--")
        coords = {}
        for part in parts[1:]:
            match = _PART.match(part)
            if match is None:
                return None
            coords[match["label"]] = match["value"]
        if not coords or (labels is not None and tuple(coords) != labels):
            return None
        labels = tuple(coords)
        cases[name] = coords
    if labels is None:
        return None
    values = {label: sorted({c[label] for c in cases.values()}, key=_sort_key) for label in labels}
    if len({tuple(c.values()) for c in cases.values()}) != len(cases):
        return None
    return Sweep(labels, values, cases)


def statistics(ranking: pd.DataFrame) -> list[dict]:
    """The spread of the target-year shortfall and the cost over the scenarios with figures."""
    rows = []
    for column, what in (("total_shortfall_wte", "shortfall"), ("total_cost_gbp", "cost")):
        values = pd.to_numeric(ranking[column], errors="coerce").dropna()
        rows.append({"measure": what, "count": len(values),
                     **{name: (float(values.quantile(q)) if len(values) else None) for name, q in QUANTILES}})
    return rows


def status_counts(ranking: pd.DataFrame) -> list[tuple[str, int]]:
    counts = ranking["status"].astype(str).value_counts(sort=True)
    return [(str(status).replace("_", " "), int(n)) for status, n in counts.items()]


def extremes(ranking: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    """The ``EXTREMES_SHOWN`` scenarios with the smallest and with the largest shortfall."""
    data = ranking.dropna(subset=["total_shortfall_wte"]).sort_values(["total_shortfall_wte", "scenario"],
                                                                       kind="stable")
    records = data.astype(object).where(data.notna(), None).to_dict(orient="records")
    return records[:EXTREMES_SHOWN], list(reversed(records[-EXTREMES_SHOWN:]))

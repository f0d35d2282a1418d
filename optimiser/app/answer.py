"""A solved what-if in the shape commissioners ask for, and its difference from the dataset as given.

Every figure comes from a solve (``engine.Solved``): the difference against the
dataset as given is the what-if's re-solve less the given dataset's solve, never a
shadow price. Sentences on binding limits are the reports' own
(``reports.text.marginal_sentences``); figures are written as ``optimiser run`` writes
them (``reports.text.wte``, ``gbp``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from optimiser.reports import text
from optimiser.reports.folder import Labels
from optimiser.years import format_year

TOP_GAPS = 5
TOP_LIMITS = 6
SUPERVISION_FAMILY = "supervision_capacity"
#: A difference smaller than these is rounding: figures are shown to 0.1 WTE and GBP 0.01m
#: (and the later stages keep each optimum only within a relative 1e-6).
SAME_WTE = 0.05
SAME_GBP = 5_000


def signed_wte(value: float) -> str:
    return "no change" if abs(value) < SAME_WTE else f"{value:+,.1f}"


def signed_gbp(value: float) -> str:
    if abs(value) < SAME_GBP:
        return "no change"
    return ("+" if value > 0 else "-") + text.gbp(abs(value))


@dataclass(frozen=True)
class Headline:
    status: str
    message: str
    target_label: str
    shortfall_wte: float | None
    qualified_shortfall_wte: float | None
    cost_gbp: float | None
    committed_gbp: float | None
    places: float | None


def headline(solved) -> Headline:
    s = solved.summary
    places = float(solved.results.plan["intake"].sum()) if solved.results is not None else None
    return Headline(s.status, s.message, format_year(s.target_year), s.total_shortfall_wte,
                    s.qualified_shortfall_wte, s.total_cost_gbp, s.committed_cost_after_horizon_gbp, places)


def labels_of(solved) -> Labels:
    return Labels.from_dataset(solved.dataset) if solved.dataset is not None else Labels()


def places_by_profession_year(solved) -> pd.DataFrame:
    """Places to commission (intake), one row per profession and one column per decision year."""
    if solved.results is None:
        return pd.DataFrame()
    plan = solved.results.plan
    table = plan.pivot_table(index="profession", columns="year", values="intake", aggfunc="sum", fill_value=0.0)
    table.columns = [format_year(int(y)) for y in table.columns]
    return table


def largest_gaps(solved, by: str, top: int = TOP_GAPS) -> list[tuple[str, float]]:
    """The target year's largest shortfalls (trainees in posts counted) by ``profession`` or ``region``."""
    if solved.results is None:
        return []
    wf = solved.results.workforce
    target = wf[wf["year"] == solved.summary.target_year]
    gaps = target.groupby(by)["shortfall_wte"].sum().sort_values(ascending=False)
    labels = labels_of(solved)
    name = labels.p if by == "profession" else labels.r
    return [(name(key), float(v)) for key, v in gaps.head(top).items() if v > SAME_WTE]


def limit_sentences(solved, top: int = TOP_LIMITS) -> list[str]:
    """The binding limits worth most, in the reports' words, with what one more unit is worth."""
    if solved.results is None:
        return []
    s = solved.summary
    wf = solved.results.workforce
    unweighted = list(s.assessed_years) == [s.target_year] and _unit_weights(wf)
    return text.marginal_sentences(solved.results.constraints, labels_of(solved), s.target_year,
                                   "WTE" if unweighted else "weighted WTE", limit=top)


def _unit_weights(wf: pd.DataFrame) -> bool:
    open_gaps = wf[(wf["assessed"] == True) & (wf["shortfall_wte"].fillna(0) > 1e-9)]  # noqa: E712
    return bool(((open_gaps["weighted_shortfall"] / open_gaps["shortfall_wte"] - 1).abs() < 1e-6).all())


@dataclass(frozen=True)
class Row:
    """One line of the difference table: the dataset as given, the what-if, and what changed."""

    what: str
    given: str
    whatif: str
    change: str
    change_value: float


def difference(given, whatif) -> list[Row]:
    """What the what-if buys or costs against the dataset as given: both re-solved, subtracted."""
    g, w = headline(given), headline(whatif)
    rows = []
    for what, a, b, fmt, signed in (
        (f"{w.target_label} shortfall, trainees in posts counted (WTE)", g.shortfall_wte, w.shortfall_wte,
         text.wte, signed_wte),
        (f"{w.target_label} shortfall, qualified staff only (WTE)", g.qualified_shortfall_wte,
         w.qualified_shortfall_wte, text.wte, signed_wte),
        ("Places commissioned, every year", g.places, w.places, text.wte, signed_wte),
        ("Cost of trainees (GBP)", g.cost_gbp, w.cost_gbp, text.gbp, signed_gbp),
        ("Committed after the horizon (GBP)", g.committed_gbp, w.committed_gbp, text.gbp, signed_gbp),
    ):
        delta = b - a if a is not None and b is not None else math.nan
        rows.append(Row(what, fmt(a), fmt(b), "n/a" if math.isnan(delta) else signed(delta), delta))
    if g.target_label != w.target_label:  # a new target year: the given figures are of the given target year
        rows[:2] = [replace(r, what=f"{r.what}; as given, of {g.target_label}") for r in rows[:2]]
    return rows


def places_change_by_year(given, whatif) -> list[tuple[str, float]]:
    """Places commissioned each decision year, the what-if less the dataset as given."""
    if given.results is None or whatif.results is None:
        return []
    a = given.results.plan.groupby("year")["intake"].sum()
    b = whatif.results.plan.groupby("year")["intake"].sum()
    years = sorted(set(a.index) | set(b.index))
    return [(format_year(int(y)), float(b.get(y, 0.0) - a.get(y, 0.0))) for y in years]


def supervision_by_price(solved) -> list[tuple[str, float]]:
    """Regions ranked by the shadow prices of their supervision capacity, summed over supervising
    professions and decision years: the target-year WTE one more supervision hour a week from each
    (profession, year) there would close, for small changes."""
    if solved.results is None:
        return []
    c = solved.results.constraints
    rows = c[c["family"] == SUPERVISION_FAMILY]
    prices = rows.groupby("region")["shadow_price"].sum().sort_values(ascending=False)
    labels = labels_of(solved)
    return [(labels.r(r), float(v)) for r, v in prices.items()]


def override_lines(solved) -> list[str]:
    """The overrides recorded in the result (``summary.json``): each text, how many values it
    changed and the first changes, as the reports list them."""
    lines = []
    for row in text.override_rows(solved.summary):
        line = text.override_text(row)
        if row.get("derived"):
            line += f" ({row.get('target')}: {row['derived']})"
        if row.get("values_changed") is not None:
            line += f": {row['values_changed']} value(s) changed"
        if row.get("changes"):
            line += f" ({row['changes']})"
        lines.append(line)
    return lines

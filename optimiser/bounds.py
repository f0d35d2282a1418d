"""Domain bounds: the range a workforce plan's numbers can take, checked after the row models.

The row models (``models.inputs``) check types and signs; this separate pass
refuses values far outside what a training commission can mean (a course of a
billion years, a weight of 1e20, an inflow of -1e308 WTE), which would hang the
build or push the solver outside the numeric range it solves reliably (its
tolerances are about 1e-7 relative to numbers up to about 1e9; a coefficient
of 1e20 next to one of 1 gives wrong statuses). Each bound is keyed by
column name, whatever table the column is in, so a new column joins by adding a
line to ``BOUNDS``; a column without a line is not bounded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimiser.errors import LineProblem, Problem


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    unit: str

    def message(self) -> str:
        return f"must be between {self.low:,.10g} and {self.high:,.10g} {self.unit}".rstrip()


WTE = "WTE"
#: Column name -> its bound, in whichever table it appears.
BOUNDS: dict[str, Bound] = {
    "duration_years": Bound(1, 15, "years"),
    "completion_rate": Bound(0, 1, ""),
    "joining_rate": Bound(0, 1, ""),
    "attrition_rate": Bound(0, 1, ""),
    "share": Bound(0, 1, ""),
    "cost_per_trainee_year_gbp": Bound(0, 10_000_000, "GBP a trainee-year"),
    "supervision_hours_per_trainee": Bound(0, 168, "hours a week"),
    "supervisor_hours_per_wte": Bound(0, 168, "hours a week"),
    "trainee_service_wte": Bound(0, 2, "WTE a trainee"),
    "weight": Bound(0, 1_000_000, ""),
    "max_growth": Bound(0, 100, "(a fraction of the stock a year: 0.25 is 25%)"),
    "cost_multiplier": Bound(0, 100, ""),
    "stock_wte": Bound(0, 10_000_000, WTE),
    "demand_wte": Bound(0, 10_000_000, WTE),
    "trainees": Bound(0, 1_000_000, "trainees"),
    "placement_capacity": Bound(0, 1_000_000, "trainees"),
    "intake_min": Bound(0, 1_000_000, "trainees"),
    "intake_max": Bound(0, 1_000_000, "trainees"),
    "budget_gbp": Bound(0, 1_000_000_000_000, "GBP"),
    "inflow_wte": Bound(-10_000_000, 10_000_000, WTE),
    # model version 2
    "service_wte": Bound(0, 2, "WTE a trainee"),
    "training_year": Bound(1, 15, ""),
    "max_decline": Bound(0, 1, ""),
    "source_draw": Bound(0, 1, "WTE a trainee"),
    "max_share": Bound(0, 1, ""),
    "max_share_of_leavers": Bound(0, 1, ""),
    "cost_per_wte_year_gbp": Bound(0, 10_000_000, "GBP a WTE a year"),
    "cost_per_wte_gbp": Bound(0, 10_000_000, "GBP a WTE"),
    "max_wte_per_year": Bound(0, 10_000_000, WTE),
    "lead_time_years": Bound(0, 15, "years"),
    "first_year_attrition": Bound(0, 1, ""),
    "tranche": Bound(1, 100, ""),
}
#: Settings keys -> the bound of their value (of each value, for a mapping).
SETTINGS_BOUNDS: dict[str, Bound] = {
    "year_weights": Bound(0, 1_000_000, ""),
    "time_limit_seconds": Bound(0, 7 * 24 * 3600, "seconds"),
    "contracted_hours_per_week": Bound(1, 168, "hours a week"),
}


def _outside(bound: Bound, value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not (
        bound.low <= value <= bound.high)


def _shown(value: float) -> str:
    return f"{value:.6g}"


def row_problems(label: str, rows, numbers, bounds: dict[str, Bound] = BOUNDS) -> list[Problem]:
    """Every value of ``rows`` (validated row models, on lines ``numbers``) outside its column's bound."""
    if not rows:
        return []
    fields = type(rows[0]).model_fields
    columns = [(name, bounds[name]) for name in fields if name in bounds]
    problems = []
    for row, number in zip(rows, numbers):
        for name, bound in columns:
            value = getattr(row, name)
            if _outside(bound, value):
                problems.append(Problem(label, number, name, _shown(value), bound.message()))
    return problems


def settings_problems(settings, label: str, rows: dict[str, int]) -> list[Problem]:
    """Settings values outside their bound (``SETTINGS_BOUNDS``)."""
    make = LineProblem if label.endswith(".yaml") else Problem
    problems = []
    for key, bound in SETTINGS_BOUNDS.items():
        value = getattr(settings, key, None)
        values = value.values() if isinstance(value, dict) else [value]
        for item in values:
            if _outside(bound, item):
                problems.append(make(label, rows.get(key), key, _shown(item), bound.message()))
    return problems


#: The objective's weights (a profession's weight times an assessed year's weight) may span at
#: most this ratio, largest to smallest non-zero: beyond it the solver's tolerances (about 1e-7
#: relative) lose the smaller ones, and a feasible dataset can be reported infeasible.
MAX_WEIGHT_RANGE = 1e6


def weight_range_problems(settings, professions, numbers, label: str, settings_label: str,
                          settings_rows: dict[str, int]) -> list[Problem]:
    """The profession weights times the year weights, checked as one range (``MAX_WEIGHT_RANGE``)."""
    year_weights = [settings.year_weight(year) for year in settings.assessed]
    products = [(p.weight * w, number) for p, number in zip(professions, numbers) for w in year_weights
                if p.weight * w > 0]
    if not products:
        return []
    high, row = max(products)
    low = min(value for value, _ in products)
    if high / low <= MAX_WEIGHT_RANGE:
        return []
    where = f"; with the year weights of {settings_label}" + (
        f" (line {settings_rows['year_weights']})" if "year_weights" in settings_rows else "") \
        if any(w != 1 for w in year_weights) else ""
    return [Problem(label, row, "weight", _shown(high), f"the weights span {high / low:.3g} times from the "
                    f"smallest to the largest (non-zero){where}; at most {MAX_WEIGHT_RANGE:g} times, beyond "
                    "which the solver's tolerances lose the smaller ones")]

"""Why a dataset is infeasible: the smallest limit relaxations that would make it feasible.

An elastic copy of the model lets every limit (budget, supervision, placements,
intake limits, growth, stock floor) be broken by a violation variable, and
minimises the total violation, each measured in its user unit (GBP 1m, hour a
week, place, WTE). The non-zero violations are the conflicts reported.
"""

from __future__ import annotations

from pathlib import Path

from models.inputs import Dataset
from optimiser import solver as slv
from optimiser.build import build_model
from optimiser.years import format_year

VIOLATION_TOLERANCE = 1e-6

_UNITS = {
    "budget": "GBP", "regional_budget": "GBP", "supervision_capacity": "hours a week",
    "supervision_need": "hours a week", "placements": "trainees", "intake_min": "places",
    "intake_max": "places", "growth": "trainees", "decline": "trainees", "stock_floor": "WTE",
    "route_share": "trainees", "retention_cap": "WTE", "recruitment_cap": "WTE",
}


def money(gbp: float) -> str:
    """``GBP 2.10m`` for large sums, ``GBP 2,000`` for small ones."""
    return f"GBP {gbp / 1e6:,.2f}m" if abs(gbp) >= 100_000 else f"GBP {gbp:,.0f}"


def describe(family: str, profession: str | None, region: str | None, year: int, amount: float) -> str:
    """One sentence a commissioner can act on."""
    y = format_year(year)
    where = f" in {region}" if region else ""
    if family == "budget":
        return f"the {y} national budget is {money(amount)} short of the cost already committed (pipeline trainees, minimum intakes and decline limits)"
    if family == "regional_budget":
        return f"the {y} budget of {region} is {money(amount)} short of the cost already committed there"
    if family == "supervision_capacity":
        return f"{profession} supervisors{where} in {y} need {amount:,.1f} more supervision hours a week"
    if family == "supervision_need":
        return (f"{profession} trainees{where} in {y} lack {amount:,.1f} supervision hours a week "
                "that no permitted supervisor profession can give")
    if family == "placements":
        return f"{profession} placements{where} in {y} are {amount:,.1f} short of the trainees already in training"
    if family == "intake_min":
        return f"the {profession} minimum intake{where} in {y} must fall by {amount:,.1f} places"
    if family == "intake_max":
        return f"the {profession} maximum intake{where} in {y} must rise by {amount:,.1f} places"
    if family == "growth":
        return f"{profession} national intake in {y} must exceed its growth limit by {amount:,.1f} trainees"
    if family == "decline":
        return f"{profession} national intake in {y} must fall below its decline limit by {amount:,.1f} trainees"
    if family == "route_share":
        return f"{profession}'s routes other than its main one in {y} must take {amount:,.1f} more trainees than their share allows"
    if family == "retention_cap":
        return f"{profession} retention{where} in {y} must keep {amount:,.1f} WTE more than its share of leavers"
    if family == "recruitment_cap":
        return f"{profession} recruitment{where} in {y} must sign {amount:,.1f} WTE more than its cap"
    if family == "stock_floor":
        return f"{profession}{where} stock would fall {amount:,.1f} WTE below zero in {y} (recruitment into training drains it)"
    return f"{family} {profession or ''} {region or ''} {y}: {amount:,.3f}"


def diagnose_infeasibility(dataset: Dataset, solver: str, time_limit_seconds: float,
                           tmp_root: str | Path | None = None) -> tuple[list[dict], slv.SolverRun | None]:
    """Solve the elastic copy; return the conflicts (largest first) and the solver run."""
    model = build_model(dataset, elastic=True, integer=False)
    run = slv.run_solver(model.problem, solver, time_limit_seconds, tmp_root)
    if run.status != slv.OPTIMAL:
        return [], run
    conflicts = []
    for entry in model.registry:
        if entry.violation is None:
            continue
        amount = entry.violation.varValue or 0.0
        if amount <= VIOLATION_TOLERANCE * max(1.0, abs(entry.rhs)):
            continue
        key = entry.key
        conflicts.append({
            "family": key.family, "profession": key.profession, "region": key.region,
            "year": key.year, "year_label": format_year(key.year), "amount": amount,
            "unit": _UNITS[key.family],
            "description": describe(key.family, key.profession, key.region, key.year, amount),
        })
    conflicts.sort(key=lambda c: (c["year"], c["family"], -c["amount"]))
    return conflicts, run

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
from optimiser.families import FAMILIES
from optimiser.registry import Words
from optimiser.years import format_year

VIOLATION_TOLERANCE = 1e-6

def describe(family: str, profession: str | None, region: str | None, year: int, amount: float) -> str:
    """One sentence a commissioner can act on (the family's own, ``Family.conflict``)."""
    spec = FAMILIES.get(family)
    if spec is None or spec.conflict is None:
        return f"{family} {profession or ''} {region or ''} {format_year(year)}: {amount:,.3f}"
    return spec.conflict(Words(format_year(year), profession, region, f" in {region}" if region else "",
                               amount=amount))


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
            "unit": FAMILIES[key.family].conflict_unit,
            "description": describe(key.family, key.profession, key.region, key.year, amount),
        })
    conflicts.sort(key=lambda c: (c["year"], c["family"], -c["amount"]))
    return conflicts, run

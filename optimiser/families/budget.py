"""Budgets: what the trainees in training and the levers cost each year, within the national
budget and each regional one."""

from __future__ import annotations

from optimiser.model import CommissionModel, Lin
from optimiser.registry import LE, Family
from optimiser.words import money

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = "budget"
#: How the why-split names the limit group.
LIFT_TITLE = "Budget"
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("budget", "budget_gbp"),
)
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("retention", "cost_per_wte_year_gbp"),
    ("recruitment", "cost_per_wte_gbp"),
    ("professions", "cost_per_trainee_year_gbp"),
    ("regions", "cost_multiplier"),
)


FAMILIES = (
    Family("budget", "GBP 1m of national budget", 1e6, title="National budget", conflict_unit="GBP",
           conflict=lambda w: (f"the {w.year} national budget is {money(w.amount)} short of the cost already "
                               "committed (pipeline trainees, minimum intakes and decline limits)"),
           marginal=lambda w: f"GBP 1m more national budget in {w.year} closes {w.closes}."),
    Family("regional_budget", "GBP 1m of regional budget", 1e6, title="Regional budget", conflict_unit="GBP",
           conflict=lambda w: f"the {w.year} budget of {w.region} is {money(w.amount)} short of the cost already committed there",
           marginal=lambda w: f"GBP 1m more for {w.region or 'each region'} in {w.year} closes {w.closes}."),
)


def define(m: CommissionModel) -> None:
    """For each decision year t with a national budget row::

        sum over p, k, r of cost_k * cost_multiplier[r] * N[p,k,r,t] + lever costs in t <= budget[t]

    and, for each region r with a regional row for t, the same sum over r <= budget[r,t].
    Lever costs: each retained WTE at its tranche's yearly cost, each recruit in the year
    signed, times the region's cost multiplier.
    ``N`` counts trainee-years (a September start spends 7/12 of its first year in
    training); pipeline trainees count (their cost is committed).
    """
    ds, st = m.dataset, m.settings
    for t in st.decision_years:
        national = Lin()
        regional = {r.region: Lin() for r in ds.regions}
        for p in ds.professions:
            for route in ds.routes_of[p.profession]:
                for r in ds.regions:
                    cost = route.cost_per_trainee_year_gbp * r.cost_multiplier
                    n = m.in_training(route, r.region, t)
                    national.add_lin(n, cost)
                    regional[r.region].add_lin(n, cost)
        for r in ds.regions:
            levers = Lin()
            m.lever_cost(levers, r.region, t, r.cost_multiplier)
            national.add_lin(levers, 1.0)
            regional[r.region].add_lin(levers, 1.0)
        if t in ds.national_budget_gbp:
            m.add_constraint("budget", None, None, t, national, LE, ds.national_budget_gbp[t])
        for r in ds.regions:
            cap = ds.regional_budget_gbp.get((r.region, t))
            if cap is not None:
                m.add_constraint("regional_budget", None, r.region, t, regional[r.region], LE, cap)

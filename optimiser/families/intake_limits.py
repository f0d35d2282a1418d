"""Intake limits: each region's minimum and maximum intake, and each route's share of the
national intake."""

from __future__ import annotations

from optimiser.model import CommissionModel, Lin
from optimiser.registry import GE, LE, Family

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = "intake_limits"
#: How the why-split names the limit group.
LIFT_TITLE = "Intake limits"
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("capacity", "intake_min"),
    ("capacity", "intake_max"),
)
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = ()


FAMILIES = (
    Family("intake_min", "place of minimum intake", title="Minimum intake", conflict_unit="places",
           conflict=lambda w: f"the {w.profession} minimum intake{w.where} in {w.year} must fall by {w.amount:,.1f} places",
           marginal=lambda w: (f"Lowering the minimum intake of {w.profession}{w.where} in {w.year} by one place "
                               f"is worth {w.closes}.")),
    Family("intake_max", "place of maximum intake", title="Maximum intake", conflict_unit="places",
           conflict=lambda w: f"the {w.profession} maximum intake{w.where} in {w.year} must rise by {w.amount:,.1f} places",
           marginal=lambda w: (f"Raising the maximum intake of {w.profession}{w.where} in {w.year} by one place "
                               f"is worth {w.closes}.")),
    Family("route_share", "trainee more of the route's share of national intake", title="Route share",
           conflict_unit="trainees",
           conflict=lambda w: (f"{w.profession}'s routes other than its main one in {w.year} must take "
                               f"{w.amount:,.1f} more trainees than their share allows"),
           marginal=lambda w: (f"Letting route {w.item} of {w.profession} take one more trainee than its share of "
                               f"the national intake in {w.year} is worth {w.closes}.")),
)


def define(m: CommissionModel) -> None:
    """``intake_min <= sum over k of x[p,k,r,t] <= intake_max`` where given (a blank minimum is 0),
    and for each route k with a ``max_share`` mu, each decision year t::

        sum over r of x[p,k,r,t] <= mu * X[p,t]     (route_share)
    """
    ds = m.dataset
    for p in ds.professions:
        for route in ds.routes_of[p.profession]:
            if route.max_share is None:
                continue
            for t in m.settings.decision_years:
                lin = Lin()
                for r in ds.regions:
                    lin.add(m.x[(p.profession, route.route, r.region, t)], 1.0)
                m.national_intake(lin, p.profession, t, -route.max_share)
                m.add_constraint("route_share", p.profession, None, t, lin, LE, 0.0, item=route.route)
    for (pk, rk, t), row in ds.capacity_row.items():
        lin = Lin()
        for route in ds.routes_of[pk]:
            lin.add(m.x[(pk, route.route, rk, t)], 1.0)
        if row.intake_min:
            m.add_constraint("intake_min", pk, rk, t, lin, GE, row.intake_min)
        if row.intake_max is not None:
            m.add_constraint("intake_max", pk, rk, t, lin, LE, row.intake_max)

"""Stock balance: each year's qualified stock from the last, what qualifies and joins, what
leaves, the levers' WTE and what other routes draw (a definition, not a limit)."""

from __future__ import annotations

from collections import defaultdict

import pulp

from models.inputs import MAIN_ROUTE
from optimiser.model import CommissionModel, Key3, Lin
from optimiser.registry import EQ, Family

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = None
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("inflows", "inflow_wte"),
    ("workforce", "stock_wte"),
)
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("professions", "attrition_rate"),
    ("recruitment", "first_year_attrition"),
    ("professions", "joining_rate"),
    ("professions", "completion_rate"),
    ("recruitment_sources", "share"),
)


FAMILIES = (Family("stock_balance", "WTE of extra inflow", limit=False, title="Stock balance"),)


def define(m: CommissionModel) -> None:
    """Stock at the end of each decision year t, for every p, r::

        S[p,r,t] = (1-a) S[p,r,t-1] + sum over k of j_k c_k I[p,k,r,t-Q_k] + inflow[p,r,t]
                   + rho[p,r,t] + (1 - e) z[p,r,t-L]
                   - sum over routes k' (of other professions) drawing on p of theta_k' x[.,k',r,t]
                   - sum over trainee professions q of share[q,p] I[q,main,r,t]

    with ``S[p,r,b] = stock_wte``; ``Q_k`` is the route's completion lag (``d - 1`` for an
    April start, ``d`` otherwise); rho the WTE retained (every tranche), z the WTE recruited
    L years before, e their first-year attrition. Its dual is the value of one more WTE of inflow.
    """
    ds, st = m.dataset, m.settings
    recruits_from: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in ds.recruitment_sources:
        recruits_from[row.source_profession].append((row.trainee_profession, row.share))
    retained: dict[Key3, list[pulp.LpVariable]] = defaultdict(list)  # every tranche of (p, r, t)
    for (pk, rk, _, t), var in m.rho.items():
        retained[(pk, rk, t)].append(var)
    for p in ds.professions:
        pk = p.profession
        for r in ds.regions:
            rk = r.region
            for t in st.decision_years:
                lin = Lin()
                lin.add(m.stock[(pk, rk, t)], 1.0)
                m.stock_at(lin, pk, rk, t - 1, -(1.0 - p.attrition_rate))
                for route in ds.routes_of[pk]:
                    lin.add_lin(m.completions(route, rk, t), -route.joining_rate)
                for q, share in recruits_from.get(pk, ()):
                    m.add_intake(lin, q, MAIN_ROUTE, rk, t, share)
                for route in ds.drawn_by.get(pk, ()):
                    lin.add(m.x[(route.profession, route.route, rk, t)], route.source_draw)
                for var in retained.get((pk, rk, t), ()):
                    lin.add(var, -1.0)
                recruited = ds.recruitment_rows.get((pk, rk))
                if recruited is not None:
                    var = m.z.get((pk, rk, t - recruited.lead_time_years))
                    if var is not None:
                        lin.add(var, -(1.0 - recruited.first_year_attrition))
                m.add_constraint("stock_balance", pk, rk, t, lin, EQ, ds.inflow_wte.get((pk, rk, t), 0.0))

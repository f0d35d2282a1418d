"""Supervision: the hours a week trainees need, given by supervisors as an equality, within each
supervisor profession's hours in each region and year."""

from __future__ import annotations

from collections import defaultdict

from optimiser.model import CommissionModel, Lin, needs_supervision
from optimiser.registry import EQ, LE, Family, Words

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = "supervision"
#: How the why-split names the limit group.
LIFT_TITLE = "Supervision"
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("workforce", "stock_wte"),
)
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("supervisor_hours", "supervisor_hours_per_wte"),
    ("professions", "supervision_hours_per_trainee"),
    ("professions", "supervisor_hours_per_wte"),
)


def _capacity_conflict(w: Words) -> str:
    return f"{w.profession} supervisors{w.where} in {w.year} need {w.amount:,.1f} more supervision hours a week"


def _need_conflict(w: Words) -> str:
    return (f"{w.profession} trainees{w.where} in {w.year} lack {w.amount:,.1f} supervision hours a week "
            "that no permitted supervisor profession can give")


FAMILIES = (
    Family("supervision_capacity", "supervision hour a week", title="Supervision capacity",
           conflict_unit="hours a week", conflict=_capacity_conflict,
           marginal=lambda w: f"One more supervision hour a week from {w.profession}{w.where} in {w.year} is worth {w.closes}."),
    Family("supervision_need", "supervision hour a week needed less per trainee group", relax_down=True,
           title="Supervision need", conflict_unit="hours a week", conflict=_need_conflict,
           marginal=lambda w: (f"Each supervision hour a week that {w.profession} trainees{w.where} in {w.year} "
                               f"could do without is worth {w.closes}.")),
)


def define(m: CommissionModel) -> None:
    """Supervision hours a week flow from qualified staff to trainees, per region r and year t::

        need[p]:     sum over supervisor rows q of y[p,q,r,t] = sum over k of h_k N[p,k,r,t]
        capacity[q]: sum over trainee rows p of y[p,q,r,t] <= v[q,r] * S[q,r,t-1]

    The hours given are the hours needed, no more. ``v[q,r]`` is the ``supervisor_hours``
    row, else q's ``supervisor_hours_per_wte``; capacity comes from the stock at the start
    of the year. Trainees that need supervision and have no supervisor row cannot be taken
    (their need row reads ``0 = h * N``).
    """
    ds, st = m.dataset, m.settings
    by_supervisor: dict[tuple[str, str, int], Lin] = defaultdict(Lin)
    for (pk, q, rk, t), var in m.y.items():
        by_supervisor[(q, rk, t)].add(var, 1.0)
    for p in ds.professions:
        pk = p.profession
        if not needs_supervision(ds, pk):
            continue
        for r in ds.regions:
            for t in st.decision_years:
                lin = Lin()
                for route in ds.routes_of[pk]:
                    lin.add_lin(m.in_training(route, r.region, t), -route.supervision_hours_per_trainee)
                supervisors = ds.supervisors_of.get(pk, ())
                for q in supervisors:
                    var = m.y.get((pk, q, r.region, t))  # absent in a kept model built when p needed none
                    if var is not None:
                        lin.add(var, 1.0)
                # a shortage of hours is the supervisors' capacity's to name, where p has supervisors
                m.add_constraint("supervision_need", pk, r.region, t, lin, EQ, 0.0, relaxable=not supervisors)
    for (q, rk, t), lin in by_supervisor.items():
        m.stock_at(lin, q, rk, t - 1, -ds.supervisor_hours_per_wte(q, rk))
        m.add_constraint("supervision_capacity", q, rk, t, lin, LE, 0.0)

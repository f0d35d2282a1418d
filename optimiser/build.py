"""Build the commissioning LP of MODEL.md with PuLP.

``build_model`` creates the variables, then calls each constraint family's ``define``
(``optimiser.families``: one module per family, its docstring the mathematics it adds),
then the objectives and the lexicographic stages' keep rows.
Notation (MODEL.md version 2, written out in ``docs/model.md``): p profession, k
route, r region, t decision year (b+1..H), d duration, m start month, c
completion, j joining, a attrition; ``I[p,k,r,s]`` is the intake of year s: the
variable ``x`` for decision years, the pipeline table for s <= b (main route).
A route's timing (``models.inputs.Timing``) gives ``phi(l)``, the share of year
s+l its cohort spends in training, and Q, the year s+Q it completes in.
"""

from __future__ import annotations

import time

import pulp

from models.inputs import Dataset
from optimiser.families import CORE_DEFINERS, FAMILIES, LIMIT_DEFINERS
from optimiser.gcpause import without_gc
from optimiser.model import KEEP_ROW, SHORTFALL_STAGE, SUSTAIN_STAGE, CommissionModel, CommissionProblem, Lin, needs_supervision

#: The limits, by the name a user lifts them with (``build_model(lift=...)``).
LIMIT_FAMILIES = LIMIT_DEFINERS


# ------------------------------------------------------------------ variables


def define_variables(m: CommissionModel) -> None:
    """Intake ``x[p,k,r,t] >= 0`` per route (integer with ``integer_places``), stock
    ``S[p,r,t] >= 0``, shortfall ``u[p,r,t] >= 0`` for the assessed and the sustain years,
    and supervision ``y[p,q,r,t] >= 0`` (hours a week) for each supervision row of a
    trainee profession p with a route that needs supervision.

    In an elastic copy ``S`` is free and ``S >= 0`` becomes a relaxable constraint.
    """
    ds, st = m.dataset, m.settings
    category = pulp.LpInteger if m.integer else pulp.LpContinuous
    stock_floor = None if m.elastic else 0
    counted = set(st.assessed) | set(st.sustain)
    for p in ds.professions:
        for r in ds.regions:
            for t in st.decision_years:
                for route in ds.routes_of[p.profession]:
                    m.x[(p.profession, route.route, r.region, t)] = m.problem.add_variable(
                        f"x_{len(m.x)}", lowBound=0, cat=category)
                key = (p.profession, r.region, t)
                m.stock[key] = m.problem.add_variable(f"s_{len(m.stock)}", lowBound=stock_floor)
                if t in counted:
                    m.u[key] = m.problem.add_variable(f"u_{len(m.u)}", lowBound=0)
    for (pk, rk, tranche), row in ds.retention_rows.items():
        for t in st.decision_years:
            if row.first_year is None or t >= row.first_year:
                m.rho[(pk, rk, tranche, t)] = m.problem.add_variable(f"k_{len(m.rho)}", lowBound=0)
    for (pk, rk), row in ds.recruitment_rows.items():
        for t in st.decision_years:
            if t + row.lead_time_years <= st.last_year:
                m.z[(pk, rk, t)] = m.problem.add_variable(f"z_{len(m.z)}", lowBound=0)
    for p in ds.professions:
        if not needs_supervision(ds, p.profession):
            continue
        for q in ds.supervisors_of.get(p.profession, ()):
            for r in ds.regions:
                for t in st.decision_years:
                    m.y[(p.profession, q, r.region, t)] = m.problem.add_variable(f"y_{len(m.y)}", lowBound=0)


def define_objectives(m: CommissionModel) -> None:
    """Stage 1: ``sum over assessed t, p, r of year_weight[t] * weight[p] * u[p,r,t]``.
    Stage 2: the same sum over the sustain years (none: no stage 2).
    Stage 3: the whole cost of the plan: ``sum over decision t, p, k, r of cost_k * m_r *
    N[p,k,r,t]`` plus the levers' costs in the decision years plus the cost committed after
    the horizon H, ``sum over p, k, r, s <= H, t > H of cost_k * m_r * phi_k(t-s) * I[p,k,r,s]``.

    An elastic copy instead minimises the violations, each per user unit
    (GBP 1m of budget, hour, place, WTE).
    """
    ds, st = m.dataset, m.settings
    assessed = set(st.assessed)
    shortfall, sustain = Lin(), Lin()
    for (pk, rk, t), u in m.u.items():
        (shortfall if t in assessed else sustain).add(u, st.year_weight(t) * ds.profession[pk].weight)
    cost, committed = Lin(), Lin()
    horizon = st.last_year
    for p in ds.professions:
        for route in ds.routes_of[p.profession]:
            starts = sorted({s for (q, _, s) in ds.pipeline_trainees if q == p.profession} | set(st.decision_years))
            tail = {s: sum(share for lag, share in route.timing.training_lags if s + lag > horizon) for s in starts}
            for r in ds.regions:
                price = route.cost_per_trainee_year_gbp * r.cost_multiplier
                for t in st.decision_years:
                    cost.add_lin(m.in_training(route, r.region, t), price)
                for s in starts:
                    if tail[s]:
                        m.add_intake(committed, p.profession, route.route, r.region, s, price * tail[s])
    for r in ds.regions:
        for t in st.decision_years:
            m.lever_cost(cost, r.region, t, r.cost_multiplier)
    m.committed_cost = committed
    cost.add_lin(committed, 1.0)
    m.shortfall_objective = shortfall.expression()
    m.sustain_objective = sustain.expression() if st.sustain else None
    m.cost_objective = cost.expression()
    if m.elastic:
        violations = Lin()
        for entry in m.registry:
            if entry.violation is not None:
                violations.add(entry.violation, 1.0 / m.families[entry.key.family].scale)
        m.problem.setObjective(violations.expression())
    else:
        m.problem.setObjective(m.shortfall_objective)


def define_keep_rows(m: CommissionModel) -> None:
    """The rows the lexicographic stages use, built empty (``0 <= 0``): stage 2 fills
    ``keep_shortfall_optimal`` with ``shortfall objective <= z1 + tolerance``, stage 3 also
    ``keep_sustain_optimal``; each is emptied again after the solve (PuLP 4 edits rows in
    place and has no call to remove one), so a built model is always stage 1."""
    stages = [SHORTFALL_STAGE] + ([SUSTAIN_STAGE] if m.sustain_objective is not None else [])
    for stage in stages:
        m.keep_rows[stage] = m.problem.addConstraint(pulp.LpAffineExpression.empty() <= 0, KEEP_ROW[stage])


@without_gc
def build_model(dataset: Dataset, *, elastic: bool = False, integer: bool | None = None,
                lift: frozenset[str] | set[str] = frozenset()) -> CommissionModel:
    """Build the stage-1 LP (or MILP) of ``dataset``.

    ``elastic`` builds the infeasibility-diagnosis copy; ``lift`` names limit
    families (keys of ``LIMIT_FAMILIES``) left out, to ask what a limit costs.
    """
    unknown = set(lift) - set(LIMIT_FAMILIES)
    if unknown:
        raise ValueError(f"unknown limit families {sorted(unknown)}; expected {sorted(LIMIT_FAMILIES)}")
    started = time.perf_counter()
    integer = dataset.settings.integer_places if integer is None else integer
    name = "commission_elastic" if elastic else "commission"
    m = CommissionModel(dataset, CommissionProblem(name, pulp.LpMinimize), elastic=elastic, integer=integer,
                        families=FAMILIES)
    define_variables(m)
    for define in CORE_DEFINERS:
        define(m)
    for family, define in LIMIT_DEFINERS.items():
        if family not in lift:
            define(m)
    define_objectives(m)
    if not elastic:
        define_keep_rows(m)
    m._in_training.clear()
    m.build_seconds = time.perf_counter() - started
    return m

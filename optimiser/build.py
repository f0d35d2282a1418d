"""Build the commissioning LP of MODEL.md with PuLP.

``build_model`` creates the variables, then calls one ``define_*`` function
per constraint family; each states in its docstring the mathematics it adds.
Notation (MODEL.md version 2, written out in ``docs/model.md``): p profession, k
route, r region, t decision year (b+1..H), d duration, m start month, c
completion, j joining, a attrition; ``I[p,k,r,s]`` is the intake of year s: the
variable ``x`` for decision years, the pipeline table for s <= b (main route).
A route's timing (``models.inputs.Timing``) gives ``phi(l)``, the share of year
s+l its cohort spends in training, and Q, the year s+Q it completes in.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import pulp

from models.inputs import MAIN_ROUTE, Dataset, Route
from optimiser.gcpause import without_gc
from optimiser.registry import EQ, FAMILIES, GE, LE, ConstraintKey, Entry, Registry, relax_sign

#: Elastic copies weigh each violation per user unit (GBP 1m, hour, place, WTE) equally.
Key3 = tuple[str, str, int]
Key4 = tuple[str, str, str, int]
#: A row without variables that is violated by no more than this holds (rounding in the inputs).
CONSTANT_ROW_TOLERANCE = 1e-9
SHORTFALL_STAGE, SUSTAIN_STAGE, COST_STAGE = "shortfall", "sustain", "cost"
#: The rows later stages fill (``optimiser.solve``): an earlier stage's objective within
#: tolerance of its optimum, by that earlier stage.
KEEP_ROW = {SHORTFALL_STAGE: "keep_shortfall_optimal", SUSTAIN_STAGE: "keep_sustain_optimal"}


class Lin:
    """A linear form under construction: ``{variable: coefficient}`` plus a constant."""

    __slots__ = ("terms", "constant")

    def __init__(self) -> None:
        self.terms: dict[pulp.LpVariable, float] = {}
        self.constant = 0.0

    def add(self, var: pulp.LpVariable, coef: float) -> None:
        if coef:
            self.terms[var] = self.terms.get(var, 0.0) + coef

    def add_lin(self, other: Lin, coef: float) -> None:
        """Add ``coef * other`` (``add`` of each term, inlined: the builder's innermost loop)."""
        terms = self.terms
        for var, value in other.terms.items():
            term = coef * value
            if term:
                terms[var] = terms.get(var, 0.0) + term
        self.constant += coef * other.constant

    def expression(self) -> pulp.LpAffineExpression:
        return pulp.LpAffineExpression.from_dict(self.terms, self.constant)


@dataclass
class CommissionModel:
    """The built LP and everything needed to read its solution back by key."""

    dataset: Dataset
    problem: pulp.LpProblem
    elastic: bool = False
    integer: bool = False
    #: intake ``x[p,k,r,t]`` by (profession, route, region, decision year)
    x: dict[Key4, pulp.LpVariable] = field(default_factory=dict)
    stock: dict[Key3, pulp.LpVariable] = field(default_factory=dict)
    #: shortfall ``u[p,r,t]`` for the assessed and the sustain years
    u: dict[Key3, pulp.LpVariable] = field(default_factory=dict)
    y: dict[tuple[str, str, str, int], pulp.LpVariable] = field(default_factory=dict)
    #: retained WTE ``rho[p,r,tranche,t]`` and recruited WTE ``z[p,r,t]`` (signed in year t)
    rho: dict[tuple[str, str, int, int], pulp.LpVariable] = field(default_factory=dict)
    z: dict[Key3, pulp.LpVariable] = field(default_factory=dict)
    registry: Registry = field(default_factory=Registry)
    #: Stage 1: weighted target shortfall; stage 2: weighted sustain shortfall (``None``
    #: without sustain years); stage 3: the whole cost (decision years and committed after).
    shortfall_objective: pulp.LpAffineExpression | None = None
    sustain_objective: pulp.LpAffineExpression | None = None
    cost_objective: pulp.LpAffineExpression | None = None
    #: What cohorts started by the horizon's end cost in the years after it (GBP).
    committed_cost: Lin = field(default_factory=lambda: Lin())
    build_seconds: float = 0.0
    #: The rows the later stages fill with an earlier stage's objective (``optimiser.solve``),
    #: by the stage whose optimum they keep; built empty (``0 <= 0``), and emptied again after
    #: a solve, so the problem is stage 1 whenever it is not being solved.
    keep_rows: dict[str, pulp.LpConstraint] = field(default_factory=dict)
    _in_training: dict[Key4, Lin] = field(default_factory=dict)

    # ------------------------------------------------------------ expressions
    @property
    def settings(self):
        return self.dataset.settings

    def add_intake(self, lin: Lin, p: str, k: str, r: str, s: int, coef: float) -> None:
        """Add ``coef * I[p,k,r,s]``: the variable for a decision year, the pipeline before."""
        var = self.x.get((p, k, r, s))
        if var is not None:
            lin.add(var, coef)
        elif s <= self.settings.base_year and k == MAIN_ROUTE:
            lin.constant += coef * self.dataset.pipeline_trainees.get((p, r, s), 0.0)

    def in_training(self, route: Route, r: str, t: int) -> Lin:
        """``N[p,k,r,t] = sum over l of phi_k(l) * I[p,k,r,t-l]``: trainee-years in year t (cached)."""
        key = (route.profession, route.route, r, t)
        lin = self._in_training.get(key)
        if lin is None:
            lin = Lin()
            for lag, share in route.timing.training_lags:
                self.add_intake(lin, route.profession, route.route, r, t - lag, share)
            self._in_training[key] = lin
        return lin

    def on_placement(self, p: str, r: str, t: int) -> Lin:
        """``P[p,r,t] = sum over k, and l = 0..d_k-1, of I[p,k,r,t-l]``."""
        lin = Lin()
        for route in self.dataset.routes_of[p]:
            for lag in range(route.timing.duration_years):
                self.add_intake(lin, p, route.route, r, t - lag, 1.0)
        return lin

    def completions(self, route: Route, r: str, t: int, coef: float = 1.0) -> Lin:
        """``coef * C[p,k,r,t] = coef * c_k * I[p,k,r,t-Q_k]``."""
        lin = Lin()
        self.add_intake(lin, route.profession, route.route, r, t - route.timing.completion_lag,
                        coef * route.completion_rate)
        return lin

    def trainee_service(self, p: str, r: str, t: int) -> Lin:
        """``T[p,r,t] = sum over k, and l = 0..Q_k-1, of sigma[p,l+1] I[p,k,r,t-l]``: the service of
        the trainees still in training at the end of year t, by their year of training."""
        lin = Lin()
        for route in self.dataset.routes_of[p]:
            for lag in range(route.timing.completion_lag):
                coef = self.dataset.trainee_service_wte(p, lag + 1)
                if coef:
                    self.add_intake(lin, p, route.route, r, t - lag, coef)
        return lin

    def national_intake(self, lin: Lin, p: str, t: int, coef: float) -> None:
        """Add ``coef * X[p,t]``, the national intake over routes and regions."""
        for route in self.dataset.routes_of[p]:
            for r in self.dataset.regions:
                self.add_intake(lin, p, route.route, r.region, t, coef)

    def supervision_given(self, lin: Lin, q: str, r: str, t: int, coef: float) -> None:
        """Add ``coef * G[q,r,t]``, the WTE of service q's staff give to supervising:
        ``(1/W) * sum over p of y[p,q,r,t]`` when supervision time counts, else 0."""
        st = self.settings
        if not st.supervision_time_counts:
            return
        for p in self.dataset.supervised_by.get(q, ()):
            var = self.y.get((p, q, r, t))
            if var is not None:
                lin.add(var, coef / st.contracted_hours_per_week)

    def lever_cost(self, lin: Lin, r: str, t: int, multiplier: float) -> None:
        """Add the GBP the levers cost in region r and year t: retained WTE at their yearly cost,
        recruits in the year they are signed (times the region's cost multiplier)."""
        ds = self.dataset
        for (p, rk, tranche), row in ds.retention_rows.items():
            if rk == r:
                var = self.rho.get((p, r, tranche, t))
                if var is not None:
                    lin.add(var, row.cost_per_wte_year_gbp * multiplier)
        for (p, rk), row in ds.recruitment_rows.items():
            if rk == r:
                var = self.z.get((p, r, t))
                if var is not None:
                    lin.add(var, row.cost_per_wte_gbp * multiplier)

    def stock_at(self, lin: Lin, p: str, r: str, t: int, coef: float) -> None:
        """Add ``coef * S[p,r,t]``: the variable, or ``stock_wte`` for the base year."""
        if t == self.settings.base_year:
            lin.constant += coef * self.dataset.stock_wte.get((p, r), 0.0)
        else:
            lin.add(self.stock[(p, r, t)], coef)

    def supply(self, p: str, r: str, t: int, qualified: bool = False) -> Lin:
        """``Y[p,r,t] = S + beta_p * T - G``; with ``qualified``, ``S - G`` (trainees not counted)."""
        lin = Lin()
        self.stock_at(lin, p, r, t, 1.0)
        if self.dataset.profession[p].counts_trainees and not qualified:
            lin.add_lin(self.trainee_service(p, r, t), 1.0)
        self.supervision_given(lin, p, r, t, -1.0)
        return lin

    # -------------------------------------------------------------- registry
    def add_constraint(self, family: str, profession: str | None, region: str | None,
                       year: int, lin: Lin, sense: int, rhs: float, item: str | None = None,
                       relaxable: bool = True) -> Entry | None:
        """Add ``lin (sense) rhs`` under its key; in an elastic copy, limits get a violation
        (unless ``relaxable`` is false: another row's violation measures the same shortage)."""
        key = ConstraintKey(family, profession, region, year, item)
        terms = lin.terms  # copied by LpAffineExpression below
        bound = rhs - lin.constant
        violation = None
        spec = FAMILIES[family]
        if self.elastic and spec.limit and relaxable:
            violation = self.problem.add_variable(f"v_{len(self.registry)}", lowBound=0)
            terms = {**terms, violation: float(relax_sign(sense, spec))}
        if not terms:
            violated_by = constant_violation(sense, bound)
            if violated_by is not None:
                self.registry.constant_violations.append((key, violated_by))
            return None
        constraint = self.problem.addConstraint(with_sense(terms, sense, bound), f"c_{len(self.registry)}")
        entry = Entry(key, constraint, sense, bound, violation)
        self.registry.entries[key] = entry
        return entry


def with_sense(terms: dict[pulp.LpVariable, float], sense: int, bound: float) -> pulp.LpAffineExpression:
    """``terms (sense) bound`` as the expression ``LpProblem.addConstraint`` takes."""
    expr = pulp.LpAffineExpression.from_dict(terms)
    if sense == LE:
        return expr <= bound
    if sense == GE:
        return expr >= bound
    return expr == bound


def constant_violation(sense: int, bound: float) -> float | None:
    """By how much a row without variables, ``0 (sense) bound``, is violated; ``None`` if it holds."""
    gap = bound if sense == LE else -bound if sense == GE else -abs(bound)
    return -gap if gap < -CONSTANT_ROW_TOLERANCE else None


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
        if not _needs_supervision(ds, p.profession):
            continue
        for q in ds.supervisors_of.get(p.profession, ()):
            for r in ds.regions:
                for t in st.decision_years:
                    m.y[(p.profession, q, r.region, t)] = m.problem.add_variable(f"y_{len(m.y)}", lowBound=0)


def _needs_supervision(ds: Dataset, p: str) -> bool:
    return any(route.supervision_hours_per_trainee > 0 for route in ds.routes_of[p])


# ---------------------------------------------------------------- constraints


def define_stock_balance(m: CommissionModel) -> None:
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


def define_stock_floor(m: CommissionModel) -> None:
    """``S[p,r,t] >= 0``: no pool can lend more staff than it has.

    A variable bound in the model; an explicit, relaxable row only in an elastic copy.
    """
    if not m.elastic:
        return
    for (pk, rk, t), var in m.stock.items():
        lin = Lin()
        lin.add(var, 1.0)
        m.add_constraint("stock_floor", pk, rk, t, lin, GE, 0.0)


def define_shortfall(m: CommissionModel) -> None:
    """For each assessed and each sustain year t and every p, r::

        u[p,r,t] >= demand[p,r,t] - Y[p,r,t],   u >= 0
        Y[p,r,t] = S[p,r,t] + beta_p * T[p,r,t] - G[p,r,t]

    ``T = sum over k, l = 0..Q_k-1 of sigma[p,l+1] I[p,k,r,t-l]`` is the service of
    trainees by year of training, counted (beta = 1) only for ``posts`` professions;
    ``G = (1/W) sum over trainee professions of y[.,p,r,t]`` is the time p's staff give
    to supervision (0 unless ``supervision_time_counts``).
    """
    ds = m.dataset
    for (pk, rk, t), u in m.u.items():
        lin = m.supply(pk, rk, t)
        lin.add(u, 1.0)
        m.add_constraint("shortfall", pk, rk, t, lin, GE, ds.demand_wte.get((pk, rk, t), 0.0))


def define_budget(m: CommissionModel) -> None:
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


def define_supervision(m: CommissionModel) -> None:
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
        if not _needs_supervision(ds, pk):
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


def define_placements(m: CommissionModel) -> None:
    """``P[p,r,t] <= placement_capacity[p,r,t]`` where the capacity table gives one, with
    ``P = sum over k, and l = 0..d_k-1, of I[p,k,r,t-l]``: the trainees on placement in the
    academic year that starts in year t."""
    for (pk, rk, t), row in m.dataset.capacity_row.items():
        if row.placement_capacity is not None:
            m.add_constraint("placements", pk, rk, t, m.on_placement(pk, rk, t), LE, row.placement_capacity)


def define_intake_limits(m: CommissionModel) -> None:
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


def define_growth(m: CommissionModel) -> None:
    """On the national intake ``X[p,t] = sum over k, r of I[p,k,r,t]``, for each decision year t::

        growth  (max_growth g):   X[p,t] <= (1 + g) * X[p,t-1]
        decline (max_decline δ):  X[p,t] >= (1 - δ) * X[p,t-1]

    For the first decision year, ``X[p,t-1]`` is the pipeline's base-year intake (a
    profession with none and a ``max_growth`` can take no trainees).
    """
    ds, st = m.dataset, m.settings
    for p in ds.professions:
        for t in st.decision_years:
            if p.max_growth is not None:
                lin = Lin()
                m.national_intake(lin, p.profession, t, 1.0)
                m.national_intake(lin, p.profession, t - 1, -(1.0 + p.max_growth))
                m.add_constraint("growth", p.profession, None, t, lin, LE, 0.0)
            if p.max_decline is not None:
                lin = Lin()
                m.national_intake(lin, p.profession, t, 1.0)
                m.national_intake(lin, p.profession, t - 1, -(1.0 - p.max_decline))
                m.add_constraint("decline", p.profession, None, t, lin, GE, 0.0)


def define_lever_caps(m: CommissionModel) -> None:
    """The caps of the levers, for each decision year t::

        retention_cap:   rho_i[p,r,t] <= max_share_of_leavers_i * a_p * S[p,r,t-1]   (each tranche i)
        recruitment_cap: z[p,r,t] <= max_wte_per_year

    A tranche keeps at most its share of the year's leavers (a share of the stock at its start).
    """
    ds = m.dataset
    for (pk, rk, tranche, t), var in m.rho.items():
        row = ds.retention_rows[(pk, rk, tranche)]
        lin = Lin()
        lin.add(var, 1.0)
        m.stock_at(lin, pk, rk, t - 1, -row.max_share_of_leavers * ds.profession[pk].attrition_rate)
        m.add_constraint("retention_cap", pk, rk, t, lin, LE, 0.0, item=f"tranche {tranche}")
    for (pk, rk, t), var in m.z.items():
        cap = ds.recruitment_rows[(pk, rk)].max_wte_per_year
        if cap is not None:
            lin = Lin()
            lin.add(var, 1.0)
            m.add_constraint("recruitment_cap", pk, rk, t, lin, LE, cap)


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
                violations.add(entry.violation, 1.0 / FAMILIES[entry.key.family].scale)
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


#: The dynamics and definitions every model has.
CORE_FAMILIES = (define_stock_balance, define_stock_floor, define_shortfall, define_lever_caps)
#: The limits, by the name a user lifts them with (``build_model(lift=...)``).
LIMIT_FAMILIES = {
    "budget": define_budget,  # national and regional
    "supervision": define_supervision,
    "placements": define_placements,
    "intake_limits": define_intake_limits,
    "growth": define_growth,  # and decline
}


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
    m = CommissionModel(dataset, pulp.LpProblem(name, pulp.LpMinimize), elastic=elastic, integer=integer)
    define_variables(m)
    for define in CORE_FAMILIES:
        define(m)
    for family, define in LIMIT_FAMILIES.items():
        if family not in lift:
            define(m)
    define_objectives(m)
    if not elastic:
        define_keep_rows(m)
    m._in_training.clear()
    m.build_seconds = time.perf_counter() - started
    return m

"""Build the commissioning LP of MODEL.md with PuLP.

``build_model`` creates the variables, then calls one ``define_*`` function
per constraint family; each states in its docstring the mathematics it adds.
Notation (MODEL.md): p profession, r region, t decision year (b+1..H), d
duration, c completion, j joining, a attrition; ``I[p,r,s]`` is the intake of
year s: the variable ``x`` for decision years, the pipeline table for s <= b.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import pulp

from models.inputs import Dataset
from optimiser.gcpause import without_gc
from optimiser.registry import EQ, FAMILIES, GE, LE, ConstraintKey, Entry, Registry

#: Elastic copies weigh each violation per user unit (GBP 1m, hour, place, WTE) equally.
Key3 = tuple[str, str, int]
#: A row without variables that is violated by no more than this holds (rounding in the inputs).
CONSTANT_ROW_TOLERANCE = 1e-9


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
        return pulp.LpAffineExpression(self.terms, self.constant)


@dataclass
class CommissionModel:
    """The built LP and everything needed to read its solution back by key."""

    dataset: Dataset
    problem: pulp.LpProblem
    elastic: bool = False
    integer: bool = False
    x: dict[Key3, pulp.LpVariable] = field(default_factory=dict)
    stock: dict[Key3, pulp.LpVariable] = field(default_factory=dict)
    u: dict[Key3, pulp.LpVariable] = field(default_factory=dict)
    y: dict[tuple[str, str, str, int], pulp.LpVariable] = field(default_factory=dict)
    registry: Registry = field(default_factory=Registry)
    shortfall_objective: pulp.LpAffineExpression | None = None
    cost_objective: pulp.LpAffineExpression | None = None
    build_seconds: float = 0.0
    #: MPS files of each solve stage, kept to write again with new right-hand sides when the
    #: model is re-solved in place (``optimiser.reuse``); ``None``: not kept.
    mps_templates: dict | None = None
    _in_training: dict[Key3, Lin] = field(default_factory=dict)

    # ------------------------------------------------------------ expressions
    @property
    def settings(self):
        return self.dataset.settings

    def add_intake(self, lin: Lin, p: str, r: str, s: int, coef: float) -> None:
        """Add ``coef * I[p,r,s]`` to ``lin``."""
        var = self.x.get((p, r, s))
        if var is not None:
            lin.add(var, coef)
        elif s <= self.settings.base_year:
            lin.constant += coef * self.dataset.pipeline_trainees.get((p, r, s), 0.0)

    def in_training(self, p: str, r: str, t: int) -> Lin:
        """``N[p,r,t] = sum of I[p,r,s] for s = t-d+1 .. t`` (cached)."""
        key = (p, r, t)
        lin = self._in_training.get(key)
        if lin is None:
            lin = Lin()
            d = self.dataset.profession[p].duration_years
            for s in range(t - d + 1, t + 1):
                self.add_intake(lin, p, r, s, 1.0)
            self._in_training[key] = lin
        return lin

    def still_in_training(self, p: str, r: str, t: int) -> Lin:
        """``M[p,r,t] = sum of I[p,r,s] for s = t-d+2 .. t`` (empty for d = 1)."""
        lin = Lin()
        d = self.dataset.profession[p].duration_years
        for s in range(t - d + 2, t + 1):
            self.add_intake(lin, p, r, s, 1.0)
        return lin

    def stock_at(self, lin: Lin, p: str, r: str, t: int, coef: float) -> None:
        """Add ``coef * S[p,r,t]``: the variable, or ``stock_wte`` for the base year."""
        if t == self.settings.base_year:
            lin.constant += coef * self.dataset.stock_wte.get((p, r), 0.0)
        else:
            lin.add(self.stock[(p, r, t)], coef)

    # -------------------------------------------------------------- registry
    def add_constraint(self, family: str, profession: str | None, region: str | None,
                       year: int, lin: Lin, sense: int, rhs: float) -> Entry | None:
        """Add ``lin (sense) rhs`` under its key; in an elastic copy, limits get a violation."""
        key = ConstraintKey(family, profession, region, year)
        terms = lin.terms  # copied by LpAffineExpression below
        bound = rhs - lin.constant
        violation = None
        if self.elastic and FAMILIES[family].limit:
            violation = self.problem.add_variable(f"v_{len(self.registry)}", lowBound=0)
            terms = {**terms, violation: 1.0 if sense == GE else -1.0}
        if not terms:
            violated_by = constant_violation(sense, bound)
            if violated_by is not None:
                self.registry.constant_violations.append((key, violated_by))
            return None
        constraint = pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, f"c_{len(self.registry)}", bound)
        self.problem.addConstraint(constraint)
        entry = Entry(key, constraint, sense, bound, violation)
        self.registry.entries[key] = entry
        return entry


def constant_violation(sense: int, bound: float) -> float | None:
    """By how much a row without variables, ``0 (sense) bound``, is violated; ``None`` if it holds."""
    gap = bound if sense == LE else -bound if sense == GE else -abs(bound)
    return -gap if gap < -CONSTANT_ROW_TOLERANCE else None


# ------------------------------------------------------------------ variables


def define_variables(m: CommissionModel) -> None:
    """Intake ``x[p,r,t] >= 0`` (integer with ``integer_places``), stock ``S[p,r,t] >= 0``,
    shortfall ``u[p,r,t] >= 0`` for assessed t, and supervision allocation
    ``y[p,q,r,t] >= 0`` (hours a week) for each supervision row with ``h_p > 0``.

    In an elastic copy ``S`` is free and ``S >= 0`` becomes a relaxable constraint.
    """
    ds, st = m.dataset, m.settings
    category = pulp.LpInteger if m.integer else pulp.LpContinuous
    stock_floor = None if m.elastic else 0
    assessed = set(st.assessed)
    for p in ds.professions:
        for r in ds.regions:
            for t in st.decision_years:
                key = (p.profession, r.region, t)
                m.x[key] = m.problem.add_variable(f"x_{len(m.x)}", lowBound=0, cat=category)
                m.stock[key] = m.problem.add_variable(f"s_{len(m.stock)}", lowBound=stock_floor)
                if t in assessed:
                    m.u[key] = m.problem.add_variable(f"u_{len(m.u)}", lowBound=0)
    for p in ds.professions:
        if p.supervision_hours_per_trainee <= 0:
            continue
        for q in ds.supervisors_of.get(p.profession, ()):
            for r in ds.regions:
                for t in st.decision_years:
                    m.y[(p.profession, q, r.region, t)] = m.problem.add_variable(f"y_{len(m.y)}", lowBound=0)


# ---------------------------------------------------------------- constraints


def define_stock_balance(m: CommissionModel) -> None:
    """Stock at the end of each decision year t, for every p, r::

        S[p,r,t] = (1-a) S[p,r,t-1] + j c I[p,r,t-d+1] + inflow[p,r,t]
                   - sum over trainee professions q of share[q,p] I[q,r,t]

    with ``S[p,r,b] = stock_wte``. Its dual is the value of one more WTE of inflow.
    """
    ds, st = m.dataset, m.settings
    recruits_from: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in ds.recruitment_sources:
        recruits_from[row.source_profession].append((row.trainee_profession, row.share))
    for p in ds.professions:
        pk, d = p.profession, p.duration_years
        for r in ds.regions:
            rk = r.region
            for t in st.decision_years:
                lin = Lin()
                lin.add(m.stock[(pk, rk, t)], 1.0)
                m.stock_at(lin, pk, rk, t - 1, -(1.0 - p.attrition_rate))
                m.add_intake(lin, pk, rk, t - d + 1, -p.joining_rate * p.completion_rate)
                for q, share in recruits_from.get(pk, ()):
                    m.add_intake(lin, q, rk, t, share)
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
    """For each assessed year t and every p, r::

        u[p,r,t] >= demand[p,r,t] - (S[p,r,t] + trainee_service_wte[p] * M[p,r,t]),  u >= 0
    """
    ds = m.dataset
    for (pk, rk, t), u in m.u.items():
        lin = m.still_in_training(pk, rk, t)
        scale = ds.profession[pk].trainee_service_wte
        lin = _scaled(lin, scale)
        lin.add(u, 1.0)
        m.stock_at(lin, pk, rk, t, 1.0)
        m.add_constraint("shortfall", pk, rk, t, lin, GE, ds.demand_wte.get((pk, rk, t), 0.0))


def define_budget(m: CommissionModel) -> None:
    """For each decision year t with a national budget row::

        sum over p, r of cost_per_trainee_year[p] * cost_multiplier[r] * N[p,r,t] <= budget[t]

    and, for each region r with a regional row for t, the same sum over r's
    professions <= budget[r,t]. Pipeline trainees count (their cost is committed).
    """
    ds, st = m.dataset, m.settings
    for t in st.decision_years:
        national = Lin()
        regional = {r.region: Lin() for r in ds.regions}
        for p in ds.professions:
            for r in ds.regions:
                cost = p.cost_per_trainee_year_gbp * r.cost_multiplier
                n = m.in_training(p.profession, r.region, t)
                national.add_lin(n, cost)
                regional[r.region].add_lin(n, cost)
        if t in ds.national_budget_gbp:
            m.add_constraint("budget", None, None, t, national, LE, ds.national_budget_gbp[t])
        for r in ds.regions:
            cap = ds.regional_budget_gbp.get((r.region, t))
            if cap is not None:
                m.add_constraint("regional_budget", None, r.region, t, regional[r.region], LE, cap)


def define_supervision(m: CommissionModel) -> None:
    """Supervision hours a week flow from qualified staff to trainees, per region r and year t::

        need[p]:     sum over supervisor rows q of y[p,q,r,t] >= supervision_hours[p] * N[p,r,t]
        capacity[q]: sum over trainee rows p of y[p,q,r,t] <= supervisor_hours_per_wte[q] * S[q,r,t-1]

    Capacity comes from the stock at the start of the year. Trainees that need
    supervision and have no supervisor row cannot be taken (their need row reads
    ``0 >= h * N``).
    """
    ds, st = m.dataset, m.settings
    by_supervisor: dict[tuple[str, str, int], Lin] = defaultdict(Lin)
    for (pk, q, rk, t), var in m.y.items():
        by_supervisor[(q, rk, t)].add(var, 1.0)
    for p in ds.professions:
        h = p.supervision_hours_per_trainee
        if h <= 0:
            continue
        for r in ds.regions:
            for t in st.decision_years:
                lin = _scaled(m.in_training(p.profession, r.region, t), -h)
                for q in ds.supervisors_of.get(p.profession, ()):
                    lin.add(m.y[(p.profession, q, r.region, t)], 1.0)
                m.add_constraint("supervision_need", p.profession, r.region, t, lin, GE, 0.0)
    for (q, rk, t), lin in by_supervisor.items():
        m.stock_at(lin, q, rk, t - 1, -ds.profession[q].supervisor_hours_per_wte)
        m.add_constraint("supervision_capacity", q, rk, t, lin, LE, 0.0)


def define_placements(m: CommissionModel) -> None:
    """``N[p,r,t] <= placement_capacity[p,r,t]`` where the capacity table gives one."""
    for (pk, rk, t), row in m.dataset.capacity_row.items():
        if row.placement_capacity is not None:
            m.add_constraint("placements", pk, rk, t, m.in_training(pk, rk, t), LE, row.placement_capacity)


def define_intake_limits(m: CommissionModel) -> None:
    """``intake_min <= x[p,r,t] <= intake_max`` where given (a blank minimum is 0)."""
    for (pk, rk, t), row in m.dataset.capacity_row.items():
        lin = Lin()
        lin.add(m.x[(pk, rk, t)], 1.0)
        if row.intake_min:
            m.add_constraint("intake_min", pk, rk, t, lin, GE, row.intake_min)
        if row.intake_max is not None:
            m.add_constraint("intake_max", pk, rk, t, lin, LE, row.intake_max)


def define_growth(m: CommissionModel) -> None:
    """Where ``max_growth`` g is given, for each decision year t::

        sum over r of I[p,r,t] <= (1 + g) * sum over r of I[p,r,t-1]

    (for the first decision year, the right side is the pipeline's base-year intake).
    """
    ds, st = m.dataset, m.settings
    for p in ds.professions:
        if p.max_growth is None:
            continue
        for t in st.decision_years:
            lin = Lin()
            for r in ds.regions:
                m.add_intake(lin, p.profession, r.region, t, 1.0)
                m.add_intake(lin, p.profession, r.region, t - 1, -(1.0 + p.max_growth))
            m.add_constraint("growth", p.profession, None, t, lin, LE, 0.0)


def define_objectives(m: CommissionModel) -> None:
    """Stage 1: ``sum over assessed t, p, r of year_weight[t] * weight[p] * u[p,r,t]``.
    Stage 2: ``sum over decision t, p, r of cost[p] * cost_multiplier[r] * N[p,r,t]``.

    An elastic copy instead minimises the violations, each per user unit
    (GBP 1m of budget, hour, place, WTE).
    """
    ds, st = m.dataset, m.settings
    shortfall = Lin()
    for (pk, rk, t), u in m.u.items():
        shortfall.add(u, st.year_weight(t) * ds.profession[pk].weight)
    cost = Lin()
    for p in ds.professions:
        for r in ds.regions:
            for t in st.decision_years:
                cost.add_lin(m.in_training(p.profession, r.region, t),
                             p.cost_per_trainee_year_gbp * r.cost_multiplier)
    m.shortfall_objective = shortfall.expression()
    m.cost_objective = cost.expression()
    if m.elastic:
        violations = Lin()
        for entry in m.registry:
            if entry.violation is not None:
                violations.add(entry.violation, 1.0 / FAMILIES[entry.key.family].scale)
        m.problem.setObjective(violations.expression())
    else:
        m.problem.setObjective(m.shortfall_objective)


def _scaled(lin: Lin, coef: float) -> Lin:
    out = Lin()
    out.add_lin(lin, coef)
    return out


#: The dynamics and definitions every model has.
CORE_FAMILIES = (define_stock_balance, define_stock_floor, define_shortfall)
#: The limits, by the name a user lifts them with (``build_model(lift=...)``).
LIMIT_FAMILIES = {
    "budget": define_budget,  # national and regional
    "supervision": define_supervision,
    "placements": define_placements,
    "intake_limits": define_intake_limits,
    "growth": define_growth,
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
    m._in_training.clear()
    m.build_seconds = time.perf_counter() - started
    return m

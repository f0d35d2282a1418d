"""The commissioning LP under construction: its variables, the linear forms every family uses,
and how a row is added to the problem and the registry.

The families of constraints are in ``optimiser.families`` (one module each: its
mathematics, its rows, its words); ``optimiser.build`` puts them together and
states the notation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulp

from models.inputs import MAIN_ROUTE, Dataset, Route
from optimiser.registry import GE, LE, ConstraintKey, Entry, Family, Registry, relax_sign

#: Elastic copies weigh each violation per user unit (GBP 1m, hour, place, WTE) equally.
Key3 = tuple[str, str, int]
Key4 = tuple[str, str, str, int]
#: A row without variables that is violated by no more than this holds (rounding in the inputs).
CONSTANT_ROW_TOLERANCE = 1e-9
SHORTFALL_STAGE, SUSTAIN_STAGE, COST_STAGE = "shortfall", "sustain", "cost"
#: The rows later stages fill (``optimiser.solve``): an earlier stage's objective within
#: tolerance of its optimum, by that earlier stage.
KEEP_ROW = {SHORTFALL_STAGE: "keep_shortfall_optimal", SUSTAIN_STAGE: "keep_sustain_optimal"}


class CommissionProblem(pulp.LpProblem):
    """PuLP's ``LpProblem`` with one public method made linear in the number of rows.

    PuLP 4.2's ``COIN_CMD`` hands CBC's row activities to ``assignConsSlack(...,
    activity=True)``, which looks each row up by name with a scan of every row: quadratic.
    On the largest benchmark instance (49,345 rows) that took 8.9 s after a 4.2 s CBC solve;
    here the rows are looked up in one dictionary, made once per call (``docs/benchmark.md``).
    The slacks set are the same: ``-(constant + activity)``, PuLP's own formula.
    """

    def assignConsSlack(self, values: dict[str, float], activity: bool = False) -> None:  # noqa: N802 (PuLP's name)
        if not activity:
            super().assignConsSlack(values)
            return
        constants = {row.name: row.constant for row in self.constraints()}
        super().assignConsSlack({name: -(constants[name] + float(value))
                                 for name, value in values.items() if name in constants})


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
    #: The constraint families by name (``optimiser.families.FAMILIES``; given by ``build_model``).
    families: dict[str, Family] = field(default_factory=dict)
    #: A solver's model of ``problem`` kept between solves (``solver.KeptHighs``), or ``None``;
    #: whoever changes ``problem`` in place tells it which rows (``rows_changed``).
    kept_solver: Any = None
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
        spec = self.families[family]
        if self.elastic and spec.limit and relaxable:
            violation = self.problem.add_variable(f"v_{len(self.registry)}", lowBound=0)
            terms = {**terms, violation: float(relax_sign(sense, spec.relax_down))}
        if not terms:
            violated_by = constant_violation(sense, bound)
            if violated_by is not None:
                self.registry.constant_violations.append((key, violated_by))
            return None
        constraint = self.problem.addConstraint(with_sense(terms, sense, bound), f"c_{len(self.registry)}")
        entry = Entry(key, constraint, sense, bound, violation, spec.relax_down)
        self.registry.entries[key] = entry
        return entry


def needs_supervision(ds: Dataset, p: str) -> bool:
    """Whether a route of profession ``p`` takes supervisors' time."""
    return any(route.supervision_hours_per_trainee > 0 for route in ds.routes_of[p])


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

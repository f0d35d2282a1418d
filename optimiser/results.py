"""Turn a solution into the tables users read: plan, workforce, supervision, constraints.

Every quantity is evaluated from the model's own expressions (``N``, ``M``,
``C``, stock) at the solution's values, so the tables say exactly what the LP
decided. Shadow prices are in user units: weighted target shortfall (WTE)
removed per unit of relaxation (GBP 1m, supervision hour a week, placement...).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser.build import CommissionModel, Lin
from optimiser.gcpause import without_gc
from optimiser.families import FAMILIES
from optimiser.registry import EQ, GE, LE, SENSE_TEXT
from optimiser.solve import Solution, value_of
from optimiser.years import format_year

BINDING_RELATIVE_TOLERANCE = 1e-6
ZERO = 1e-9
#: A limit with a stage-1 dual above this is binding (complementary slackness), even when
#: stage 2's tolerance leaves it a hair of slack.
PRICED = 1e-7


@dataclass
class Results:
    plan: pd.DataFrame
    workforce: pd.DataFrame
    supervision: pd.DataFrame
    constraints: pd.DataFrame
    levers: pd.DataFrame
    #: The target year's shortfall, unweighted: counting trainees where the basis does, and
    #: on the qualified basis (trainees never counted).
    total_shortfall_wte: float
    qualified_shortfall_wte: float
    #: Stage 1's and stage 2's objectives, recomputed from the plan (``None``: no sustain years).
    weighted_shortfall: float
    sustain_shortfall: float | None
    total_cost_gbp: float
    committed_cost_after_horizon_gbp: float


def plan_values(model: CommissionModel, solution: Solution) -> dict:
    """The solver's values with every stock recomputed from the plan's intakes.

    A solver reports values to limited precision (CBC's solution file to about
    8 digits), so stock read back from ``S`` can drift from the stock the plan
    implies. Each ``S[p,r,t]`` is re-derived, in year order, from its own
    stock-balance row: ``S[t] = rhs - (the row's other terms)``. Every figure
    reported is then a function of the decisions alone.
    """
    by_id = _by_id(solution.values)
    by_year: dict[int, list] = {}
    for (pk, rk, t), var in model.stock.items():
        by_year.setdefault(t, []).append((pk, rk, var))
    derived = {}
    for year in model.settings.decision_years:
        for pk, rk, var in by_year.get(year, ()):
            entry = model.registry.get("stock_balance", pk, rk, year)
            own, others = 0.0, 0.0
            for v, c in entry.constraint.items():
                if v.id == var.id:
                    own = c
                else:
                    others += c * by_id.get(v.id, 0.0)
            derived[var] = by_id[var.id] = (entry.rhs - others) / own
    values = dict(solution.values)
    values.update(derived)
    return values


def _by_id(values: dict) -> dict[int, float]:
    """``values`` keyed by the variable's index in its problem (``LpVariable.id``)."""
    return {var.id: value for var, value in values.items()}


def _clean(value: float) -> float:
    return 0.0 if abs(value) < ZERO else value


def _year_label():
    """``format_year``, formatted once per distinct year (a table has thousands of rows, few years)."""
    return functools.lru_cache(maxsize=None)(format_year)


PLAN_COLUMNS = ["profession", "route", "region", "year", "year_label", "intake", "in_training", "on_placement",
                "in_training_end", "completions", "cost_gbp"]
WORKFORCE_COLUMNS = ["profession", "region", "year", "year_label", "service_basis", "stock_wte",
                     "trainee_service_wte", "counted_service_wte", "supervision_given_wte", "supply_wte",
                     "qualified_supply_wte", "demand_wte", "shortfall_wte", "qualified_shortfall_wte",
                     "assessed", "sustain", "weighted_shortfall"]


def plan_table(model: CommissionModel, values) -> pd.DataFrame:
    """One row per profession, route, region and decision year: intake ``x``, trainee-years
    ``N``, trainees on placement ``P``, trainees still in training at the year end,
    completions ``C`` and the year's cost ``cost_k * m_r * N``."""
    ds = model.dataset
    label = _year_label()
    rows = []  # tuples (not dicts), for speed; pandas infers each column's type the same way
    for p in ds.professions:
        pk = p.profession
        for route in ds.routes_of[pk]:
            for r in ds.regions:
                rk = r.region
                for t in ds.settings.decision_years:
                    n = _clean(value_of(model.in_training(route, rk, t), values))  # cost from the N shown
                    rows.append((
                        pk, route.route, rk, t, label(t),
                        _clean(values.get(model.x[(pk, route.route, rk, t)], 0.0)),
                        n,
                        _clean(_route_value(model, route, rk, t, values, range(route.timing.duration_years))),
                        _clean(_route_value(model, route, rk, t, values, range(route.timing.completion_lag))),
                        _clean(value_of(model.completions(route, rk, t), values)),
                        _clean(n * route.cost_per_trainee_year_gbp * r.cost_multiplier),
                    ))
    return pd.DataFrame.from_records(rows, columns=PLAN_COLUMNS)


def _route_value(model: CommissionModel, route, r: str, t: int, values, lags) -> float:
    """``sum over l in lags of I[p,k,r,t-l]``, for one route."""
    lin = Lin()
    for lag in lags:
        model.add_intake(lin, route.profession, route.route, r, t - lag, 1.0)
    return value_of(lin, values)


def workforce_table(model: CommissionModel, values) -> pd.DataFrame:
    """One row per profession, region and decision year: stock ``S``, trainee service ``T``
    (and what the service basis counts of it), supervision given ``G``, supply ``Y = S +
    beta T - G`` and on the qualified basis ``S - G``, demand and both shortfalls."""
    ds, st = model.dataset, model.settings
    assessed, sustain = set(st.assessed), set(st.sustain)
    label = _year_label()
    rows = []
    for p in ds.professions:
        beta = 1.0 if p.counts_trainees else 0.0
        for r in ds.regions:
            for t in st.decision_years:
                pk, rk = p.profession, r.region
                stock = values.get(model.stock[(pk, rk, t)], 0.0)
                service = value_of(model.trainee_service(pk, rk, t), values)
                given = Lin()
                model.supervision_given(given, pk, rk, t, 1.0)
                given_wte = value_of(given, values)
                supply = stock + beta * service - given_wte
                qualified = stock - given_wte
                counted = t in assessed or t in sustain
                demand = ds.demand_wte.get((pk, rk, t))
                if demand is None and counted:
                    demand = 0.0
                gap = None if demand is None else _clean(max(0.0, demand - supply))
                rows.append((
                    pk, rk, t, label(t), p.service_basis,
                    _clean(stock), _clean(service), _clean(beta * service), _clean(given_wte),
                    _clean(supply), _clean(qualified), demand, gap,
                    None if demand is None else _clean(max(0.0, demand - qualified)),
                    t in assessed, t in sustain,
                    _clean(gap * p.weight * st.year_weight(t)) if counted else None,
                ))
    return pd.DataFrame.from_records(rows, columns=WORKFORCE_COLUMNS)


LEVER_COLUMNS = ["kind", "profession", "name", "region", "year", "year_label", "amount_wte", "cost_gbp",
                 "in_post_target_wte", "gbp_per_wte", "unit_gbp_per_wte"]
ROUTE, RETENTION, RECRUITMENT = "route", "retention", "recruitment"


def levers_table(model: CommissionModel, values) -> pd.DataFrame:
    """What each lever does, per region and year: other routes' intakes, retained and recruited
    WTE (``amount_wte``); what that costs (``cost_gbp``: a route cohort's whole cost, after the
    horizon too; a retained WTE's year; a recruit at signing); the WTE it puts in post at the
    end of the target year (``in_post_target_wte``: qualified, joined and surviving attrition
    to then; 0 when it arrives later); GBP per WTE in post; and ``unit_gbp_per_wte``, what one
    more unit of the lever there and then would cost per WTE it puts in post by the target
    year (blank when it would arrive later): the price of its next WTE, used or not."""
    ds, st = model.dataset, model.settings
    target, label = st.target_year, _year_label()
    regions = {r.region: r.cost_multiplier for r in ds.regions}
    rows = []

    def survive(p: str, arrival: int) -> float:
        """The share of a WTE in post at the end of ``arrival`` still in post at the target's end."""
        return (1.0 - ds.profession[p].attrition_rate) ** (target - arrival) if arrival <= target else 0.0

    def add(kind, p, name, r, t, amount, unit_cost, unit_in_post):
        cost, in_post = _clean(unit_cost * amount), _clean(unit_in_post * amount)
        rows.append((kind, p, name, r, t, label(t), _clean(amount), cost, in_post,
                     cost / in_post if in_post > ZERO else None,
                     unit_cost / unit_in_post if unit_in_post > ZERO else None))

    for p in ds.professions:
        for route in ds.routes_of[p.profession][1:]:
            years = sum(share for _, share in route.timing.training_lags)
            for r, multiplier in regions.items():
                for t in st.decision_years:
                    x = values.get(model.x[(p.profession, route.route, r, t)], 0.0)
                    arrival = t + route.timing.completion_lag
                    add(ROUTE, p.profession, route.route, r, t, x, route.cost_per_trainee_year_gbp * multiplier * years,
                        route.joining_rate * route.completion_rate * survive(p.profession, arrival))
    for (pk, rk, tranche, t), var in model.rho.items():
        add(RETENTION, pk, f"tranche {tranche}", rk, t, values.get(var, 0.0),
            ds.retention_rows[(pk, rk, tranche)].cost_per_wte_year_gbp * regions[rk], survive(pk, t))
    for (pk, rk, t), var in model.z.items():
        row = ds.recruitment_rows[(pk, rk)]
        add(RECRUITMENT, pk, RECRUITMENT, rk, t, values.get(var, 0.0), row.cost_per_wte_gbp * regions[rk],
            (1.0 - row.first_year_attrition) * survive(pk, t + row.lead_time_years))
    return pd.DataFrame.from_records(rows, columns=LEVER_COLUMNS)


def supervision_table(model: CommissionModel, values) -> pd.DataFrame:
    label = _year_label()
    by_id = _by_id(values)
    rows = [
        (p, q, r, t, label(t), _clean(hours))
        for (p, q, r, t), var in model.y.items()
        if (hours := by_id.get(var.id, 0.0)) > ZERO
    ]
    columns = ["trainee_profession", "supervisor_profession", "region", "year", "year_label", "hours_per_week"]
    return pd.DataFrame.from_records(rows, columns=columns)


CONSTRAINT_COLUMNS = ["family", "profession", "region", "year", "year_label", "sense", "lhs", "rhs", "slack",
                      "binding", "limit", "shadow_price", "shadow_unit", "item"]


def constraints_table(model: CommissionModel, solution: Solution, values: dict) -> pd.DataFrame:
    """Slack and shadow price of every constraint, binding limits first.

    Built a column at a time (one Python pass for the sums that need the
    solution's values; the tests on slack and price done on whole columns).
    """
    family, profession, region, year, sense, lhs, rhs, shadow, item = [], [], [], [], [], [], [], [], []
    duals = solution.duals
    by_id = _by_id(values)
    for entry in model.registry:
        key = entry.key
        family.append(key.family)
        profession.append(key.profession)
        region.append(key.region)
        year.append(key.year)
        item.append(key.item)
        sense.append(entry.sense)
        lhs.append(sum(c * by_id.get(v.id, 0.0) for v, c in entry.constraint.items()))
        rhs.append(entry.rhs)
        pi = duals.get(key)
        shadow.append(None if pi is None else entry.relax_sign * pi * FAMILIES[key.family].scale)
    reduced = solution.stock_reduced_costs
    for key, var in model.stock.items():
        pk, rk, t = key
        family.append("stock_floor")
        profession.append(pk)
        region.append(rk)
        year.append(t)
        item.append(None)
        sense.append(GE)
        level = values.get(var, 0.0)
        lhs.append(level)
        rhs.append(0.0)
        shadow.append(reduced.get(key))
    if not family:
        return pd.DataFrame()

    lhs_a, rhs_a = np.array(lhs, dtype=float), np.array(rhs, dtype=float)
    is_le = np.array([s == LE for s in sense])
    slack = np.where(is_le, rhs_a - lhs_a, lhs_a - rhs_a)
    specs = {name: FAMILIES[name] for name in dict.fromkeys(family)}
    limit = np.array([specs[f].limit for f in family])
    prices = np.array([np.nan if s is None else s for s in shadow], dtype=float)
    tight = np.abs(slack) <= BINDING_RELATIVE_TOLERANCE * np.maximum(1.0, np.abs(rhs_a))
    priced = np.abs(prices) > PRICED  # False where there is no price (NaN)
    # an equality (supervision given = needed) is always tight: it binds when it has a price
    equality = np.array([s == EQ for s in sense])
    binding = limit & ((tight & ~equality) | priced)
    shown = [None if s is None else _clean(s) + 0.0 for s in shadow]
    table = pd.DataFrame({
        "family": family, "profession": profession, "region": region, "year": year,
        "year_label": list(map(_year_label(), year)), "sense": [SENSE_TEXT[s] for s in sense],
        "lhs": _clean_array(lhs_a), "rhs": _clean_array(rhs_a), "slack": _clean_array(slack),
        "binding": binding, "limit": limit,
        "shadow_price": shown,
        "shadow_unit": [f"WTE of weighted target shortfall removed per {specs[f].unit}" for f in family],
        "item": item,
    }, columns=CONSTRAINT_COLUMNS)
    # binding limits first, then other limits, then definitions; larger prices first (stable)
    largest = -np.abs(np.array([0.0 if s is None else s for s in shown], dtype=float))
    order = np.lexsort((largest, ~limit, ~binding))
    return table.take(order).reset_index(drop=True)


def _clean_array(values: np.ndarray) -> np.ndarray:
    """``_clean`` of each value."""
    return np.where(np.abs(values) < ZERO, 0.0, values)


@without_gc
def build_results(model: CommissionModel, solution: Solution) -> Results:
    values = plan_values(model, solution)
    workforce = workforce_table(model, values)
    plan = plan_table(model, values)
    target = workforce[workforce["year"] == model.settings.target_year]
    weighted = workforce["weighted_shortfall"].fillna(0)
    levers = levers_table(model, values)
    return Results(
        plan=plan,
        workforce=workforce,
        supervision=supervision_table(model, values),
        constraints=constraints_table(model, solution, values),
        levers=levers,
        total_shortfall_wte=float(target["shortfall_wte"].fillna(0).sum()),
        qualified_shortfall_wte=float(target["qualified_shortfall_wte"].fillna(0).sum()),
        weighted_shortfall=float(weighted[workforce["assessed"]].sum()),
        sustain_shortfall=float(weighted[workforce["sustain"]].sum()) if model.settings.sustain else None,
        total_cost_gbp=float(plan["cost_gbp"].sum()) + _lever_cost(levers),
        committed_cost_after_horizon_gbp=_clean(value_of(model.committed_cost, values)),
    )


def _lever_cost(levers: pd.DataFrame) -> float:
    """The decision years' cost of retention and recruitment (a route's cost is in the plan's)."""
    return float(levers.loc[levers["kind"] != ROUTE, "cost_gbp"].sum()) if not levers.empty else 0.0


def top_binding(constraints: pd.DataFrame, n: int = 10) -> list[dict]:
    """The binding limits with the largest shadow prices, for summaries."""
    if constraints.empty:
        return []
    binding = constraints[constraints["binding"] & constraints["limit"]]
    largest = binding["shadow_price"].abs().fillna(0).sort_values(ascending=False)  # pandas' (unstable) sort
    keep = ["family", "profession", "region", "year", "year_label", "slack", "shadow_price", "shadow_unit"]
    top = binding.loc[largest.index[:n], keep]
    columns = [top[name].tolist() for name in keep]  # Python values: int, float, str; None for missing
    return [{name: (None if value is None or value != value else value) for name, value in zip(keep, row)}
            for row in zip(*columns)]

"""Turn a solution into the tables users read: plan, workforce, supervision, constraints.

Every quantity is evaluated from the model's own expressions (``N``, ``M``,
``C``, stock) at the solution's values, so the tables say exactly what the LP
decided. Shadow prices are in user units: weighted target shortfall (WTE)
removed per unit of relaxation (GBP 1m, supervision hour a week, placement...).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from optimiser.build import CommissionModel, Lin
from optimiser.registry import FAMILIES, LE, SENSE_TEXT
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
    total_shortfall_wte: float
    weighted_shortfall: float
    total_cost_gbp: float


def plan_values(model: CommissionModel, solution: Solution) -> dict:
    """The solver's values with every stock recomputed from the plan's intakes.

    A solver reports values to limited precision (CBC's solution file to about
    8 digits), so stock read back from ``S`` can drift from the stock the plan
    implies. Each ``S[p,r,t]`` is re-derived, in year order, from its own
    stock-balance row: ``S[t] = rhs - (the row's other terms)``. Every figure
    reported is then a function of the decisions alone.
    """
    values = dict(solution.values)
    for year in model.settings.decision_years:
        for (pk, rk, t), var in model.stock.items():
            if t != year:
                continue
            entry = model.registry.get("stock_balance", pk, rk, t)
            others = sum(c * values.get(v, 0.0) for v, c in entry.constraint.items() if v is not var)
            values[var] = (entry.rhs - others) / entry.constraint[var]
    return values


def _clean(value: float) -> float:
    return 0.0 if abs(value) < ZERO else value


def plan_table(model: CommissionModel, values) -> pd.DataFrame:
    ds = model.dataset
    rows = []
    for p in ds.professions:
        for r in ds.regions:
            for t in ds.settings.decision_years:
                pk, rk = p.profession, r.region
                n = value_of(model.in_training(pk, rk, t), values)
                completions = Lin()
                model.add_intake(completions, pk, rk, t - p.duration_years + 1, p.completion_rate)
                rows.append({
                    "profession": pk, "region": rk, "year": t, "year_label": format_year(t),
                    "intake": _clean(values.get(model.x[(pk, rk, t)], 0.0)),
                    "in_training": _clean(n),
                    "in_training_end": _clean(value_of(model.still_in_training(pk, rk, t), values)),
                    "completions": _clean(value_of(completions, values)),
                    "cost_gbp": _clean(n * p.cost_per_trainee_year_gbp * r.cost_multiplier),
                })
    return pd.DataFrame(rows)


def workforce_table(model: CommissionModel, values) -> pd.DataFrame:
    ds, st = model.dataset, model.settings
    assessed = set(st.assessed)
    rows = []
    for p in ds.professions:
        for r in ds.regions:
            for t in st.decision_years:
                pk, rk = p.profession, r.region
                stock = values.get(model.stock[(pk, rk, t)], 0.0)
                service = p.trainee_service_wte * value_of(model.still_in_training(pk, rk, t), values)
                supply = stock + service
                demand = ds.demand_wte.get((pk, rk, t))
                if demand is None and t in assessed:
                    demand = 0.0
                rows.append({
                    "profession": pk, "region": rk, "year": t, "year_label": format_year(t),
                    "stock_wte": _clean(stock), "trainee_service_wte": _clean(service),
                    "supply_wte": _clean(supply), "demand_wte": demand,
                    "shortfall_wte": None if demand is None else _clean(max(0.0, demand - supply)),
                    "assessed": t in assessed,
                    "weighted_shortfall": (None if demand is None or t not in assessed else
                                           _clean(max(0.0, demand - supply) * p.weight * st.year_weight(t))),
                })
    return pd.DataFrame(rows)


def supervision_table(model: CommissionModel, values) -> pd.DataFrame:
    rows = [
        {"trainee_profession": p, "supervisor_profession": q, "region": r, "year": t,
         "year_label": format_year(t), "hours_per_week": _clean(values.get(var, 0.0))}
        for (p, q, r, t), var in model.y.items()
        if values.get(var, 0.0) > ZERO
    ]
    columns = ["trainee_profession", "supervisor_profession", "region", "year", "year_label", "hours_per_week"]
    return pd.DataFrame(rows, columns=columns)


def constraints_table(model: CommissionModel, solution: Solution, values: dict) -> pd.DataFrame:
    """Slack and shadow price of every constraint, binding limits first."""
    rows = []
    for entry in model.registry:
        key, family = entry.key, FAMILIES[entry.key.family]
        lhs = sum(c * values.get(v, 0.0) for v, c in entry.constraint.items())
        slack = entry.rhs - lhs if entry.sense == LE else lhs - entry.rhs
        pi = solution.duals.get(key)
        rows.append(_row(key.family, key.profession, key.region, key.year, SENSE_TEXT[entry.sense],
                         lhs, entry.rhs, slack,
                         None if pi is None else entry.relax_sign * pi * family.scale, family))
    floor = FAMILIES["stock_floor"]
    for (pk, rk, t), var in model.stock.items():
        dj = solution.stock_reduced_costs.get((pk, rk, t))
        level = values.get(var, 0.0)
        rows.append(_row("stock_floor", pk, rk, t, ">=", level, 0.0, level, dj, floor))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["_order"] = list(zip(~table["binding"], ~table["limit"], -table["shadow_price"].abs().fillna(0)))
    return table.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def _row(family, profession, region, year, sense, lhs, rhs, slack, shadow, spec) -> dict:
    tight = abs(slack) <= BINDING_RELATIVE_TOLERANCE * max(1.0, abs(rhs))
    priced = shadow is not None and abs(shadow) > PRICED
    binding = spec.limit and (tight or priced)
    return {
        "family": family, "profession": profession, "region": region, "year": year,
        "year_label": format_year(year), "sense": sense, "lhs": _clean(lhs), "rhs": _clean(rhs),
        "slack": _clean(slack), "binding": bool(binding), "limit": spec.limit,
        "shadow_price": None if shadow is None else _clean(shadow) + 0.0,
        "shadow_unit": f"WTE of weighted target shortfall removed per {spec.unit}",
    }


def build_results(model: CommissionModel, solution: Solution) -> Results:
    values = plan_values(model, solution)
    workforce = workforce_table(model, values)
    plan = plan_table(model, values)
    target = workforce[workforce["year"] == model.settings.target_year]
    return Results(
        plan=plan,
        workforce=workforce,
        supervision=supervision_table(model, values),
        constraints=constraints_table(model, solution, values),
        total_shortfall_wte=float(target["shortfall_wte"].fillna(0).sum()),
        weighted_shortfall=float(workforce["weighted_shortfall"].fillna(0).sum()),
        total_cost_gbp=float(plan["cost_gbp"].sum()),
    )


def top_binding(constraints: pd.DataFrame, n: int = 10) -> list[dict]:
    """The binding limits with the largest shadow prices, for summaries."""
    if constraints.empty:
        return []
    binding = constraints[constraints["binding"] & constraints["limit"]]
    binding = binding.assign(_abs=binding["shadow_price"].abs().fillna(0)).sort_values("_abs", ascending=False)
    keep = ["family", "profession", "region", "year", "year_label", "slack", "shadow_price", "shadow_unit"]
    out = binding[keep].head(n).astype(object).where(binding[keep].head(n).notna(), None)
    return out.to_dict(orient="records")

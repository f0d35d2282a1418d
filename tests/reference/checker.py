"""Check a results folder against MODEL.md (version 2), independently of the optimiser.

Only the decisions are taken from the results: the intake ``x`` per route
(column ``intake`` of the ``plan.csv`` rows, one per profession, route --
``main`` and every ``routes`` row -- region and decision year), the
supervision allocation ``y`` (``supervision.csv``) and the retained and
recruited WTE rho and z (``amount_wte`` of the ``retention`` and
``recruitment`` rows of ``levers.csv``; its ``route`` rows must repeat the
plan.csv intake). ``levers.csv`` must hold one row per lever variable of the
dataset (zeros included: every route x, every retention tranche and region in
each decision year from its ``first_year``, every recruitment region in each
decision year t with t + L <= H) and is optional when the dataset has no
levers. Everything else (I, N, P, E, C, T, S, G, supply,
shortfall, costs, lever costs and figures, committed cost, totals) is recomputed here by a plain
year-by-year simulation (a second path, separate from the affine expressions
of :mod:`spec_lp`: course timing is derived here by counting the months of
each cohort that fall in each financial year), every constraint is checked,
and every other figure the results report is compared with the recomputation.
Lever rows: route share (sum_r x_k <= max_share X), retention cap
(rho_i <= share_i a S[t-1]), recruitment cap (z <= max_wte_per_year), rho, z >= 0,
lever costs in the national and regional budgets and in ``total_cost_gbp``, and
the levers.csv ``cost_gbp``, ``in_post_target_wte`` and ``gbp_per_wte`` (blank
where nothing is in post at the target year) as :func:`lever_figures` defines them.

Tolerances, for ``tol`` (default 1e-6):

* equality ``a ~ b``:  ``|a - b| <= tol * (1 + max(|a|, |b|))``;
* inequality ``lhs <= rhs``: ``lhs - rhs <= tol * (1 + scale)`` where scale is the
  size of the terms involved (so a stock that is a difference of large flows
  is judged against the size of those flows);
* a stage optimum (``weighted_shortfall``, ``sustain_shortfall``) may differ from
  its recomputation at the final plan by the stage tolerance as well (1e-6
  relative, MODEL.md's "within 1e-6 relative plus 1e-6 absolute"), and from the
  reference optimum by twice that.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .spec_lp import (STAGE_REL, Dataset, load_dataset, parse_year, solve_reference, write_shortfall_stage_mps,
                      year_label)

PLAN_COLUMNS = ["profession", "route", "region", "year", "year_label", "intake", "in_training", "on_placement",
                "in_training_end", "completions", "cost_gbp"]
WORKFORCE_COLUMNS = ["profession", "region", "year", "year_label", "service_basis", "stock_wte",
                     "trainee_service_wte", "counted_service_wte", "supervision_given_wte", "supply_wte",
                     "qualified_supply_wte", "demand_wte", "shortfall_wte", "qualified_shortfall_wte",
                     "assessed", "sustain", "weighted_shortfall"]
SUPERVISION_COLUMNS = ["trainee_profession", "supervisor_profession", "region", "year", "year_label",
                       "hours_per_week"]
LEVER_COLUMNS = ["kind", "profession", "name", "region", "year", "year_label", "amount_wte", "cost_gbp",
                 "in_post_target_wte", "gbp_per_wte"]
SUMMARY_KEYS = ["status", "weighted_shortfall", "sustain_shortfall", "total_shortfall_wte",
                "qualified_shortfall_wte", "total_cost_gbp", "committed_cost_after_horizon_gbp", "solver",
                "solve_seconds"]


# --------------------------------------------------------------------------
# recomputation
# --------------------------------------------------------------------------


def months_in_year(duration: int, start_month: int, offset: int) -> float:
    """Share of financial year s + offset that a cohort of year s spends in training.

    Months are counted from 1 April of year s (month 0); the course runs from
    month ``(start_month - 4) mod 12`` for ``12 * duration`` months.
    """
    first = (start_month - 4) % 12
    lo, hi = max(first, 12 * offset), min(first + 12 * duration, 12 * offset + 12)
    return max(0, hi - lo) / 12


def completion_offset(duration: int, start_month: int) -> int:
    """Offset (years after the intake year) of the year in which a cohort's last month falls."""
    last = (start_month - 4) % 12 + 12 * duration - 1
    return last // 12


@dataclass
class Simulation:
    """Quantities of the spec for a given plan, keyed (p, r, t) (totals over routes).

    ``S`` and ``gross`` also hold the base year; ``gross`` is the sum of the
    absolute values of the flows that make up ``S`` (the scale used to judge S >= 0).
    Per route: ``IK``, ``NK``, ``PK``, ``EK``, ``CK``, ``costK`` keyed (p, k, r, t).
    ``need`` = sum_k h_k N_k; ``lever_cost`` = retention and recruitment spend in the year.
    """

    I: dict
    N: dict
    P: dict
    E: dict
    C: dict
    T: dict
    S: dict
    gross: dict
    G: dict
    supply: dict
    qualified: dict
    shortfall: dict
    qualified_shortfall: dict
    cost: dict
    committed: float
    IK: dict = None
    NK: dict = None
    PK: dict = None
    EK: dict = None
    CK: dict = None
    costK: dict = None
    need: dict = None
    lever_cost: dict = None

    @property
    def M(self) -> dict:  # version-1 name of E
        return self.E


def _routes(ds: Dataset, p: str) -> list[tuple[str, int, int, float, float, float, float]]:
    """(name, d, m, c, j, kappa, h) of every route of p, main first, blanks already filled by the loader."""
    prof = ds.professions[p]
    out = [("main", prof.duration, prof.start_month, prof.completion, prof.joining, prof.cost,
            prof.supervision_hours)]
    for (q, k), rt in ds.routes.items():
        if q == p:
            out.append((k, rt.duration, rt.start_month, rt.completion, rt.joining, rt.cost, rt.supervision_hours))
    return out


def simulate(ds: Dataset, x: dict, y: dict | None = None, rho: dict | None = None,
             z: dict | None = None) -> Simulation:
    """Run the dynamics of MODEL.md forward from the base year for a plan.

    ``x`` is keyed (p, k, r, t) per route, or (p, r, t) for the main route; ``y``
    (p, q, r, t) supervision hours; ``rho`` (p, tranche, r, t) retained WTE; ``z``
    (p, r, t) recruits signed in t. ``I = x`` in decision years, the pipeline
    before (main route only). A cohort of route k and year s is in training for
    ``months_in_year(d_k, m_k, t - s)`` of year t (N, cost), on placement in years
    s .. s+d_k-1 (P), completes in year ``s + completion_offset`` (C, rate c_k) and is
    in training at the end of each year before that (E; training year t-s+1, service
    sigma). ``S[t] = (1-a) S[t-1] + sum_k j_k C_k[t] + inflow[t] + sum_i rho_i[t]
    + (1-e) z[t-L] - sum_q share[q,p] I[q,main,t] - sum_{routes k' from p} theta x_k'[t]``;
    ``G[q,t] = sum_p y[p,q,t] / W`` (0 when supervision time does not count);
    ``Y = S + beta T - G``; ``shortfall = max(0, demand - Y)``.
    """
    b, H = ds.base_year, ds.horizon_end
    T_ = ds.decision_years
    y = y or {}
    rho = rho or {}
    z = z or {}
    xk = {(key if len(key) == 4 else (key[0], "main", key[1], key[2])): v for key, v in x.items()}

    def I_of(p, k, r, s):
        if s > b:
            return xk.get((p, k, r, s), 0.0)
        return ds.pipeline.get((p, r, s), 0.0) if k == "main" else 0.0

    I, N, P, E, C, TS, S, gross, G, supply, qual, short, qshort, cost = ({} for _ in range(14))
    IK, NK, PK, EK, CK, costK, need, lever_cost = ({} for _ in range(8))
    committed = 0.0
    longest = max((rt[1] for p in ds.professions for rt in _routes(ds, p)), default=1)
    first = b - 1 - longest
    for p, prof in ds.professions.items():
        for r in ds.regions:
            S[p, r, b] = gross[p, r, b] = ds.stock.get((p, r), 0.0)
            for s in range(first, H + 1):
                I[p, r, s] = 0.0
            for t in T_:
                N[p, r, t] = P[p, r, t] = E[p, r, t] = TS[p, r, t] = C[p, r, t] = 0.0
                cost[p, r, t] = need[p, r, t] = lever_cost[p, r, t] = 0.0
            for k, d, m, c, _, kappa, h in _routes(ds, p):
                done = completion_offset(d, m)
                rate = kappa * ds.regions[r]
                for s in range(first, H + 1):
                    IK[p, k, r, s] = I_of(p, k, r, s)
                    I[p, r, s] += IK[p, k, r, s]
                for t in T_:
                    n = on = end = comp = 0.0
                    for s in range(first, t + 1):
                        cohort = IK[p, k, r, s]
                        if not cohort:
                            continue
                        n += months_in_year(d, m, t - s) * cohort
                        if t - s < d:
                            on += cohort
                        if t - s < done:
                            end += cohort
                            TS[p, r, t] += ds.sigma(p, t - s + 1) * cohort
                        if t - s == done:
                            comp += c * cohort
                    NK[p, k, r, t], PK[p, k, r, t], EK[p, k, r, t], CK[p, k, r, t] = n, on, end, comp
                    costK[p, k, r, t] = rate * n
                    N[p, r, t] += n
                    P[p, r, t] += on
                    E[p, r, t] += end
                    C[p, r, t] += comp
                    cost[p, r, t] += rate * n
                    need[p, r, t] += h * n
                for s in range(first, H + 1):
                    for t in range(H + 1, H + d + 2):
                        committed += rate * months_in_year(d, m, t - s) * IK[p, k, r, s]
    retained: dict = {}
    for (p, i, r, t), v in rho.items():
        retained[p, r, t] = retained.get((p, r, t), 0.0) + v
        lever_cost[p, r, t] += ds.retention[p, r, i].cost * ds.regions[r] * v
    arriving: dict = {}
    for (p, r, t), v in z.items():
        rec = ds.recruitment[p, r]
        arriving[p, r, t + rec.lead_time] = arriving.get((p, r, t + rec.lead_time), 0.0) + (1 - rec.attrition) * v
        lever_cost[p, r, t] += rec.cost * ds.regions[r] * v
    per_hour = (1.0 / ds.contracted_hours_per_week) if ds.supervision_time_counts else 0.0
    hours_given: dict = {}  # (q, r, t) -> sum_p y[p, q, r, t]
    for (_, q, r, t), v in y.items():
        hours_given[q, r, t] = hours_given.get((q, r, t), 0.0) + v
    for t in T_:
        for p, prof in ds.professions.items():
            basis = 1.0 if prof.service_basis == "posts" else 0.0
            joinings = {k: j for k, _, _, _, j, _, _ in _routes(ds, p)}
            for r in ds.regions:
                draw = sum(share * IK[q, "main", r, t] for (q, src), share in ds.shares.items() if src == p)
                draw += sum(rt.draw * IK[q, k, r, t] for (q, k), rt in ds.routes.items() if rt.source == p)
                inflow = ds.inflow.get((p, r, t), 0.0)
                kept = (1.0 - prof.attrition) * S[p, r, t - 1]
                joined = sum(j * CK[p, k, r, t] for k, j in joinings.items())
                levers = retained.get((p, r, t), 0.0) + arriving.get((p, r, t), 0.0)
                S[p, r, t] = kept + joined + inflow + levers - draw
                gross[p, r, t] = ((1.0 - prof.attrition) * gross[p, r, t - 1] + abs(joined) + inflow + abs(levers)
                                  + abs(draw))
                G[p, r, t] = per_hour * hours_given.get((p, r, t), 0.0)
                qual[p, r, t] = S[p, r, t] - G[p, r, t]
                supply[p, r, t] = qual[p, r, t] + basis * TS[p, r, t]
                demand = ds.demand.get((p, r, t), 0.0)
                short[p, r, t] = max(0.0, demand - supply[p, r, t])
                qshort[p, r, t] = max(0.0, demand - qual[p, r, t])
    return Simulation(I, N, P, E, C, TS, S, gross, G, supply, qual, short, qshort, cost, committed,
                      IK, NK, PK, EK, CK, costK, need, lever_cost)


def lever_figures(ds: Dataset, kind: str, key: tuple, amount: float) -> tuple[float, float]:
    """(cost_gbp, in_post_target_wte) of one levers.csv row, recomputed from the dataset.

    route (p, k, r, t): the cohort's whole cost kappa m_r (months in training / 12) x, and
    j c x (1-a)^(Y - done) when its completion year ``done <= Y`` (Y = target year);
    retention (p, i, r, t): c m_r rho and rho (1-a)^(Y - t); recruitment (p, r, t):
    c m_r z and (1-e) z (1-a)^(Y - t - L); 0 in post when the year is after Y.
    """
    Y = ds.target_year
    if kind == "route":
        p, k, r, t = key
        rt = ds.routes[p, k]
        months = sum(months_in_year(rt.duration, rt.start_month, o) for o in range(rt.duration + 1))
        done = t + completion_offset(rt.duration, rt.start_month)
        a = ds.professions[p].attrition
        return (rt.cost * ds.regions[r] * months * amount,
                rt.joining * rt.completion * amount * (1 - a) ** (Y - done) if done <= Y else 0.0)
    if kind == "retention":
        p, i, r, t = key
        a = ds.professions[p].attrition
        return ds.retention[p, r, i].cost * ds.regions[r] * amount, amount * (1 - a) ** (Y - t) if t <= Y else 0.0
    p, r, t = key
    rec = ds.recruitment[p, r]
    a = ds.professions[p].attrition
    arrive = t + rec.lead_time
    return (rec.cost * ds.regions[r] * amount,
            (1 - rec.attrition) * amount * (1 - a) ** (Y - arrive) if arrive <= Y else 0.0)


def weighted_shortfall(ds: Dataset, sim: Simulation, years=None) -> float:
    """``sum_{t in years, p, r} year_weight[t] * weight[p] * max(0, demand - supply)`` (default: assessed)."""
    years = ds.assessed_years if years is None else years
    return sum(ds.year_weight(t) * ds.professions[p].weight * sim.shortfall[p, r, t]
               for t in years for p in ds.professions for r in ds.regions)


def sustain_shortfall(ds: Dataset, sim: Simulation) -> float | None:
    """The weighted shortfall over the sustain years; None when there are none."""
    return weighted_shortfall(ds, sim, ds.sustain_years) if ds.sustain_years else None


def total_shortfall(ds: Dataset, sim: Simulation) -> float:
    """``sum_{p, r} max(0, demand - supply)`` in the target year."""
    return sum(sim.shortfall[p, r, ds.target_year] for p in ds.professions for r in ds.regions)


def qualified_shortfall(ds: Dataset, sim: Simulation) -> float:
    """``sum_{p, r} max(0, demand - (S - G))`` in the target year."""
    return sum(sim.qualified_shortfall[p, r, ds.target_year] for p in ds.professions for r in ds.regions)


# --------------------------------------------------------------------------
# reading results
# --------------------------------------------------------------------------


def _read_csv(path: Path, columns: list[str], messages: list[str]) -> list[tuple[int, dict]] | None:
    if not path.exists():
        messages.append(f"{path.name}: file is missing")
        return None
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in columns if c not in header]
        if missing:
            messages.append(f"{path.name}: missing column(s) {', '.join(missing)}")
            return None
        return [(n, {k.strip(): (v or "").strip() for k, v in row.items() if k is not None})
                for n, row in enumerate(reader, start=2)]


def _k(key) -> str:
    """``("P", "A", 2021)`` -> ``"(P, A, 2021)"`` for messages."""
    return "(" + ", ".join(str(part) for part in key) + ")"


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _bool(text: str) -> bool | None:
    lowered = str(text).strip().lower()
    if lowered in ("true", "1", "yes", "y", "t", "1.0"):
        return True
    if lowered in ("false", "0", "no", "n", "f", "0.0", ""):
        return False
    return None


class _Checker:
    def __init__(self, ds: Dataset, tol: float):
        self.ds = ds
        self.tol = tol
        self.messages: list[str] = []

    def say(self, text: str):
        self.messages.append(text)

    def close(self, a: float, b: float, slack: float = 0.0) -> bool:
        """``|a - b| <= tol (1 + max(|a|, |b|))``, plus ``slack (1 + max(|a|, |b|))``."""
        return abs(a - b) <= (self.tol + slack) * (1.0 + max(abs(a), abs(b)))

    def exceeds(self, lhs: float, rhs: float, scale: float = 0.0) -> bool:
        """True when ``lhs <= rhs`` is violated beyond tolerance."""
        return lhs - rhs > self.tol * (1.0 + max(abs(lhs), abs(rhs), scale))

    def compare(self, where: str, what: str, reported: float | None, expected: float, slack: float = 0.0):
        if reported is None:
            self.say(f"{where}: {what} is missing or not a number (recomputed {expected:.10g})")
        elif not self.close(reported, expected, slack):
            self.say(f"{where}: {what} = {reported:.10g} but recomputed {expected:.10g} "
                     f"(difference {reported - expected:.6g})")

    def key_of(self, file: str, number: int, row: dict, columns=("profession", "region")):
        """Parse (keys..., year) of a results row; None (with a message) if unusable."""
        ds = self.ds
        keys = []
        for column in columns:
            value = row.get(column, "")
            known = ds.regions if column == "region" else ds.professions
            if value not in known:
                self.say(f"{file} row {number}: unknown {column} {value!r}")
                return None
            keys.append(value)
        try:
            year = parse_year(row.get("year"))
        except ValueError:
            self.say(f"{file} row {number}: bad year {row.get('year')!r}")
            return None
        if year not in ds.decision_years:
            self.say(f"{file} row {number}: year {year} is not a decision year")
            return None
        label = row.get("year_label")
        if label is not None and label != year_label(year):
            self.say(f"{file} row {number}: year_label {label!r} should be {year_label(year)!r}")
        return (*keys, year)


# --------------------------------------------------------------------------
# the check
# --------------------------------------------------------------------------


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def check_results(dataset_dir: str | Path, results_dir: str | Path, tol: float = 1e-6, *,
                  compare_reference: bool = False) -> list[str]:
    """Recompute and check a results folder; return problems (empty list = all good).

    With ``compare_reference`` the three stage optima (weighted shortfall,
    sustain shortfall, and the whole cost ``total_cost_gbp +
    committed_cost_after_horizon_gbp``) are also compared with
    :func:`spec_lp.solve_reference` (same tolerance). When the results hold
    ``shortfall_stage.mps`` and highspy is installed, that model is solved
    and its optimum compared with ``weighted_shortfall``.
    """
    ds = load_dataset(dataset_dir)
    results = Path(results_dir)
    ck = _Checker(ds, tol)
    T_ = ds.decision_years
    keys_prt = [(p, r, t) for p in ds.professions for r in ds.regions for t in T_]
    scored = set(ds.assessed_years) | set(ds.sustain_years)

    # ---------------------------------------------------------------- summary
    summary: dict[str, Any] = {}
    path = results / "summary.json"
    if not path.exists():
        ck.say("summary.json: file is missing")
    else:
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            ck.say(f"summary.json: not valid JSON ({exc})")
    for key in SUMMARY_KEYS:
        if summary and key not in summary:
            ck.say(f"summary.json: key {key!r} is missing")
    status = str(summary.get("status", "")).lower()
    has_plan = status == "optimal" or (status in ("time_limit", "time limit") and summary.get("has_plan", True))
    if summary and not has_plan:
        ck.say(f"summary.json: status is {summary.get('status')!r}, not 'optimal'")
    solve_seconds = summary.get("solve_seconds")
    if summary and not (isinstance(solve_seconds, (int, float)) and solve_seconds >= 0):
        ck.say(f"summary.json: solve_seconds should be a number >= 0, got {solve_seconds!r}")

    # ---------------------------------------------------------------- plan: x
    plan_rows = _read_csv(results / "plan.csv", PLAN_COLUMNS, ck.messages)
    if plan_rows is None:
        return ck.messages
    routes_of = {p: [k for k, *_ in _routes(ds, p)] for p in ds.professions}
    keys_pkrt = [(p, k, r, t) for p in ds.professions for k in routes_of[p] for r in ds.regions for t in T_]
    x: dict = {}  # (p, k, r, t) -> intake
    plan: dict = {}
    for n, row in plan_rows:
        key = ck.key_of("plan.csv", n, row)
        if key is None:
            continue
        p, r, t = key
        k = row.get("route")
        if k not in routes_of[p]:
            ck.say(f"plan.csv row {n}: route {k!r} is not a route of {p} (main or a routes.csv row)")
            continue
        key = (p, k, r, t)
        if key in plan:
            ck.say(f"plan.csv row {n}: duplicate row for {_k(key)}")
            continue
        plan[key] = row
        value = _float(row["intake"])
        if value is None:
            ck.say(f"plan.csv row {n}: intake {row['intake']!r} is not a number")
            value = 0.0
        x[key] = value
    for key in keys_pkrt:
        if key not in plan:
            what = _k((key[0], key[2], key[3])) if key[1] == "main" else _k(key)
            ck.say(f"plan.csv: no row for {what} (intake taken as 0)")

    # ---------------------------------------------------------------- levers.csv: rho, z
    rho_keys = [(p, i, r, t) for (p, r, i) in ds.retention for t in ds.retention_years(p, r, i)]
    z_keys = [(p, r, t) for (p, r) in ds.recruitment for t in ds.recruitment_years(p, r)]
    route_keys = [key for key in keys_pkrt if key[1] != "main"]
    rho: dict = {}
    z: dict = {}
    lever_seen: dict = {}  # (kind, key) -> row
    has_levers = bool(rho_keys or z_keys or route_keys)
    path = results / "levers.csv"
    lever_rows = (_read_csv(path, LEVER_COLUMNS, ck.messages) if has_levers or path.exists() else None) or []
    for n, row in lever_rows:
        kind = row.get("kind")
        base = ck.key_of("levers.csv", n, row)
        if base is None:
            continue
        p, r, t = base
        name = row.get("name", "")
        if kind == "route":
            key = (p, name, r, t)
            known = key in route_keys
        elif kind == "retention":
            i = name[len("tranche "):] if name.startswith("tranche ") else None
            key = (p, i, r, t)
            known = key in rho_keys
        elif kind == "recruitment":
            key = (p, r, t)
            known = name == "recruitment" and key in z_keys
        else:
            ck.say(f"levers.csv row {n}: kind {kind!r} should be route, retention or recruitment")
            continue
        if not known:
            ck.say(f"levers.csv row {n}: no {kind} lever {name!r} for ({p}, {r}, {t}) in the dataset")
            continue
        if (kind, key) in lever_seen:
            ck.say(f"levers.csv row {n}: duplicate row for {kind} {_k(key)}")
            continue
        lever_seen[kind, key] = row
        amount = _float(row["amount_wte"])
        if amount is None:
            ck.say(f"levers.csv row {n}: amount_wte {row['amount_wte']!r} is not a number")
            continue
        if kind == "retention":
            rho[key] = amount
        elif kind == "recruitment":
            z[key] = amount
        else:
            ck.compare(f"levers.csv {kind} {_k(key)}", "amount_wte (the plan.csv intake)", amount,
                       x.get(key, 0.0))
    for kind, keys in (("route", route_keys), ("retention", rho_keys), ("recruitment", z_keys)):
        for key in keys:
            if (kind, key) not in lever_seen:
                ck.say(f"levers.csv: no row for {kind} {_k(key)}" + ("" if kind == "route" else
                                                                     " (amount taken as 0)"))

    # ---------------------------------------------------------------- supervision: y
    y: dict = {}
    sup_rows = _read_csv(results / "supervision.csv", SUPERVISION_COLUMNS, ck.messages) or []
    allowed = set(ds.pairs)
    for n, row in sup_rows:
        key = ck.key_of("supervision.csv", n, row, ("trainee_profession", "supervisor_profession", "region"))
        if key is None:
            continue
        value = _float(row["hours_per_week"])
        if value is None:
            ck.say(f"supervision.csv row {n}: hours_per_week {row['hours_per_week']!r} is not a number")
            continue
        if key in y:
            ck.say(f"supervision.csv row {n}: duplicate row for {_k(key)}")
            continue
        y[key] = value
        if value < -tol:
            ck.say(f"supervision.csv row {n}: {_k(key)} hours_per_week = {value:.10g} < 0")
        if (key[0], key[1]) not in allowed and abs(value) > tol:
            ck.say(f"supervision.csv row {n}: {key[1]} may not supervise {key[0]} "
                   f"(no supervision.csv row in the dataset) but hours_per_week = {value:.10g}")

    sim = simulate(ds, x, y, rho, z)

    # ---------------------------------------------------------------- intake bounds, integrality
    for key in keys_pkrt:
        value = x.get(key, 0.0)
        where = _k((key[0], key[2], key[3])) if key[1] == "main" else _k(key)
        if value < -tol:
            ck.say(f"plan.csv: {where} intake = {value:.10g} < 0")
        if ds.integer_places and abs(value - round(value)) > tol * (1.0 + abs(value)):
            ck.say(f"plan.csv: {where} intake = {value:.10g} is not a whole number (integer_places)")
    for key in keys_prt:
        value = sum(x.get((key[0], k, key[1], key[2]), 0.0) for k in routes_of[key[0]])
        lo = ds.intake_min.get(key)
        if lo is not None and ck.exceeds(lo, value):
            ck.say(f"plan.csv: {_k(key)} intake = {value:.10g} below intake_min {lo:.10g}")
        hi = ds.intake_max.get(key)
        if hi is not None and ck.exceeds(value, hi):
            ck.say(f"plan.csv: {_k(key)} intake = {value:.10g} above intake_max {hi:.10g}")

    # ---------------------------------------------------------------- route shares
    for (p, k), rt in ds.routes.items():
        if rt.max_share is None:
            continue
        for t in T_:
            share = sum(x.get((p, k, r, t), 0.0) for r in ds.regions)
            total = sum(sim.I[p, r, t] for r in ds.regions)
            if ck.exceeds(share, rt.max_share * total, total):
                ck.say(f"route_share: {p} route {k} intake {share:.10g} in {t} exceeds max_share {rt.max_share:g} "
                       f"x {total:.10g} = {rt.max_share * total:.10g}")

    # ---------------------------------------------------------------- retention and recruitment caps
    for key, value in rho.items():
        p, i, r, t = key
        if value < -tol:
            ck.say(f"levers.csv: retention {_k(key)} amount_wte = {value:.10g} < 0")
        share = ds.retention[p, r, i].max_share
        cap = share * ds.professions[p].attrition * sim.S[p, r, t - 1]
        if ck.exceeds(value, cap, sim.gross[p, r, t - 1]):
            ck.say(f"retention_cap: {_k(key)} retained {value:.10g} exceeds {share:g} x attrition x stock "
                   f"{sim.S[p, r, t - 1]:.10g} = {cap:.10g}")
    for key, value in z.items():
        if value < -tol:
            ck.say(f"levers.csv: recruitment {_k(key)} amount_wte = {value:.10g} < 0")
        cap = ds.recruitment[key[0], key[1]].cap
        if cap is not None and ck.exceeds(value, cap):
            ck.say(f"recruitment_cap: {_k(key)} recruited {value:.10g} exceeds max_wte_per_year {cap:.10g}")

    # ---------------------------------------------------------------- levers.csv figures
    for (kind, key), row in lever_seen.items():
        amount = {"retention": rho, "recruitment": z}.get(kind, x).get(key, 0.0)
        cost, in_post = lever_figures(ds, kind, key, amount)
        where = f"levers.csv {kind} {_k(key)}"
        ck.compare(where, "cost_gbp", _float(row["cost_gbp"]), cost)
        ck.compare(where, "in_post_target_wte", _float(row["in_post_target_wte"]), in_post)
        # the ratio does not depend on the amount: judge it on one unit, so that a solver's
        # near-zero amount may carry a ratio or a blank; a blank needs (almost) nothing in post
        unit_cost, unit_in_post = lever_figures(ds, kind, key, 1.0)
        if row["gbp_per_wte"] == "":
            if in_post > tol:
                ck.say(f"{where}: gbp_per_wte is blank but {in_post:.10g} WTE are in post at the target year "
                       f"(recomputed {cost / in_post:.10g})")
        elif unit_in_post > 0:
            ck.compare(where, "gbp_per_wte", _float(row["gbp_per_wte"]), unit_cost / unit_in_post)
        else:
            ck.say(f"{where}: gbp_per_wte = {row['gbp_per_wte']!r} should be blank (nothing it buys is in post "
                   "at the target year)")

    # ---------------------------------------------------------------- stock >= 0
    for key in keys_prt:
        if ck.exceeds(0.0, sim.S[key], sim.gross[key]):
            ck.say(f"stock: {_k(key)} S = {sim.S[key]:.10g} < 0 (draws of recruitment sources and routes exceed the qualified pool)")

    # ---------------------------------------------------------------- budgets
    for t in T_:
        spent = sum(sim.cost[p, r, t] + sim.lever_cost[p, r, t] for p in ds.professions for r in ds.regions)
        if t in ds.budget and ck.exceeds(spent, ds.budget[t]):
            ck.say(f"budget.csv: year {t} national spend {spent:.10g} exceeds budget {ds.budget[t]:.10g} "
                   f"by {spent - ds.budget[t]:.6g}")
        for r in ds.regions:
            if (r, t) in ds.regional_budget:
                spent_r = sum(sim.cost[p, r, t] + sim.lever_cost[p, r, t] for p in ds.professions)
                cap = ds.regional_budget[r, t]
                if ck.exceeds(spent_r, cap):
                    ck.say(f"budget.csv: year {t} region {r} spend {spent_r:.10g} exceeds budget {cap:.10g} "
                           f"by {spent_r - cap:.6g}")

    # ---------------------------------------------------------------- supervision (need is an equality)
    given_to: dict = {}  # (p, r, t) -> sum_q y over allowed pairs
    used_of: dict = {}  # (q, r, t) -> sum_p y
    for (p, q, r, t), v in y.items():
        if (p, q) in allowed:
            given_to[p, r, t] = given_to.get((p, r, t), 0.0) + v
        used_of[q, r, t] = used_of.get((q, r, t), 0.0) + v
    for (p, r, t) in keys_prt:
        need = sim.need[p, r, t]
        given = given_to.get((p, r, t), 0.0)
        if not ck.close(need, given):
            ck.say(f"supervision.csv: ({p}, {r}, {t}) trainees need {need:.10g} hours/week "
                   f"but are allocated {given:.10g} (the hours given must equal the hours needed)")
    for q in ds.professions:
        for r in ds.regions:
            v_qr = ds.hours_per_wte(q, r)
            for t in T_:
                used = used_of.get((q, r, t), 0.0)
                cap = v_qr * sim.S[q, r, t - 1]
                if ck.exceeds(used, cap, v_qr * sim.gross[q, r, t - 1]):
                    ck.say(f"supervision.csv: supervisors ({q}, {r}, {t}) give {used:.10g} hours/week "
                           f"but have {cap:.10g} (= {v_qr:g} x stock {sim.S[q, r, t - 1]:.10g})")

    # ---------------------------------------------------------------- placements
    for key in keys_prt:
        if key in ds.placement and ck.exceeds(sim.P[key], ds.placement[key]):
            ck.say(f"capacity.csv: {_k(key)} on placement {sim.P[key]:.10g} exceeds placement_capacity "
                   f"{ds.placement[key]:.10g}")

    # ---------------------------------------------------------------- growth and decline
    for p, prof in ds.professions.items():
        for t in T_:
            now = sum(sim.I[p, r, t] for r in ds.regions)
            before = sum(sim.I[p, r, t - 1] for r in ds.regions)
            if prof.max_growth is not None and ck.exceeds(now, (1.0 + prof.max_growth) * before):
                ck.say(f"growth: {p} national intake {now:.10g} in {t} exceeds (1 + {prof.max_growth:g}) x "
                       f"{before:.10g} = {(1.0 + prof.max_growth) * before:.10g}")
            if prof.max_decline is not None and ck.exceeds((1.0 - prof.max_decline) * before, now):
                ck.say(f"decline: {p} national intake {now:.10g} in {t} is below (1 - {prof.max_decline:g}) x "
                       f"{before:.10g} = {(1.0 - prof.max_decline) * before:.10g}")

    # ---------------------------------------------------------------- plan columns
    for key, row in plan.items():
        where = f"plan.csv {_k((key[0], key[2], key[3]))}" if key[1] == "main" else f"plan.csv {_k(key)}"
        for column, expected in (("in_training", sim.NK[key]), ("on_placement", sim.PK[key]),
                                 ("in_training_end", sim.EK[key]), ("completions", sim.CK[key]),
                                 ("cost_gbp", sim.costK[key])):
            ck.compare(where, column, _float(row[column]), expected)

    # ---------------------------------------------------------------- workforce.csv
    wf_rows = _read_csv(results / "workforce.csv", WORKFORCE_COLUMNS, ck.messages)
    if wf_rows is not None:
        seen = set()
        for n, row in wf_rows:
            key = ck.key_of("workforce.csv", n, row)
            if key is None:
                continue
            if key in seen:
                ck.say(f"workforce.csv row {n}: duplicate row for {_k(key)}")
                continue
            seen.add(key)
            p, _, t = key
            prof = ds.professions[p]
            where = f"workforce.csv {_k(key)}"
            if row["service_basis"].strip().lower() != prof.service_basis:
                ck.say(f"{where}: service_basis = {row['service_basis']!r} but the dataset says "
                       f"{prof.service_basis!r}")
            beta = 1.0 if prof.service_basis == "posts" else 0.0
            blank_ok = key not in ds.demand and t not in scored  # demand may be left blank
            for column, expected in (("stock_wte", sim.S[key]), ("trainee_service_wte", sim.T[key]),
                                     ("counted_service_wte", beta * sim.T[key]),
                                     ("supervision_given_wte", sim.G[key]), ("supply_wte", sim.supply[key]),
                                     ("qualified_supply_wte", sim.qualified[key]),
                                     ("demand_wte", ds.demand.get(key, 0.0)),
                                     ("shortfall_wte", sim.shortfall[key]),
                                     ("qualified_shortfall_wte", sim.qualified_shortfall[key])):
                if column in ("demand_wte", "shortfall_wte", "qualified_shortfall_wte") and blank_ok \
                        and row[column] == "":
                    continue  # no demand row and not a scored year: blank stands for "not given"
                ck.compare(where, column, _float(row[column]), expected)
            for column, expected in (("assessed", t in ds.assessed_years), ("sustain", t in ds.sustain_years)):
                if _bool(row[column]) != expected:
                    ck.say(f"{where}: {column} = {row[column]!r} but year {t} is "
                           f"{'' if expected else 'not '}a{'n assessed' if column == 'assessed' else ' sustain'} year")
            if t in scored:
                expected = ds.year_weight(t) * prof.weight * sim.shortfall[key]
                ck.compare(where, "weighted_shortfall", _float(row["weighted_shortfall"]), expected)
            elif row["weighted_shortfall"] != "":
                ck.say(f"{where}: weighted_shortfall = {row['weighted_shortfall']!r} should be blank "
                       f"(year {t} is neither assessed nor sustain)")
        for key in keys_prt:
            if key not in seen:
                ck.say(f"workforce.csv: no row for {_k(key)}")

    # ---------------------------------------------------------------- summary figures
    if summary:
        for name, expected in (("weighted_shortfall", weighted_shortfall(ds, sim)),
                               ("total_shortfall_wte", total_shortfall(ds, sim)),
                               ("qualified_shortfall_wte", qualified_shortfall(ds, sim)),
                               ("total_cost_gbp", sum(sim.cost.values()) + sum(sim.lever_cost.values())),
                               ("committed_cost_after_horizon_gbp", sim.committed)):
            # a stage optimum may be reported as the stage's own objective, which the final plan
            # meets within the stage tolerance (1e-6 relative + 1e-6 absolute)
            ck.compare("summary.json", name, _number(summary.get(name)), expected,
                       STAGE_REL if name == "weighted_shortfall" else 0.0)
        expected = sustain_shortfall(ds, sim)
        if expected is None:
            if summary.get("sustain_shortfall") is not None:
                ck.say(f"summary.json: sustain_shortfall = {summary.get('sustain_shortfall')!r} should be null "
                       "(no sustain years)")
        else:
            ck.compare("summary.json", "sustain_shortfall", _number(summary.get("sustain_shortfall")), expected,
                       STAGE_REL)

    mps = results / "shortfall_stage.mps"
    gap = ds.mip_gap if ds.integer_places else 0.0
    if summary and mps.exists():
        optimum = _mps_optimum(mps, gap)
        reported = _number(summary.get("weighted_shortfall"))
        if isinstance(optimum, str):
            ck.say(f"shortfall_stage.mps: {optimum}")
        elif optimum is not None and gap > STAGE_REL and reported is not None:
            # whole places within a gap: HiGHS's proven bound on the optimum, solved to the same
            # gap; the plan may not beat it, and must be within the gap (and the keep tolerance) of it
            if not optimum - STAGE_REL * (1 + abs(optimum)) <= reported <= (
                    optimum + (gap + 2 * STAGE_REL) * abs(reported) + STAGE_REL):
                ck.say(f"shortfall_stage.mps bound vs summary.json: weighted_shortfall = {reported:.6f} is not "
                       f"within the mip_gap {gap:g} above the proven bound {optimum:.6f}")
        elif optimum is not None:
            ck.compare("shortfall_stage.mps optimum vs summary.json", "weighted_shortfall", reported, optimum,
                       STAGE_REL)

    if compare_reference:
        ref = solve_reference(dataset_dir)
        if ref["status"] != "optimal":
            ck.say(f"reference: status {ref['status']!r} but the results have a plan")
        else:
            for name in ("weighted_shortfall", "sustain_shortfall"):
                value = summary.get(name)
                if ref[name] is None:
                    continue
                ck.compare("summary.json vs reference optimum", name, _number(value), ref[name], 2 * STAGE_REL)
            whole = [_number(summary.get(k)) for k in ("total_cost_gbp", "committed_cost_after_horizon_gbp")]
            ck.compare("summary.json vs reference optimum", "total_cost_gbp + committed_cost_after_horizon_gbp",
                       None if None in whole else sum(whole),
                       ref["total_cost_gbp"] + ref["committed_cost_after_horizon_gbp"], 2 * STAGE_REL)
    return ck.messages


def _mps_optimum(path: Path, gap: float = 0.0) -> float | str | None:
    """Optimum of an MPS model solved by HiGHS directly (None when highspy is not installed);
    with ``gap`` (whole places within a relative gap), HiGHS's proven lower bound on it, solved
    to that gap."""
    try:
        import highspy
    except ImportError:
        return None
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    # one thread, as the optimiser's own HiGHS runs use: HiGHS keeps one global thread
    # scheduler per process, and a later run asking for another thread count fails
    h.setOptionValue("threads", 1)
    if gap > STAGE_REL:
        h.setOptionValue("mip_rel_gap", gap)
    if h.readModel(str(path)) != highspy.HighsStatus.kOk:
        return "cannot be read"
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return f"solve status {h.modelStatusToString(h.getModelStatus())}"
    info = h.getInfo()
    if gap > STAGE_REL:
        return float(info.mip_dual_bound)
    return float(info.objective_function_value)


# --------------------------------------------------------------------------
# writing a results folder (for self-tests and for debugging the main optimiser)
# --------------------------------------------------------------------------


def _cell(value) -> str:
    return "" if value is None else repr(float(value))


def write_results(dataset_dir: str | Path, solution: dict, results_dir: str | Path, *, mps: bool = False) -> Path:
    """Write a solve_reference() solution in the results-folder format checked above.

    With ``mps`` also ``shortfall_stage.mps`` (stage 1 of the reference model; needs highspy).
    """
    ds = load_dataset(dataset_dir)
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = [(p, r, t) for p in ds.professions for r in ds.regions for t in ds.decision_years]
    scored = set(ds.assessed_years) | set(ds.sustain_years)
    s = solution
    with (out / "plan.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(PLAN_COLUMNS)
        figures = s.get("route_figures")
        if figures is None:  # a main-route-only solution: the totals are the main route's
            figures = {(p, "main", r, t): {"intake": s["intake"][p, r, t], "in_training": s["in_training"][p, r, t],
                                           "on_placement": s["on_placement"][p, r, t],
                                           "in_training_end": s["in_training_end"][p, r, t],
                                           "completions": s["completions"][p, r, t], "cost": s["cost"][p, r, t]}
                       for (p, r, t) in keys}
        for (p, k, r, t), f in figures.items():
            w.writerow([p, k, r, t, year_label(t), _cell(f["intake"]), _cell(f["in_training"]),
                        _cell(f["on_placement"]), _cell(f["in_training_end"]), _cell(f["completions"]),
                        _cell(f["cost"])])
    if s.get("levers") is not None:
        with (out / "levers.csv").open("w", newline="") as handle:
            w = csv.writer(handle)
            w.writerow(LEVER_COLUMNS)
            for row in s["levers"]:
                w.writerow([row["kind"], row["profession"], row["name"], row["region"], row["year"],
                            row["year_label"], _cell(row["amount_wte"]), _cell(row["cost_gbp"]),
                            _cell(row["in_post_target_wte"]), _cell(row["gbp_per_wte"])])
    with (out / "workforce.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(WORKFORCE_COLUMNS)
        for key in keys:
            p, r, t = key
            prof = ds.professions[p]
            given = key in ds.demand or t in scored
            weighted = ds.year_weight(t) * prof.weight * s["shortfall"][key] if t in scored else None
            w.writerow([p, r, t, year_label(t), prof.service_basis, _cell(s["stock"][key]),
                        _cell(s["trainee_service"][key]), _cell(s["counted_service"][key]),
                        _cell(s["supervision_given"][key]), _cell(s["supply"][key]), _cell(s["qualified_supply"][key]),
                        _cell(s["demand"][key] if given else None), _cell(s["shortfall"][key] if given else None),
                        _cell(s["qualified_shortfall"][key] if given else None),
                        str(t in ds.assessed_years).lower(), str(t in ds.sustain_years).lower(), _cell(weighted)])
    with (out / "supervision.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(SUPERVISION_COLUMNS)
        for (p, q, r, t), value in s["supervision"].items():
            if value > 1e-9:
                w.writerow([p, q, r, t, year_label(t), repr(value)])
    summary = {
        "status": s["status"],
        "weighted_shortfall": s["weighted_shortfall"],
        "sustain_shortfall": s["sustain_shortfall"],
        "total_shortfall_wte": s["total_shortfall_wte"],
        "qualified_shortfall_wte": s["qualified_shortfall_wte"],
        "total_cost_gbp": s["total_cost_gbp"],
        "committed_cost_after_horizon_gbp": s["committed_cost_after_horizon_gbp"],
        "solver": "reference-highs",
        "solve_seconds": 0.0,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if mps:
        write_shortfall_stage_mps(dataset_dir, out / "shortfall_stage.mps")
    return out

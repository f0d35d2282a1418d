"""Check a results folder against MODEL.md, independently of the optimiser.

Only two things are taken from the results: the intake ``x`` (column
``intake`` of ``plan.csv``) and the supervision allocation ``y``
(``supervision.csv``). Everything else (I, N, M, C, S, supply, shortfall,
costs, totals) is recomputed here by a plain year-by-year simulation (a
second path, separate from the affine expressions of :mod:`spec_lp`), every
constraint is checked, and every other figure the results report is compared
with the recomputation.

Tolerances, for ``tol`` (default 1e-6):

* equality ``a ~ b``:  ``|a - b| <= tol * (1 + max(|a|, |b|))``;
* inequality ``lhs <= rhs``: ``lhs - rhs <= tol * (1 + scale)`` where scale is the
  size of the terms involved (so a stock that is a difference of large flows
  is judged against the size of those flows).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .spec_lp import Dataset, load_dataset, parse_year, solve_reference, year_label

PLAN_COLUMNS = ["profession", "region", "year", "year_label", "intake", "in_training", "in_training_end",
                "completions", "cost_gbp"]
WORKFORCE_COLUMNS = ["profession", "region", "year", "year_label", "stock_wte", "trainee_service_wte",
                     "supply_wte", "demand_wte", "shortfall_wte", "assessed"]
SUPERVISION_COLUMNS = ["trainee_profession", "supervisor_profession", "region", "year", "year_label",
                       "hours_per_week"]
SUMMARY_KEYS = ["status", "weighted_shortfall", "total_shortfall_wte", "total_cost_gbp", "solver",
                "solve_seconds"]


# --------------------------------------------------------------------------
# recomputation
# --------------------------------------------------------------------------


@dataclass
class Simulation:
    """Quantities of the spec for a given intake, keyed (p, r, t).

    ``S`` and ``gross`` also hold the base year; ``gross`` is the sum of the
    absolute values of the flows that make up ``S`` (the scale used to judge S >= 0).
    """

    I: dict
    N: dict
    M: dict
    C: dict
    S: dict
    gross: dict
    supply: dict
    shortfall: dict
    cost: dict


def simulate(ds: Dataset, x: dict[tuple[str, str, int], float]) -> Simulation:
    """Run the dynamics of MODEL.md forward from the base year for intake x.

    ``I = x`` in decision years and the pipeline before; ``N``, ``M``, ``C`` are
    the window sums; ``S[t] = (1-a) S[t-1] + j C[t] + inflow[t] - sum_q share[q,p] I[q,t]``;
    ``supply = S + tsw M``; ``shortfall = max(0, demand - supply)``.
    """
    b, H = ds.base_year, ds.horizon_end
    T = ds.decision_years

    def I_of(p, r, s):
        return x.get((p, r, s), 0.0) if s > b else ds.pipeline.get((p, r, s), 0.0)

    I, N, M, C, S, gross, supply, shortfall, cost = ({} for _ in range(9))
    for p, prof in ds.professions.items():
        d = prof.duration
        for r in ds.regions:
            for s in range(b - d, H + 1):
                I[p, r, s] = I_of(p, r, s)
            S[p, r, b] = gross[p, r, b] = ds.stock.get((p, r), 0.0)
    for t in T:
        for p, prof in ds.professions.items():
            d = prof.duration
            for r in ds.regions:
                N[p, r, t] = sum(I[p, r, s] for s in range(t - d + 1, t + 1))
                M[p, r, t] = sum(I[p, r, s] for s in range(t - d + 2, t + 1))
                C[p, r, t] = prof.completion * I[p, r, t - d + 1]
                cost[p, r, t] = prof.cost * ds.regions[r] * N[p, r, t]
        for p, prof in ds.professions.items():
            for r in ds.regions:
                draw = sum(share * I[q, r, t] for (q, src), share in ds.shares.items() if src == p)
                inflow = ds.inflow.get((p, r, t), 0.0)
                kept = (1.0 - prof.attrition) * S[p, r, t - 1]
                joined = prof.joining * C[p, r, t]
                S[p, r, t] = kept + joined + inflow - draw
                gross[p, r, t] = (1.0 - prof.attrition) * gross[p, r, t - 1] + abs(joined) + inflow + abs(draw)
                supply[p, r, t] = S[p, r, t] + prof.trainee_service * M[p, r, t]
                shortfall[p, r, t] = max(0.0, ds.demand.get((p, r, t), 0.0) - supply[p, r, t])
    return Simulation(I, N, M, C, S, gross, supply, shortfall, cost)


def weighted_shortfall(ds: Dataset, sim: Simulation) -> float:
    """``sum_{assessed t, p, r} year_weight[t] * weight[p] * max(0, demand - supply)``."""
    return sum(ds.year_weight(t) * ds.professions[p].weight * sim.shortfall[p, r, t]
               for t in ds.assessed_years for p in ds.professions for r in ds.regions)


def total_shortfall(ds: Dataset, sim: Simulation) -> float:
    """``sum_{p, r} max(0, demand - supply)`` in the target year."""
    return sum(sim.shortfall[p, r, ds.target_year] for p in ds.professions for r in ds.regions)


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

    def close(self, a: float, b: float) -> bool:
        return abs(a - b) <= self.tol * (1.0 + max(abs(a), abs(b)))

    def exceeds(self, lhs: float, rhs: float, scale: float = 0.0) -> bool:
        """True when ``lhs <= rhs`` is violated beyond tolerance."""
        return lhs - rhs > self.tol * (1.0 + max(abs(lhs), abs(rhs), scale))

    def compare(self, where: str, what: str, reported: float | None, expected: float):
        if reported is None:
            self.say(f"{where}: {what} is missing or not a number (recomputed {expected:.10g})")
        elif not self.close(reported, expected):
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


def check_results(dataset_dir: str | Path, results_dir: str | Path, tol: float = 1e-6, *,
                  compare_reference: bool = False) -> list[str]:
    """Recompute and check a results folder; return problems (empty list = all good).

    With ``compare_reference`` the optimum values (weighted shortfall, total
    cost) are also compared with :func:`spec_lp.solve_reference` (same tolerance).
    """
    ds = load_dataset(dataset_dir)
    results = Path(results_dir)
    ck = _Checker(ds, tol)
    T = ds.decision_years
    keys_prt = [(p, r, t) for p in ds.professions for r in ds.regions for t in T]

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
    x: dict = {}
    plan: dict = {}
    for n, row in plan_rows:
        key = ck.key_of("plan.csv", n, row)
        if key is None:
            continue
        if key in plan:
            ck.say(f"plan.csv row {n}: duplicate row for {_k(key)}")
            continue
        plan[key] = row
        value = _float(row["intake"])
        if value is None:
            ck.say(f"plan.csv row {n}: intake {row['intake']!r} is not a number")
            value = 0.0
        x[key] = value
    for key in keys_prt:
        if key not in plan:
            ck.say(f"plan.csv: no row for {_k(key)} (intake taken as 0)")

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

    sim = simulate(ds, x)

    # ---------------------------------------------------------------- intake bounds, integrality
    for key in keys_prt:
        value = x.get(key, 0.0)
        if value < -tol:
            ck.say(f"plan.csv: {_k(key)} intake = {value:.10g} < 0")
        lo = ds.intake_min.get(key)
        if lo is not None and ck.exceeds(lo, value):
            ck.say(f"plan.csv: {_k(key)} intake = {value:.10g} below intake_min {lo:.10g}")
        hi = ds.intake_max.get(key)
        if hi is not None and ck.exceeds(value, hi):
            ck.say(f"plan.csv: {_k(key)} intake = {value:.10g} above intake_max {hi:.10g}")
        if ds.integer_places and abs(value - round(value)) > tol * (1.0 + abs(value)):
            ck.say(f"plan.csv: {_k(key)} intake = {value:.10g} is not a whole number (integer_places)")

    # ---------------------------------------------------------------- stock >= 0
    for key in keys_prt:
        if ck.exceeds(0.0, sim.S[key], sim.gross[key]):
            ck.say(f"stock: {_k(key)} S = {sim.S[key]:.10g} < 0 (recruitment draws exceed the qualified pool)")

    # ---------------------------------------------------------------- budgets
    for t in T:
        spent = sum(sim.cost[p, r, t] for p in ds.professions for r in ds.regions)
        if t in ds.budget and ck.exceeds(spent, ds.budget[t]):
            ck.say(f"budget.csv: year {t} national spend {spent:.10g} exceeds budget {ds.budget[t]:.10g} "
                   f"by {spent - ds.budget[t]:.6g}")
        for r in ds.regions:
            if (r, t) in ds.regional_budget:
                spent_r = sum(sim.cost[p, r, t] for p in ds.professions)
                cap = ds.regional_budget[r, t]
                if ck.exceeds(spent_r, cap):
                    ck.say(f"budget.csv: year {t} region {r} spend {spent_r:.10g} exceeds budget {cap:.10g} "
                           f"by {spent_r - cap:.6g}")

    # ---------------------------------------------------------------- supervision
    given_to: dict = {}  # (p, r, t) -> sum_q y over allowed pairs
    used_of: dict = {}  # (q, r, t) -> sum_p y
    for (p, q, r, t), v in y.items():
        if (p, q) in allowed:
            given_to[p, r, t] = given_to.get((p, r, t), 0.0) + v
        used_of[q, r, t] = used_of.get((q, r, t), 0.0) + v
    for (p, r, t) in keys_prt:
        need = ds.professions[p].supervision_hours * sim.N[p, r, t]
        given = given_to.get((p, r, t), 0.0)
        if ck.exceeds(need, given):
            ck.say(f"supervision.csv: ({p}, {r}, {t}) trainees need {need:.10g} hours/week "
                   f"but are allocated {given:.10g}")
    for q, prof in ds.professions.items():
        for r in ds.regions:
            for t in T:
                used = used_of.get((q, r, t), 0.0)
                cap = prof.supervisor_hours * sim.S[q, r, t - 1]
                if ck.exceeds(used, cap, prof.supervisor_hours * sim.gross[q, r, t - 1]):
                    ck.say(f"supervision.csv: supervisors ({q}, {r}, {t}) give {used:.10g} hours/week "
                           f"but have {cap:.10g} (= {prof.supervisor_hours:g} x stock {sim.S[q, r, t - 1]:.10g})")

    # ---------------------------------------------------------------- placements
    for key in keys_prt:
        if key in ds.placement and ck.exceeds(sim.N[key], ds.placement[key]):
            ck.say(f"capacity.csv: {_k(key)} in training {sim.N[key]:.10g} exceeds placement_capacity "
                   f"{ds.placement[key]:.10g}")

    # ---------------------------------------------------------------- growth
    for p, prof in ds.professions.items():
        if prof.max_growth is None:
            continue
        for t in T:
            now = sum(sim.I[p, r, t] for r in ds.regions)
            before = sum(sim.I[p, r, t - 1] for r in ds.regions)
            if ck.exceeds(now, (1.0 + prof.max_growth) * before):
                ck.say(f"growth: {p} national intake {now:.10g} in {t} exceeds (1 + {prof.max_growth:g}) x "
                       f"{before:.10g} = {(1.0 + prof.max_growth) * before:.10g}")

    # ---------------------------------------------------------------- plan columns
    for key, row in plan.items():
        for column, expected in (("in_training", sim.N[key]), ("in_training_end", sim.M[key]),
                                 ("completions", sim.C[key]), ("cost_gbp", sim.cost[key])):
            ck.compare(f"plan.csv {_k(key)}", column, _float(row[column]), expected)

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
            p = key[0]
            service = ds.professions[p].trainee_service * sim.M[key]
            for column, expected in (("stock_wte", sim.S[key]), ("trainee_service_wte", service),
                                     ("supply_wte", sim.supply[key]),
                                     ("demand_wte", ds.demand.get(key, 0.0)),
                                     ("shortfall_wte", sim.shortfall[key])):
                if column in ("demand_wte", "shortfall_wte") and key not in ds.demand and row[column] == "":
                    continue  # no demand row in the dataset: a blank (not given) stands for 0
                ck.compare(f"workforce.csv {_k(key)}", column, _float(row[column]), expected)
            assessed = _bool(row["assessed"])
            if assessed != (key[2] in ds.assessed_years):
                ck.say(f"workforce.csv {_k(key)}: assessed = {row['assessed']!r} but year {key[2]} is "
                       f"{'' if key[2] in ds.assessed_years else 'not '}an assessed year")
        for key in keys_prt:
            if key not in seen:
                ck.say(f"workforce.csv: no row for {_k(key)}")

    # ---------------------------------------------------------------- summary figures
    if summary:
        for name, expected in (("weighted_shortfall", weighted_shortfall(ds, sim)),
                               ("total_shortfall_wte", total_shortfall(ds, sim)),
                               ("total_cost_gbp", sum(sim.cost.values()))):
            value = summary.get(name)
            ck.compare("summary.json", name, value if isinstance(value, (int, float)) else None, expected)

    if compare_reference:
        ref = solve_reference(dataset_dir)
        if ref["status"] != "optimal":
            ck.say(f"reference: status {ref['status']!r} but the results have a plan")
        else:
            for name in ("weighted_shortfall", "total_cost_gbp"):
                value = summary.get(name)
                ck.compare("summary.json vs reference optimum", name,
                           value if isinstance(value, (int, float)) else None, ref[name])
    return ck.messages


# --------------------------------------------------------------------------
# writing a results folder (for self-tests and for debugging the main optimiser)
# --------------------------------------------------------------------------


def write_results(dataset_dir: str | Path, solution: dict, results_dir: str | Path) -> Path:
    """Write a solve_reference() solution in the results-folder format checked above."""
    ds = load_dataset(dataset_dir)
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = [(p, r, t) for p in ds.professions for r in ds.regions for t in ds.decision_years]
    with (out / "plan.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(PLAN_COLUMNS)
        for key in keys:
            w.writerow([*key, year_label(key[2]), repr(solution["intake"][key]),
                        repr(solution["in_training"][key]), repr(solution["in_training_end"][key]),
                        repr(solution["completions"][key]), repr(solution["cost"][key])])
    with (out / "workforce.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(WORKFORCE_COLUMNS)
        for key in keys:
            service = ds.professions[key[0]].trainee_service * solution["in_training_end"][key]
            w.writerow([*key, year_label(key[2]), repr(solution["stock"][key]), repr(service),
                        repr(solution["supply"][key]), repr(solution["demand"][key]),
                        repr(solution["shortfall"][key]), str(key[2] in ds.assessed_years).lower()])
    with (out / "supervision.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(SUPERVISION_COLUMNS)
        for (p, q, r, t), value in solution["supervision"].items():
            w.writerow([p, q, r, t, year_label(t), repr(value)])
    summary = {
        "status": solution["status"],
        "weighted_shortfall": solution["weighted_shortfall"],
        "total_shortfall_wte": solution["total_shortfall_wte"],
        "total_cost_gbp": solution["total_cost_gbp"],
        "solver": "reference-highs",
        "solve_seconds": 0.0,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return out

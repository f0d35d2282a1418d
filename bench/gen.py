"""A fast, scalable generator of benchmark datasets in the MODEL.md folder format.

``write_dataset(out, n_professions, n_regions, horizon, seed)`` writes every
table (professions, regions, workforce, demand, pipeline, capacity,
supervision, recruitment_sources, budget, inflows) and ``settings.yaml``.
It is deterministic per seed and runs in well under a second at the largest
size (42 regions x 30 professions x 10 years), unlike the property-test
generator (``tests/reference/generate.py``), which also solves every dataset
with a reference LP.

Feasible by construction, as in the property-test generator: the *minimal
plan* ``x = intake_min`` (0 where not given) is simulated, and then

* any stock it would drive below zero gets more base stock (stock is
  increasing in the base stock, so this is a fix, not a guess);
* every placement capacity is at least the minimal plan's trainees ``N``;
* every budget (national and regional) is at least the minimal plan's cost;
* each profession's ``supervisor_hours_per_wte`` covers, in every region and
  year, the need of the trainee professions that rely on it as their *primary*
  supervisor under the minimal plan;
* professions with ``max_growth`` get no ``intake_min`` (their minimal intake
  is 0, which any growth limit allows).

On top of the minimal plan the budgets leave a random share of a "full
programme" of room, so budgets, supervision and placements bind in places and
the LP has real trade-offs to make.

Model size: ``x`` and ``S`` per (p, r, t), ``u`` per (p, r, assessed t) and
``y`` per (supervision row, r, t); the assessed years are every other year
ending at the horizon, so 42 x 30 x 10 gives about 45,000 variables.
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from pathlib import Path

BASE_YEAR = 2024


def _ceil(value: float, places: int = 0) -> float:
    factor = 10 ** places
    result = math.ceil(value * factor - 1e-9) / factor
    return int(result) if places == 0 else result


def _write(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


#: The instance families: how much room the limits leave over the minimal plan.
#: ``binding``: budgets, supervision and placements bind in places (the default);
#: ``loose``: no supervision, no regional budgets, national budgets with five full programmes
#: of room and placements to spare, so hardly a limit binds.
FAMILIES = ("binding", "loose")
ROOMY_BUDGET_ROOM = 5.0
ROOMY_PLACEMENTS_SPARE = 500
ROOMY_SUPERVISION_FACTOR = 3.0


def write_dataset(out: str | Path, n_professions: int, n_regions: int, horizon: int, seed: int = 1,
                  family: str = "binding") -> Path:
    """Write a feasible dataset of the given size and family (``FAMILIES``) into ``out``
    (created); returns its path."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    roomy = family == "loose"
    R = random.Random(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    b = BASE_YEAR
    T = list(range(b + 1, b + horizon + 1))
    P = [f"prof{i:02d}" for i in range(n_professions)]
    G = [f"reg{i:02d}" for i in range(n_regions)]
    assessed = sorted({T[-1]} | set(T[-1::-2]))

    prof = {}
    for p in P:
        prof[p] = {
            "d": R.randint(1, 4), "c": round(R.uniform(0.75, 0.98), 3), "j": round(R.uniform(0.6, 0.95), 3),
            "a": round(R.uniform(0.03, 0.12), 3), "cost": R.randrange(15000, 60001, 500),
            "h": 0.0 if R.random() < 0.25 else round(R.uniform(0.5, 3.0), 2),
            "H": round(R.uniform(0.5, 3.0), 2), "tsw": round(R.uniform(0.0, 0.5), 2),
            "weight": R.choice([None, None, 0.5, 1, 2, 3]),
            "g": round(R.uniform(0.1, 0.6), 2) if R.random() < 0.3 else None,
        }
        if roomy:
            prof[p]["h"] = 0.0  # no supervision: no allocation variables or rows
    mult = {r: round(R.uniform(0.9, 1.25), 2) if R.random() < 0.7 else None for r in G}

    # supervision rows: each profession needing supervision has 1-2 supervisors, the first primary
    pairs, primary = [], {}
    for p in P:
        if prof[p]["h"] > 0:
            sups = [p] + R.sample([q for q in P if q != p], min(R.randint(0, 1), len(P) - 1))
            R.shuffle(sups)
            primary[p] = sups[0]
            pairs += [(p, q) for q in sups]
    # recruitment sources: a few trainee professions draw small shares from a qualified pool
    shares = {}
    for p in P:
        if R.random() < 0.25 and len(P) > 1:
            for q in R.sample([q for q in P if q != p], min(R.randint(1, 2), len(P) - 1)):
                shares[p, q] = round(R.uniform(0.02, 0.2), 2)
    sources_of = defaultdict(list)
    for (p, q), share in shares.items():
        sources_of[q].append((p, share))

    stock = {(p, r): float(R.randint(80, 600)) for p in P for r in G}
    pipeline = {}
    for p in P:
        d = prof[p]["d"]
        for r in G:
            for s in range(b - d + 1, b + 1):
                if s == b or R.random() < 0.8:  # base-year intake everywhere, so growth limits allow intake
                    pipeline[p, r, s] = R.randint(2, 30)
    inflow = {(p, r, t): R.randint(0, 15) for p in P for r in G for t in T if R.random() < 0.3}
    demand = {}
    for p in P:
        for r in G:
            rate = R.uniform(0.0, 0.12)
            for t in T:
                if R.random() < 0.05:
                    continue
                demand[p, r, t] = round(stock[p, r] * (1 + rate * (t - b)) + R.randint(0, 30), 1)
    capacity = {}  # (p, r, t) -> [placement, min, max]
    for p in P:
        for r in G:
            for t in T:
                if R.random() < 0.5:
                    lo = R.randint(0, 3) if prof[p]["g"] is None and R.random() < 0.5 else None
                    hi = None if R.random() < 0.5 else (lo or 0) + R.randint(5, 60)
                    capacity[p, r, t] = [None, lo, hi]

    # simulate the minimal plan x = intake_min
    def intake(p, r, s):
        if s <= b:
            return pipeline.get((p, r, s), 0.0)
        row = capacity.get((p, r, s))
        return (row[1] or 0.0) if row else 0.0

    def trainees(p, r, t):
        return sum(intake(p, r, s) for s in range(t - prof[p]["d"] + 1, t + 1))

    def simulate():
        S = {}
        for p in P:
            a, jc, d = prof[p]["a"], prof[p]["j"] * prof[p]["c"], prof[p]["d"]
            for r in G:
                level = stock[p, r]
                S[p, r, b] = level
                for t in T:
                    level = ((1 - a) * level + jc * intake(p, r, t - d + 1) + inflow.get((p, r, t), 0.0)
                             - sum(share * intake(q, r, t) for q, share in sources_of.get(p, ())))
                    S[p, r, t] = level
        return S

    S = simulate()
    low = {(p, r) for (p, r, t), v in S.items() if v < 1.0}
    if low:
        for key in low:
            stock[key] += 200.0
        S = simulate()
        assert all(v >= 0 for v in S.values()), "generator: a stock stays negative"
    N = {(p, r, t): trainees(p, r, t) for p in P for r in G for t in T}
    for (p, r, t), row in capacity.items():
        if R.random() < 0.7:
            row[0] = _ceil(N[p, r, t]) + R.randint(0, 40) + (ROOMY_PLACEMENTS_SPARE if roomy else 0)
    for q in set(primary.values()):
        ratio = 0.0
        for r in G:
            for t in T:
                need = sum(prof[p]["h"] * N[p, r, t] for p, qq in primary.items() if qq == q)
                if need > 0:
                    ratio = max(ratio, need / S[q, r, t - 1])
        if ratio > prof[q]["H"]:
            prof[q]["H"] = _ceil(ratio * R.uniform(1.05, 1.5), 2)
        if roomy:
            prof[q]["H"] = _ceil(prof[q]["H"] * ROOMY_SUPERVISION_FACTOR, 2)
    cost = {(p, r, t): prof[p]["cost"] * (mult[r] or 1.0) * N[p, r, t] for p in P for r in G for t in T}
    room = {r: sum(prof[p]["cost"] * (mult[r] or 1.0) * (0.15 * stock[p, r] + 10) for p in P) for r in G}
    national, regional = {}, {}
    for t in T:
        minimal = {r: sum(cost[p, r, t] for p in P) for r in G}
        share = ROOMY_BUDGET_ROOM if roomy else R.uniform(0.2, 0.6)
        national[t] = _ceil(sum(minimal.values()) + share * sum(room.values()))
        for r in G:
            if R.random() < 0.4 and not roomy:
                regional[r, t] = _ceil(minimal[r] + R.uniform(0.2, 0.8) * room[r])

    _write(out / "professions.csv",
           ["profession", "name", "duration_years", "completion_rate", "joining_rate", "attrition_rate",
            "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "supervisor_hours_per_wte",
            "trainee_service_wte", "weight", "max_growth"],
           ([p, f"Profession {p}", v["d"], v["c"], v["j"], v["a"], v["cost"], v["h"], v["H"], v["tsw"],
             v["weight"], v["g"]] for p, v in prof.items()))
    _write(out / "regions.csv", ["region", "name", "cost_multiplier"], ([r, f"Region {r}", mult[r]] for r in G))
    _write(out / "workforce.csv", ["profession", "region", "stock_wte"], ([p, r, v] for (p, r), v in stock.items()))
    _write(out / "demand.csv", ["profession", "region", "year", "demand_wte"],
           ([p, r, t, v] for (p, r, t), v in demand.items()))
    _write(out / "pipeline.csv", ["profession", "region", "start_year", "trainees"],
           ([p, r, s, v] for (p, r, s), v in pipeline.items()))
    _write(out / "capacity.csv", ["profession", "region", "year", "placement_capacity", "intake_min", "intake_max"],
           ([p, r, t, *v] for (p, r, t), v in capacity.items()))
    _write(out / "supervision.csv", ["trainee_profession", "supervisor_profession"], pairs)
    _write(out / "recruitment_sources.csv", ["trainee_profession", "source_profession", "share"],
           ([p, q, v] for (p, q), v in shares.items()))
    _write(out / "inflows.csv", ["profession", "region", "year", "inflow_wte"],
           ([p, r, t, v] for (p, r, t), v in inflow.items()))
    _write(out / "budget.csv", ["year", "region", "budget_gbp"],
           [[t, None, v] for t, v in national.items()] + [[t, r, v] for (r, t), v in regional.items()])
    (out / "settings.yaml").write_text(
        f"base_year: {b}\ntarget_year: {T[-1]}\nhorizon_end: {T[-1]}\n"
        f"assessed_years: [{', '.join(map(str, assessed))}]\n"
        "integer_places: false\nsolver: cbc\ntime_limit_seconds: 600\n")
    return out

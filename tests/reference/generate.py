"""Random datasets in the MODEL.md (version 2) folder format, deterministic per seed.

``generate_dataset(out_dir, seed, ...)`` writes professions, regions,
workforce, demand, budget, settings and (at random) pipeline, capacity,
supervision, supervisor_hours, trainee_service, recruitment_sources and
inflows. Version-2 choices: start months drawn from {4, 9, 1} and now and then
any month; ``service_basis`` blank, ``qualified`` or ``posts``;
levers on some datasets (never the version-1 ones): routes (blank columns,
own timing and cost, with and without a source profession and source_draw,
with and without max_share), retention rows (blank-region rows, rows naming a
region, one to three tranches, first_year) and recruitment rows (blank and
named regions, lead times 0..2, caps or none, first-year attrition);
``max_decline`` on some professions; trainee_service rows (by training year)
and regional supervisor_hours rows on some datasets; a horizon beyond the
target year with sustain years (by default, explicit, or ``[]``); year
weights on assessed and sustain years; ``contracted_hours_per_week`` and
``supervision_time_counts`` varied or left to their defaults. About one
dataset in seven is written with the version-1 columns only.

Feasible by construction (``feasible=True``): take the *floor plan*
``x[p,r,t] = max(intake_min, ceil((1 - max_decline) * x[p,r,t-1]))`` with
``x[p,r,b]`` the pipeline's base-year intake (the second term only where
``max_decline`` is given, else 0). It meets the national decline limit
(each region declines by at most delta), the growth limit (professions with
``max_growth`` get no intake_min, and their floor never rises) and intake_min;
intake_max is raised to it where needed. The generator simulates that plan
and then

* raises the stock of recruitment sources and primary supervisors until it
  stays >= 1 in every year (so draws never empty a pool),
* sets every placement capacity >= P of the floor plan,
* sets every budget (national, regional) >= the floor plan's cost that year,
* raises supervisor hours (the profession's, or its regional row where there is
  one) so that each trainee profession's need under the floor plan fits in its
  *primary* supervisor's capacity (the need row is an equality: all of it goes
  to the primary supervisor),

so the floor plan is feasible (levers only add options: it takes 0 on every
route, so no route draws on a source pool, and retains and recruits nobody); the dataset is then solved with
:func:`spec_lp.solve_reference` to confirm. With ``feasible=False`` one limit
is set below what the fixed pipeline already commits (half the pipeline's
cost in the first decision year as its budget, or half its trainees on
placement as a placement capacity), and the solve must say infeasible.

CLI: ``python -m tests.reference.generate OUT --seed N [--professions P] [--regions R]
[--horizon H] [--integer] [--infeasible] [--no-levers]``.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from pathlib import Path

import yaml

from .checker import simulate
from .spec_lp import load_dataset, solve_reference, year_label


def _write_csv(path: Path, header: list[str], rows: list[list]):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])


def _ceil(value: float, places: int = 0) -> float:
    factor = 10 ** places
    result = math.ceil(value * factor - 1e-9) / factor
    return int(result) if places == 0 else result


class _Spec:
    """The random choices, kept as plain data until written."""

    def __init__(self, rng: random.Random, n_professions, n_regions, horizon, integer, feasible,
                 levers: random.Random | None = None):
        self.rng = rng
        R = rng
        self.integer = integer
        self.feasible = feasible
        nP = n_professions or R.randint(2, 5)
        nR = n_regions or R.randint(1, 3)
        nT = horizon or R.randint(1, 4)
        self.b = R.randint(2016, 2024)
        self.H = self.b + nT
        self.T = list(range(self.b + 1, self.H + 1))
        self.target = R.choice(self.T)
        self.assessed = [self.target]
        if len(self.T) > 1 and R.random() < 0.5:
            self.assessed = sorted(set(self.assessed) | set(R.sample(self.T, R.randint(1, len(self.T)))))
        # sustain years: None = the default (decision years after the last assessed one), [] or a subset
        self.sustain = None
        others = [t for t in self.T if t not in self.assessed]
        choice = R.random()
        if choice < 0.2:
            self.sustain = []
        elif choice < 0.4 and others:
            self.sustain = sorted(R.sample(others, R.randint(1, len(others))))
        sustain = ([t for t in self.T if t > max(self.assessed)] if self.sustain is None else self.sustain)
        self.year_weights = {}
        if R.random() < 0.5:
            self.year_weights = {t: R.choice([0.5, 1, 2, 3]) for t in self.assessed + sustain if R.random() < 0.7}
        self.labels = R.random() < 0.4  # years written as "2023/24" in some cells
        self.hours = R.choice([None, None, 37.5, 30, 40, 22.5])
        self.counts = R.choice([None, None, True, False])
        self.v1 = R.random() < 0.15  # version-1 columns, tables and settings only (defaults for everything new)
        if self.v1:
            self.sustain, self.hours, self.counts = None, None, None

        self.P = [f"prof{i}" for i in range(nP)]
        self.R = [f"reg{i}" for i in range(nR)]
        self.prof = {}
        for p in self.P:
            self.prof[p] = {
                "d": R.randint(1, 4),
                "c": round(R.uniform(0.7, 1.0), 3),
                "j": round(R.uniform(0.5, 1.0), 3),
                "a": round(R.uniform(0.0, 0.15), 3),
                "cost": R.randrange(10000, 60001, 500),
                "h": 0.0 if R.random() < 0.3 else round(R.uniform(0.5, 3.0), 2),
                "H": round(R.uniform(0.5, 3.0), 2),
                "tsw": round(R.uniform(0.0, 0.6), 2),
                "weight": None if R.random() < 0.5 else R.choice([0.5, 1, 2, 3]),
                "g": None if R.random() < 0.6 else round(R.uniform(0.1, 1.0), 2),
                "m": R.choice([4, 4, 9, 9, 1, R.randint(1, 12)]),
                "basis": R.choice([None, "qualified", "posts", "posts"]),
                "dec": None if R.random() < 0.6 else round(R.uniform(0.05, 0.5), 2),
            }
            if self.v1:
                self.prof[p].update(m=4, basis=None, dec=None)
        self.mult = {r: (None if R.random() < 0.4 else round(R.uniform(0.9, 1.25), 2)) for r in self.R}

        # service by training year (rows may name years beyond the course: they are ignored)
        self.service = {}
        if not self.v1 and R.random() < 0.5:
            for p in self.P:
                if R.random() < 0.5:
                    for n in R.sample(range(1, self.prof[p]["d"] + 2), R.randint(1, self.prof[p]["d"] + 1)):
                        self.service[p, n] = round(R.uniform(0.0, 0.8), 2)
        self.regional_hours = {}  # (q, r) -> supervisor hours per WTE, filled after the supervision pairs

        # supervision: every profession needing supervision gets >= 1 supervisor; the first is primary
        self.pairs = []
        self.primary = {}
        for p in self.P:
            if self.prof[p]["h"] > 0:
                sups = R.sample(self.P, R.randint(1, min(3, nP)))
                self.primary[p] = sups[0]
                self.pairs += [(p, q) for q in sups]
            elif R.random() < 0.2:
                self.pairs.append((p, R.choice(self.P)))

        # recruitment sources: small shares, sum <= 0.6
        self.shares = {}
        if R.random() < 0.6:
            for p in self.P:
                if R.random() < 0.5:
                    for q in R.sample(self.P, R.randint(1, min(2, nP))):
                        self.shares[p, q] = round(R.uniform(0.02, 0.3), 2)

        if not self.v1 and R.random() < 0.5:
            for q in self.P:
                for r in self.R:
                    if R.random() < 0.3:
                        self.regional_hours[q, r] = round(R.uniform(0.3, 3.0), 2)

        protected = set(self.primary.values()) | {q for (_, q) in self.shares}
        self.protected = protected
        self.stock = {}
        for p in self.P:
            for r in self.R:
                if p in protected or R.random() > 0.15:
                    self.stock[p, r] = R.randint(50 if p in protected else 1, 400)

        self.pipeline = {}
        for p in self.P:
            d = self.prof[p]["d"]
            for r in self.R:
                for s in range(self.b - d + 1, self.b + 1):
                    if R.random() < 0.7:
                        self.pipeline[p, r, s] = R.randint(1, 30)
                if R.random() < 0.1:
                    self.pipeline[p, r, self.b - d] = R.randint(1, 30)  # cohort already qualified
        if not feasible:  # a committed cohort still in training in the first decision year
            p0 = self.P[0]
            self.prof[p0]["d"] = max(2, self.prof[p0]["d"])
            self.pipeline[p0, self.R[0], self.b] = R.randint(5, 30)

        self.inflow = {}
        if R.random() < 0.5:
            for p in self.P:
                for r in self.R:
                    for t in self.T:
                        if R.random() < 0.3:
                            self.inflow[p, r, t] = R.randint(0, 20)

        self.demand = {}
        for p in self.P:
            for r in self.R:
                rate = R.uniform(-0.05, 0.25)
                base = self.stock.get((p, r), 0)
                for t in self.T:
                    if R.random() < 0.1:
                        continue
                    self.demand[p, r, t] = round(base * (1 + rate * (t - self.b)) + R.randint(0, 30), 1)

        # capacity rows: intake limits now, placement capacities after the minimal plan is known
        self.capacity = {}  # (p, r, t) -> [placement, min, max]
        if R.random() < 0.6:
            for p in self.P:
                for r in self.R:
                    for t in self.T:
                        if R.random() < 0.5:
                            lo = None
                            if self.prof[p]["g"] is None and R.random() < 0.5:
                                lo = R.randint(0, 3)
                            hi = None if R.random() < 0.5 else (lo or 0) + R.randint(0, 30)
                            self.capacity[p, r, t] = [None, lo, hi]
        self.budget_national = {}
        self.budget_regional = {}
        self._levers(levers)

    def _levers(self, L: random.Random | None):
        """routes, retention and recruitment rows (never in version-1 datasets).

        They only add options: the floor plan takes 0 on every route, retains and recruits
        nobody, so no route draws on a source pool and no lever costs anything under it.
        """
        self.routes = []  # routes.csv rows
        self.retention = []  # retention.csv rows
        self.recruitment = []  # recruitment.csv rows
        if self.v1 or L is None:
            return
        # L is a generator of its own (seeded from the seed), so the rest of a seed's dataset is the same
        # with and without levers
        if L.random() < 0.55:
            for p in self.P:
                for n in range(L.choice([0, 1, 1, 2])):
                    source = None
                    if L.random() < 0.4:
                        source = L.choice([q for q in self.P if q != p] or [None])

                    def maybe(value):
                        return value if L.random() < 0.6 else None

                    self.routes.append([
                        p, f"route{n}", maybe(L.randint(1, 4)), maybe(L.choice([4, 9, 1, L.randint(1, 12)])),
                        maybe(round(L.uniform(0.6, 1.0), 3)), maybe(round(L.uniform(0.5, 1.0), 3)),
                        maybe(L.randrange(0, 60001, 500)),
                        maybe(0.0 if L.random() < 0.3 else round(L.uniform(0.5, 3.0), 2)),
                        source, None if source is None or L.random() < 0.4 else round(L.uniform(0.2, 1.0), 2),
                        round(L.uniform(0.1, 0.9), 2) if L.random() < 0.35 else None])
        if L.random() < 0.55:
            for p in self.P:
                if L.random() < 0.6:
                    for tranche in range(1, L.randint(1, 3) + 1):
                        first = L.choice(self.T) if L.random() < 0.3 else None
                        label = None if tranche == 1 and L.random() < 0.5 else tranche
                        share, cost = round(L.uniform(0.05, 0.5), 2), L.randrange(500, 20001, 500)
                        if L.random() < 0.7:
                            self.retention.append([p, None, label, share, cost, first])
                        for r in self.R:
                            if L.random() < 0.25:
                                self.retention.append([p, r, label, round(L.uniform(0.05, 0.5), 2),
                                                       L.randrange(500, 20001, 500), first])
        if L.random() < 0.55:
            for p in self.P:
                if L.random() < 0.6:
                    rows = [None] if L.random() < 0.7 else []
                    rows += [r for r in self.R if L.random() < 0.3]
                    for r in rows:
                        self.recruitment.append([
                            p, r, L.choice([None, 0, 1, 2]), L.randrange(1000, 40001, 500),
                            None if L.random() < 0.3 else L.randint(1, 20),
                            None if L.random() < 0.4 else round(L.uniform(0.0, 0.4), 2)])

    # ----------------------------------------------------------------- writing
    def year(self, t: int):
        return year_label(t) if self.labels and self.rng.random() < 0.5 else t

    def write(self, out: Path):
        out.mkdir(parents=True, exist_ok=True)
        P = self.prof
        header = ["profession", "name", "duration_years", "completion_rate", "joining_rate", "attrition_rate",
                  "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "supervisor_hours_per_wte",
                  "trainee_service_wte", "weight", "max_growth"]
        rows = [[p, f"Profession {p}", P[p]["d"], P[p]["c"], P[p]["j"], P[p]["a"], P[p]["cost"], P[p]["h"],
                 P[p]["H"], P[p]["tsw"], P[p]["weight"], P[p]["g"]] for p in self.P]
        if not self.v1:
            header += ["start_month", "service_basis", "max_decline"]
            for row, p in zip(rows, self.P):
                row += [P[p]["m"] if P[p]["m"] != 4 or self.rng.random() < 0.5 else None, P[p]["basis"],
                        P[p]["dec"]]
        _write_csv(out / "professions.csv", header, rows)
        _write_csv(out / "regions.csv", ["region", "name", "cost_multiplier"],
                   [[r, f"Region {r}", self.mult[r]] for r in self.R])
        _write_csv(out / "workforce.csv", ["profession", "region", "stock_wte"],
                   [[p, r, v] for (p, r), v in self.stock.items()])
        _write_csv(out / "demand.csv", ["profession", "region", "year", "demand_wte"],
                   [[p, r, self.year(t), v] for (p, r, t), v in self.demand.items()])
        if self.pipeline:
            _write_csv(out / "pipeline.csv", ["profession", "region", "start_year", "trainees"],
                       [[p, r, self.year(s), v] for (p, r, s), v in self.pipeline.items()])
        if self.capacity:
            _write_csv(out / "capacity.csv",
                       ["profession", "region", "year", "placement_capacity", "intake_min", "intake_max"],
                       [[p, r, self.year(t), *v] for (p, r, t), v in self.capacity.items()])
        if self.pairs:
            _write_csv(out / "supervision.csv", ["trainee_profession", "supervisor_profession"],
                       [list(pair) for pair in self.pairs])
        if self.regional_hours:
            _write_csv(out / "supervisor_hours.csv", ["profession", "region", "supervisor_hours_per_wte"],
                       [[q, r, v] for (q, r), v in self.regional_hours.items()])
        if self.service:
            _write_csv(out / "trainee_service.csv", ["profession", "training_year", "service_wte"],
                       [[p, n, v] for (p, n), v in self.service.items()])
        if self.shares:
            _write_csv(out / "recruitment_sources.csv", ["trainee_profession", "source_profession", "share"],
                       [[p, q, v] for (p, q), v in self.shares.items()])
        if self.inflow:
            _write_csv(out / "inflows.csv", ["profession", "region", "year", "inflow_wte"],
                       [[p, r, self.year(t), v] for (p, r, t), v in self.inflow.items()])
        if self.routes:
            _write_csv(out / "routes.csv",
                       ["profession", "route", "duration_years", "start_month", "completion_rate", "joining_rate",
                        "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "source_profession",
                        "source_draw", "max_share"], self.routes)
        if self.retention:
            _write_csv(out / "retention.csv", ["profession", "region", "tranche", "max_share_of_leavers",
                                               "cost_per_wte_year_gbp", "first_year"],
                       # years as labels now and then, without drawing from the dataset's generator
                       [[*row[:5], year_label(row[5]) if self.labels and row[5] is not None and row[5] % 2
                         else row[5]] for row in self.retention])
        if self.recruitment:
            _write_csv(out / "recruitment.csv", ["profession", "region", "lead_time_years", "cost_per_wte_gbp",
                                                 "max_wte_per_year", "first_year_attrition"], self.recruitment)
        rows = [[self.year(t), None, v] for t, v in self.budget_national.items()]
        rows += [[self.year(t), r, v] for (r, t), v in self.budget_regional.items()]
        if self.budget_regional:
            _write_csv(out / "budget.csv", ["year", "region", "budget_gbp"], rows)
        else:
            _write_csv(out / "budget.csv", ["year", "budget_gbp"], [[y, v] for y, _, v in rows])
        settings = {"base_year": self.year(self.b), "target_year": self.year(self.target)}
        if self.H != self.target or self.rng.random() < 0.5:
            settings["horizon_end"] = self.year(self.H)
        if self.assessed != [self.target] or self.rng.random() < 0.5:
            settings["assessed_years"] = [self.year(t) for t in self.assessed]
        if self.sustain is not None:
            settings["sustain_years"] = [self.year(t) for t in self.sustain]
        if self.year_weights:
            settings["year_weights"] = {self.year(t): w for t, w in self.year_weights.items()}
        if self.hours is not None:
            settings["contracted_hours_per_week"] = self.hours
        if self.counts is not None:
            settings["supervision_time_counts"] = self.counts
        settings.update({"integer_places": self.integer, "solver": "cbc", "time_limit_seconds": 60})
        if self.integer:  # the proven optimum, to compare with the reference's exactly
            settings["mip_gap"] = 1e-6
        (out / "settings.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))

    # ----------------------------------------------------------------- limits
    def floor_plan(self) -> dict:
        """x = max(intake_min, ceil((1 - delta) * x of the year before)), from the base-year pipeline."""
        x = {}
        for p in self.P:
            dec = self.prof[p]["dec"]
            for r in self.R:
                before = self.pipeline.get((p, r, self.b), 0)
                for t in self.T:
                    lo = (self.capacity.get((p, r, t)) or [None, None, None])[1] or 0
                    floor = _ceil((1 - dec) * before) if dec is not None else 0
                    x[p, r, t] = before = max(lo, floor)
                    row = self.capacity.get((p, r, t))
                    if row is not None and row[2] is not None and row[2] < x[p, r, t]:
                        row[2] = x[p, r, t]
        return x

    def set_limits(self, out: Path):
        """Stocks, budgets, placements and supervisor hours from the floor plan (see module docstring)."""
        R = self.rng
        x = self.floor_plan()
        self.write(out)  # provisional: no budget rows, no placement capacities
        ds = load_dataset(out)
        for _ in range(20):  # pools drawn on by recruitment or supervising: keep them >= 1
            sim = simulate(ds, x)
            low = {}
            for q in self.protected:
                for r in self.R:
                    lowest = min(sim.S[q, r, t] for t in [self.b] + self.T)
                    if lowest < 1:
                        keep = (1 - self.prof[q]["a"]) ** len(self.T)
                        low[q, r] = _ceil((1 - lowest) / max(keep, 1e-3)) + 5
            if not low:
                break
            for key, extra in low.items():
                self.stock[key] = self.stock.get(key, 0) + extra
            self.write(out)
            ds = load_dataset(out)
        else:
            raise RuntimeError("generator: could not keep the drawn pools non-negative")
        for (p, r, t), row in self.capacity.items():
            if R.random() < 0.7:
                row[0] = _ceil(sim.P[p, r, t]) + R.randint(0, 40)
        # supervision: primary supervisor q must cover every trainee profession that relies on it
        for q in set(self.primary.values()):
            ratio = {}
            for r in self.R:
                ratio[r] = 0.0
                for t in self.T:
                    need = sum(self.prof[p]["h"] * sim.N[p, r, t] for p, qq in self.primary.items() if qq == q)
                    if need > 0:
                        if sim.S[q, r, t - 1] <= 1e-9:
                            raise RuntimeError(f"generator: supervisor pool {q} in {r} empty in {t - 1}")
                        ratio[r] = max(ratio[r], need / sim.S[q, r, t - 1])
            for r in self.R:
                if (q, r) in self.regional_hours and ratio[r] > self.regional_hours[q, r]:
                    self.regional_hours[q, r] = _ceil(ratio[r] * R.uniform(1.05, 2.0), 2)
            national = max([ratio[r] for r in self.R if (q, r) not in self.regional_hours] or [0.0])
            if national > self.prof[q]["H"]:
                self.prof[q]["H"] = _ceil(national * R.uniform(1.05, 2.0), 2)
        # budgets: the floor plan's cost plus a random share of a "full programme"
        regional = R.random() < 0.4
        for t in self.T:
            minimal = {r: sum(sim.cost[p, r, t] for p in self.P) for r in self.R}
            room = {r: sum(self.prof[p]["cost"] * (self.mult[r] or 1) * (0.2 * self.stock.get((p, r), 0) + 10)
                           for p in self.P) for r in self.R}
            if R.random() < 0.85:
                self.budget_national[t] = _ceil(sum(minimal.values()) + R.uniform(0.02, 1.0) * sum(room.values()))
            if regional:
                for r in self.R:
                    if R.random() < 0.6:
                        self.budget_regional[r, t] = _ceil(minimal[r] + R.uniform(0.02, 0.8) * room[r])
        if not self.feasible:
            t = self.b + 1
            committed = simulate(ds, {})  # the pipeline alone (every x = 0)
            p0, r0 = self.P[0], self.R[0]
            if R.random() < 0.5:
                cost = sum(committed.cost[p, r, t] for p in self.P for r in self.R)
                assert cost > 0
                self.budget_national[t] = math.floor(0.5 * cost)
            else:
                assert committed.P[p0, r0, t] > 0
                row = self.capacity.setdefault((p0, r0, t), [None, None, None])
                row[0] = math.floor(0.5 * committed.P[p0, r0, t])
        self.write(out)


def generate_dataset(out_dir, seed: int, *, n_professions: int | None = None, n_regions: int | None = None,
                     horizon: int | None = None, integer: bool = False, feasible: bool = True,
                     levers: bool = True) -> Path:
    """Write a random dataset for ``seed`` into ``out_dir`` and return its path.

    ``horizon`` is the number of decision years. ``levers=False`` writes no routes,
    retention or recruitment tables; the other tables are the same either way (the
    levers have a random generator of their own). The result is checked with
    the reference solver: optimal when ``feasible``, infeasible otherwise.
    """
    out = Path(out_dir)
    if out.exists():
        for child in out.iterdir():
            if child.is_file() and child.suffix in (".csv", ".yaml"):
                child.unlink()
    spec = _Spec(random.Random(seed), n_professions, n_regions, horizon, integer, feasible,
                 random.Random(1_000_003 * seed + 7) if levers else None)
    spec.set_limits(out)
    status = solve_reference(out)["status"]
    expected = "optimal" if feasible else "infeasible"
    if status != expected:
        raise RuntimeError(f"generated dataset {out} (seed {seed}) is {status}, expected {expected}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a random commissioning dataset.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--professions", type=int)
    parser.add_argument("--regions", type=int)
    parser.add_argument("--horizon", type=int, help="number of decision years")
    parser.add_argument("--integer", action="store_true")
    parser.add_argument("--infeasible", action="store_true")
    parser.add_argument("--no-levers", action="store_true", help="no routes, retention or recruitment tables")
    args = parser.parse_args(argv)
    path = generate_dataset(args.out, args.seed, n_professions=args.professions, n_regions=args.regions,
                            horizon=args.horizon, integer=args.integer, feasible=not args.infeasible,
                            levers=not args.no_levers)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

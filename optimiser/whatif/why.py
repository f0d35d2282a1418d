"""Why the gap stays open: the target-year shortfall split into training time and each family of limits.

Method (documented in ``docs/reports.md``)
-----------------------------------------
Let ``F`` be the limit families (``optimiser.build.LIMIT_FAMILIES``: budget,
supervision, placements, intake limits, growth) and, for a set ``A`` of them,
``v(A)`` the target-year shortfall (WTE, summed over regions) of the plan the
optimiser chooses when only the families in ``A`` are in force (the others are
lifted with ``build_model(dataset, lift=F - A)``, then solved lexicographically
like any run).

- **Training time** is ``v({})``: what stays open with every limit lifted.
  Places can then be bought without limit, so the rest is the part no
  commissioning can close by the target year: trainees take too long to qualify
  (courses that start in September or January qualify the year after, and only
  the service of trainees who fill posts counts before they qualify).
- **Each family's share** is its Shapley value: the increase ``v(A + f) - v(A)``
  from putting family ``f`` back in force, averaged over every order in which
  the families can be put back (2^|F| solves; families with no rows in the
  dataset cost nothing and are skipped). Shapley values add up exactly:
  ``v({}) + sum of shares = v(F)``, the shortfall of the real plan, and unlike
  a cumulative order they do not depend on which family is named first.

The same is done for every profession and region cell ``v_pr(A)`` (the
target-year ``shortfall_wte`` of ``workforce.csv`` for that cell). Shapley
values are linear, so the cell splits add up to the profession, region and
national splits. The optimiser minimises the weighted shortfall over the
assessed years, not each cell's: putting a family back in force may move
effort from one profession to another, so a cell's share can be negative (that
limit made the optimiser favour this profession over others); the total over
cells is the total.

Also reported: what lifting each family *alone* would close
(``v(F) - v(F - f)``; these do not add up, as limits interact), and the
shortfall with no new places at all (``x = 0``, pipeline only), so a report can
say what the plan closes.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from models.inputs import Dataset
from optimiser.build import LIMIT_FAMILIES, build_model
from optimiser.families import LIFT_OF, LIFT_TITLES
from optimiser.output import atomic_write
from optimiser.solve import solve_model
from optimiser.years import format_year

#: The limit families, in the order reports list them.
FAMILY_ORDER: tuple[str, ...] = tuple(LIMIT_FAMILIES)
LEAD_TIME = "training_time"
COMPONENTS: tuple[str, ...] = (LEAD_TIME, *FAMILY_ORDER)

COMPONENT_LABELS = {LEAD_TIME: "Training time", **LIFT_TITLES}

#: Constraint families of the registry (constraints.csv ``family``) by the limit family that adds them.
REGISTRY_FAMILY = LIFT_OF

METHOD = ("Training time is the target-year shortfall with every limit lifted (no commissioning can close it "
          "in time). Each family's share is its Shapley value: the shortfall it adds when put back in force, "
          "averaged over every order of putting the families back, so the parts add up exactly to the "
          "shortfall of the plan.")

WHY_JSON = "why.json"
WHY_CSV = "why.csv"


class WhyError(Exception):
    """The split cannot be computed (no plan, or a lifted model failed to solve)."""


@dataclass
class ShortfallSplit:
    """The split of the target-year shortfall, by profession and region cell."""

    target_year: int
    total_wte: float
    cells: pd.DataFrame  # profession, region, training_time, budget, ..., growth, total_wte
    alone: pd.DataFrame  # profession, region, <family>...: WTE closed by lifting that family alone
    no_new_places: pd.DataFrame  # profession, region, no_new_places_wte, plan_wte
    coalitions: list[dict] = field(default_factory=list)
    families_present: tuple[str, ...] = ()
    solver: str = ""
    solves: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    method: str = METHOD

    # ------------------------------------------------------------- views
    def by(self, key: str) -> pd.DataFrame:
        """Components summed by ``profession`` or ``region``, largest total first."""
        columns = [*COMPONENTS, "total_wte"]
        table = self.cells.groupby(key, sort=False)[columns].sum().reset_index()
        return table.sort_values("total_wte", ascending=False, kind="stable").reset_index(drop=True)

    def totals(self) -> dict[str, float]:
        """National total per component (training time and each family)."""
        return {c: float(self.cells[c].sum()) for c in COMPONENTS}

    def alone_totals(self) -> dict[str, float]:
        return {f: float(self.alone[f].sum()) for f in FAMILY_ORDER}

    @property
    def no_new_places_wte(self) -> float:
        return float(self.no_new_places["no_new_places_wte"].sum())

    # ------------------------------------------------------- persistence
    def to_json(self) -> dict:
        return {
            "target_year": self.target_year, "total_wte": self.total_wte, "method": self.method,
            "components": list(COMPONENTS), "families_present": list(self.families_present),
            "solver": self.solver, "solves": self.solves, "seconds": round(self.seconds, 3),
            "warnings": self.warnings, "totals": self.totals(), "alone_totals": self.alone_totals(),
            "no_new_places_wte": self.no_new_places_wte,
            "cells": self.cells.to_dict(orient="records"),
            "alone": self.alone.to_dict(orient="records"),
            "no_new_places": self.no_new_places.to_dict(orient="records"),
            "coalitions": self.coalitions,
        }

    @classmethod
    def from_json(cls, data: dict) -> ShortfallSplit:
        return cls(
            target_year=int(data["target_year"]), total_wte=float(data["total_wte"]),
            cells=_frame(data["cells"], ["profession", "region", *COMPONENTS, "total_wte"]),
            alone=_frame(data["alone"], ["profession", "region", *FAMILY_ORDER]),
            no_new_places=_frame(data["no_new_places"], ["profession", "region", "no_new_places_wte", "plan_wte"]),
            coalitions=list(data.get("coalitions", [])),
            families_present=tuple(data.get("families_present", ())),
            solver=data.get("solver", ""), solves=int(data.get("solves", 0)),
            seconds=float(data.get("seconds", 0.0)), warnings=list(data.get("warnings", [])),
            method=data.get("method", METHOD),
        )

    def save(self, folder: str | Path) -> list[Path]:
        """Write ``why.json`` (everything) and ``why.csv`` (the cell table) into ``folder``, each atomically."""
        folder = Path(folder)
        written = []
        payload = json.dumps(self.to_json(), indent=1, default=_jsonable) + "\n"
        written.append(atomic_write(folder / WHY_JSON, payload.encode("utf-8")))
        table = self.cells.copy()
        table.insert(2, "year", self.target_year)
        table.insert(3, "year_label", format_year(self.target_year))
        written.append(atomic_write(folder / WHY_CSV, table.to_csv(index=False, float_format="%.10g").encode("utf-8")))
        return written


def load_split(folder: str | Path) -> ShortfallSplit | None:
    """The split saved in a results folder, if any."""
    path = Path(folder) / WHY_JSON
    if not path.exists():
        return None
    return ShortfallSplit.from_json(json.loads(path.read_text(encoding="utf-8")))


# ----------------------------------------------------------------- compute


def families_present(dataset: Dataset) -> tuple[str, ...]:
    """The limit families that add at least one constraint to ``dataset``'s model."""
    model = build_model(dataset, integer=False)
    found = {REGISTRY_FAMILY[e.key.family] for e in model.registry if e.key.family in REGISTRY_FAMILY}
    found |= {REGISTRY_FAMILY[k.family] for k, _ in model.registry.constant_violations
              if k.family in REGISTRY_FAMILY}
    return tuple(f for f in FAMILY_ORDER if f in found)


def _target_cells(model, solution, target_year: int) -> dict[tuple[str, str], float]:
    """Target-year ``shortfall_wte`` per (profession, region), exactly as ``workforce.csv`` reports it."""
    from optimiser import results as res

    table = res.workforce_table(model, res.plan_values(model, solution))
    table = table[table["year"] == target_year]
    return {(p, r): float(0.0 if pd.isna(v) else v)
            for p, r, v in zip(table["profession"], table["region"], table["shortfall_wte"])}


def _solve(dataset: Dataset, lift: frozenset[str], *, solver, time_limit_seconds, integer, tmp_root,
           no_new_places: bool = False):
    model = build_model(dataset, lift=lift, integer=False if no_new_places else integer)
    if no_new_places:
        for var in model.x.values():
            var.lowBound, var.upBound = 0, 0
    solution = solve_model(model, solver=solver, time_limit_seconds=time_limit_seconds, tmp_root=tmp_root)
    return model, solution


def shapley_weight(size: int, n: int) -> float:
    """Weight of a coalition of ``size`` (not containing the player) among ``n`` players."""
    return math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)


def compute_split(dataset: Dataset, *, solver: str | None = None, time_limit_seconds: float | None = None,
                  integer: bool | None = None, tmp_root: str | Path | None = None,
                  progress=None) -> ShortfallSplit:
    """Solve the dataset with every subset of limit families in force and split the shortfall.

    ``solver`` should be the one that produced the results being explained
    (``summary.json`` ``solver``), so the plan with every family in force is
    the same plan. ``progress(done, total)`` is called after each solve.
    """
    started = time.perf_counter()
    st = dataset.settings
    target = st.target_year
    solver = solver or st.solver
    present = families_present(dataset)
    absent = frozenset(FAMILY_ORDER) - set(present)
    n = len(present)
    subsets = [frozenset(c) for size in range(n + 1) for c in itertools.combinations(present, size)]
    total_solves = len(subsets) + 1
    value: dict[frozenset[str], dict[tuple[str, str], float]] = {}
    coalitions: list[dict] = []
    warnings: list[str] = []
    for done, in_force in enumerate(subsets, start=1):
        lift = frozenset(FAMILY_ORDER) - in_force
        model, solution = _solve(dataset, lift, solver=solver, time_limit_seconds=time_limit_seconds,
                                 integer=integer, tmp_root=tmp_root)
        label = ", ".join(COMPONENT_LABELS[f] for f in FAMILY_ORDER if f in in_force) or "none"
        if not solution.has_plan:
            if len(in_force) == n:
                raise WhyError(f"the plan itself is {solution.status.replace('_', ' ')}: "
                               "there is no shortfall to split (see the conflicts in the report)")
            raise WhyError(f"with only these limits in force ({label}) the solve ended "
                           f"{solution.status.replace('_', ' ')}: {solution.message}")
        if solution.status != "optimal":
            warnings.append(f"with limits in force: {label}, the solve stopped at its time limit; "
                            "its figures are not proven optimal")
        value[in_force] = _target_cells(model, solution, target)
        coalitions.append({"in_force": sorted(in_force, key=FAMILY_ORDER.index), "status": solution.status,
                           "shortfall_wte": sum(value[in_force].values())})
        if progress:
            progress(done, total_solves)

    full, empty = frozenset(present), frozenset()
    cells = list(value[full])
    rows, alone_rows = [], []
    for cell in cells:
        row = {"profession": cell[0], "region": cell[1], LEAD_TIME: value[empty][cell]}
        alone = {"profession": cell[0], "region": cell[1]}
        for f in FAMILY_ORDER:
            if f in absent:
                row[f], alone[f] = 0.0, 0.0
                continue
            share = 0.0
            for subset in subsets:
                if f in subset:
                    continue
                share += shapley_weight(len(subset), n) * (value[subset | {f}][cell] - value[subset][cell])
            row[f] = share
            alone[f] = value[full][cell] - value[full - {f}][cell]
        row["total_wte"] = value[full][cell]
        rows.append(row)
        alone_rows.append(alone)
    table = pd.DataFrame(rows, columns=["profession", "region", *COMPONENTS, "total_wte"])
    _check_adds_up(table)

    model, solution = _solve(dataset, frozenset(FAMILY_ORDER), solver=solver, time_limit_seconds=time_limit_seconds,
                             integer=integer, tmp_root=tmp_root, no_new_places=True)
    if progress:
        progress(total_solves, total_solves)
    if not solution.has_plan:
        raise WhyError(f"the solve with no new places ended {solution.status}: {solution.message}")
    baseline = _target_cells(model, solution, target)
    no_new = pd.DataFrame([{"profession": p, "region": r, "no_new_places_wte": baseline.get((p, r), 0.0),
                            "plan_wte": value[full][(p, r)]} for p, r in cells])
    return ShortfallSplit(
        target_year=target, total_wte=float(table["total_wte"].sum()), cells=table,
        alone=pd.DataFrame(alone_rows, columns=["profession", "region", *FAMILY_ORDER]),
        no_new_places=no_new, coalitions=coalitions, families_present=present, solver=solver,
        solves=total_solves, seconds=time.perf_counter() - started, warnings=warnings,
    )


def _check_adds_up(table: pd.DataFrame) -> None:
    parts = table[list(COMPONENTS)].sum(axis=1)
    error = (parts - table["total_wte"]).abs().max() if len(table) else 0.0
    if error > 1e-7 * max(1.0, float(table["total_wte"].abs().max())):
        raise WhyError(f"internal error: the split misses the shortfall by {error:g} WTE")


def cannot_split(summary) -> str | None:
    """Why the result of ``summary`` cannot be split (``None`` when it can), before any solve.

    Only an optimal plan can: the split re-solves the dataset and must find the
    same plan, and a plan stopped at its time limit is not the optimum a re-solve finds.
    """
    status = summary.status.replace("_", " ")
    if not summary.has_plan:
        return f"the result is {status}: there is no plan whose shortfall could be split"
    if summary.status != "optimal":
        return (f"the result is {status}: its plan is not proven optimal, so re-solving the dataset would not "
                "give the same plan to split; solve it again with a longer --time-limit")
    return None


def compute_for_results(dataset: Dataset, summary, workforce: pd.DataFrame | None = None, **options) -> ShortfallSplit:
    """Split the shortfall of a results folder's optimal plan, checking it is the same plan."""
    reason = cannot_split(summary)
    if reason:
        raise WhyError(reason)
    if dataset.settings.target_year != summary.target_year:
        raise WhyError(f"the dataset's target year {dataset.settings.target_year} is not the result's "
                       f"({summary.target_year}): is it the dataset that was run?")
    options.setdefault("solver", summary.solver)
    options.setdefault("integer", summary.integer_places)
    split = compute_split(dataset, **options)
    expected = summary.total_shortfall_wte or 0.0
    if abs(split.total_wte - expected) > 1e-4 * max(1.0, abs(expected)):
        raise WhyError(f"re-solving the dataset gives a {format_year(summary.target_year)} shortfall of "
                       f"{split.total_wte:,.3f} WTE, not the result's {expected:,.3f} WTE: the dataset has "
                       "changed since the run, or the run used overrides (a scenario)")
    if workforce is not None and not workforce.empty:
        target = workforce[workforce["year"] == summary.target_year]
        ours = split.cells.groupby("profession")["total_wte"].sum()
        theirs = target.groupby("profession")["shortfall_wte"].sum()
        diff = (ours - theirs.reindex(ours.index).fillna(0)).abs()
        moved = diff[diff > 1e-3].index.tolist()
        if moved:
            split.warnings.append(
                "the re-solve found an equally good plan that spreads the shortfall differently over "
                f"{', '.join(map(str, moved))}; the split explains the re-solved plan, whose total is the same")
    return split


# ----------------------------------------------------------------- helpers


def _frame(records: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    for column in columns:
        if column not in frame:
            frame[column] = 0.0
    return frame[columns]


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")

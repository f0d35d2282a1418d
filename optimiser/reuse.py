"""Re-solve one built model in place when a what-if changes only right-hand sides.

A sweep of budgets (or of demand, inflows, base-year stock, placement or intake
limits) changes no variable, coefficient or row of the LP, only right-hand
sides. ``SolveCache`` keeps the last model a process built. For the next
dataset it finds the columns that changed (``changed_columns``). When each is
one of ``RHS_COLUMNS``, it re-runs only the ``define_*`` functions that read
them against the kept model's variables, which gives the new right-hand sides
from the same code that built the model. It then checks that every re-run row
has the key, sense and terms of the kept one; if not, it builds afresh. Only
then are the constants changed. Both stages' MPS files are then written from
templates (``mpsfile.MpsTemplate``). The results match a fresh build's byte for
byte (``tests/test_reuse.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from models.inputs import TABLES, Dataset
from optimiser.build import (
    CommissionModel,
    Lin,
    build_model,
    constant_violation,
    define_budget,
    define_intake_limits,
    define_placements,
    define_shortfall,
    define_stock_balance,
    define_supervision,
)
from optimiser.gcpause import without_gc
from optimiser.registry import ConstraintKey

#: The constraint families each ``define_*`` function adds rows to.
FAMILIES_OF: dict[Callable[[CommissionModel], None], tuple[str, ...]] = {
    define_stock_balance: ("stock_balance",),
    define_shortfall: ("shortfall",),
    define_budget: ("budget", "regional_budget"),
    define_supervision: ("supervision_need", "supervision_capacity"),
    define_placements: ("placements",),
    define_intake_limits: ("intake_min", "intake_max"),
}

#: Dataset columns that reach the LP only through right-hand sides, and the ``define_*``
#: functions that read them. A change to any other column (or to settings, or to which
#: rows a table has) rebuilds the model.
RHS_COLUMNS: dict[tuple[str, str], tuple[Callable[[CommissionModel], None], ...]] = {
    ("budget", "budget_gbp"): (define_budget,),
    ("demand", "demand_wte"): (define_shortfall,),
    ("inflows", "inflow_wte"): (define_stock_balance,),
    ("workforce", "stock_wte"): (define_stock_balance, define_supervision),  # S[p,r,b] is a constant
    ("capacity", "placement_capacity"): (define_placements,),
    ("capacity", "intake_min"): (define_intake_limits,),
    ("capacity", "intake_max"): (define_intake_limits,),
}


def changed_columns(old: Dataset, new: Dataset) -> set[tuple[str, str]] | None:
    """The ``(table, column)`` cells whose values differ between two datasets with the same
    settings and the same rows in the same order; ``None`` when anything else differs."""
    if old.settings != new.settings:
        return None
    changed: set[tuple[str, str]] = set()
    for name in TABLES:
        before, after = getattr(old, name), getattr(new, name)
        if before is after or before == after:  # rows shared with the base compare by identity
            continue
        if len(before) != len(after):
            return None
        for a, b in zip(before, after):
            if a is b:
                continue
            if type(a) is not type(b):
                return None
            changed.update((name, column) for column in type(a).model_fields if getattr(a, column) != getattr(b, column))
    return changed


@dataclass
class _Recorder(CommissionModel):
    """A kept model's variables with a new dataset: ``define_*`` functions run on it record
    each row's terms, sense and bound instead of adding it."""

    rows: dict[ConstraintKey, tuple[dict, int, float]] = field(default_factory=dict)
    violations: list[tuple[ConstraintKey, float]] = field(default_factory=list)

    def add_constraint(self, family: str, profession: str | None, region: str | None,
                       year: int, lin: Lin, sense: int, rhs: float) -> None:
        key = ConstraintKey(family, profession, region, year)
        bound = rhs - lin.constant
        if lin.terms:
            self.rows[key] = (lin.terms, sense, bound)
        else:
            violated_by = constant_violation(sense, bound)
            if violated_by is not None:
                self.violations.append((key, violated_by))


@without_gc
def update_in_place(model: CommissionModel, dataset: Dataset) -> bool:
    """Give ``model`` the right-hand sides of ``dataset`` if nothing else differs; ``False``
    (and ``model`` unchanged) when it cannot be done so."""
    if model.elastic:
        return False
    changed = changed_columns(model.dataset, dataset)
    if changed is None or not changed <= RHS_COLUMNS.keys():
        return False
    definers = list(dict.fromkeys(define for column in sorted(changed) for define in RHS_COLUMNS[column]))
    recorder = _Recorder(dataset, model.problem, integer=model.integer,
                         x=model.x, stock=model.stock, u=model.u, y=model.y)
    for define in definers:
        define(recorder)
    families = {family for define in definers for family in FAMILIES_OF[define]}
    kept = {entry.key: entry for entry in model.registry if entry.key.family in families}
    if recorder.rows.keys() != kept.keys():
        return False
    for key, (terms, sense, _) in recorder.rows.items():
        entry = kept[key]
        if entry.sense != sense or not dict.__eq__(entry.constraint.expr, terms):
            return False
    for key, (_, _, bound) in recorder.rows.items():  # checked: now change the constants
        entry = kept[key]
        entry.constraint.constant = 0.0 - bound  # as pulp.LpConstraint(expr, sense, name, bound) sets it
        entry.constraint.pi = entry.constraint.slack = None
        entry.rhs = bound
    registry = model.registry
    registry.constant_violations = [v for v in registry.constant_violations if v[0].family not in families]
    registry.constant_violations += recorder.violations
    model.dataset = dataset
    return True


@dataclass
class ValidatedTables:
    """Tables already validated, by name, with the raw table each came from.

    ``loader.validate_raw`` re-uses a table's rows when handed the very same
    ``RawTable`` object again: what-if cases share the base's untouched tables
    (``scenarios.apply_overrides`` copies a table before changing it), and rows
    are immutable.
    """

    kept: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def get(self, name: str, table) -> Any | None:
        found = self.kept.get(name)
        return found[1] if found is not None and found[0] is table else None

    def put(self, name: str, table, result) -> None:
        self.kept[name] = (table, result)


@dataclass
class SolveCache:
    """What one process keeps between solves of related datasets (a batch worker's cases).

    ``model_for`` returns the kept model, updated in place, when the new dataset
    differs from it only in right-hand sides and asks for the same integrality
    and the same model-level edit (``adjust``, compared with ``==``: a plain
    function matches only itself); else a fresh build, which is then kept.
    ``adjust`` must set values, not add to them: it is made again after an
    in-place update (``scenarios.SupervisorHours``).
    """

    tables: ValidatedTables = field(default_factory=ValidatedTables)
    model: CommissionModel | None = None
    key: tuple[bool, Hashable] | None = None
    reused: int = 0
    built: int = 0

    def model_for(self, dataset: Dataset, *, integer: bool | None = None,
                  adjust: Callable[[CommissionModel], None] | None = None) -> CommissionModel:
        started = time.perf_counter()
        integer = dataset.settings.integer_places if integer is None else integer
        key = (integer, adjust)
        kept, self.model = self.model, None  # not kept while it changes (an interruption leaves nothing half-made)
        if kept is not None and self.key == key and update_in_place(kept, dataset):
            model = kept
            self.reused += 1
        else:
            model = build_model(dataset, integer=integer)
            model.mps_templates = {}
            self.built += 1
        if adjust is not None:
            adjust(model)
        model.build_seconds = time.perf_counter() - started
        self.model, self.key = model, key
        return model

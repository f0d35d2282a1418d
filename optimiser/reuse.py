"""Re-solve one built model in place when a what-if changes numbers, not the model's shape.

A sweep of budgets (or of demand, inflows, base-year stock, placement or intake
limits) changes only right-hand sides of the LP; a sweep of attrition, costs,
weights or supervision hours changes coefficients of rows that stay where they
are. ``SolveCache`` keeps the last model a process built. For the next dataset
it finds the columns that changed (``changed_columns``). When each is one of
``COLUMNS``, it re-runs only the ``define_*`` functions that read them against
the kept model's variables, which gives the new rows from the same code that
built the model. It then checks that every re-run row has the key, sense and
variables of the kept one; if not, it builds afresh. Only then are the rows'
right-hand sides (and coefficients, and objectives) changed, through PuLP 4's
editable constraints (``LpConstraint.changeRHS``, ``set_coefficient``). The
results match a fresh build's byte for byte (``tests/test_reuse.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulp

from models.inputs import TABLES, Dataset
from optimiser import families
from optimiser.build import build_model, define_objectives
from optimiser.model import CommissionModel, CommissionProblem, Lin, constant_violation
from optimiser.gcpause import without_gc
from optimiser.registry import ConstraintKey

#: The constraint families each ``define`` function adds rows to (the objectives: none).
FAMILIES_OF: dict[Callable[[CommissionModel], None], tuple[str, ...]] = {
    **families.FAMILIES_OF,
    define_objectives: (),  # every stage's objective
}

Definers = tuple[Callable[[CommissionModel], None], ...]
IN_PLACE, BUILT = "in place", "built"

#: The columns the objectives read (all as coefficients).
OBJECTIVE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("retention", "cost_per_wte_year_gbp"), ("recruitment", "cost_per_wte_gbp"),
    ("professions", "cost_per_trainee_year_gbp"), ("regions", "cost_multiplier"), ("professions", "weight"),
)

#: Dataset columns that reach the LP only through right-hand sides, and the ``define``
#: functions that read them (each family module lists its own).
RHS_COLUMNS: dict[tuple[str, str], Definers] = families.columns_read("rhs")

#: Dataset columns that reach the LP as coefficients (and right-hand sides), and the
#: ``define`` functions that read them. A change that adds, drops or moves a variable
#: in a row (a rate reaching 0, a growth limit set where there was none) rebuilds.
COEFFICIENT_COLUMNS: dict[tuple[str, str], Definers] = families.columns_read("coefficient")
for _column in OBJECTIVE_COLUMNS:
    COEFFICIENT_COLUMNS[_column] = COEFFICIENT_COLUMNS.get(_column, ()) + (define_objectives,)

#: Every column a kept model can take in place; a change to any other (or to settings, or
#: to which rows a table has) rebuilds the model.
COLUMNS: dict[tuple[str, str], Definers] = {**RHS_COLUMNS, **COEFFICIENT_COLUMNS}


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
                       year: int, lin: Lin, sense: int, rhs: float, item: str | None = None,
                       relaxable: bool = True) -> None:
        key = ConstraintKey(family, profession, region, year, item)
        bound = rhs - lin.constant
        if lin.terms:
            self.rows[key] = (lin.terms, sense, bound)
        else:
            violated_by = constant_violation(sense, bound)
            if violated_by is not None:
                self.violations.append((key, violated_by))


@without_gc
def update_in_place(model: CommissionModel, dataset: Dataset) -> bool:
    """Give ``model`` the rows and objectives of ``dataset`` if only ``COLUMNS`` differ and no
    row gains, loses or moves a variable; ``False`` (and ``model`` unchanged) when it cannot.
    """
    if model.elastic:
        return False
    changed = changed_columns(model.dataset, dataset)
    if changed is None or not changed <= COLUMNS.keys():
        return False
    definers = list(dict.fromkeys(define for column in sorted(changed) for define in COLUMNS[column]))
    recorder = _Recorder(dataset, CommissionProblem("recorder", pulp.LpMinimize), integer=model.integer,
                         x=model.x, stock=model.stock, u=model.u, y=model.y, rho=model.rho, z=model.z)
    for define in definers:
        define(recorder)
    families = {family for define in definers for family in FAMILIES_OF[define]}
    kept = {entry.key: entry for entry in model.registry if entry.key.family in families}
    if recorder.rows.keys() != kept.keys():
        return False
    new_terms = []
    for key, (terms, sense, _) in recorder.rows.items():
        entry = kept[key]
        if entry.sense != sense:
            return False
        expr = dict(entry.constraint.items())
        if expr != terms:
            if expr.keys() != terms.keys():
                return False
            new_terms.append((entry, terms))
    # checked: now change the rows
    changed_rows = []
    for key, (_, _, bound) in recorder.rows.items():
        entry = kept[key]
        if entry.rhs != bound:
            entry.constraint.changeRHS(bound)
            entry.rhs = bound
            changed_rows.append(entry.constraint)
    for entry, terms in new_terms:
        for var, coef in terms.items():
            entry.constraint.set_coefficient(var, coef)
        changed_rows.append(entry.constraint)
    if model.kept_solver is not None:
        model.kept_solver.rows_changed(changed_rows)
    if define_objectives in definers:
        model.shortfall_objective, model.sustain_objective = recorder.shortfall_objective, recorder.sustain_objective
        model.cost_objective, model.committed_cost = recorder.cost_objective, recorder.committed_cost
        model.problem.setObjective(model.shortfall_objective)
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
    differs from it only in ``COLUMNS`` and asks for the same integrality; else a
    fresh build, which is then kept.
    """

    tables: ValidatedTables = field(default_factory=ValidatedTables)
    model: CommissionModel | None = None
    integer: bool | None = None
    reused: int = 0
    built: int = 0
    #: How the last model was made: ``IN_PLACE`` or ``BUILT``.
    last: str = ""

    def model_for(self, dataset: Dataset, *, integer: bool | None = None) -> CommissionModel:
        started = time.perf_counter()
        integer = dataset.settings.integer_places if integer is None else integer
        kept, self.model = self.model, None  # not kept while it changes (an interruption leaves nothing half-made)
        if kept is not None and self.integer == integer and update_in_place(kept, dataset):
            model = kept
            self.reused += 1
            self.last = IN_PLACE
        else:
            model = build_model(dataset, integer=integer)
            self.built += 1
            self.last = BUILT
        model.build_seconds = time.perf_counter() - started
        self.model, self.integer = model, integer
        return model

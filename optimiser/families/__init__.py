"""The constraint families: one module each, holding its mathematics (``define`` and its
docstring), the rows it adds, how they are relaxed, priced and worded (``FAMILIES``), and
the dataset columns it reads (for in-place re-solves). A new family is one new module here,
listed in ``MODULES``, plus its tests; the builder, the registry, the re-solver, the reports,
the infeasibility diagnosis and the why-split find it through the tables below.

A family module holds: ``define(m)`` (its docstring: the rows it adds), ``FAMILIES`` (each
``registry.Family``: unit, scale, title, conflict and marginal sentences), ``LIFT`` (the
limit group that lifts it, ``None`` for rows always in force) and ``LIFT_TITLE``, and
``RHS_COLUMNS`` / ``COEFFICIENT_COLUMNS`` (the dataset columns ``define`` reads, which
``optimiser.reuse`` may change in place).
"""

from __future__ import annotations

from collections.abc import Callable

from optimiser.families import (budget, growth, intake_limits, lever_caps, placements, shortfall, stock_balance,
                                stock_floor, supervision)
from optimiser.model import CommissionModel
from optimiser.registry import Family

#: Every family module, in the order the builder adds their rows (the order of the model's
#: rows, and so of ``constraints.csv`` and the MPS file): definitions first, then limits.
MODULES = (stock_balance, stock_floor, shortfall, lever_caps, budget, supervision, placements, intake_limits, growth)

Define = Callable[[CommissionModel], None]

#: Every family by name.
FAMILIES: dict[str, Family] = {f.name: f for module in MODULES for f in module.FAMILIES}
#: The rows always in force.
CORE_DEFINERS: tuple[Define, ...] = tuple(m.define for m in MODULES if m.LIFT is None)
#: The limits, by the name a user lifts them with (``build_model(lift=...)``, the why-split).
LIMIT_DEFINERS: dict[str, Define] = {m.LIFT: m.define for m in MODULES if m.LIFT is not None}
#: How the why-split names each limit group.
LIFT_TITLES: dict[str, str] = {m.LIFT: m.LIFT_TITLE for m in MODULES if m.LIFT is not None}
#: The families each ``define`` adds rows to.
FAMILIES_OF: dict[Define, tuple[str, ...]] = {m.define: tuple(f.name for f in m.FAMILIES) for m in MODULES}
#: A family's limit group (the why-split's component), for the limits.
LIFT_OF: dict[str, str] = {f.name: m.LIFT for m in MODULES if m.LIFT is not None for f in m.FAMILIES}


def columns_read(kind: str) -> dict[tuple[str, str], tuple[Define, ...]]:
    """``(table, column)`` -> the ``define`` functions that read it, as right-hand sides
    (``kind="rhs"``) or as coefficients (``kind="coefficient"``)."""
    attribute = {"rhs": "RHS_COLUMNS", "coefficient": "COEFFICIENT_COLUMNS"}[kind]
    found: dict[tuple[str, str], tuple[Define, ...]] = {}
    for module in MODULES:
        for column in getattr(module, attribute):
            found[column] = found.get(column, ()) + (module.define,)
    return found

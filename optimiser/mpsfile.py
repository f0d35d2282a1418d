"""Write a PuLP problem as MPS, byte for byte as PuLP's ``writeMPS`` does, in a third of its time.

The MPS file is what CBC reads, once per solve stage, and what a results
folder keeps (``shortfall_stage.mps``). PuLP's writer spends most of its time
in per-coefficient name look-ups and calls (``v.name`` is a property, a
variable's hash is a Python method). This writer makes the same file with one
pass over the constraints keyed by ``id(variable)``: the same column order
(``problem.variables()``, sorted by name), the same row order (the order
constraints were added), the same number formats. ``tests/test_mpsfile.py``
holds it to PuLP's output, so the solver sees exactly the problem it saw before.

A problem solved again with only new right-hand sides (a what-if sweep re-solved
in place, ``optimiser.reuse``) is written from a ``MpsTemplate``: the text of the
last write but for its RHS section, which is the only part that changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

import pulp
from pulp import const

_ROW_TYPE = const.LpConstraintTypeToMps


@dataclass
class MpsFile:
    """A written file: its text, and what it calls things (variables in column order, name maps)."""

    text: str
    variables: list[pulp.LpVariable]
    variable_names: dict[str, str]  # variable name -> name in the file
    constraint_names: dict[str, str]  # constraint name -> name in the file
    objective_name: str
    template: MpsTemplate | None = None


@dataclass(frozen=True)
class MpsTemplate:
    """A written file but for its RHS section: enough to write the same problem with new
    right-hand sides. Valid only while the problem keeps its variables, rows, coefficients,
    bounds and objective; ``write_mps`` checks the rows' names and order and the objective,
    and the caller promises the rest (``optimiser.reuse`` re-solves only such problems)."""

    head: str  # from *SENSE to the end of COLUMNS
    tail: str  # from BOUNDS to ENDATA
    row_keys: tuple[str, ...]  # the problem's constraints, in order, as the file lists them
    objective: pulp.LpAffineExpression
    rename: bool
    written: MpsFile


def write_mps(problem: pulp.LpProblem, path: str, *, rename: bool = False,
              template: MpsTemplate | None = None) -> MpsFile:
    """Write ``problem`` to ``path`` exactly as ``problem.writeMPS(path, rename=rename)`` would.

    ``rename`` names columns ``X0000000..`` and rows ``C0000000..`` (as PuLP's own CBC
    driver does); without it the file keeps the model's names, which PuLP makes free of
    spaces, so CBC reads either form alike. ``template``: the ``MpsFile.template`` of an
    earlier write of this problem, whose right-hand sides alone have changed since; the
    file is then its text with a new RHS section (the same bytes a full write gives). A
    template whose rows or objective are not the problem's is ignored.
    """
    if template is not None and _fits(template, problem, rename):
        return _write_rhs(problem, path, template)
    was_none, dummy = problem.fixObjective()
    try:
        return _write(problem, path, rename)
    finally:
        problem.restoreObjective(was_none, dummy)


def _fits(template: MpsTemplate, problem: pulp.LpProblem, rename: bool) -> bool:
    return (template.rename == rename and problem.objective is template.objective
            and tuple(problem._constraints) == template.row_keys)


def _rhs_lines(constraints: dict[str, pulp.LpConstraint], row_names: dict[str, str]) -> list[str]:
    return ["    RHS       %-8s  % .12e\n" % (row_names[k], -c.constant if c.constant != 0 else 0)
            for k, c in constraints.items()]


def _write_rhs(problem: pulp.LpProblem, path: str, template: MpsTemplate) -> MpsFile:
    """The template's text with the problem's current right-hand sides."""
    written = template.written
    text = "".join([template.head, "RHS\n", *_rhs_lines(problem._constraints, written.constraint_names),
                    template.tail])
    with open(path, "w") as handle:
        handle.write(text)
    return MpsFile(text, written.variables, written.variable_names, written.constraint_names,
                   written.objective_name, template)


def _write(problem: pulp.LpProblem, path: str, rename: bool) -> MpsFile:
    objective = problem.objective
    constraints = problem._constraints  # name -> LpConstraint, in the order added (as PuLP's writer reads it)
    rows: list[str] = []
    ids: list[int] = []
    coefs: list[float] = []
    for key, constraint in constraints.items():
        expr = constraint.expr
        rows += [key] * len(expr)
        ids += map(id, expr)
        coefs += expr.values()
    variables = _columns(problem, ids)
    if rename:
        row_names = {k: "C%07d" % i for i, k in enumerate(constraints)}
        column_names = ["X%07d" % i for i in range(len(variables))]
        objective.name = "OBJ"  # PuLP's writer names the objective so, as a side effect
        model_name = "MODEL"
    else:
        row_names = {k: k for k in constraints}
        column_names = [v.name for v in variables]
        model_name = problem.name
    objective_name = objective.name or "OBJ"

    # Every coefficient as (column, row, value), rows in order and the objective last (whole rows
    # copied at C speed); a stable sort by column then gives PuLP's column-major order.
    if rename:
        rows = list(map(row_names.__getitem__, rows))
    rows += [objective_name] * len(objective)
    ids += map(id, objective)
    coefs += objective.values()
    position = {id(v): i for i, v in enumerate(variables)}
    columns = list(map(position.__getitem__, ids))
    order = sorted(range(len(columns)), key=columns.__getitem__)
    columns = list(map(columns.__getitem__, order))
    entries = ["    %-8s  %-8s  % .12e\n" % line for line in zip(
        map(column_names.__getitem__, columns), map(rows.__getitem__, order), map(coefs.__getitem__, order))]

    lines = [f"*SENSE:{const.LpSenses[problem.sense]}\n", f"NAME          {model_name}\n", "ROWS\n",
             f" N  {objective_name}\n"]
    lines += [" " + _ROW_TYPE[c.sense] + "  " + row_names[k] + "\n" for k, c in constraints.items()]
    lines.append("COLUMNS\n")
    if any(v.cat == const.LpInteger for v in variables):
        lines += _with_integer_markers(variables, entries, columns)
    else:
        lines += entries
    head = "".join(lines)
    tail = ["BOUNDS\n"]
    for var, name in zip(variables, column_names):
        tail += _bound_lines(name, var)
    tail.append("ENDATA\n")
    tail = "".join(tail)
    text = "".join([head, "RHS\n", *_rhs_lines(constraints, row_names), tail])
    with open(path, "w") as handle:
        handle.write(text)
    written = MpsFile(text, variables, {v.name: n for v, n in zip(variables, column_names)}, row_names,
                      objective_name)
    written.template = MpsTemplate(head, tail, tuple(constraints), objective, rename, written)
    return written


def _columns(problem: pulp.LpProblem, ids: list[int]) -> list[pulp.LpVariable]:
    """``problem.variables()`` without its per-coefficient registration calls: the registered
    variables plus any in the objective or the constraints (``ids``) that are not, by name."""
    found = {v.hash: v for v in problem._variables}  # PuLP keys variables by ``hash``, their id
    for var in problem.objective:
        found.setdefault(id(var), var)
    if not found.keys() >= set(ids):  # a variable put in a row after the row was added
        for constraint in problem._constraints.values():
            for var in constraint.expr:
                found.setdefault(id(var), var)
    return sorted(found.values(), key=attrgetter("name"))


def _with_integer_markers(variables, entries: list[str], entry_columns: list[int]) -> list[str]:
    """The COLUMNS lines with each integer column's block between PuLP's MARKER lines."""
    lines: list[str] = []
    k, n = 0, len(entries)
    for i, var in enumerate(variables):
        integer = var.cat == const.LpInteger
        if integer:
            lines.append("    MARK      'MARKER'                 'INTORG'\n")
        while k < n and entry_columns[k] == i:
            lines.append(entries[k])
            k += 1
        if integer:
            lines.append("    MARK      'MARKER'                 'INTEND'\n")
    return lines


def _bound_lines(name: str, var: pulp.LpVariable) -> list[str]:
    """``pulp.mps_lp.writeMPSBoundLines`` (with ``mip`` true), unchanged."""
    low, up, integer = var.lowBound, var.upBound, var.cat == const.LpInteger
    if low is not None and low == up:
        return [" FX BND       %-8s  % .12e\n" % (name, low)]
    if low == 0 and up == 1 and integer:
        return [" BV BND       %-8s\n" % name]
    lines = []
    if low is not None:
        # a missing bound means >= 0 in MPS, so a 0 lower bound is written only where needed
        if low != 0 or (integer and up is None):
            lines.append(" LO BND       %-8s  % .12e\n" % (name, low))
    elif up is not None:
        lines.append(" MI BND       %-8s\n" % name)
    else:
        lines.append(" FR BND       %-8s\n" % name)
    if up is not None:
        lines.append(" UP BND       %-8s  % .12e\n" % (name, up))
    return lines

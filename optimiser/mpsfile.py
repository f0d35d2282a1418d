"""Write a PuLP problem as MPS, byte for byte as PuLP's ``writeMPS`` does, in a third of its time.

The MPS file is what CBC reads, once per solve stage, and what a results
folder keeps (``shortfall_stage.mps``). PuLP's writer spends most of its time
in per-coefficient name look-ups and calls (``v.name`` is a property, a
variable's hash is a Python method). This writer makes the same file with one
pass over the constraints keyed by ``id(variable)``: the same column order
(``problem.variables()``, sorted by name), the same row order (the order
constraints were added), the same number formats. ``tests/test_fast_paths.py``
holds it to PuLP's output, so the solver sees exactly the problem it saw before.

Every write leaves a ``MpsTemplate``: the rows' coefficients already formatted,
column by column, with the bounds. The same problem with new right-hand sides,
rows added at the end or another objective (the cost stage is the shortfall
stage plus one row and the cost objective; a what-if re-solved in place,
``optimiser.reuse``, changes right-hand sides only) is written from it,
formatting only what is new. A full write goes through the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter, itemgetter

import pulp
from pulp import const

_ROW_TYPE = const.LpConstraintTypeToMps


@dataclass
class MpsNames:
    """What a written file calls things: the variables in column order, and name maps."""

    variables: list[pulp.LpVariable]
    variable_names: dict[str, str]  # variable name -> name in the file
    constraint_names: dict[str, str]  # constraint name -> name in the file
    objective_name: str
    #: The columns by variable name (PuLP's ``__dummy`` left out), for reading a solution back.
    by_name: dict[str, pulp.LpVariable]


@dataclass(frozen=True)
class MpsTemplate:
    """A written problem's rows and columns, formatted, to write it again.

    Valid while the problem's first ``len(row_keys)`` rows keep their names, order,
    senses and coefficients and its variables keep their bounds; right-hand sides,
    rows added after them and the objective may change. ``write_mps`` checks the
    names, order, senses and columns; the caller promises the coefficients and
    bounds (the solve stages and ``optimiser.reuse`` change only the rest).
    """

    rename: bool
    row_keys: tuple[str, ...]  # the rows it was made with, in order
    senses: tuple[int, ...]
    rows_section: str  # their ROWS lines
    blocks: list[str]  # per column: its COLUMNS lines for those rows
    position: dict[int, int]  # id(variable) -> column
    column_names: list[str]  # in the file
    registered: int  # len(problem._variables) when made (every column registered)
    tail: str  # BOUNDS to ENDATA
    names: MpsNames


@dataclass
class MpsFile:
    """A written file: its text, its names, and the template to write its problem again."""

    text: str
    names: MpsNames
    template: MpsTemplate | None

    @property
    def variables(self) -> list[pulp.LpVariable]:
        return self.names.variables

    @property
    def variable_names(self) -> dict[str, str]:
        return self.names.variable_names

    @property
    def constraint_names(self) -> dict[str, str]:
        return self.names.constraint_names

    @property
    def objective_name(self) -> str:
        return self.names.objective_name


def write_mps(problem: pulp.LpProblem, path: str, *, rename: bool = False,
              template: MpsTemplate | None = None) -> MpsFile:
    """Write ``problem`` to ``path`` exactly as ``problem.writeMPS(path, rename=rename)`` would.

    ``rename`` names columns ``X0000000..`` and rows ``C0000000..`` (as PuLP's own CBC
    driver does); without it the file keeps the model's names, which PuLP makes free of
    spaces, so CBC reads either form alike. ``template``: the ``MpsFile.template`` of an
    earlier write of this problem (see ``MpsTemplate`` for what may have changed since);
    one that does not fit is ignored.
    """
    if template is not None and template.rename == rename:
        written = _write_from(problem, path, template)
        if written is not None:
            return written
    was_none, dummy = problem.fixObjective()
    try:
        template = _template(problem, rename)
        written = _write_from(problem, path, template)
        assert written is not None  # a problem fits its own template
        if was_none or dummy is not None or template.registered != len(template.names.variables):
            written.template = None  # a placeholder objective, or columns PuLP does not list: not kept
        return written
    finally:
        problem.restoreObjective(was_none, dummy)


_ENTRY = "    %-8s  %-8s  % .12e\n"
_MARK_START = "    MARK      'MARKER'                 'INTORG'\n"
_MARK_END = "    MARK      'MARKER'                 'INTEND'\n"


def _template(problem: pulp.LpProblem, rename: bool) -> MpsTemplate:
    """Format every row's coefficients, column by column (column-major, rows in order)."""
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
        rows = list(map(row_names.__getitem__, rows))
    else:
        row_names = {k: k for k in constraints}
        column_names = [v.name for v in variables]
    position = {id(v): i for i, v in enumerate(variables)}
    columns = list(map(position.__getitem__, ids))
    order = sorted(range(len(columns)), key=columns.__getitem__)  # stable: rows stay in order
    in_order = list(map(columns.__getitem__, order))
    entries = [_ENTRY % line for line in zip(
        map(column_names.__getitem__, in_order), map(rows.__getitem__, order), map(coefs.__getitem__, order))]
    blocks = [""] * len(variables)
    for column, lines in groupby(zip(in_order, entries), key=itemgetter(0)):
        blocks[column] = "".join(line for _, line in lines)
    senses = tuple(c.sense for c in constraints.values())
    rows_section = "".join([" " + _ROW_TYPE[sense] + "  " + row_names[k] + "\n" for k, sense in zip(constraints, senses)])
    tail = ["BOUNDS\n"]
    for var, name in zip(variables, column_names):
        tail += _bound_lines(name, var)
    tail.append("ENDATA\n")
    variable_names = [v.name for v in variables]
    names = MpsNames(variables, dict(zip(variable_names, column_names)), row_names, "",
                     {name: v for name, v in zip(variable_names, variables) if name != "__dummy"})
    return MpsTemplate(rename, tuple(constraints), senses, rows_section, blocks, position, column_names,
                       len(problem._variables), "".join(tail), names)


def _write_from(problem: pulp.LpProblem, path: str, template: MpsTemplate) -> MpsFile | None:
    """The file from ``template`` and what is new: right-hand sides, rows added, the objective.
    ``None`` when the problem does not fit the template."""
    constraints = problem._constraints
    objective = problem.objective
    keys = tuple(constraints)
    n = len(template.row_keys)
    if (objective is None or not objective or keys[:n] != template.row_keys
            or len(problem._variables) != template.registered
            or tuple(c.sense for c in list(constraints.values())[:n]) != template.senses):
        return None
    names, position, column_names = template.names, template.position, template.column_names
    row_names = names.constraint_names
    extra_keys = keys[n:]
    if extra_keys:
        row_names = dict(row_names)
        for i, key in enumerate(extra_keys, start=n):
            row_names[key] = "C%07d" % i if template.rename else key
    if template.rename:
        objective.name = "OBJ"  # PuLP's writer names the objective so, as a side effect
    objective_name = objective.name or "OBJ"
    added: dict[int, list[str]] = {}
    try:
        for key in extra_keys:
            for var, coef in constraints[key].expr.items():
                column = position[id(var)]
                added.setdefault(column, []).append(_ENTRY % (column_names[column], row_names[key], coef))
        for var, coef in objective.items():
            column = position[id(var)]
            added.setdefault(column, []).append(_ENTRY % (column_names[column], objective_name, coef))
    except KeyError:  # a variable the template has no column for
        return None
    blocks = list(template.blocks)
    for column, lines in added.items():
        blocks[column] += "".join(lines)
    for column, var in enumerate(names.variables):
        if var.cat == const.LpInteger:
            blocks[column] = _MARK_START + blocks[column] + _MARK_END
    model_name = "MODEL" if template.rename else problem.name
    text = "".join([
        f"*SENSE:{const.LpSenses[problem.sense]}\n", f"NAME          {model_name}\n", "ROWS\n",
        f" N  {objective_name}\n", template.rows_section,
        *[" " + _ROW_TYPE[constraints[k].sense] + "  " + row_names[k] + "\n" for k in extra_keys],
        "COLUMNS\n", *blocks,
        "RHS\n", *["    RHS       %-8s  % .12e\n" % (row_names[k], -c.constant if c.constant != 0 else 0)
                   for k, c in constraints.items()],
        template.tail])
    with open(path, "w") as handle:
        handle.write(text)
    return MpsFile(text, MpsNames(names.variables, names.variable_names, row_names, objective_name, names.by_name),
                   template)


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

"""One resolved override (``Override``), the compact ``--set`` syntax, and the names and limits
every other part of the scenarios package shares.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from optimiser.errors import InputError, Problem


SETTINGS = "settings"


#: The one national column that also takes a region filter (it edits ``supervisor_hours``).
REGIONAL_SUPERVISOR_HOURS = ("professions", "supervisor_hours_per_wte")


#: The table a region-filtered change of supervisor hours edits, and its columns.
HOURS_TABLE = "supervisor_hours"


HOURS_COLUMN = "supervisor_hours_per_wte"


#: Tables whose blank region means national (budget) or every region (levers): ``region=`` selects those rows.
BLANK_REGION_TABLES = ("budget", "retention", "recruitment")


#: A scenario file may expand to at most this many cases.
MAX_CASES = 100_000


#: Changes listed in full per override in summary.json (the count is always given).
MAX_LISTED_CHANGES = 20


PROFESSION_KEYS = ("profession", "trainee_profession", "source_profession", "supervisor_profession")


YEAR_KEYS = ("year", "start_year")


TEXT_COLUMNS = ("name",)


LIST_SETTINGS = ("assessed_years", "year_weights")


Scalar = str | int | float | bool | None


Op = Literal["set", "scale", "add"]


class FileProblem(Problem):
    """A problem in a scenario file: ``row`` is the line of the YAML file, and is called so."""

    def __str__(self) -> str:
        where = self.file + (f", line {self.row}" if self.row is not None else "")
        if self.column:
            where += f", at '{self.column}'"
        value = "" if self.value is None else f" ({self.value})"
        return f"{where}: {self.message}{value}"


class Override(BaseModel):
    """One override, resolved against a dataset: the cells it selects and how it changes them.

    ``where`` maps a key column of the table (``profession``, ``region``,
    ``year``, ``start_year``, ``trainee_profession``...; for the national
    supervisor hours also ``region``) to the values it may take;
    ``None`` matches a blank cell (a national budget row).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str
    column: str
    where: tuple[tuple[str, tuple[Scalar, ...]], ...] = ()
    op: Op
    value: Any
    layer: str  # the scenario's name, or "command line": clashes are checked within a layer
    source: str  # "whatif.yaml, line 12" or "command line"
    file: str | None = None
    line: int | None = None

    @property
    def target(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def filters(self) -> dict[str, tuple[Scalar, ...]]:
        return dict(self.where)

    @property
    def regional_hours(self) -> bool:
        """A change of regional supervisor hours (rows of ``supervisor_hours``, added if missing)."""
        if (self.table, self.column) == REGIONAL_SUPERVISOR_HOURS:
            return any(k == "region" for k, _ in self.where)
        return (self.table, self.column) == (HOURS_TABLE, HOURS_COLUMN)

    @property
    def cells_text(self) -> str:
        """What the override changes, e.g. ``budget.budget_gbp[year=2022]`` (its text before ``=``)."""
        where = ",".join(f"{k}=" + "|".join(show_value(v) for v in values) for k, values in self.where)
        return f"{self.target}{f'[{where}]' if where else ''}"

    @property
    def text(self) -> str:
        """The override in the command-line form, e.g. ``budget.budget_gbp[year=2022]=*0.9``."""
        return f"{self.cells_text}={op_text(self.op, self.value)}"

    @property
    def sweep_column(self) -> str:
        """The column of a batch comparison holding this override's value in each case:
        ``budget.budget_gbp[year=2022]`` for a value set, with `` (scale)`` or `` (add)`` for a factor
        or an addition."""
        return self.cells_text + {"scale": " (scale)", "add": " (add)"}.get(self.op, "")

    def identity(self) -> dict[str, Any]:
        """What the override does, without where it was written (for fingerprints)."""
        return {"target": self.target, "where": [[k, list(v)] for k, v in self.where],
                "op": self.op, "value": self.value}

    def problem(self, message: str, value: str | None = None) -> Problem:
        """A problem located at this override: the scenario file and line, or the command line."""
        scenario = f"scenario '{self.layer}': " if self.layer not in ("command line", "frontier") else ""
        return FileProblem(self.file or "command line (--set)", self.line, None,
                           value if value is not None else self.text, scenario + message)


def show_value(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def op_text(op: str, value: Any) -> str:
    if op == "scale":
        return f"*{value:g}"
    if op == "add":
        return f"+{value:g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return show_value(value)


_COMPACT = re.compile(r"^\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*(?:\[([^\]]*)\])?\s*=(.*)$", re.S)


def parse_compact(text: str) -> dict[str, Any]:
    """``table.column[key=v1|v2,key=v]=VALUE`` -> the structured form of a scenario file.

    VALUE is ``*x`` (scale), ``+x`` (add; ``+-x`` subtracts), or anything else
    (set; read as a YAML scalar, so ``0.2``, ``true``, ``[2023]``; empty = blank).
    """
    match = _COMPACT.match(text)
    if not match:
        raise ValueError(f"cannot read override {text!r}; expected table.column[key=value,...]=VALUE, "
                         "e.g. budget.budget_gbp[year=2022]=*0.9")
    table, column, filters, value = match.groups()
    where: dict[str, Any] = {}
    for part in (filters or "").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"filter {part.strip()!r} in {text!r} is not key=value")
        key, values = (s.strip() for s in part.split("=", 1))
        if key in where:
            raise ValueError(f"filter {key!r} is given twice in {text!r}")
        options = [v.strip() or None for v in values.split("|")]
        where[key] = options if len(options) > 1 else options[0]
    out: dict[str, Any] = {"target": f"{table}.{column}", "where": where}
    value = value.strip()
    try:
        if value.startswith("*"):
            out["scale"] = float(value[1:])
        elif value.startswith("+"):
            out["add"] = float(value[1:])
        else:
            out["set"] = _plain_value(value) if value else None
    except (ValueError, InputError):
        raise ValueError(f"cannot read the value {value!r} of {text!r}; expected *FACTOR, +AMOUNT or a value")
    return out


def _plain_value(text: str) -> Any:
    """A ``--set`` value read as YAML plain data (``safeyaml``: no aliases or tags, bounded depth)."""
    from optimiser.safeyaml import compose

    return compose(text, "--set")[0]


def unique_problems(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def pydantic_message(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{err['loc'][-1]}'"
    if kind in ("float_parsing", "float_type"):
        return "expected a number"
    if kind == "missing":
        return f"'{err['loc'][-1]}' is required"
    if kind == "value_error":
        return str((err.get("ctx") or {}).get("error", err["msg"]))
    if kind == "string_pattern_mismatch" and err["loc"] and err["loc"][-1] == "target":
        return "target must be table.column (e.g. budget.budget_gbp) or settings.KEY"
    return err["msg"]

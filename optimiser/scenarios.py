"""What-if scenarios: overrides of input values, scenario files, sweeps.

An *override* changes input values of a base dataset::

    budget.budget_gbp[year=2022]=*0.9                  scale (x 0.9)
    professions.attrition_rate[profession=pwp]=0.2     set
    inflows.inflow_wte[region=london]=+-5              add (-5)
    capacity.placement_capacity[region=london|midlands,year=2023]=*1.1
    settings.integer_places=true                       a setting

Overrides are applied to the *raw text tables* of the dataset
(``loader.RawDataset``) before validation, so every changed value is checked
exactly as a hand-edited file would be; a value an override makes invalid is
reported with the scenario's name and the line of the scenario file.

Regional supervisor hours: ``supervisor_hours_per_wte`` is a national column of
``professions``, but a region filter on it is accepted and changes the hours a
qualified WTE of that profession gives **in that region only**: it edits (or
adds) that profession's rows of the ``supervisor_hours`` table, starting from
the national value where the table has no row, exactly as a hand-edited table
would. ``supervisor_hours.supervisor_hours_per_wte[profession=..,region=..]``
does the same. The table has no year, so neither takes a year filter; every
other column of ``professions`` refuses a region or year filter with a message.
A regional row replaces the national value in its region, so a later change of
the national value leaves it alone.

Precedence: the base dataset, then the scenario's overrides in the order they
are written (its ``settings:`` block first), then command-line ``--set``
overrides in order. Within one layer (one scenario, or the command line) two
overrides may not change the same value: that is an error naming both lines.

A scenario file is YAML, read with PyYAML's safe loader only (``yaml.compose``
with ``SafeLoader``, to keep line numbers): it is data, never code. See
``docs/scenarios.md`` for the syntax.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from models.inputs import TABLES, Settings
from optimiser.errors import InputError, Problem
from optimiser.loader import RawDataset, RawTable
from optimiser.years import format_year, parse_year

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

_PROFESSION_KEYS = ("profession", "trainee_profession", "source_profession", "supervisor_profession")
_YEAR_KEYS = ("year", "start_year")
_TEXT_COLUMNS = ("name",)
_LIST_SETTINGS = ("assessed_years", "year_weights")

Scalar = str | int | float | bool | None
Op = Literal["set", "scale", "add"]


# ============================================================== resolved overrides


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
        where = ",".join(f"{k}=" + "|".join(_show(v) for v in values) for k, values in self.where)
        return f"{self.target}{f'[{where}]' if where else ''}"

    @property
    def text(self) -> str:
        """The override in the command-line form, e.g. ``budget.budget_gbp[year=2022]=*0.9``."""
        return f"{self.cells_text}={_op_text(self.op, self.value)}"

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


def _show(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _op_text(op: str, value: Any) -> str:
    if op == "scale":
        return f"*{value:g}"
    if op == "add":
        return f"+{value:g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return _show(value)


# ================================================================ compact syntax

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


# ============================================================ scenario file model


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RangeSpec(_Frozen):
    """``{start: 0.5, stop: 1.5, step: 0.1}``: start, start+step, ... up to stop (inclusive)."""

    start: float
    stop: float
    step: float

    @model_validator(mode="after")
    def _sane(self) -> RangeSpec:
        for name in ("start", "stop", "step"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number")
        if self.step == 0 or (self.stop - self.start) * self.step < 0:
            raise ValueError("step must be non-zero and go from start towards stop")
        if len(self.values()) > MAX_CASES:
            raise ValueError(f"the range has more than {MAX_CASES} values")
        return self

    def values(self) -> list[float]:
        count = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [_round(self.start + i * self.step) for i in range(min(count, MAX_CASES + 1))]


def _round(x: float) -> float:
    """Tidy floating-point noise of ``start + i * step`` (0.30000000000000004 -> 0.3)."""
    return float(f"{x:.12g}")


def evenly_spaced(start: float, stop: float, count: int) -> list[float]:
    """``count`` values from ``start`` to ``stop`` (both included), tidied as a range's values are."""
    if count <= 1:
        return [_round(start)]
    return [_round(start + (stop - start) * i / (count - 1)) for i in range(count)]


class OverrideSpec(_Frozen):
    """One override as written in a scenario file (structured, or the compact string)."""

    target: str = Field(pattern=r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$")
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    set_: Any = Field(default=None, alias="set")
    scale: float | list[float] | RangeSpec | None = None
    add: float | list[float] | RangeSpec | None = None
    label: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data: Any) -> Any:
        if isinstance(data, str):
            return parse_compact(data)
        value = data.get("set") if isinstance(data, dict) else None
        if isinstance(value, dict) and set(value) == {"start", "stop", "step"}:  # a range of set values
            try:
                return {**data, "set": RangeSpec.model_validate(value)}
            except ValidationError as exc:
                raise ValueError("set: " + "; ".join(_pydantic_message(e) for e in exc.errors())) from None
        return data

    @model_validator(mode="after")
    def _one_operation(self) -> OverrideSpec:
        given = [op for op, name in (("set", "set_"), ("scale", "scale"), ("add", "add"))
                 if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("give exactly one of set, scale or add" + (f" (found {', '.join(given)})" if given else ""))
        return self

    @property
    def op(self) -> Op:
        return "set" if "set_" in self.model_fields_set else "scale" if "scale" in self.model_fields_set else "add"

    @property
    def raw_value(self) -> Any:
        return {"set": self.set_, "scale": self.scale, "add": self.add}[self.op]


class ScenarioSpec(_Frozen):
    """A named scenario: settings, then overrides, applied in order over the base dataset."""

    description: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    overrides: list[OverrideSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data is None:
            return {}
        if isinstance(data, list):
            return {"overrides": data}
        return data




_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+=-]{0,99}$")


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"scenario name {name!r} must be 1-100 letters, digits, '_', '.', '-', '+' or '=', "
                         "starting with a letter or digit (it names a results folder)")
    return name


ScenarioName = Annotated[str, BeforeValidator(check_name)]


class ScenarioFile(_Frozen):
    """The whole file: an optional base dataset and the named scenarios."""

    base: str | None = None
    description: str | None = None
    scenarios: dict[ScenarioName, ScenarioSpec] = Field(min_length=1)




# ================================================================ reading YAML


@dataclass
class LoadedFile:
    """A parsed, pydantic-validated scenario file with the line of every key."""

    path: Path
    label: str
    spec: ScenarioFile
    lines: dict[tuple, int]

    def line(self, *path: Any) -> int | None:
        """The line of the deepest known prefix of ``path``."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def load_scenario_file(path: str | Path) -> LoadedFile:
    """Read and validate a scenario file; ``InputError`` names the file and the line."""
    path = Path(path)
    label = str(path)
    from optimiser.safeyaml import MAX_SCENARIO_BYTES, read_text

    if not path.exists() and not path.is_symlink():
        raise InputError([Problem(label, None, None, None, "no such scenario file")])
    text = read_text(path, label, MAX_SCENARIO_BYTES, FileProblem)
    data, lines = _compose(text, label)
    if not isinstance(data, dict):
        raise InputError([FileProblem(label, 1, None, None,
                                  "expected a mapping with 'scenarios:' (and optionally 'base:')")])
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        loaded = LoadedFile(path, label, None, lines)  # type: ignore[arg-type]
        groups: dict[tuple, list[dict]] = {}
        for err in exc.errors():
            groups.setdefault(_data_path(tuple(err["loc"]), data), []).append(err)
        problems = []
        for where, errors in groups.items():
            scenario = _scenario_of(where)
            for message in _group_messages(where, errors):
                problems.append(FileProblem(label, loaded.line(*where), ".".join(str(p) for p in where) or None,
                                            None, (f"scenario '{scenario}': " if scenario else "") + message))
        raise InputError(_unique(problems))
    return LoadedFile(path, label, spec, lines)


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _scenario_of(loc: tuple) -> str | None:
    return str(loc[1]) if len(loc) > 1 and loc[0] == "scenarios" else None


def _group_messages(where: tuple, errors: list[dict]) -> list[str]:
    """One clear message per place: a value that fits no form of a union says what is expected."""
    specific = [e for e in errors if e["type"] in ("value_error", "extra_forbidden", "missing")]
    if specific or len(errors) == 1:
        return list(dict.fromkeys(_pydantic_message(e) for e in (specific or errors)))
    if where and where[-1] in ("scale", "add"):
        return [f"{where[-1]} expects a number, a list of numbers (a sweep) or a range {{start, stop, step}}"]
    return list(dict.fromkeys(_pydantic_message(e) for e in errors))[:1]


def _data_path(loc: tuple, data: Any) -> tuple:
    """Map a pydantic error location onto the YAML data's path (scenarios given as a bare list
    gain an 'overrides' step in the model that the file does not have; union members add tags)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        elif part == "overrides" and isinstance(node, list):
            continue
        elif part == "set_":
            out.append("set")
            node = None
        else:
            break
    return tuple(out)


def _pydantic_message(err: dict) -> str:
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


def _compose(text: str, label: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML as plain data with each key's line (``safeyaml.compose``: no aliases, bounded
    depth and size, a key given twice is an error naming both lines)."""
    from optimiser.safeyaml import compose

    return compose(text, label, FileProblem, "scenario files")


# ========================================================== base dataset index


@dataclass
class Base:
    """A base dataset ready for overrides: its raw tables, its keys, and a content fingerprint.

    Built once per batch and sent to each worker once.
    """

    source: str
    raw: RawDataset
    professions: frozenset[str]
    regions: frozenset[str]
    base_year: int
    decision_years: tuple[int, ...]
    national: dict[str, float]  # supervisor_hours_per_wte by profession
    fingerprint: str
    #: table -> [(row index, {key column: normalised value})]
    index: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)


def prepare_base(source: str | Path, raw: RawDataset | None = None) -> Base:
    """Read (unless given) and validate the base dataset once; ``InputError`` if it is invalid."""
    from optimiser.loader import read_raw, validate_raw

    raw = raw if raw is not None else read_raw(source)
    dataset = validate_raw(raw)
    st = dataset.settings
    index = {}
    for name, table in raw.tables.items():
        keys = TABLES[name].key
        index[name] = [(i, {k: _norm_key(k, cells.get(k)) for k in keys}) for i, (_, cells) in enumerate(table.rows)]
    return Base(
        source=raw.source, raw=raw,
        professions=frozenset(dataset.profession), regions=frozenset(dataset.region),
        base_year=st.base_year, decision_years=tuple(st.decision_years),
        national={p.profession: p.supervisor_hours_per_wte for p in dataset.professions},
        fingerprint=raw_fingerprint(raw), index=index,
    )


def raw_fingerprint(raw: RawDataset) -> str:
    """SHA-256 of a dataset's content: every table's header and cells, and the settings."""
    digest = hashlib.sha256()
    for name in sorted(raw.tables):
        table = raw.tables[name]
        digest.update(json.dumps([name, table.columns, [[cells.get(c) for c in table.columns]
                                                        for _, cells in table.rows]]).encode())
    digest.update(json.dumps(raw.settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _norm_key(column: str, text: Any) -> Any:
    if text is None:
        return None
    if column in _YEAR_KEYS:
        try:
            return parse_year(text)
        except ValueError:
            return text
    return str(text).strip()


# ================================================================== resolution


def resolve(spec: OverrideSpec, base: Base, *, layer: str, file: str | None = None,
            line: int | None = None) -> list[Override]:
    """Check ``spec`` against the base dataset; one ``Override`` per value of a sweep.

    Raises ``InputError`` naming the scenario and line for an unknown table,
    column, setting, filter, profession, region or year.
    """
    source = f"{file}, line {line}" if file and line else (file or "command line")
    table, column = spec.target.split(".", 1)
    op = spec.op
    probe = Override(table=table, column=column, op=op, value=None, layer=layer, source=source,
                     file=file, line=line)
    try:
        values = _sweep_values(spec.raw_value, table, column, op)
    except ValueError as exc:
        raise InputError([probe.problem(str(exc), value=_spec_text(spec))]) from None
    probe = probe.model_copy(update={"value": values[0]})
    where = _check_target(probe, spec.where, base, _spec_text(spec))
    return [probe.model_copy(update={"where": where, "value": v}) for v in values]


def is_sweep(spec: OverrideSpec) -> bool:
    """A list of values or a range (except a list-valued setting such as assessed_years)."""
    table, column = spec.target.split(".", 1)
    value = spec.raw_value
    return isinstance(value, RangeSpec) or (
        isinstance(value, list) and not (table == SETTINGS and column in _LIST_SETTINGS))


def _sweep_values(value: Any, table: str, column: str, op: str) -> list[Any]:
    if isinstance(value, RangeSpec):
        return value.values()
    if isinstance(value, list) and not (table == SETTINGS and column in _LIST_SETTINGS):
        if not value:
            raise ValueError("a sweep needs at least one value")
        return list(value)
    return [value]


def _spec_text(spec: OverrideSpec) -> str:
    """The override as written (before its names are checked), for messages."""
    where = ",".join(f"{k}=" + "|".join(_show(v) for v in _as_list(vals)) for k, vals in spec.where.items())
    value = spec.raw_value
    shown = (f"{value.start:g}..{value.stop:g} step {value.step:g}" if isinstance(value, RangeSpec)
             else "|".join(_show(v) for v in value) if isinstance(value, list) else None)
    op_text = ({"scale": "*", "add": "+"}.get(spec.op, "") + shown) if shown is not None else _op_text(spec.op, value)
    return f"{spec.target}{f'[{where}]' if where else ''}={op_text}"


def _check_target(ov: Override, where: dict[str, Any], base: Base,
                  shown: str) -> tuple[tuple[str, tuple[Scalar, ...]], ...]:
    def fail(message: str) -> InputError:
        return InputError([ov.problem(message, value=shown)])

    if ov.table == SETTINGS:
        if ov.column not in Settings.model_fields:
            raise fail(f"unknown setting '{ov.column}'; expected one of {', '.join(Settings.model_fields)}")
        if where:
            raise fail("settings take no filters")
        if ov.op != "set" and ov.column != "time_limit_seconds":
            raise fail(f"settings.{ov.column} can only be set, not scaled or added to")
        return ()
    spec = TABLES.get(ov.table)
    if spec is None:
        raise fail(f"unknown table '{ov.table}'; expected one of {', '.join(TABLES)} or settings")
    if ov.column not in spec.columns:
        raise fail(f"unknown column '{ov.column}' of {ov.table}; expected one of "
                   + ", ".join(c for c in spec.columns if c not in spec.key))
    if ov.column in spec.key:
        raise fail(f"'{ov.column}' is a key column of {ov.table}; overrides change values, not keys")
    if ov.op != "set" and ov.column in _TEXT_COLUMNS:
        raise fail(f"{ov.target} is text; it can be set but not scaled or added to")
    if ov.op in ("scale", "add"):
        for v in _as_list(ov.value):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise fail(f"{ov.op} needs a finite number, not {v!r}")
    regional = (ov.table, ov.column) == REGIONAL_SUPERVISOR_HOURS
    out: list[tuple[str, tuple[Scalar, ...]]] = []
    for key, raw_values in where.items():
        column = _filter_column(ov.table, key)
        if column is None and regional and key == "region":
            column = key
        if column is None:
            if regional and key == "year":
                raise fail("supervisor hours per WTE have no year: a region filter changes the "
                           "supervisor_hours table, whose rows apply to every year")
            if ov.table == "professions" and key in ("region", "year"):
                raise fail(f"{ov.target} is national (one value per profession), so a {key} filter cannot "
                           f"apply; only professions.supervisor_hours_per_wte takes a region filter "
                           "(it changes the supervisor_hours table)")
            keys = ", ".join(dict.fromkeys(k for k in ("profession", "region", "year") + spec.key
                                           if _filter_column(ov.table, k)))
            raise fail(f"{ov.table} cannot be filtered by '{key}'" + (f"; it can be by {keys}" if keys else
                                                                      "; it has no key to filter by"))
        values = tuple(_check_filter_value(ov, column, v, base, fail) for v in _as_list(raw_values))
        if not values:
            raise fail(f"filter '{key}' lists no values")
        if any(c == column for c, _ in out):
            raise fail(f"two filters select {column}")
        out.append((column, tuple(dict.fromkeys(values))))
    return tuple(sorted(out))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _filter_column(table: str, key: str) -> str | None:
    keys = TABLES[table].key
    if key in keys:
        return key
    if key == "profession" and "trainee_profession" in keys:
        return "trainee_profession"
    if key == "year" and "start_year" in keys:
        return "start_year"
    return None


def _check_filter_value(ov: Override, column: str, value: Any, base: Base, fail) -> Scalar:
    if value is None or (isinstance(value, str) and not value.strip()):
        if column == "region" and ov.table in BLANK_REGION_TABLES:
            return None  # national budget rows; lever rows that apply to each region
        raise fail(f"filter '{column}' has a blank value")
    if column in _PROFESSION_KEYS:
        text = str(value).strip()
        if text not in base.professions:
            raise fail(f"unknown profession '{text}'; not in the base dataset's professions")
        return text
    if column == "region":
        text = str(value).strip()
        if text not in base.regions:
            raise fail(f"unknown region '{text}'; not in the base dataset's regions")
        return text
    if column in _YEAR_KEYS:
        try:
            year = parse_year(value)
        except ValueError as exc:
            raise fail(f"filter '{column}': {exc}")
        if column == "start_year":
            if year > base.base_year:
                raise fail(f"unknown start year {format_year(year)}: pipeline cohorts start in or before "
                           f"the base year {format_year(base.base_year)}")
        elif year not in base.decision_years:
            raise fail(f"unknown year {format_year(year)}; the decision years are "
                       f"{format_year(base.decision_years[0])}..{format_year(base.decision_years[-1])}")
        return year
    return str(value).strip()


# ==================================================================== applying


@dataclass
class Applied:
    """The outcome of applying overrides: the edited raw dataset and what changed."""

    raw: RawDataset
    records: list[dict[str, Any]]
    #: (table label, row number, column) -> override that wrote that cell
    cells: dict[tuple[str, int, str], Override]
    settings: dict[str, Override]


@dataclass
class _Edit:
    """The working state of one ``apply_overrides`` call (the base itself is never changed)."""

    base: Base
    tables: dict[str, RawTable]
    settings: dict[str, Any]
    #: the decision years after the settings overrides (what a model-level change without a year covers)
    years: tuple[int, ...] = ()
    copied: set[str] = field(default_factory=set)
    records: dict[int, dict[str, Any]] = field(default_factory=dict)  # by the override's position
    derived: list[dict[str, Any]] = field(default_factory=list)  # settings that follow target_year
    cells: dict[tuple[str, int, str], Override] = field(default_factory=dict)
    settings_by: dict[str, Override] = field(default_factory=dict)
    touched: dict[tuple, Override] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def claim(self, ov: Override, key: tuple) -> bool:
        """Mark ``key`` (one value) changed by ``ov``; a second change in one layer is a clash."""
        earlier = self.touched.get((ov.layer,) + key)
        if earlier is None and key[0] in ("hours", "professions"):
            earlier = _hours_clash(self.touched, ov, key)
        if earlier is not None and earlier is not ov:
            where = f"line {earlier.line}" if earlier.line else earlier.text
            self.problems.append(ov.problem(f"clashes with the override on {where} ({earlier.text}): both change "
                                            f"{_cell_text(key)}; give one override per value"))
            return False
        self.touched[(ov.layer,) + key] = ov
        return True

    def table(self, name: str) -> RawTable:
        """The edited copy of a table (copied on first change; an absent table is added)."""
        table = self.tables.get(name)
        if table is None:
            table = RawTable(name, f"{name} (added by overrides)", list(TABLES[name].columns))
        if name not in self.copied:
            table = RawTable(table.name, table.label, list(table.columns), table.header_row,
                             [(n, dict(c)) for n, c in table.rows])
            self.tables[name] = table
            self.copied.add(name)
        return table


def apply_overrides(base: Base, overrides: list[Override] | tuple[Override, ...]) -> Applied:
    """Apply ``overrides`` in order to a copy of the base dataset (the base is never changed).

    Settings are applied first (they change no table). Raises ``InputError`` for an
    override that matches no row or clashes with an earlier override of the
    same layer, or a regional supervisor hours value that is negative.
    """
    raw = base.raw
    edit = _Edit(base, dict(raw.tables), dict(raw.settings))
    for i, ov in enumerate(overrides):
        if ov.table == SETTINGS:
            _apply_setting(edit, i, ov)
    _follow_target_year(raw.settings, edit.settings, edit.settings_by, edit.derived)
    edit.years = _decision_years(edit.settings, base)
    for i, ov in enumerate(overrides):
        if ov.table == SETTINGS:
            continue
        if ov.regional_hours:
            changes = _apply_hours(ov, edit)
            if changes is not None:
                edit.records[i] = _record(ov, changes)
        else:
            _apply_table(edit, i, ov)
    if edit.problems:
        raise InputError(_unique(edit.problems))
    records = [edit.records[i] for i in sorted(edit.records)] + edit.derived
    edited = RawDataset(raw.source, edit.tables, edit.settings, raw.settings_label, dict(raw.settings_rows))
    return Applied(edited, records, edit.cells, edit.settings_by)


def _apply_setting(edit: _Edit, index: int, ov: Override) -> None:
    if not edit.claim(ov, (SETTINGS, ov.column)):
        return
    old = edit.settings.get(ov.column)
    new = ov.value
    if ov.op != "set":
        base_value = float(old) if old is not None else Settings.model_fields[ov.column].default
        new = _compute(ov, base_value)
    edit.settings[ov.column] = new
    edit.settings_by[ov.column] = ov
    edit.records[index] = _record(ov, [{"from": old, "to": new}])


def _decision_years(settings: dict[str, Any], base: Base) -> tuple[int, ...]:
    """The decision years the (edited) settings give; the base's when they cannot be read
    (validation then reports the setting)."""
    try:
        base_year = parse_year(settings.get("base_year"))
        horizon = settings.get("horizon_end")
        last = parse_year(horizon if horizon is not None else settings.get("target_year"))
    except (ValueError, TypeError):
        return base.decision_years
    return tuple(range(base_year + 1, last + 1)) or base.decision_years


def _apply_table(edit: _Edit, index: int, ov: Override) -> None:
    """A change of the raw table's cells in the rows the filters select."""
    if ov.table not in edit.tables:
        edit.problems.append(ov.problem(f"the base dataset has no {ov.table} table, so there is nothing to change"))
        return
    table = edit.table(ov.table)
    if ov.column not in table.columns:
        table.columns.append(ov.column)  # an optional column the file leaves out
    filters = ov.filters
    matched, changes = 0, []
    for i, keys in edit.base.index.get(ov.table, ()):
        if not all(keys.get(col) in allowed for col, allowed in filters.items()):
            continue
        matched += 1
        number, row = table.rows[i]
        if not edit.claim(ov, (ov.table, _row_key(ov.table, keys), ov.column)):
            break
        old = row.get(ov.column)
        if ov.op == "set":
            new = _text(ov.value)
        elif old is None:
            continue  # blank = no limit; scaling or adding leaves it blank
        else:
            try:
                new = _text(_round(_compute(ov, float(old))))
            except ValueError:
                edit.problems.append(ov.problem(f"{table.label} row {number} has {old!r} in {ov.column}, "
                                                "which is not a number"))
                break
        row[ov.column] = new
        edit.cells[(table.label, number, ov.column)] = ov
        changes.append({"row": number, "key": _row_key(ov.table, keys), "from": old, "to": new})
    if not matched:
        edit.problems.append(ov.problem(f"matches no row of {table.label}" + (
            " (filters: " + ", ".join(f"{k}={'|'.join(_show(v) for v in vals)}" for k, vals in ov.where) + ")"
            if ov.where else "")))
        return
    edit.records[index] = _record(ov, changes)


def _row_key(table: str, keys: dict[str, Any]) -> str:
    return "/".join(_show(keys[k]) for k in TABLES[table].key if keys.get(k) is not None) or "national"


def _cell_text(key: tuple) -> str:
    if key[0] == SETTINGS:
        return f"settings.{key[1]}"
    if key[0] == "hours":
        return f"supervisor_hours_per_wte of {key[1]} in {key[2]}"
    return f"{key[0]}.{key[2]} of {key[1]}"


def _compute(ov: Override, old: float) -> float:
    if ov.op == "scale":
        return old * float(ov.value)
    if ov.op == "add":
        return old + float(ov.value)
    return float(ov.value)


def _text(value: Any) -> str | None:
    """A value as the text a CSV cell would hold (what the loader validates)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value).strip() or None


def _record(ov: Override, changes: list[dict]) -> dict[str, Any]:
    record = {"scenario": None if ov.layer == "command line" else ov.layer, "source": ov.source,
              "override": ov.text, "target": ov.target,
              "where": {k: list(v) for k, v in ov.where}, "op": ov.op, "value": ov.value,
              "values_changed": len(changes), "changes": changes[:MAX_LISTED_CHANGES]}
    if ov.regional_hours:
        record["applied_to"] = "supervisor_hours table (rows of the selected professions and regions)"
    return record


def _apply_hours(ov: Override, edit: _Edit) -> list | None:
    """Regional supervisor hours: edit the ``supervisor_hours`` row of each selected
    (profession, region), adding it, from the national value, where the table has none."""
    base = edit.base
    filters = ov.filters
    professions = filters.get("profession") or tuple(sorted(base.professions))
    regions = filters.get("region") or tuple(sorted(base.regions))
    national = _current_national(edit.tables, base)
    table = edit.table(HOURS_TABLE)
    for column in TABLES[HOURS_TABLE].columns:
        if column not in table.columns:
            table.columns.append(column)
    rows = {(str(cells.get("profession") or "").strip(), str(cells.get("region") or "").strip()): (number, cells)
            for number, cells in table.rows}
    changes = []
    for q in professions:
        for r in regions:
            if not edit.claim(ov, ("hours", q, r)):
                return None
            found = rows.get((q, r))
            if found is None:
                number = max((n for n, _ in table.rows), default=table.header_row) + 1
                found = rows[(q, r)] = (number, {"profession": q, "region": r, HOURS_COLUMN: None})
                table.rows.append(found)
                old = national[q]
            else:
                try:
                    old = float(found[1].get(HOURS_COLUMN))
                except (TypeError, ValueError):
                    edit.problems.append(ov.problem(f"{table.label} row {found[0]} has {found[1].get(HOURS_COLUMN)!r} "
                                                    f"in {HOURS_COLUMN}, which is not a number"))
                    return None
            new = _compute(ov, old)
            if not math.isfinite(new) or new < 0:
                edit.problems.append(ov.problem(f"gives {q} supervisor hours per WTE of {new:g} in {r}; "
                                                "it must be a number >= 0"))
                return None
            number, cells = found
            cells[HOURS_COLUMN] = _text(_round(new))
            edit.cells[(table.label, number, HOURS_COLUMN)] = ov
            changes.append({"row": number, "key": f"{q}/{r}", "from": old, "to": new})
    return changes


def _hours_clash(touched: dict[tuple, Override], ov: Override, key: tuple) -> Override | None:
    """A national and a regional change of one profession's supervisor hours, in one layer, clash."""
    hours_column = REGIONAL_SUPERVISOR_HOURS[1]
    if key[0] == "hours":  # regional (q, r, t): clashes with q's national value
        return touched.get((ov.layer, "professions", key[1], hours_column))
    if key[2] != hours_column:
        return None
    return next((o for k, o in touched.items()
                 if k[0] == ov.layer and k[1] == "hours" and k[2] == key[1]), None)


def _current_national(tables: dict[str, RawTable], base: Base) -> dict[str, float]:
    table = tables["professions"]
    out = dict(base.national)
    for _, row in table.rows:
        try:
            out[str(row.get("profession")).strip()] = float(row.get(REGIONAL_SUPERVISOR_HOURS[1]))
        except (TypeError, ValueError):
            pass
    return out


def _follow_target_year(base_settings: dict, settings: dict, by: dict[str, Override], records: list) -> None:
    """A new target_year brings assessed_years and horizon_end along when the base ties them to it.

    Only when the scenario leaves them alone: where the base has ``assessed_years:
    [target_year]`` it follows; where the new target lies beyond the base's horizon
    (``horizon_end``, default ``target_year``), ``horizon_end`` moves up to it; and
    where a lower target would shorten a horizon the base leaves to default,
    ``horizon_end`` keeps the base's horizon (so the base's rows stay valid).
    """
    if "target_year" not in by:
        return
    try:
        old_target = parse_year(base_settings.get("target_year"))
        new_target = parse_year(settings.get("target_year"))
    except (ValueError, TypeError):
        return
    ov = by["target_year"]
    if "assessed_years" not in by:
        assessed = base_settings.get("assessed_years")
        try:
            tied = assessed is not None and [parse_year(y) for y in assessed] == [old_target]
        except (ValueError, TypeError):
            tied = False
        if tied:
            settings["assessed_years"] = [new_target]
            records.append({**_record(ov, [{"from": assessed, "to": [new_target]}]),
                            "target": "settings.assessed_years", "derived": "follows target_year"})
    if "horizon_end" not in by:
        given = base_settings.get("horizon_end")
        try:
            horizon = parse_year(given if given is not None else old_target)
        except (ValueError, TypeError):
            return
        if (given is not None and new_target > horizon) or (given is None and new_target < horizon):
            settings["horizon_end"] = max(new_target, horizon)
            records.append({**_record(ov, [{"from": given, "to": settings["horizon_end"]}]),
                            "target": "settings.horizon_end", "derived": "follows target_year"
                            if new_target > horizon else "keeps the base's horizon"})


def explain_input_error(exc: InputError, applied: Applied, case_name: str | None) -> InputError:
    """Re-word validation problems of an edited dataset: name the override that wrote the value."""
    out = []
    for p in exc.problems:
        ov = applied.cells.get((p.file, p.row, p.column)) if p.row is not None and p.column else None
        if ov is None and p.file == applied.raw.settings_label and p.column in applied.settings:
            ov = applied.settings[p.column]
        if ov is not None:
            where = f"{p.file} row {p.row}, column '{p.column}'" if ov.table != SETTINGS else f"settings.{p.column}"
            out.append(ov.problem(f"makes {where} invalid: {p.message}", value=p.value))
        else:
            scenario = f" (scenario '{case_name}', after its overrides)" if case_name else " (after the overrides)"
            out.append(Problem(p.file, p.row, p.column, p.value, p.message + scenario))
    return InputError(out)


# =================================================================== scenarios


@dataclass(frozen=True)
class Case:
    """One solve of a batch: a scenario, or one point of a scenario's sweep."""

    name: str
    scenario: str
    description: str | None
    overrides: tuple[Override, ...]
    #: The positions in ``overrides`` of the values swept (one per sweep of the scenario).
    swept: tuple[int, ...] = ()


def expand(loaded: LoadedFile, base: Base, cli: list[Override] | tuple[Override, ...] = (),
           only: str | None = None) -> list[Case]:
    """Every case of the file, in file order: sweeps expanded to the product of their values.

    Each scenario's overrides (and the command line's, last) are checked against
    the base now (unknown names, no matching row, clashes), so a batch refuses a
    broken file before solving anything.
    """
    problems: list[Problem] = []
    cases: list[Case] = []
    for name, scenario in loaded.spec.scenarios.items():
        if only is not None and name != only:
            continue
        try:
            cases += _expand_one(loaded, base, name, scenario, tuple(cli), room=MAX_CASES - len(cases))
        except InputError as exc:
            problems += exc.problems
    seen: dict[str, str] = {}
    for case in cases:
        lowered = case.name.lower()
        if lowered in seen:
            problems.append(FileProblem(loaded.label, loaded.line("scenarios", case.scenario), None, case.name,
                                    f"scenario '{case.scenario}': case name '{case.name}' is also produced by "
                                    f"scenario '{seen[lowered]}' (names are folder names, compared ignoring case)"))
        seen[lowered] = case.scenario
    if len(cases) > MAX_CASES:
        problems.append(Problem(loaded.label, None, None, None, f"expands to {len(cases)} cases; at most {MAX_CASES}"))
    if problems:
        raise InputError(_unique(problems))
    return cases


def _expand_one(loaded: LoadedFile, base: Base, name: str, scenario: ScenarioSpec,
                cli: tuple[Override, ...], room: int = MAX_CASES) -> list[Case]:
    """The cases of one scenario; ``InputError`` when there would be more than ``room`` (counted
    before any case is made)."""
    file = loaded.label
    groups: list[list[Override]] = []
    labels: list[str | None] = []
    sweeps: list[bool] = []
    problems: list[Problem] = []
    for key, value in scenario.settings.items():
        line = loaded.line("scenarios", name, "settings", key)
        spec = _setting_spec(key, value, file, line, name, problems)
        if spec is None:
            continue
        try:
            groups.append(resolve(spec, base, layer=name, file=file, line=line))
            labels.append(key)
            sweeps.append(is_sweep(spec))
        except InputError as exc:
            problems += exc.problems
    for i, spec in enumerate(scenario.overrides):
        line = (loaded.lines.get(("scenarios", name, "overrides", i))
                or loaded.line("scenarios", name, i))
        try:
            groups.append(resolve(spec, base, layer=name, file=file, line=line))
            labels.append(spec.label)
            sweeps.append(is_sweep(spec))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    count = math.prod(len(g) for g in groups)
    if count > room:
        raise InputError([FileProblem(file, loaded.line("scenarios", name), None, None,
                                      f"scenario '{name}' expands to {count:,} cases; at most {MAX_CASES:,} cases "
                                      "in all")])
    sweeping = [i for i, flag in enumerate(sweeps) if flag]
    names = _sweep_labels([groups[i][0] for i in sweeping], [labels[i] for i in sweeping], name, loaded)
    # Structure (names, matches, clashes) is the same for every point of a sweep: check the first.
    apply_overrides(base, tuple(g[0] for g in groups) + cli)
    cases = []
    for combo in itertools.product(*groups):
        parts = [f"{names[k]}={_value_label(combo[i])}" for k, i in enumerate(sweeping)]
        case = "--".join([name] + parts) if parts else name
        cases.append(Case(_folder_safe(case), name, scenario.description, tuple(combo) + cli, tuple(sweeping)))
    return cases


def _setting_spec(key: Any, value: Any, file: str, line: int | None, scenario: str,
                  problems: list[Problem]) -> OverrideSpec | None:
    """One entry of a scenario's ``settings:`` as an override (a located problem if it cannot be)."""
    def problem(message: str) -> None:
        problems.append(FileProblem(file, line, None, str(key), f"scenario '{scenario}': {message}"))

    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_]\w*", key):
        problem(f"unknown setting '{key}'; expected one of {', '.join(Settings.model_fields)}")
        return None
    try:
        return OverrideSpec.model_validate({"target": f"{SETTINGS}.{key}", "set": value})
    except ValidationError as exc:
        problem(f"settings.{key}: " + "; ".join(dict.fromkeys(_pydantic_message(e) for e in exc.errors())))
        return None


def _sweep_labels(first: list[Override], given: list[str | None], scenario: str, loaded: LoadedFile) -> list[str]:
    labels = [g or ov.column for ov, g in zip(first, given)]
    counts = {lab: labels.count(lab) for lab in labels}
    out = []
    for ov, g, lab in zip(first, given, labels):
        if counts[lab] > 1 and g is None:
            lab = lab + "@" + "_".join(_show(v) for _, vals in ov.where for v in vals)
        out.append(lab)
    if len(set(out)) != len(out):
        raise InputError([first[0].problem("two sweeps of this scenario would name their cases alike; "
                                           "give each a distinct 'label:'")])
    return out


def _value_label(ov: Override) -> str:
    if ov.op == "scale":
        return f"x{ov.value:g}"
    if ov.op == "add":
        return f"{ov.value:+g}"
    if isinstance(ov.value, float):
        return f"{ov.value:g}"
    return _show(ov.value) if not isinstance(ov.value, (list, dict)) else json.dumps(ov.value)


def _folder_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+=@-]", "_", name)[:200]


def cli_overrides(texts: list[str] | tuple[str, ...], base: Base) -> list[Override]:
    """``--set`` options, in order (single values only; sweeps belong in a scenario file)."""
    out: list[Override] = []
    problems: list[Problem] = []
    for text in texts:
        try:
            spec = OverrideSpec.model_validate(text)
        except ValidationError as exc:
            problems.append(Problem("command line (--set)", None, None, text,
                                    "; ".join(_pydantic_message(e) for e in exc.errors())))
            continue
        try:
            resolved = resolve(spec, base, layer="command line")
        except InputError as exc:
            problems += exc.problems
            continue
        if len(resolved) != 1:
            problems.append(Problem("command line (--set)", None, None, text,
                                    "a --set override takes one value; put sweeps in a scenario file"))
            continue
        out += resolved
    if problems:
        raise InputError(problems)
    return out


def resolve_base_path(loaded: LoadedFile, given: str | Path | None,
                      roots: list[str | Path] | tuple[str | Path, ...] = ()) -> Path:
    """The base dataset of a scenario file: the command line's, else the file's ``base:``.

    A ``base:`` is resolved against the scenario file's folder and must lie
    inside it, or inside one of ``roots`` (folders the user named with
    ``--data-root``): no ``..`` escapes, no absolute paths or symbolic links
    leading elsewhere.
    """
    if given is not None:
        return Path(given)
    if loaded.spec.base is None:
        raise InputError([Problem(loaded.label, None, "base", None,
                                  "names no base dataset; add 'base: FOLDER' or give --base DATASET")])
    folder = loaded.path.resolve().parent
    candidate = (folder / loaded.spec.base).resolve()
    allowed = [folder] + [Path(r).resolve() for r in roots]
    if not any(candidate == root or root in candidate.parents for root in allowed):
        raise InputError([FileProblem(loaded.label, loaded.line("base"), "base", loaded.spec.base,
                                  f"the base dataset must be inside the scenario file's folder ({folder})"
                                  + (" or a --data-root folder" if roots else "")
                                  + "; give --data-root FOLDER to allow another folder, or --base DATASET")])
    return candidate


def fingerprint(case: Case, base: Base, options: dict[str, Any]) -> str:
    """What makes a result current: base content, the case's overrides (what they do, not where
    they are written) and the solve options. A changed scenario gets a new fingerprint."""
    payload = {"format": 1, "base": base.fingerprint, "options": options,
               "overrides": [o.identity() for o in case.overrides]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]

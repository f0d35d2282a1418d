"""Resolving an override as written into ``Override`` objects: checking its target and filters
against the base, and expanding a sweep into its values.
"""

from __future__ import annotations

import math
from typing import Any

from models.inputs import TABLES, Settings
from optimiser.errors import InputError
from optimiser.years import format_year, parse_year
from optimiser.scenarios.overrides import BLANK_REGION_TABLES, Override, REGIONAL_SUPERVISOR_HOURS, SETTINGS, Scalar, LIST_SETTINGS, PROFESSION_KEYS, TEXT_COLUMNS, YEAR_KEYS, op_text, show_value
from optimiser.scenarios.schema import OverrideSpec, RangeSpec
from optimiser.scenarios.base import Base


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
        isinstance(value, list) and not (table == SETTINGS and column in LIST_SETTINGS))


def _sweep_values(value: Any, table: str, column: str, op: str) -> list[Any]:
    if isinstance(value, RangeSpec):
        return value.values()
    if isinstance(value, list) and not (table == SETTINGS and column in LIST_SETTINGS):
        if not value:
            raise ValueError("a sweep needs at least one value")
        return list(value)
    return [value]


def _spec_text(spec: OverrideSpec) -> str:
    """The override as written (before its names are checked), for messages."""
    where = ",".join(f"{k}=" + "|".join(show_value(v) for v in _as_list(vals)) for k, vals in spec.where.items())
    value = spec.raw_value
    shown = (f"{value.start:g}..{value.stop:g} step {value.step:g}" if isinstance(value, RangeSpec)
             else "|".join(show_value(v) for v in value) if isinstance(value, list) else None)
    written = ({"scale": "*", "add": "+"}.get(spec.op, "") + shown) if shown is not None else op_text(spec.op, value)
    return f"{spec.target}{f'[{where}]' if where else ''}={written}"


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
    if ov.op != "set" and ov.column in TEXT_COLUMNS:
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
    if column in PROFESSION_KEYS:
        text = str(value).strip()
        if text not in base.professions:
            raise fail(f"unknown profession '{text}'; not in the base dataset's professions")
        return text
    if column == "region":
        text = str(value).strip()
        if text not in base.regions:
            raise fail(f"unknown region '{text}'; not in the base dataset's regions")
        return text
    if column in YEAR_KEYS:
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

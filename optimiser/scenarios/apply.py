"""Applying overrides to a base's raw tables (copies; the base is never changed), recording
what each changed, and naming the override behind an input error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from models.inputs import TABLES, Settings
from optimiser.errors import InputError, Problem
from optimiser.rawdata import RawDataset, RawTable
from optimiser.years import parse_year
from optimiser.scenarios.overrides import HOURS_COLUMN, HOURS_TABLE, MAX_LISTED_CHANGES, Override, REGIONAL_SUPERVISOR_HOURS, SETTINGS, show_value, unique_problems
from optimiser.scenarios.schema import round_value
from optimiser.scenarios.base import Base


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
        raise InputError(unique_problems(edit.problems))
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
                new = _text(round_value(_compute(ov, float(old))))
            except ValueError:
                edit.problems.append(ov.problem(f"{table.label} row {number} has {old!r} in {ov.column}, "
                                                "which is not a number"))
                break
        row[ov.column] = new
        edit.cells[(table.label, number, ov.column)] = ov
        changes.append({"row": number, "key": _row_key(ov.table, keys), "from": old, "to": new})
    if not matched:
        edit.problems.append(ov.problem(f"matches no row of {table.label}" + (
            " (filters: " + ", ".join(f"{k}={'|'.join(show_value(v) for v in vals)}" for k, vals in ov.where) + ")"
            if ov.where else "")))
        return
    edit.records[index] = _record(ov, changes)


def _row_key(table: str, keys: dict[str, Any]) -> str:
    return "/".join(show_value(keys[k]) for k in TABLES[table].key if keys.get(k) is not None) or "national"


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
            cells[HOURS_COLUMN] = _text(round_value(new))
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

"""Read a dataset (a folder of CSV files or one ``.xlsx`` workbook) into validated models.

The pipeline is: read raw text tables -> validate each row with its pydantic
model -> cross-table checks (``optimiser.validate``) -> ``models.Dataset``.
Every problem found is collected and raised at once as ``InputError``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from models.inputs import TABLES, Dataset, Settings, TableSpec
from optimiser.errors import InputError, Problem
from optimiser.gcpause import without_gc

SETTINGS_FILE = "settings.yaml"
SETTINGS_SHEET = "settings"


@dataclass
class RawTable:
    """The text of one table: its label for messages (file or sheet), header, and rows.

    ``rows`` holds ``(row_number, {column: text or None})`` for every non-blank row.
    """

    name: str
    label: str
    columns: list[str]
    header_row: int = 1
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class RawDataset:
    """A dataset before validation: what scenario overrides edit."""

    source: str
    tables: dict[str, RawTable]
    settings: dict[str, Any]
    settings_label: str
    settings_rows: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------- reading


def _clean(value: Any) -> Any:
    """Blank cells become ``None``; text is stripped; workbook numbers become text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)
    text = str(value).strip()
    return text or None


def _read_csv(path: Path, name: str) -> tuple[RawTable | None, list[Problem]]:
    label = path.name
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or not any(h.strip() for h in header):
                return None, [
                    Problem(
                        label, None, None, None,
                        "the file is empty; expected a header row with columns "
                        + ", ".join(TABLES[name].columns),
                    )
                ]
            table = RawTable(name, label, [h.strip() for h in header])
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) == len(table.columns):  # the usual case: ``_row_dict`` of text cells, inlined
                    row = {col: cell.strip() or None for col, cell in zip(table.columns, cells)}
                else:
                    row = _row_dict(table.columns, cells)
                table.rows.append((reader.line_num, row))
    except UnicodeDecodeError as exc:
        return None, [Problem(label, None, None, None, f"is not UTF-8 text ({exc.reason})")]
    except csv.Error as exc:
        return None, [Problem(label, None, None, None, f"is not a valid CSV file: {exc}")]
    return table, []


def _row_dict(columns: list[str], cells: list[Any]) -> dict[str, Any]:
    row = {col: _clean(cells[i]) if i < len(cells) else None for i, col in enumerate(columns)}
    if len(cells) > len(columns) and any(_clean(c) is not None for c in cells[len(columns):]):
        row["\0extra"] = [c for c in cells[len(columns):] if _clean(c) is not None]
    return row


@without_gc
def read_raw(path: str | Path) -> RawDataset:
    """Read a dataset's text without validating values; raises ``InputError``."""
    path = Path(path).absolute()  # recorded in results, so reports can find it from anywhere
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") and path.is_file():
        return _read_workbook(path)
    if not path.exists():
        raise InputError([Problem(str(path), None, None, None, "no such file or folder")])
    raise InputError(
        [Problem(str(path), None, None, None, "expected a folder of CSV files or an .xlsx workbook")]
    )


def _read_folder(folder: Path) -> RawDataset:
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    for name, spec in TABLES.items():
        path = folder / f"{name}.csv"
        if not path.exists():
            if spec.required:
                problems.append(Problem(path.name, None, None, None, "required table is missing"))
            continue
        table, found = _read_csv(path, name)
        problems += found
        if table is not None:
            tables[name] = table
    settings_path = folder / SETTINGS_FILE
    settings: dict[str, Any] = {}
    if not settings_path.exists():
        problems.append(Problem(SETTINGS_FILE, None, None, None, "required settings file is missing"))
    else:
        settings, found = _read_settings_yaml(settings_path)
        problems += found
    if problems:
        raise InputError(problems)
    return RawDataset(str(folder), tables, settings, SETTINGS_FILE)


def _read_settings_yaml(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return {}, [Problem(path.name, row, None, None, f"is not valid YAML: {reason}")]
    except UnicodeDecodeError as exc:
        return {}, [Problem(path.name, None, None, None, f"is not UTF-8 text ({exc.reason})")]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return {}, [Problem(path.name, None, None, None, "expected key: value lines (a YAML mapping)")]
    return data, []


def _read_workbook(path: Path) -> RawDataset:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputError([Problem(path.name, None, None, None, f"cannot be opened as a workbook: {exc}")])
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    sheets = {name.strip().lower(): name for name in book.sheetnames}
    known = set(TABLES) | {SETTINGS_SHEET}
    for lowered, actual in sheets.items():
        if lowered not in known:
            problems.append(
                Problem(f"{path.name} [sheet {actual}]", None, None, None,
                        "unknown sheet; expected sheets: " + ", ".join(sorted(known)))
            )
    for name, spec in TABLES.items():
        if name not in sheets:
            if spec.required:
                problems.append(Problem(f"{path.name} [sheet {name}]", None, None, None,
                                        "required sheet is missing"))
            continue
        sheet = book[sheets[name]]
        label = f"{path.name} [sheet {name}]"
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or not any(_clean(h) for h in header):
            problems.append(Problem(label, None, None, None, "the sheet is empty; expected a header row with columns "
                                    + ", ".join(spec.columns)))
            continue
        columns = [(_clean(h) or "") for h in header]
        while columns and columns[-1] == "":
            columns.pop()
        table = RawTable(name, label, columns)
        for number, cells in enumerate(rows, start=2):
            if not any(_clean(c) is not None for c in cells):
                continue
            table.rows.append((number, _row_dict(columns, list(cells))))
        tables[name] = table
    settings: dict[str, Any] = {}
    settings_rows: dict[str, int] = {}
    label = f"{path.name} [sheet {SETTINGS_SHEET}]"
    if SETTINGS_SHEET not in sheets:
        problems.append(Problem(label, None, None, None, "required sheet is missing"))
    else:
        for number, cells in enumerate(book[sheets[SETTINGS_SHEET]].iter_rows(values_only=True), start=1):
            key = _clean(cells[0]) if cells else None
            if key is None or (number == 1 and key.lower() == "key"):
                continue
            raw = cells[1] if len(cells) > 1 else None
            if isinstance(raw, str):
                try:
                    raw = yaml.safe_load(raw)
                except yaml.YAMLError:
                    problems.append(Problem(label, number, "value", raw, "is not a valid value"))
                    continue
            settings[key] = raw
            settings_rows[key] = number
    book.close()
    if problems:
        raise InputError(problems)
    return RawDataset(str(path), tables, settings, label, settings_rows)


# ------------------------------------------------------------------ validation


def _friendly(err: dict[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "a value is required"
    if kind in ("float_parsing", "float_type"):
        return "expected a number"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return "expected a whole number"
    if kind == "greater_than_equal":
        return f"must be >= {ctx.get('ge')}"
    if kind == "greater_than":
        return f"must be > {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"must be <= {ctx.get('le')}"
    if kind == "bool_parsing":
        return "expected true or false"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch" or kind == "string_too_short":
        return "expected a non-blank name without leading or trailing spaces"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"]


def validation_problems(
    exc: ValidationError, label: str, row: int | None, cells: dict[str, Any]
) -> list[Problem]:
    """Turn a pydantic error into problems naming the file, row and column."""
    out = []
    for err in exc.errors():
        column = str(err["loc"][0]) if err["loc"] else None
        value = cells.get(column) if column else None
        out.append(Problem(label, row, column, None if value is None else str(value), _friendly(err)))
    return out


def _validate_table(table: RawTable, spec: TableSpec) -> tuple[list[BaseModel], list[int], list[Problem]]:
    """Validate the header, then every row with the columns that can be read."""
    problems: list[Problem] = []
    expected = ", ".join(spec.columns)
    seen: set[str] = set()
    for column in table.columns:
        if column == "":
            problems.append(Problem(table.label, table.header_row, None, None, f"a column has no name; expected columns: {expected}"))
        elif column in seen:
            problems.append(Problem(table.label, table.header_row, column, None, "column appears twice"))
        elif column not in spec.columns:
            problems.append(Problem(table.label, table.header_row, column, None, f"unknown column; expected columns: {expected}"))
        seen.add(column)
    missing = [c for c in spec.required_columns if c not in table.columns]
    for column in missing:
        problems.append(Problem(table.label, table.header_row, column, None, f"required column is missing; expected columns: {expected}"))
    readable = [c for c in dict.fromkeys(table.columns) if c in spec.columns]
    rows: list[BaseModel] = []
    numbers: list[int] = []
    for number, cells in table.rows:
        if "\0extra" in cells:
            problems.append(Problem(table.label, number, None, ", ".join(cells["\0extra"]),
                                    f"more cells than the {len(table.columns)} columns of the header"))
            continue
        data = {k: cells[k] for k in readable if cells.get(k) is not None}
        try:
            rows.append(spec.row.model_validate(data))
            numbers.append(number)
        except ValidationError as exc:
            problems += [p for p in validation_problems(exc, table.label, number, cells) if p.column not in missing]
    return rows, numbers, problems


@without_gc
def validate_raw(raw: RawDataset, *, known=None) -> Dataset:
    """Validate a raw dataset; raises ``InputError`` with every problem found.

    ``known`` (a ``reuse.ValidatedTables``): tables validated before, re-used when ``raw``
    holds the very same ``RawTable``; the tables validated now are added to it. The
    checks across tables always run.
    """
    from optimiser.validate import cross_check

    problems: list[Problem] = []
    rows: dict[str, list[BaseModel]] = {}
    numbers: dict[str, list[int]] = {}
    for name, spec in TABLES.items():
        table = raw.tables.get(name)
        if table is None:
            rows[name], numbers[name] = [], []
            continue
        validated = known.get(name, table) if known is not None else None
        if validated is None:
            validated = _validate_table(table, spec)
            if known is not None:
                known.put(name, table, validated)
        rows[name], numbers[name], found = validated
        problems += found
    settings = None
    try:
        settings = Settings.model_validate(raw.settings)
    except ValidationError as exc:
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else None
            problems.append(Problem(raw.settings_label, raw.settings_rows.get(key) if key else None,
                                    key, None if key is None else _short(raw.settings.get(key)),
                                    _friendly(err)))
    if settings is not None and not problems:
        labels = {name: t.label for name, t in raw.tables.items()}
        problems += cross_check(settings, rows, numbers, labels)
    if problems:
        raise InputError(problems)
    return Dataset(source=raw.source, settings=settings, **{k: tuple(v) for k, v in rows.items()})


def _short(value: Any) -> str | None:
    return None if value is None else str(value)[:80]


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate a dataset folder or workbook; raises ``InputError``."""
    return validate_raw(read_raw(path))

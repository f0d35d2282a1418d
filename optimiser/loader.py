"""Read a dataset (a folder of CSV files or one ``.xlsx`` workbook) into validated models.

The pipeline is: read raw text tables -> validate each row with its pydantic
model -> cross-table checks (``optimiser.validate``) -> ``models.Dataset``.
Every problem found is collected and raised at once as ``InputError``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from models.inputs import TABLES, Dataset, Settings, TableSpec
from optimiser import tablefiles
from optimiser.errors import InputError, LineProblem, Problem
from optimiser.gcpause import without_gc
from optimiser.rawdata import SETTINGS_FILE, RawDataset, RawTable, clean_cell, short_text

def _read_csv(path: Path, name: str) -> tuple[RawTable | None, list[Problem]]:
    label = path.name
    problem = tablefiles.file_problem(path, label, tablefiles.MAX_CSV_BYTES)
    if problem is not None:
        return None, [problem]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(label, None, None, None, f"cannot be read ({exc.strerror or exc})")]
    text, problem = tablefiles.decode(data, label)
    if problem is None:
        problem = tablefiles.unclosed_quote(text, label)
    if problem is not None:
        return None, [problem]
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
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
        hint = tablefiles.delimiter_hint(table.columns)
        if hint:
            return None, [Problem(label, 1, None, None, "the header has one column" + hint)]
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) == len(table.columns):  # the usual case: ``_row_dict`` of text cells, inlined
                row = {col: cell.strip() or None for col, cell in zip(table.columns, cells)}
            else:
                row = _row_dict(table.columns, cells)
            table.rows.append((reader.line_num, row))
    except csv.Error as exc:
        return None, [Problem(label, reader.line_num or None, None, None, f"is not a valid CSV file: {exc}")]
    return table, []


def _row_dict(columns: list[str], cells: list[Any]) -> dict[str, Any]:
    row = {col: clean_cell(cells[i]) if i < len(cells) else None for i, col in enumerate(columns)}
    if len(cells) > len(columns) and any(clean_cell(c) is not None for c in cells[len(columns):]):
        row["\0extra"] = [c for c in cells[len(columns):] if clean_cell(c) is not None]
    return row


@without_gc
def read_raw(path: str | Path) -> RawDataset:
    """Read a dataset's text without validating values; raises ``InputError``."""
    path = Path(path).absolute()  # recorded in results, so reports can find it from anywhere
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") and path.is_file():
        from optimiser.bookreader import read_workbook

        return read_workbook(path)
    if not path.exists():
        raise InputError([Problem(str(path), None, None, None, "no such file or folder")])
    raise InputError([Problem(str(path), None, None, None, _not_a_dataset(path))])


def _not_a_dataset(path: Path) -> str:
    """Why ``path`` (a file) is not read as a dataset, and what to give instead."""
    suffix = path.suffix.lower()
    if suffix in (".ods", ".fods"):
        return ("is an OpenDocument spreadsheet, which is not read (its cells' saved values are not "
                "reliable across programs); save it as an Excel workbook (.xlsx) and give that")
    if suffix in (".xls", ".xlsb"):
        return f"is an older Excel format ({suffix}); save it as an Excel workbook (.xlsx) and give that"
    if suffix == ".csv":
        return ("is one CSV file; expected a folder of CSV files (professions.csv, regions.csv, ...) "
                "with settings.yaml, or an .xlsx workbook")
    return "expected a folder of CSV files or an .xlsx workbook"


def _read_folder(folder: Path) -> RawDataset:
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    problems += _misnamed(folder)
    for name, spec in TABLES.items():
        path = folder / f"{name}.csv"
        if not tablefiles.present(path):  # a dangling link is present: an error, not an absent table
            if spec.required:
                problems.append(Problem(path.name, None, None, None, "required table is missing"))
            continue
        table, found = _read_csv(path, name)
        problems += found
        if table is not None:
            tables[name] = table
    settings_path = folder / SETTINGS_FILE
    settings: dict[str, Any] = {}
    rows: dict[str, int] = {}
    if not tablefiles.present(settings_path):
        problems.append(Problem(SETTINGS_FILE, None, None, None, "required settings file is missing"))
    else:
        settings, rows, found = _read_settings_yaml(settings_path)
        problems += found
    if problems:
        raise InputError(problems)
    return RawDataset(str(folder), tables, settings, SETTINGS_FILE, rows)


def _misnamed(folder: Path) -> list[Problem]:
    """Files that would be a table or the settings but for the case of their name (``Budget.CSV``):
    on a case-sensitive disk they would silently not be read."""
    expected = {f"{name}.csv" for name in TABLES} | {SETTINGS_FILE}
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError as exc:
        return [Problem(str(folder), None, None, None, f"cannot be read ({exc.strerror or exc})")]
    present = set(names)
    return [Problem(n, None, None, None, f"is the same table as {n.lower()} but for the case of its name; "
                    "keep one of them") if n.lower() in present else
            Problem(n, None, None, None, f"is not read: the file must be named {n.lower()} (lower case)")
            for n in sorted(names) if n not in expected and n.lower() in expected]


def _read_settings_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int], list[Problem]]:
    """``settings.yaml`` as plain data (``safeyaml``: bounded, no aliases, a key given twice is an
    error naming both lines) and the line of each key."""
    from optimiser.safeyaml import MAX_SETTINGS_BYTES, compose

    problem = tablefiles.file_problem(path, path.name, MAX_SETTINGS_BYTES)
    if problem is not None:
        return {}, {}, [problem]
    try:
        data, problem = tablefiles.decode(path.read_bytes(), path.name)
        if problem is not None:
            return {}, {}, [problem]
        data, lines = compose(data, path.name, LineProblem, SETTINGS_FILE)
    except InputError as exc:
        return {}, {}, exc.problems
    except OSError as exc:
        return {}, {}, [Problem(path.name, None, None, None, f"cannot be read ({exc.strerror or exc})")]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return {}, {}, [LineProblem(path.name, None, None, None, "expected key: value lines (a YAML mapping)")]
    rows = {key: lines[(key,)] for key in data if isinstance(key, str) and (key,) in lines}
    return data, rows, []


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
        out.append(Problem(label, row, column, None if value is None else str(value), _friendly(err) + _hint(value)))
    return out


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")


def _hint(value: Any) -> str:
    """What a value that failed probably is: an Excel date, a year with an en dash."""
    if not isinstance(value, str):
        return ""
    if _DATE.fullmatch(value):
        return ("; the cell holds a date (Excel turned what was typed into one): format the column as Text "
                "and type the number, or the year as 2021 or 2021/22")
    if "\u2013" in value or "\u2014" in value:
        return "; it holds a dash (\u2013) that is not a hyphen: write 2021/22 or 2021-22"
    return ""


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
    from optimiser.bounds import row_problems, settings_problems
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
            validated[2].extend(row_problems(table.label, validated[0], validated[1]))  # domain bounds
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
            make = LineProblem if raw.settings_label == SETTINGS_FILE else Problem
            problems.append(make(raw.settings_label, raw.settings_rows.get(key) if key else None,
                                    key, None if key is None else short_text(raw.settings.get(key)),
                                    _friendly(err)))
    if settings is not None:
        problems += settings_problems(settings, raw.settings_label, raw.settings_rows)
    if settings is not None and not problems:
        labels = {name: t.label for name, t in raw.tables.items()}
        problems += cross_check(settings, rows, numbers, labels, raw.settings_label, raw.settings_rows)
    if problems:
        raise InputError(problems)
    return Dataset(source=raw.source, settings=settings, **{k: tuple(v) for k, v in rows.items()})


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate a dataset folder or workbook; raises ``InputError``."""
    return validate_raw(read_raw(path))

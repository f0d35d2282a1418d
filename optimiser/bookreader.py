"""A workbook dataset (one sheet per table, plus ``settings``) read into a ``RawDataset``.

Sheet names are compared ignoring case and surrounding spaces; two sheets that
are one table are an error naming both. Only cells with content are read
(``optimiser.sheets``). The header is row 1 (a title row above it, or a blank
row 1, is a located error); nothing may lie to the right of the header's last
column; a formula without a saved value is an error on its cell; a setting
given twice is an error naming both rows. A sheet of notes (``NOTES_SHEETS``:
``notes`` or ``README``, which ``optimiser workbook`` writes) is ignored; any
other sheet that is not a table is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.inputs import TABLES, TableSpec
from optimiser import sheets, tablefiles
from optimiser.errors import InputError, Problem
from optimiser.rawdata import SETTINGS_SHEET, RawDataset, RawTable, clean_cell, short_text

#: Sheets of notes a workbook may hold beside its tables (compared ignoring case and spaces): never read.
NOTES_SHEETS = ("notes", "readme")


def read_workbook(path: Path) -> RawDataset:
    """A workbook: one sheet per table plus ``settings`` (names compared ignoring case and spaces).

    Only cells with content are read (``optimiser.sheets``). The header is row 1; a table
    may have nothing to the right of its header's last column.
    """
    problem = tablefiles.file_problem(path, path.name, tablefiles.MAX_WORKBOOK_BYTES)
    if problem is not None:
        raise InputError([problem])
    book = sheets.read_book(path, path.name)
    try:
        return _read_book(path, book)
    finally:
        book.close()


def _read_book(path: Path, book) -> RawDataset:
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    known = set(TABLES) | {SETTINGS_SHEET}
    allowed = known | set(NOTES_SHEETS)
    found: dict[str, str] = {}
    for actual in book.sheetnames:
        lowered = actual.strip().lower()
        if lowered in found:
            problems.append(Problem(f"{path.name} [sheet {actual}]", None, None, None,
                                    f"is the same table as sheet '{found[lowered]}' (names are compared ignoring "
                                    "case and spaces); keep one of them"))
            continue
        found[lowered] = actual
        if lowered not in allowed:
            problems.append(Problem(f"{path.name} [sheet {actual}]", None, None, None,
                                    "unknown sheet; expected sheets: " + ", ".join(sorted(known))
                                    + " (and a sheet of notes named " + " or ".join(NOTES_SHEETS) + ")"))
    if any("is the same table" in p.message for p in problems):
        raise InputError(problems)  # which sheet is the table is not known: say so before reading either
    budget = [sheets.MAX_CELLS]
    for name, spec in TABLES.items():
        label = f"{path.name} [sheet {name}]"
        if name not in found:
            if spec.required:
                problems.append(Problem(label, None, None, None, "required sheet is missing"))
            continue
        sheet = sheets.read_sheet(book, found[name], label, budget)
        table, table_problems = _sheet_table(sheet, name, spec, label)
        problems += table_problems
        if table is not None:
            tables[name] = table
    settings: dict[str, Any] = {}
    settings_rows: dict[str, int] = {}
    label = f"{path.name} [sheet {SETTINGS_SHEET}]"
    if SETTINGS_SHEET not in found:
        problems.append(Problem(label, None, None, None, "required sheet is missing"))
    else:
        sheet = sheets.read_sheet(book, found[SETTINGS_SHEET], label, budget)
        settings, settings_rows, found_problems = _settings_sheet(sheet, label)
        problems += found_problems
    if problems:
        raise InputError(problems)
    return RawDataset(str(path), tables, settings, label, settings_rows)


def _cell_problem(label: str, row: int, column: str | None, value: Any) -> Problem | None:
    """A cell that cannot be read as text: a formula with no saved value."""
    if value is sheets.FORMULA_WITHOUT_VALUE:
        return Problem(label, row, column, None, "holds a formula with no saved value (the file was not saved "
                       "by a program that calculates); open and save it in Excel, or paste the values")
    return None


def _sheet_table(sheet, name: str, spec: TableSpec, label: str) -> tuple[RawTable | None, list[Problem]]:
    header_cells = sheet.row(1)
    if not header_cells:
        if sheet.rows:
            first = min(sheet.rows)
            return None, [Problem(label, 1, None, None, f"row 1 is blank; the header (columns "
                                  f"{', '.join(spec.columns)}) must be on row 1, above the data from row {first}")]
        return None, [Problem(label, None, None, None, "the sheet is empty; expected a header row with columns "
                              + ", ".join(spec.columns))]
    width = max(header_cells)
    columns = [(clean_cell(header_cells.get(i)) or "") for i in range(1, width + 1)]
    title = _title_row(sheet, columns, spec)
    if title is not None:
        return None, [Problem(label, 1, None, None, f"row 1 is not the header (row {title} looks like it is); "
                              "remove the title row(s) above the header")]
    problems = []
    for i in range(1, width + 1):
        found = _cell_problem(label, 1, None, header_cells.get(i))
        if found:
            problems.append(found)
    table = RawTable(name, label, columns)
    for number in sorted(n for n in sheet.rows if n > 1):
        cells = sheet.rows[number]
        beyond = [i for i in cells if i > width]
        if beyond:
            from openpyxl.utils import get_column_letter

            first = min(beyond)
            problems.append(Problem(label, number, get_column_letter(first), short_text(cells[first]),
                                    f"a cell to the right of the table (its header ends at column "
                                    f"{get_column_letter(width)}); remove it or give its column a header"))
            continue
        row = {}
        for i, column in enumerate(columns, start=1):
            value = cells.get(i)
            found = _cell_problem(label, number, column or None, value)
            if found:
                problems.append(found)
                value = None
            row[column] = clean_cell(value)
        table.rows.append((number, row))
    return table, problems


def _title_row(sheet, columns: list[str], spec: TableSpec) -> int | None:
    """The row (below row 1) that looks like the header when row 1 does not: a title above it."""
    expected = set(spec.columns)
    if expected & set(columns):
        return None
    for number in sorted(sheet.rows)[1:20]:
        values = {clean_cell(v) for v in sheet.rows[number].values() if isinstance(v, str)}
        if len(values & expected) >= max(1, min(2, len(expected))):
            return number
    return None


def _settings_sheet(sheet, label: str) -> tuple[dict[str, Any], dict[str, int], list[Problem]]:
    """``key | value`` rows; a key given twice is an error naming both rows."""
    from optimiser.safeyaml import compose

    settings: dict[str, Any] = {}
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    for number in sorted(sheet.rows):
        cells = sheet.rows[number]
        key = clean_cell(cells.get(1))
        if key is None or (number == 1 and key.lower() == "key"):
            continue
        raw = cells.get(2)
        found = _cell_problem(label, number, "value", raw)
        if found:
            problems.append(found)
            continue
        extra = [i for i in cells if i > 2]
        if extra:
            problems.append(Problem(label, number, None, short_text(cells[min(extra)]),
                                    "a cell to the right of the key and value; remove it"))
            continue
        if key in rows:
            problems.append(Problem(label, number, "key", key,
                                    f"setting '{key}' is given twice (first on row {rows[key]}); give it once"))
            continue
        if isinstance(raw, str):
            try:
                raw = compose(raw, label)[0]
            except InputError:
                problems.append(Problem(label, number, "value", short_text(raw), "is not a valid value"))
                continue
        settings[key] = raw
        rows[key] = number
    return settings, rows, problems

"""Export a CSV dataset as one ``.xlsx`` workbook analysts edit (one sheet per table, ``settings``, ``notes``).

Analysts edit workbooks; ``optimiser run`` reads the workbook back exactly as
it reads the folder. Numbers are written as numbers, text as text (never as a
formula, even when it begins with ``=``, ``+``, ``-`` or ``@``). Each table's
sheet has a frozen header row with filter buttons, column widths fitted to
its content, number formats by unit (``DATASET_FORMATS``), drop-downs for
professions, regions and years, and a print set-up (A4 landscape, one page
wide, header repeated). The ``notes`` sheet holds each table's sources from
the dataset's ``SOURCES.md``; the reader ignores it. Formats change what a
cell shows, never the value it holds, so the round trip is exact.
"""

from __future__ import annotations

import io
from pathlib import Path

import yaml

from models.inputs import TABLES
from optimiser import sheetlayout, sourcenotes
from optimiser.bookreader import NOTES_SHEETS
from optimiser.errors import InputError, Problem
from optimiser.loader import load_dataset, read_raw
from optimiser.rawdata import SETTINGS_SHEET
from optimiser.output import OutputError, atomic_write
from optimiser.safety import check_clear_of_inputs

#: The sheet of notes the writer adds and the reader ignores (``optimiser.bookreader.NOTES_SHEETS``).
NOTES_SHEET = NOTES_SHEETS[0]

WTE = "#,##0.0"
GBP = "#,##0"
YEAR = "0"
SHARE = "0.0#%"
WHOLE = "0"
NUMBER = "#,##0.0#"
HOURS = "0.0#"

#: Number format of each dataset column, by its unit (a column not listed shows as General).
DATASET_FORMATS: dict[str, str] = {
    # WTE
    "stock_wte": WTE, "demand_wte": WTE, "inflow_wte": WTE, "trainee_service_wte": WTE, "service_wte": WTE,
    "max_wte_per_year": WTE,
    # headcounts and places
    "trainees": NUMBER, "placement_capacity": NUMBER, "intake_min": NUMBER, "intake_max": NUMBER,
    # GBP
    "cost_per_trainee_year_gbp": GBP, "budget_gbp": GBP, "cost_per_wte_year_gbp": GBP, "cost_per_wte_gbp": GBP,
    # years (calendar year in which the financial year starts)
    "year": YEAR, "start_year": YEAR, "first_year": YEAR,
    # shares and rates
    "completion_rate": SHARE, "joining_rate": SHARE, "attrition_rate": SHARE, "max_growth": SHARE,
    "max_decline": SHARE, "share": SHARE, "max_share": SHARE, "max_share_of_leavers": SHARE,
    "first_year_attrition": SHARE, "source_draw": SHARE,
    # hours a week
    "supervision_hours_per_trainee": HOURS, "supervisor_hours_per_wte": HOURS,
    # whole numbers and plain multipliers
    "duration_years": NUMBER, "lead_time_years": WHOLE, "start_month": WHOLE, "training_year": WHOLE,
    "tranche": WHOLE, "weight": NUMBER, "cost_multiplier": NUMBER,
}

#: Columns whose values are professions (a drop-down of the professions sheet) or regions.
PROFESSION_COLUMNS = ("profession", "trainee_profession", "supervisor_profession", "source_profession")
REGION_COLUMNS = ("region",)
YEAR_COLUMNS = ("year", "start_year", "first_year")
#: Rows below the last profession or region that a drop-down also lists, so a new one added there shows.
SPARE_LIST_ROWS = 50
#: Rows of a sheet below its header that its drop-downs cover (so rows added later get them too).
VALIDATED_ROWS = 5_000
#: Excel refuses a drop-down whose list, written out, is longer than this: a longer span of years is a range.
MAX_LIST_CHARS = 255
#: Width of the notes sheet's text column, in characters.
NOTE_WIDTH_CHARS = 110


def _typed(text):
    """Text from a CSV cell as the value a spreadsheet should hold."""
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer() and "." not in text and "e" not in text.lower():
        return int(number)
    return number


def _set_text_safe(cell, value) -> None:
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # a leading '=' stays text, not a formula


def _shown_chars(value, number_format: str | None) -> int:
    """About how many characters a cell shows in ``number_format``."""
    if value is None:
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if number_format == SHARE:
            return len(f"{value * 100:,.2f}%")
        if number_format in (YEAR, WHOLE):
            return len(str(int(value)))
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _column_range(column: int, first_row: int, last_row: int) -> str:
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(column)
    return f"{letter}{first_row}:{letter}{last_row}"


def _list_validation(formula: str | tuple[int, int], what: str, strict: bool):
    """A drop-down of ``formula`` (a range or a quoted list), or for a ``(first, last)`` pair a whole
    number between them."""
    from openpyxl.worksheet.datavalidation import DataValidation

    if isinstance(formula, tuple):
        return DataValidation(type="whole", operator="between", formula1=str(formula[0]), formula2=str(formula[1]),
                              allow_blank=True, showErrorMessage=True, errorStyle="stop" if strict else "warning",
                              errorTitle=f"Not a {what}", error=f"Give a {what} from {formula[0]} to {formula[1]}.",
                              promptTitle=what.capitalize(), prompt=f"A {what} from {formula[0]} to {formula[1]}",
                              showInputMessage=True)
    return DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False,
                          showErrorMessage=True, errorStyle="stop" if strict else "warning",
                          errorTitle=f"Not a {what}", error=f"Choose a {what} from the list"
                          + ("." if strict else ", or keep this value if you mean it."),
                          promptTitle=what.capitalize(), prompt=f"Choose a {what} from the list",
                          showInputMessage=True)


def _drop_downs(book, years: list[int]) -> dict[str, str | tuple[int, int]]:
    """The drop-down each kind of column gets: professions and regions from their sheets, years as a list."""
    found: dict[str, str | tuple[int, int]] = {}
    for table, kind in (("professions", "profession"), ("regions", "region")):
        found[kind] = f"'{table}'!$A$2:$A${book[table].max_row + SPARE_LIST_ROWS}"
    if years:
        listed = '"' + ",".join(str(y) for y in years) + '"'
        found["year"] = listed if len(listed) <= MAX_LIST_CHARS else (years[0], years[-1])
    return found


def _add_drop_downs(sheet, name: str, columns: list[str], found: dict[str, str | tuple[int, int]]) -> None:
    last = 1 + VALIDATED_ROWS
    for col, column in enumerate(columns, start=1):
        if column in PROFESSION_COLUMNS and name != "professions":
            kind, strict = "profession", True
        elif column in REGION_COLUMNS and name != "regions":
            kind, strict = "region", True
        elif column in YEAR_COLUMNS and "year" in found:
            kind, strict = "year", False  # a cohort may start before the base year: warn, do not stop
        else:
            continue
        validation = _list_validation(found[kind], kind, strict)
        sheet.add_data_validation(validation)
        validation.add(_column_range(col, 2, last))


def _write_table(book, name: str, columns: list[str], rows) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(name)
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    formats = [DATASET_FORMATS.get(c) for c in columns]
    widest = [len(c) for c in columns]
    for _, cells in rows:
        sheet.append([None] * len(columns))
        row = sheet.max_row
        for col, column in enumerate(columns, start=1):
            value = _typed(cells.get(column))
            cell = sheet.cell(row=row, column=col)
            _set_text_safe(cell, value)
            if formats[col - 1] and isinstance(value, (int, float)):
                cell.number_format = formats[col - 1]
            widest[col - 1] = max(widest[col - 1], _shown_chars(value, formats[col - 1]))
    for col, chars in enumerate(widest, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = sheetlayout.fitted_width(chars)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(columns)))}{max(2, sheet.max_row)}"
    sheetlayout.print_setup(sheet)


def _write_settings(book, settings: dict) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(SETTINGS_SHEET)
    sheet.append(["key", "value"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widest = [len("key"), len("value")]
    for key, value in settings.items():
        if isinstance(value, (list, dict)):
            value = yaml.safe_dump(value, default_flow_style=True).strip()
        sheet.append([key, None])
        _set_text_safe(sheet.cell(row=sheet.max_row, column=2), value)
        widest = [max(widest[0], len(str(key))), max(widest[1], _shown_chars(value, None))]
    for letter, chars in zip("AB", widest):
        sheet.column_dimensions[letter].width = sheetlayout.fitted_width(chars)
    sheet.freeze_panes = "A2"
    sheetlayout.print_setup(sheet)


def _notes_rows(dataset: Path, tables: list[str]) -> list[tuple[str, str, str]]:
    """(sheet, section, text) rows: how to use the workbook, then each table's sources."""
    rows = [("(this sheet)", "", f"Notes only: 'optimiser run' ignores this sheet (a sheet named "
             f"'{NOTES_SHEET}' or 'README'). Every other sheet is one table of the dataset, or '{SETTINGS_SHEET}'."),
            ("(this sheet)", "", "Drop-downs list the professions and regions of their sheets and the dataset's "
             "years; a value typed outside them is refused (professions, regions) or questioned (years). "
             "Number formats change what a cell shows, never the value it holds.")]
    notes = sourcenotes.dataset_notes(dataset, tuple(TABLES))
    if notes is None:
        rows.append(("(dataset)", "", f"The dataset has no {sourcenotes.SOURCES_FILE}: no sources to show."))
        return rows
    order = [sourcenotes.DATASET_NOTES, *tables, sourcenotes.SETTINGS_NOTES]
    by_table: dict[str, list[sourcenotes.Note]] = {}
    for note in notes:
        by_table.setdefault(note.table, []).append(note)
    for table in order:
        found = by_table.get(table, [])
        label = "(dataset)" if table == sourcenotes.DATASET_NOTES else table
        if not found and table != sourcenotes.DATASET_NOTES:
            rows.append((label, "", f"No section of {sourcenotes.SOURCES_FILE} names {table}."))
        rows.extend((label, note.heading, note.text) for note in found)
    return rows


def _write_notes(book, dataset: Path, tables: list[str]) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet(NOTES_SHEET)
    sheet.append(["sheet", "section", "note"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rows = _notes_rows(dataset, tables)
    widths = {"A": sheetlayout.fitted_width(max(len(r[0]) for r in rows)), "B": sheetlayout.MAX_WIDTH_CHARS // 2,
              "C": NOTE_WIDTH_CHARS}
    top = Alignment(wrap_text=True, vertical="top")
    for table, heading, text in rows:
        sheet.append([None, None, None])
        row = sheet.max_row
        for col, value in enumerate((table, heading, text), start=1):
            cell = sheet.cell(row=row, column=col)
            _set_text_safe(cell, value)
            cell.alignment = top
        sheet.row_dimensions[row].height = max(sheetlayout.wrapped_height(text, widths["C"]),
                                               sheetlayout.wrapped_height(heading, widths["B"]))
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:C{sheet.max_row}"
    sheetlayout.print_setup(sheet)


def _years(dataset, raw) -> list[int]:
    """Every year a year column may hold: from the earliest in the data (or the base year) to the last."""
    found = [dataset.settings.base_year, dataset.settings.last_year]
    for table in raw.tables.values():
        for column in YEAR_COLUMNS:
            if column in table.columns:
                for _, cells in table.rows:
                    value = _typed(cells.get(column))
                    if isinstance(value, int):
                        found.append(value)
    return list(range(min(found), max(found) + 1))


def build_dataset_book(dataset: Path):
    """The workbook of the CSV dataset folder ``dataset`` (validated first)."""
    from openpyxl import Workbook

    loaded = load_dataset(dataset)  # refuse to export a dataset that would not load
    raw = read_raw(dataset)
    book = Workbook()
    book.remove(book.active)
    for name, table in raw.tables.items():
        _write_table(book, name, table.columns, table.rows)
    lists = _drop_downs(book, _years(loaded, raw))
    for name, table in raw.tables.items():
        _add_drop_downs(book[name], name, table.columns, lists)
    _write_settings(book, raw.settings)
    _write_notes(book, dataset, list(raw.tables))
    return book


def dataset_to_workbook(dataset: str | Path, out_file: str | Path) -> Path:
    """Validate ``dataset`` (a CSV folder), then write it as a workbook at ``out_file``."""
    dataset, out_file = Path(dataset), Path(out_file).resolve()
    if not dataset.is_dir():
        raise InputError([Problem(str(dataset), None, None, None, "expected a folder of CSV files")])
    if out_file.suffix.lower() != ".xlsx":
        raise InputError([Problem(str(out_file), None, None, None, "the workbook name must end in .xlsx")])
    check_clear_of_inputs(out_file, (dataset,))
    book = build_dataset_book(dataset)
    buffer = io.BytesIO()
    book.save(buffer)
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)  # as 'run' makes its folder's parents
    except OSError as exc:
        raise OutputError(f"could not write {out_file}: {exc.strerror or exc}") from exc
    return atomic_write(out_file, buffer.getvalue(), inputs=(dataset,))

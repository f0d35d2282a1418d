"""Export a CSV dataset as one ``.xlsx`` workbook (one sheet per table, plus ``settings``).

Analysts edit workbooks; ``optimiser run`` reads the workbook back exactly
as it reads the folder. Numbers are written as numbers, text as text (never
as a formula, even when it begins with ``=``, ``+``, ``-`` or ``@``).
"""

from __future__ import annotations

import io
from pathlib import Path

import yaml

from optimiser.errors import InputError, Problem
from optimiser.loader import load_dataset, read_raw
from optimiser.rawdata import SETTINGS_SHEET
from optimiser.output import OutputError, atomic_write
from optimiser.safety import check_clear_of_inputs

HEADER_WIDTH_PADDING = 2


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


def dataset_to_workbook(dataset: str | Path, out_file: str | Path) -> Path:
    """Validate ``dataset`` (a CSV folder), then write it as a workbook at ``out_file``."""
    from openpyxl import Workbook

    dataset, out_file = Path(dataset), Path(out_file).resolve()
    if not dataset.is_dir():
        raise InputError([Problem(str(dataset), None, None, None, "expected a folder of CSV files")])
    if out_file.suffix.lower() != ".xlsx":
        raise InputError([Problem(str(out_file), None, None, None, "the workbook name must end in .xlsx")])
    check_clear_of_inputs(out_file, (dataset,))
    load_dataset(dataset)  # refuse to export a dataset that would not load
    raw = read_raw(dataset)
    book = Workbook()
    book.remove(book.active)
    for name, table in raw.tables.items():
        sheet = book.create_sheet(name)
        sheet.append(table.columns)
        for _, cells in table.rows:
            sheet.append([None] * len(table.columns))
            row = sheet.max_row
            for col, column in enumerate(table.columns, start=1):
                _set_text_safe(sheet.cell(row=row, column=col), _typed(cells.get(column)))
        sheet.freeze_panes = "A2"
        for col, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=col).column_letter].width = len(column) + HEADER_WIDTH_PADDING
    sheet = book.create_sheet(SETTINGS_SHEET)
    sheet.append(["key", "value"])
    for key, value in raw.settings.items():
        if isinstance(value, (list, dict)):
            value = yaml.safe_dump(value, default_flow_style=True).strip()
        sheet.append([key, None])
        _set_text_safe(sheet.cell(row=sheet.max_row, column=2), value)
    buffer = io.BytesIO()
    book.save(buffer)
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)  # as 'run' makes its folder's parents
    except OSError as exc:
        raise OutputError(f"could not write {out_file}: {exc.strerror or exc}") from exc
    return atomic_write(out_file, buffer.getvalue(), inputs=(dataset,))

"""Read the cells of an ``.xlsx`` workbook that hold something, and nothing else.

A sheet's declared range (``<dimension>``) and formatted but empty cells are
ignored, so one formatted cell at XFD1048576 costs nothing: the sheet's XML is
streamed and only cells with a value are kept, up to ``MAX_CELLS`` in all. The
archive is checked first (its size, and the unpacked size of its parts, which a
few kilobytes can inflate to gigabytes).

A formula whose value was never saved (the file was written by a program that
does not calculate) is returned as ``FORMULA_WITHOUT_VALUE``, not as a blank.
Dates come back as ``datetime`` values.

openpyxl has no public call that does both (its read-only ``iter_rows`` pads every
row to the declared width and gives ``None`` for an unsaved formula), so its own
worksheet parser is used, subclassed to keep the formula; setup.cfg holds openpyxl
below 3.2 for that, and the reader tests (``tests/test_fuzz_readers.py``) would
catch a change.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimiser.errors import InputError, Problem

MAX_CELLS = 5_000_000
MAX_UNPACKED_BYTES = 250_000_000
MAX_COLUMN = 16_384


class _FormulaWithoutValue:
    def __repr__(self) -> str:
        return "FORMULA_WITHOUT_VALUE"


FORMULA_WITHOUT_VALUE = _FormulaWithoutValue()


@dataclass
class Sheet:
    """A sheet's cells with content: ``rows[row number] = {column number: value}`` (both from 1)."""

    title: str
    rows: dict[int, dict[int, Any]] = field(default_factory=dict)

    def row(self, number: int) -> dict[int, Any]:
        return self.rows.get(number, {})


def check_archive(path: Path, label: str) -> None:
    """Refuse an archive whose parts unpack to more than ``MAX_UNPACKED_BYTES``."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError([Problem(label, None, None, None, f"cannot be opened as a workbook: {exc}")]) from None
    if total > MAX_UNPACKED_BYTES:
        raise InputError([Problem(label, None, None, None, f"unpacks to {total:,} bytes; at most "
                                  f"{MAX_UNPACKED_BYTES:,} are read (is this the right file?)")])


def read_book(path: Path, label: str):
    """The workbook, opened read-only with saved values (``InputError`` if it cannot be)."""
    from openpyxl import load_workbook

    check_archive(path, label)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file
        raise InputError([Problem(label, None, None, None, f"cannot be opened as a workbook: {exc}")]) from None


def read_sheet(book, title: str, label: str, budget: list[int]) -> Sheet:
    """The cells with content of sheet ``title``; ``budget`` ([cells left]) is shared by a workbook's sheets."""
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["value"] = FORMULA_WITHOUT_VALUE
            return cell

    worksheet = book[title]
    sheet = Sheet(title)
    try:
        with worksheet._get_source() as source:
            parser = Parser(source, worksheet._shared_strings, data_only=True, epoch=book.epoch,
                            date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
            for number, cells in parser.parse():
                kept = {c["column"]: c["value"] for c in cells
                        if c["value"] is not None and not (isinstance(c["value"], str) and not c["value"].strip())}
                if not kept:
                    continue
                budget[0] -= len(kept)
                if budget[0] < 0:
                    raise InputError([Problem(label, number, None, None, f"the workbook holds more than {MAX_CELLS:,} "
                                              "cells with content; is this the right file?")])
                sheet.rows[number] = kept
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet part
        raise InputError([Problem(label, None, None, None, f"cannot be read: {type(exc).__name__}: {exc}")]) from None
    return sheet

"""A dataset as read, before validation: tables of text cells and the settings.

What the CSV and workbook readers (``optimiser.loader``, ``optimiser.bookreader``) make,
scenario overrides edit, and ``loader.validate_raw`` turns into a ``Dataset``.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

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


def clean_cell(value: Any) -> Any:
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
    if isinstance(value, datetime.datetime):  # a workbook cell Excel took for a date
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    text = str(value).strip()
    return text or None


def short_text(value: Any) -> str | None:
    return None if value is None else str(value)[:80]

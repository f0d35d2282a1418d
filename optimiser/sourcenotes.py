"""A dataset's ``SOURCES.md``, split by the table each part of it explains.

A section belongs to a table when its heading names the table's file
(``## professions.csv``, ``### Stock March 2021 (workforce.csv, ...)``), and so do
the sections under it (``### `duration_years``` under ``## professions.csv``).
A heading that names several tables belongs to each. Sections that name no
table (how to read the dataset, what changed) belong to the dataset as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SOURCES_FILE = "SOURCES.md"
#: The key under which sections that name no table are kept.
DATASET_NOTES = "dataset"
#: The settings file, named in headings like a table.
SETTINGS_NOTES = "settings"
#: Excel keeps at most this many characters in a cell; a longer paragraph is cut, and says so.
MAX_CELL_CHARS = 32_000
#: A SOURCES.md larger than this is not copied into the workbook.
MAX_SOURCES_BYTES = 5_000_000

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_OR_TABLE = re.compile(r"^\s*([*+-]\s|\d+\.\s|\|)")


@dataclass(frozen=True)
class Note:
    """One paragraph of ``SOURCES.md``: the table it explains, its section heading, and its text."""

    table: str
    heading: str
    text: str


def _names_in(heading: str, tables: tuple[str, ...]) -> list[str]:
    found = [t for t in tables if re.search(rf"(?<![\w.]){re.escape(t)}\.csv\b", heading)]
    if re.search(r"(?<![\w.])settings\.yaml\b", heading):
        found.append(SETTINGS_NOTES)
    return found


def _paragraphs(lines: list[str]) -> list[str]:
    """Blocks between blank lines; prose joined into one line, lists and tables kept line by line."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    out = []
    for block in blocks:
        if not block:
            continue
        if any(_LIST_OR_TABLE.match(line) for line in block):
            text = "\n".join(line.strip() if _LIST_OR_TABLE.match(line) else "  " + line.strip() for line in block)
        else:
            text = " ".join(line.strip() for line in block)
        if len(text) > MAX_CELL_CHARS:
            text = text[:MAX_CELL_CHARS] + f" ... (cut; {SOURCES_FILE} has it in full)"
        out.append(text)
    return out


def split_sources(markdown: str, tables: tuple[str, ...]) -> list[Note]:
    """Every paragraph of ``markdown`` as a ``Note`` for each table its section (or a parent's) names."""
    notes: list[Note] = []
    # open headings: (level, heading, tables it names or inherits)
    stack: list[tuple[int, str, list[str]]] = []
    body: list[str] = []
    in_code = False

    def flush() -> None:
        if not stack:
            owners, heading = [DATASET_NOTES], ""
        else:
            owners, heading = stack[-1][2] or [DATASET_NOTES], stack[-1][1]
        for text in _paragraphs(body):
            notes.extend(Note(owner, heading, text) for owner in owners)
        body.clear()

    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match is None:
            body.append(line)
            continue
        flush()
        level, heading = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= level:
            stack.pop()
        named = _names_in(heading, tables)
        stack.append((level, heading, named or (stack[-1][2] if stack else [])))
    flush()
    return notes


def dataset_notes(folder: Path, tables: tuple[str, ...]) -> list[Note] | None:
    """The notes of the ``SOURCES.md`` in ``folder``, or ``None`` when it has none. One that cannot be
    read, or is larger than ``MAX_SOURCES_BYTES``, is one note that says so (the sources are notes:
    they never stop the workbook being written)."""
    path = Path(folder) / SOURCES_FILE
    if not path.exists():
        return None
    try:
        size = path.stat().st_size
        if size > MAX_SOURCES_BYTES:
            return [Note(DATASET_NOTES, "", f"{SOURCES_FILE} is {size:,} bytes; at most {MAX_SOURCES_BYTES:,} "
                         "are copied here: read it beside the dataset")]
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return [Note(DATASET_NOTES, "", f"{SOURCES_FILE} could not be read: {exc.strerror or exc}")]
    return split_sources(text, tables)

"""A table file's bytes, checked before they are read as a table.

A file that is named but cannot be read (a dangling or looping link, a folder
or a device in its place, no permission, too large) is a located input error,
never taken as absent. Text is decoded as UTF-8 (a BOM allowed) or UTF-16 with
a BOM; other encodings are refused with a guess at what they are. The CSV
text is checked for an opening quote that is never closed (which would swallow
the rest of the file into one cell) and for a header that looks split by
``;`` or tabs rather than commas.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from optimiser.errors import Problem

#: Larger table files are refused before they are read.
MAX_CSV_BYTES = 100_000_000
MAX_WORKBOOK_BYTES = 50_000_000


def present(path: Path) -> bool:
    """A directory entry is there (even a dangling link): the table is given, not absent."""
    return os.path.lexists(path)


def file_problem(path: Path, label: str, limit: int) -> Problem | None:
    """Why ``path`` (a table or settings file that is there) cannot be read; ``None`` if it can."""
    try:
        info = os.stat(path)  # follows links
    except OSError as exc:
        if path.is_symlink():
            if exc.errno == errno.ELOOP:
                return Problem(label, None, None, None, "is a link that loops back on itself; "
                               "replace it with the file")
            return Problem(label, None, None, None,
                           f"is a link to {os.readlink(path)}, which does not exist; replace it with the file")
        return Problem(label, None, None, None, f"cannot be read ({exc.strerror or exc})")
    if stat.S_ISDIR(info.st_mode):
        return Problem(label, None, None, None, "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        return Problem(label, None, None, None, "is not a regular file (a device or pipe); give the file itself")
    if info.st_size > limit:
        return Problem(label, None, None, None,
                       f"is {info.st_size:,} bytes; at most {limit:,} are read (is this the right file?)")
    if not os.access(path, os.R_OK):
        return Problem(label, None, None, None, "cannot be read (permission denied)")
    return None


def decode(data: bytes, label: str) -> tuple[str | None, Problem | None]:
    """The text of a file's bytes, or the problem naming its likely encoding."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            return None, Problem(label, None, None, None, f"is not valid UTF-16 text ({exc.reason})")
    if data and data.count(b"\x00") * 4 >= len(data):
        return None, Problem(label, None, None, None, "looks like UTF-16 text without a byte-order mark; "
                             "save it as UTF-8 (in Excel: CSV UTF-8)")
    if b"\x00" in data:
        return None, Problem(label, None, None, None, "holds NUL bytes: it is not a text (CSV) file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("cp1252")
            hint = "; it looks like Windows-1252 (ANSI): save it as UTF-8 (in Excel: CSV UTF-8)"
        except UnicodeDecodeError:
            pass
        return None, Problem(label, line, None, None, f"is not UTF-8 text ({exc.reason}){hint}")


def unclosed_quote(text: str, label: str) -> Problem | None:
    """A ``"`` that opens a quoted cell and is never closed: the line where it opens.

    Only the quotes are visited (a quote opens a cell at the start of a field; inside one,
    ``""`` is a quote and a lone ``"`` closes it), so a file without quotes costs one search.
    """
    inside = False
    opened = 0
    skip = -1
    for match in _QUOTE.finditer(text):
        i = match.start()
        if i == skip:
            continue
        if inside:
            if text.startswith('""', i):
                skip = i + 1
            else:
                inside = False
        elif i == 0 or text[i - 1] in ",\n\r":
            inside, opened = True, i
    if inside:
        return Problem(label, text.count("\n", 0, opened) + 1, None, None,
                       'a quote (") opens a cell here and is never closed, so the rest of the file '
                       "would be read as one cell; close or remove it")
    return None


_QUOTE = re.compile('"')


def delimiter_hint(header: list[str]) -> str:
    """A sentence when a one-column header looks split by another delimiter."""
    if len(header) != 1:
        return ""
    for mark, name in ((";", "';' (semicolon)"), ("\t", "a tab"), ("|", "'|'")):
        if mark in header[0]:
            return (f"; {name} looks like the delimiter: save the file comma-separated "
                    "(in Excel: CSV UTF-8 (Comma delimited))")
    return ""

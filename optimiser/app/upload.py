"""A workbook uploaded in the page: size-capped, then read by the project's own reader.

The upload is copied, under a plain name, into a folder of the session's own and
read as data only (``loader.read_raw`` -> ``bookreader``: its caps on bytes, unpacked
size and cells apply). Nothing else is read. Every problem comes back as the
located messages the command line prints (sheet, row and column), never a traceback.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from optimiser.errors import InputError, Problem
from optimiser.tablefiles import MAX_WORKBOOK_BYTES

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
MAX_NAME_CHARS = 100


def plain_name(name: str) -> str:
    """The uploaded file's name without folders or unusual characters (it names the file in messages)."""
    stem = re.sub(r"[^A-Za-z0-9_.+-]", "_", Path(str(name)).name)[:MAX_NAME_CHARS].lstrip(".")
    return stem or "upload.xlsx"


def check(name: str, size_bytes: int) -> None:
    """Refuse, before reading, what is not a workbook or is larger than the reader's cap."""
    shown = plain_name(name)
    if Path(shown).suffix.lower() not in WORKBOOK_SUFFIXES:
        raise InputError([Problem(shown, None, None, None, "is not an Excel workbook (.xlsx); save the dataset "
                                  "as .xlsx (optimiser workbook DATASET -o FILE.xlsx makes one) and upload that")])
    if size_bytes > MAX_WORKBOOK_BYTES:
        raise InputError([Problem(shown, None, None, None, f"is {size_bytes:,} bytes; workbooks up to "
                                  f"{MAX_WORKBOOK_BYTES:,} bytes are read")])


def receive(name: str, size_bytes: int, datapath: str | Path, folder: Path) -> Path:
    """Check the upload and copy it into ``folder`` (the session's own) under its plain name."""
    check(name, size_bytes)
    if Path(datapath).stat().st_size > MAX_WORKBOOK_BYTES:  # the bytes received, not the size announced
        check(name, Path(datapath).stat().st_size)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / plain_name(name)
    shutil.copyfile(datapath, target)
    return target


def messages(exc: InputError) -> list[str]:
    """Each problem located (file or sheet, row, column), as ``optimiser validate`` prints it."""
    return exc.render().splitlines()

"""Write a results folder whole or not at all.

Files are written into a hidden staging folder beside the target, then the
staging folder replaces the target in one rename. A failure (disk full,
read-only folder, Ctrl-C) leaves the previous folder as it was and removes
the staging folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from optimiser.errors import OutputError
from optimiser.safety import Inputs, check_clear_of_inputs, check_replaceable

RESULT_MARKER = "summary.json"


def check_target(out_dir: Path, inputs: Inputs = ()) -> None:
    """Refuse an output folder that is, holds or lies inside an input, or that holds anything
    but an earlier result's own files (``optimiser.safety``)."""
    check_clear_of_inputs(out_dir, inputs)
    check_replaceable(Path(out_dir).resolve())


#: A file's bytes, or a function that makes them when the file is written.
Content = bytes | Callable[[], bytes]


def render(files: Mapping[str, Content]) -> dict[str, bytes]:
    """Every file's bytes (a results folder made in memory, as a batch worker sends it)."""
    return {name: content() if callable(content) else content for name, content in files.items()}


def write_folder(out_dir: str | Path, files: Mapping[str, Content], *, inputs: Inputs = ()) -> Path:
    """Write each file (made one at a time) into a staging folder, then swap it in.

    ``inputs``: the paths being read, which the folder may not be, hold or lie inside."""
    inputs = list(inputs)
    check_clear_of_inputs(out_dir, inputs)
    out_dir = Path(out_dir).resolve()
    check_target(out_dir, inputs)
    parent = out_dir.parent
    token = uuid.uuid4().hex[:8]
    staging = parent / f".{out_dir.name}.partial-{token}"
    old = parent / f".{out_dir.name}.old-{token}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        for name, content in files.items():
            (staging / name).write_bytes(content() if callable(content) else content)
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
    except OSError as exc:
        if old.exists() and not out_dir.exists():
            os.replace(old, out_dir)
        raise OutputError(f"could not write {out_dir}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return out_dir


def atomic_write(path: str | Path, data: bytes, *, inputs: Inputs = ()) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it: the file is whole or unchanged.

    ``inputs``: the paths being read, which ``path`` may not be or lie inside."""
    check_clear_of_inputs(path, inputs)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from exc
    return path


def json_bytes(data) -> bytes:
    """``data`` as indented JSON (numpy numbers as plain ones), ending with a newline."""
    return (json.dumps(data, indent=2, default=_jsonable) + "\n").encode("utf-8")


def pandas_csv_bytes(frame) -> bytes:
    """The reference: what pandas ``to_csv`` writes for a results table (``csv_bytes`` matches it)."""
    return frame.to_csv(None, index=False, float_format="%.10g").encode("utf-8")


def csv_bytes(frame) -> bytes:
    """``pandas_csv_bytes`` (pandas ``to_csv(index=False, float_format="%.10g")``), byte for byte,
    in a fraction of the time: each column is turned into cells in one pass (floats as
    ``"%.10g"``, missing values blank, everything else as pandas hands it to the ``csv``
    module) and the rows go straight to ``csv.writer``; when no cell needs quoting, they are
    joined with commas directly (what ``csv.writer`` then writes). Frames with other column
    types (dates, categories...) are left to pandas.
    """
    cells = [_csv_cells(column) for _, column in frame.items()]
    if any(column is None for column in cells) or not all(isinstance(c, str) for c in frame.columns):
        return pandas_csv_bytes(frame)
    joined = _joined(list(frame.columns), cells)
    if joined is not None:
        return joined.encode("utf-8")
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator=os.linesep)  # pandas' defaults
    writer.writerow(frame.columns)
    writer.writerows(zip(*cells))
    return text.getvalue().encode("utf-8")


_QUOTED = (",", '"', "\r", "\n")  # a cell with one of these is quoted by csv.writer (QUOTE_MINIMAL)


def _joined(header: list[str], cells: list[list]) -> str | None:
    """The CSV text of ``header`` and the columns ``cells``, as ``csv.writer`` writes it, when every
    cell is text (or a number or bool, written as ``str``) that needs no quoting; else ``None``."""
    if len(header) < 2:  # a lone empty cell would be quoted
        return None
    columns = []
    for column in [header, *cells]:
        kinds = set(map(type, column))
        if kinds <= {int, bool}:
            column = list(map(str, column))
        elif not kinds <= {str}:
            return None
        text = "\x00".join(column)
        if any(mark in text for mark in _QUOTED):
            return None
        columns.append(column)
    rows = [",".join(columns[0]), *map(",".join, zip(*columns[1:]))]
    return os.linesep.join(rows) + os.linesep


def _csv_cells(column) -> list | None:
    """The cells pandas' ``to_csv`` writes for ``column``, or ``None`` for a type left to pandas."""
    import numpy as np  # output is imported at CLI start-up: keep the heavy imports here
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        values = column.tolist()
        return ["" if value != value else "%.10g" % value for value in values] if dtype.kind == "f" else values
    if dtype == object or isinstance(dtype, pd.StringDtype):  # missing values (None, NaN, NA) blank
        values = column.tolist()
        missing = column.isna().tolist()
        return ["" if gone else value for value, gone in zip(values, missing)] if any(missing) else values
    return None


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")

"""Where outputs may go, checked before anything is written.

Two rules, shared by every command that writes:

- an output never is, holds, or lies inside an input being read (a dataset
  folder or workbook, a scenario file, a model folder, the files of a
  results folder a report reads); paths are compared after following links;
- an existing folder is replaced only when it holds nothing but an earlier
  result's own files (``RESULT_FILES``, plain files, no links or folders),
  with a readable marker (``summary.json`` or ``model.json``) among them, or
  nothing at all. A stray ``summary.json`` beside anything else is not enough.

Both raise ``OutputError`` naming the path and why; nothing has been written then.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from optimiser.errors import OutputError

#: What ``optimiser compare -o`` writes (``optimiser.compare``); ``compare.json`` is its marker.
COMPARE_MARKER, COMPARE_CSV = "compare.json", "compare.csv"
SHORTFALL_CSV, PLACES_CSV, LIMITS_CSV = "compare_shortfall.csv", "compare_places.csv", "compare_limits.csv"
COMPARE_FILES = frozenset({COMPARE_MARKER, COMPARE_CSV, SHORTFALL_CSV, PLACES_CSV, LIMITS_CSV})
COMPARE_FORMAT_PREFIX = "psych-commission-compare/"
#: Every file an earlier run, build, explain, report or batch case puts in its folder.
RESULT_FILES = frozenset({
    "summary.json", "plan.csv", "workforce.csv", "supervision.csv", "constraints.csv", "conflicts.csv",
    "shortfall_stage.mps", "model.json", "scenario.json", "why.json", "why.csv", "report.xlsx", "report.html",
    "levers.csv", "budget_frontier.csv",
}) | COMPARE_FILES
#: What ``optimiser batch`` and ``optimiser frontier`` (and ``report --all``) write into OUT.
BATCH_ENTRIES = frozenset({
    "batch.json", "batch_log.jsonl", "scenarios", "comparison.csv", "comparison.xlsx", ".lock", ".lock.pid",
    "frontier.csv", "frontier.png", "report.xlsx", "report.html",
})
MODEL_FORMAT_PREFIX = b'{"format": "psych-commission-model/'
#: A summary.json larger than this is not ours.
MARKER_BYTES = 5_000_000

Inputs = Iterable[str | os.PathLike | None]


def real(path: str | os.PathLike) -> Path:
    """``path`` absolute, with every link followed (as far as it exists)."""
    return Path(os.path.realpath(os.path.abspath(path)))


def _inside(child: Path, parent: Path) -> bool:
    return child != parent and child.is_relative_to(parent)


def clash(out: str | os.PathLike, inputs: Inputs) -> str | None:
    """Why ``out`` may not be written, given the ``inputs`` being read; ``None`` if it may."""
    target = real(out)
    for given in inputs:
        if given is None or str(given) == "":
            continue
        source = real(given)
        if target == source:
            return f"is the input {given}"
        if _inside(source, target):
            return f"holds the input {given}"
        if _inside(target, source):
            return f"is inside the input {given}"
    return None


def check_clear_of_inputs(out: str | os.PathLike, inputs: Inputs) -> None:
    """Refuse an output that is, holds or lies inside an input."""
    reason = clash(out, inputs)
    if reason is not None:
        raise OutputError(f"{out} {reason}; choose an output outside the inputs so nothing of yours "
                          "is overwritten")


def _marker_ok(folder: Path, names: set[str]) -> bool:
    if "summary.json" in names:
        data = _small_json(folder / "summary.json")
        return isinstance(data, dict) and isinstance(data.get("status"), str)
    if COMPARE_MARKER in names:
        data = _small_json(folder / COMPARE_MARKER)
        return isinstance(data, dict) and str(data.get("format", "")).startswith(COMPARE_FORMAT_PREFIX)
    if "model.json" in names:
        try:
            with (folder / "model.json").open("rb") as handle:
                return handle.read(len(MODEL_FORMAT_PREFIX)) == MODEL_FORMAT_PREFIX
        except OSError:
            return False
    return False


def _small_json(path: Path):
    """A marker file's JSON, or ``None`` when it is too large to be one or not JSON."""
    try:
        if path.stat().st_size > MARKER_BYTES:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def replaceable(folder: Path, *, marker: bool = True) -> str | None:
    """Why the existing ``folder`` may not be replaced whole; ``None`` if it may (or is absent).

    ``marker=False``: a folder a batch made itself (``OUT/scenarios/<case>``) may be replaced
    without a readable marker (an interrupted or damaged result), still only with result files."""
    if not folder.exists() and not folder.is_symlink():
        return None
    if folder.is_symlink() or not folder.is_dir():
        return "exists and is not a folder"
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not entries:
        return None
    names = set()
    for entry in entries:
        if entry.name not in RESULT_FILES or not entry.is_file(follow_symlinks=False):
            return (f"is not a results folder (it holds '{entry.name}', which no result writes)")
        names.add(entry.name)
    if marker and not _marker_ok(folder, names):
        return "is not a results folder (no summary.json or model.json written by the optimiser)"
    return None


def check_replaceable(folder: Path) -> None:
    reason = replaceable(folder)
    if reason is not None:
        raise OutputError(f"{folder} {reason}; choose a new folder so nothing of yours is overwritten")


def _leftover(name: str) -> bool:
    """A batch's own temporary entry: its solver folder, or a file ``atomic_write`` left half-made."""
    return name.startswith(".tmp-") or (name.endswith(".tmp")
                                        and any(name.startswith(f".{entry}.") for entry in BATCH_ENTRIES))


def check_batch_folder(out: Path) -> None:
    """A batch OUT: absent, empty, or holding nothing but what batches and frontiers write."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    try:
        names = [entry.name for entry in os.scandir(out)]
    except OSError as exc:
        raise OutputError(f"{out} cannot be read ({exc.strerror or exc})") from None
    if not names:
        return
    strays = [n for n in names if n not in BATCH_ENTRIES and not _leftover(n)]
    if strays or "batch.json" not in names and "scenarios" not in names:
        shown = f" (it holds '{sorted(strays)[0]}', which no batch writes)" if strays else ""
        raise OutputError(f"{out} exists, is not empty and is not a batch folder{shown}; "
                          "choose a new folder so nothing of yours is overwritten")

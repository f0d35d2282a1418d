"""The batch folder ``OUT``: checked before writing, locked while a batch writes, and its results
store (which case folders are complete and current, retiring the others, writing one case whole)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from optimiser.batch.case import (BATCH_FILE, FAILED, LOCK_FILE, LOCK_OWNER_FILE, SCENARIO_FILE, SCENARIOS_DIR,
                                  SolveOptions)


def check_out(out: Path, inputs=()) -> None:
    """``OUT`` may be written: clear of the inputs, and absent, empty or a batch folder
    holding nothing but what batches write (``optimiser.safety``)."""
    from optimiser.safety import check_batch_folder, check_clear_of_inputs

    check_clear_of_inputs(out, inputs)
    check_batch_folder(Path(out).resolve())


def prepare_out(out: str | Path, inputs=()) -> Path:
    """``OUT`` resolved, checked (``check_out``) and with ``OUT/scenarios/`` made."""
    from optimiser.output import OutputError

    check_out(Path(out), inputs)
    out = Path(out).resolve()
    try:
        (out / SCENARIOS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"could not write {out}: {exc.strerror or exc}") from exc
    return out


def check_case_folders(out: Path, cases) -> None:
    """Every case's folder that a batch may replace or remove holds nothing but an earlier
    result's own files: checked for all cases before anything is solved or written."""
    from optimiser.output import OutputError
    from optimiser.safety import replaceable

    folder = Path(out) / SCENARIOS_DIR
    for case in cases:
        if Path(case.name).name != case.name or case.name.startswith("."):
            raise OutputError(f"scenario name '{case.name}' cannot name a folder inside {folder}")
        reason = replaceable(folder / case.name, marker=False)
        if reason is not None:
            raise OutputError(f"{folder / case.name} {reason}; move it away or choose another -o folder "
                              "so nothing of yours is overwritten")


_HELD_LOCKS: dict[str, list] = {}  # lock file -> [FileLock, depth], held by this process


@contextmanager
def batch_lock(out: Path) -> Iterator[None]:
    """Hold ``OUT/.lock`` (``filelock.FileLock``: ``flock`` on POSIX, ``msvcrt`` locking on
    Windows) while a batch writes into ``OUT``; the holder's process id is in ``OUT/.lock.pid``.

    A second batch (or frontier) on the same ``OUT`` in another process is refused
    with ``OutputError`` naming the process that holds it; nested use in one process
    is allowed. The lock goes with the process: a killed batch leaves nothing held.
    """
    from filelock import FileLock, Timeout

    from optimiser.output import OutputError

    key = str(Path(out) / LOCK_FILE)
    held = _HELD_LOCKS.get(key)
    if held is not None:
        held[1] += 1
        try:
            yield
        finally:
            held[1] -= 1
        return
    lock = FileLock(key, timeout=0, thread_local=False)
    owner = Path(out) / LOCK_OWNER_FILE
    try:
        lock.acquire()
    except Timeout:
        try:
            holder = owner.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            holder = ""
        raise OutputError(f"another batch is writing into {out}" + (f" (process {holder})" if holder else "")
                          + "; wait for it to finish, or choose another -o folder") from None
    except OSError as exc:
        raise OutputError(f"could not write {key}: {exc.strerror or exc}") from exc
    _HELD_LOCKS[key] = [lock, 1]
    try:
        owner.write_text(f"{os.getpid()}\n", encoding="ascii")
        yield
    finally:
        del _HELD_LOCKS[key]
        lock.release()


def read_summary(folder: Path) -> dict | None:
    """A results folder's ``summary.json`` as a dict with a ``status``; ``None`` if missing or unreadable."""
    try:
        summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) and isinstance(summary.get("status"), str) else None


def is_complete(folder: Path, case_fingerprint: str) -> bool:
    """A complete, current result: a readable summary.json and a scenario.json (written in the
    same atomic swap) whose fingerprint is ``case_fingerprint``."""
    try:
        recorded = json.loads((Path(folder) / SCENARIO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(recorded, dict) and recorded.get("fingerprint") == case_fingerprint
            and read_summary(folder) is not None)


def current_cases(out: str | Path) -> dict[str, Path]:
    """The complete, current results of a batch folder: ``{case name: results folder}``.

    The cases are those ``OUT/batch.json`` lists (the last run's, in file order),
    each counted only when ``is_complete`` holds for its folder with the
    fingerprint listed there. Left out: cases that failed or are not solved yet
    (changed since, or interrupted), and folders of cases the last run did not
    ask for. ``{}`` when ``OUT`` is not a batch folder.
    """
    out = Path(out)
    try:
        cases = json.loads((out / BATCH_FILE).read_text(encoding="utf-8"))["cases"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    current: dict[str, Path] = {}
    for entry in cases if isinstance(cases, list) else []:
        name = entry.get("name") if isinstance(entry, dict) else None
        fp = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not (isinstance(name, str) and isinstance(fp, str)) or Path(name).name != name or name.startswith("."):
            continue
        folder = out / SCENARIOS_DIR / name
        if is_complete(folder, fp):
            current[name] = folder
    return current


def retire(folder: Path) -> None:
    """Remove a results folder that is no longer current: renamed aside in one step (so it
    vanishes whole), then deleted. A leftover ``.NAME.old-*`` is removed by the next batch."""
    if not folder.exists():
        return
    aside = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
    try:
        os.replace(folder, aside)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    shutil.rmtree(aside, ignore_errors=True)


def _write_batch_file(out: Path, cases, base, options: SolveOptions, scenario_file: str | None) -> dict[str, str]:
    """``batch.json``: what was asked, with each case's fingerprint (returned by name)."""
    from optimiser.output import atomic_write
    from optimiser.scenarios import fingerprint

    fps = {case.name: fingerprint(case, base, options.as_dict()) for case in cases}
    atomic_write(out / BATCH_FILE, (json.dumps({
        "scenario_file": scenario_file, "base": base.source, "base_fingerprint": base.fingerprint,
        "options": options.as_dict(), "cases": [{"name": c.name, "fingerprint": fps[c.name]} for c in cases],
    }, indent=2) + "\n").encode())
    return fps


def _keep_result(target: Path, result: dict) -> tuple[str, str]:
    """Write one case's results folder whole (unless its worker has); a failed case (or one
    that cannot be written) has its old folder removed. Returns the status and message."""
    from optimiser.output import OutputError, write_folder

    status, message = result["status"], result.get("message", "")
    if status != FAILED and not result.get("written"):
        try:
            write_folder(target, result["files"])
        except OutputError as exc:
            status, message = FAILED, str(exc)
    if status == FAILED:
        retire(target)
    return status, message


def _remove_leftovers(folder: Path, out: Path) -> None:
    """What a killed batch could not clean up: staging folders of an interrupted write, and the
    temporary folder (``OUT/.tmp-PID-...``) of a batch whose process is gone."""
    for entry in folder.iterdir():
        if entry.name.startswith(".") and (".partial-" in entry.name or ".old-" in entry.name):
            shutil.rmtree(entry, ignore_errors=True)
    for entry in out.glob(".tmp-*"):
        try:
            pid = int(entry.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""``run_batch``: solve every case not already complete in ``OUT`` on the chosen engine, writing
each result as it comes, the log and the comparison; Ctrl-C stops cleanly."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from optimiser.batch.case import FAILED, LOG_FILE, PENDING, SCENARIOS_DIR, SolveOptions
from optimiser.batch.comparison import write_comparison
from optimiser.batch.engines import _dask, _in_process, _process_pool
from optimiser.batch.progress import BatchReport
from optimiser.batch.store import (_keep_result, _remove_leftovers, _write_batch_file, batch_lock, check_case_folders,
                                   check_out, is_complete, prepare_out, read_summary, retire)
from optimiser.batch.workers import run_case, use_tmp_parent


def require_packages(scheduler: str | None = None, *extra: str) -> None:
    """Import the optional packages a batch needs now, so a missing one stops it before
    anything is written into OUT (``ModuleNotFoundError`` names the package)."""
    import importlib

    for name in ("tqdm", *(("distributed",) if scheduler else ()), *extra):
        importlib.import_module(name)


def run_batch(cases, base, out: str | Path, options: SolveOptions = SolveOptions(), *,
              workers: int | None = None, scheduler: str | None = None, rerun: bool = False,
              quiet: bool = False, task: Callable = run_case, scenario_file: str | None = None,
              inputs=()) -> BatchReport:
    """Solve every case not already complete in ``out``; write results, log and comparison.

    A case whose folder holds a result that is not current (the case changed)
    has it removed before solving; a case that fails has its old folder removed,
    so no out-of-date figures remain beside the comparison.
    ``inputs``: paths read (the base, the scenario file) that ``out`` may not be, hold or lie in.
    Every case folder to be replaced is checked before anything is written.
    """
    inputs = (base.source, scenario_file, *inputs)
    require_packages(scheduler)
    check_out(Path(out), inputs)
    check_case_folders(Path(out).resolve(), cases)
    out = prepare_out(out, inputs)
    with batch_lock(out):
        folder = out / SCENARIOS_DIR
        _remove_leftovers(folder, out)
        fps = _write_batch_file(out, cases, base, options, scenario_file)
        report = BatchReport(total=len(cases), skipped=0, out=out)
        todo = []
        for case in cases:
            complete = is_complete(folder / case.name, fps[case.name])
            if complete and not rerun:
                report.skipped += 1
                continue
            if not complete:
                retire(folder / case.name)  # out of date (or unreadable): never shown as current
            todo.append(case)
            report.statuses[case.name] = PENDING
        _solve_all(todo, fps, options, base, task, out, report, workers=workers, scheduler=scheduler, quiet=quiet)
        for case in cases:  # cases complete from earlier runs, for the report
            if case.name not in report.statuses:
                summary = read_summary(folder / case.name) or {}
                report.statuses[case.name] = summary.get("status", FAILED)
                report.messages[case.name] = summary.get("message") or (
                    "" if summary else "its summary.json cannot be read; run again with --rerun")
        report.statuses = {case.name: report.statuses[case.name] for case in cases}
        write_comparison(out, cases, fps, report)
    return report


def _solve_all(todo, fps, options, base, task, out: Path, report: BatchReport, *, workers: int | None,
               scheduler: str | None, quiet: bool) -> None:
    """Solve ``todo`` on the chosen engine, writing each result as it comes; Ctrl-C stops cleanly."""
    from tqdm import tqdm

    if workers is None:
        workers = max(1, min(len(todo), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                             else (os.cpu_count() or 1)))
    tmp_parent = tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=out)
    if scheduler:
        results = _dask(todo, fps, options, base, task, scheduler)
    elif workers <= 1 or len(todo) <= 1:
        use_tmp_parent(tmp_parent)
        results = _in_process(todo, fps, options, base, task)
    else:
        results = _process_pool(todo, fps, options, base, task, workers, tmp_parent, str(out / SCENARIOS_DIR))
    from optimiser.console import show_progress

    bar = tqdm(total=len(todo), file=sys.stderr, unit="scenario", disable=quiet or not todo or not show_progress(),
               desc="Scenarios", dynamic_ncols=True)
    log = (out / LOG_FILE).open("a", encoding="utf-8")
    try:
        _log(log, {"event": "start", "cases": report.total, "to_run": len(todo),
                   "engine": "dask " + scheduler if scheduler else f"{workers} process(es)"})
        for case, result in results:
            status, message = _keep_result(out / SCENARIOS_DIR / case.name, result)
            report.statuses[case.name] = status
            report.messages[case.name] = message
            _log(log, {"event": "result", "name": case.name, "status": status, "fingerprint": fps[case.name],
                       "seconds": result.get("seconds"), "worker": result.get("worker"),
                       "model": result.get("model"),
                       **({"message": message} if status != "optimal" else {})})
            bar.update(1)
            bar.set_postfix_str(f"optimal {report.count('optimal')}, infeasible {report.count('infeasible')}, "
                                f"failed {report.count(FAILED)}", refresh=False)
    except KeyboardInterrupt:
        report.interrupted = True
        _close(results)  # the workers stop first: no folder is written after the scan below
        _log_finished(log, todo, fps, out, report)
        _log(log, {"event": "interrupted"})
    finally:
        _close(results)
        bar.close()
        log.close()
        use_tmp_parent(None)
        shutil.rmtree(tmp_parent, ignore_errors=True)


def _close(results) -> None:
    close = getattr(results, "close", None)
    if close is not None:
        close()


def _log_finished(log, todo, fps, out: Path, report: BatchReport) -> None:
    """After Ctrl-C: log every case a worker finished (its folder written whole) that the
    driver had not logged yet, so the log names every case the batch completed."""
    for case in todo:
        folder = out / SCENARIOS_DIR / case.name
        if report.statuses.get(case.name) != PENDING or not is_complete(folder, fps[case.name]):
            continue
        summary = read_summary(folder) or {}
        report.statuses[case.name] = status = summary.get("status", FAILED)
        report.messages[case.name] = message = summary.get("message") or ""
        _log(log, {"event": "result", "name": case.name, "status": status, "fingerprint": fps[case.name],
                   "seconds": None, "worker": None, "model": None, "finished_before_interrupt": True,
                   **({"message": message} if status != "optimal" else {})})


def _log(handle, record: dict) -> None:
    handle.write(json.dumps({"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **record}) + "\n")
    handle.flush()

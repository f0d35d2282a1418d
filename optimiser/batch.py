"""``optimiser batch``: solve every scenario of a scenario file, locally or on a Dask cluster.

Layout of ``OUT``::

    OUT/batch.json              what was asked: base dataset, options, cases and fingerprints
    OUT/batch_log.jsonl         one line per finished (or failed) case, appended run after run
    OUT/scenarios/<name>/       a results folder per case (as ``optimiser run`` writes) plus scenario.json
    OUT/comparison.csv, .xlsx   one row per case: status, shortfall, cost, top binding limits, overrides

Execution: workers solve (load nothing from disk: the validated base dataset
is sent to each worker once). A local worker writes its case's results folder
whole itself (``output.write_folder``: staged, then swapped in); a worker on
another machine (Dask) returns the files' bytes and this process writes them,
so it needs no shared disk. No folder is ever half-written.

Resuming: a case is *complete* when ``OUT/scenarios/<name>/scenario.json``
(written in the same atomic swap as ``summary.json``) carries the case's
fingerprint: a hash of the base dataset's content, the case's resolved
overrides and the solve options. Running the same command again solves only
the cases that are not complete; a changed scenario (or base, or option) gets
a new fingerprint and is solved again (its out-of-date folder is removed
first). Failed cases write no folder and lose any earlier one, so no stale
figures remain, and they are retried. ``current_cases(OUT)`` lists the
complete, current results for code that reads a batch folder. The
fingerprint does not cover the optimiser's own code: after an upgrade, use
``--rerun`` or a new OUT.

One batch at a time writes into an OUT: ``batch_lock`` holds ``OUT/.lock`` (filelock, portable).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from models.results import SUMMARY_FIGURES

BATCH_FILE = "batch.json"
LOG_FILE = "batch_log.jsonl"
SCENARIO_FILE = "scenario.json"
SCENARIOS_DIR = "scenarios"
LOCK_FILE = ".lock"
LOCK_OWNER_FILE = ".lock.pid"
COMPARISON = "comparison"
#: How many times a case may kill its worker, running on its own, before it is failed.
MAX_ATTEMPTS = 2
FAILED, PENDING = "failed", "pending"


@dataclass(frozen=True)
class SolveOptions:
    """Command-line solve options; ``None`` = the dataset's settings (after the overrides)."""

    solver: str | None = None
    time_limit_seconds: float | None = None
    integer: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ==================================================================== one case


def solve_overrides(base, overrides, out_dir: str | Path | None, *, name: str | None, options: SolveOptions,
                    tmp_root: str | Path | None = None, cache=None, in_memory: bool = False,
                    inputs: tuple = ()):
    """Apply ``overrides`` to ``base``, validate, then ``pipeline.run`` (build, solve, write
    ``out_dir`` whole, or with ``in_memory`` make its files): ``(RunOutcome, figures)``.

    ``cache`` (a ``reuse.SolveCache``): the base's validated tables, and the last model,
    re-solved in place when only right-hand sides differ.
    ``figures`` are the case's budgets and supervision capacities (``case_figures``).
    ``inputs``: files read besides the base (a scenario file), kept clear of ``out_dir``.
    Raises ``InputError`` (naming the scenario and line) or ``SolverError``.
    """
    from optimiser import pipeline
    from optimiser.errors import InputError
    from optimiser.loader import validate_raw
    from optimiser.scenarios import apply_overrides, explain_input_error

    applied = apply_overrides(base, overrides)
    try:
        dataset = validate_raw(applied.raw, known=cache.tables if cache is not None else None)
    except InputError as exc:
        raise explain_input_error(exc, applied, name) from None
    outcome = pipeline.run(dataset, out_dir, integer=options.integer, solver=options.solver,
                           time_limit_seconds=options.time_limit_seconds, tmp_root=tmp_root, scenario=name,
                           overrides=applied.records, cache=cache, in_memory=in_memory,
                           inputs=(base.source, *inputs))
    return outcome, case_figures(dataset, outcome.results)


def case_figures(dataset, results) -> dict[str, list]:
    """The figures a frontier is drawn against, recorded in each case's ``scenario.json``.

    ``budget``: ``[year, region or None, budget_gbp]`` per budget row (after the overrides).
    ``supervision_capacity``: ``[profession, region, year, hours_per_wte, capacity]`` for each
    supervising profession (of trainees that need supervision), region and decision year:
    the hours a week a qualified WTE gives there (``supervisor_hours``, else national) and the
    capacity, hours per WTE x the stock at the start of the year: the base-year stock
    in the first decision year, later the plan's (``None`` without a plan).
    """
    st = dataset.settings
    needed = {p.profession for p in dataset.professions if p.supervision_hours_per_trainee > 0}
    supervisors = sorted({row.supervisor_profession for row in dataset.supervision
                          if row.trainee_profession in needed})
    planned: dict[tuple[str, str, int], float] = {}
    if results is not None and supervisors:
        w = results.workforce
        planned = {(p, r, int(y)): float(s) for p, r, y, s in zip(w.profession, w.region, w.year, w.stock_wte)}
    capacity = []
    regions, stocks = sorted(dataset.region), dataset.stock_wte
    for q in supervisors:
        for r in regions:
            h = dataset.supervisor_hours_per_wte(q, r)
            for t in st.decision_years:
                stock = stocks.get((q, r), 0.0) if t - 1 == st.base_year else planned.get((q, r, t - 1))
                capacity.append([q, r, t, h, None if stock is None else h * stock])
    return {"budget": [[b.year, b.region, b.budget_gbp] for b in dataset.budget],
            "supervision_capacity": capacity}


# ================================================================== workers

_BASE = None
_TMP_PARENT: str | None = None  # the batch's temporary folder, when the driver made one
_RESULTS_DIR: str | None = None  # a local pool worker's: OUT/scenarios, where it writes its cases
_LOCAL = threading.local()
_TMP_ROOTS: list[str] = []


def _tmp_root() -> str:
    """This worker's own temporary folder (one per process and thread), for the solver's files.

    Inside the batch's temporary folder (removed by the driver at the end, even
    after a killed worker) when there is one; else in the system's, removed at exit.
    """
    root = getattr(_LOCAL, "tmp_root", None)
    if root is None or not os.path.isdir(root):
        parent = _TMP_PARENT if _TMP_PARENT and os.path.isdir(_TMP_PARENT) else None
        root = tempfile.mkdtemp(prefix=f"optimiser-worker-{os.getpid()}-", dir=parent)
        _LOCAL.tmp_root = root
        if not _TMP_ROOTS:
            atexit.register(_remove_tmp_roots)
            from multiprocessing import util

            util.Finalize(None, _remove_tmp_roots, exitpriority=0)  # pool workers skip atexit
        _TMP_ROOTS.append(root)
    return root


def _solve_cache():
    """This worker's ``reuse.SolveCache`` (one per process and thread): the base's validated
    tables and the last model, re-solved in place for the next case when it can be."""
    cache = getattr(_LOCAL, "cache", None)
    if cache is None:
        from optimiser.reuse import SolveCache

        cache = _LOCAL.cache = SolveCache()
    return cache


def _remove_tmp_roots() -> None:
    for root in _TMP_ROOTS:
        shutil.rmtree(root, ignore_errors=True)


def _init_worker(base, tmp_parent: str | None = None, results_dir: str | None = None) -> None:
    """Process-pool initialiser: keep the base, leave Ctrl-C to the driver, warm imports.

    SIGINT gets a handler that does nothing rather than SIG_IGN: an ignored signal
    stays ignored in the solver processes a worker starts, a handler does not, so
    Ctrl-C still stops a running CBC while the driver stops the workers.
    """
    import signal

    global _BASE, _TMP_PARENT, _RESULTS_DIR
    _BASE, _TMP_PARENT, _RESULTS_DIR = base, tmp_parent, results_dir
    _LOCAL.tmp_root = _LOCAL.cache = None  # state copied from the parent by fork is not this worker's
    _TMP_ROOTS.clear()
    signal.signal(signal.SIGINT, _ignore_signal)
    import optimiser.pipeline  # noqa: F401  (import once per worker, not per case)
    import optimiser.results  # noqa: F401

    _tmp_root()
    gc.freeze()  # what is loaded now lives as long as the worker: keep it out of every collection


def _ignore_signal(signum, frame) -> None:
    return None


def run_case(case, case_fingerprint: str, options: SolveOptions, base=None,
             results_dir: str | Path | None = None) -> dict[str, Any]:
    """Solve one case in a worker and return its status (never raises).

    Its results folder is written whole into ``results_dir`` (default: a local pool
    worker's ``OUT/scenarios``; the result then says ``written``); without one, the
    result carries the files' bytes for the driver to write.
    """
    from optimiser.errors import InputError, SolverError
    from optimiser.output import OutputError, write_folder

    base = base if base is not None else _BASE
    results_dir = results_dir if results_dir is not None else _RESULTS_DIR
    started = time.perf_counter()
    out: dict[str, Any] = {"name": case.name, "worker": f"{os.getpid()}/{threading.get_ident() % 10_000}"}
    try:
        cache = _solve_cache()
        outcome, figures = solve_overrides(base, case.overrides, None, name=case.name, options=options,
                                           tmp_root=_tmp_root(), cache=cache, in_memory=True)
        out["model"] = cache.last  # re-solved in place, or built
        files = outcome.files
        summary = outcome.summary
        files[SCENARIO_FILE] = json.dumps({
            "name": case.name, "scenario": case.scenario, "description": case.description,
            "fingerprint": case_fingerprint, "base": base.source, "base_fingerprint": base.fingerprint,
            "options": options.as_dict(), "overrides": [o.text for o in case.overrides],
            "sources": [o.source for o in case.overrides], "figures": figures,
        }, indent=2).encode() + b"\n"
        if results_dir is None:
            out.update(status=summary.status, message=summary.message, files=files)
        else:
            write_folder(Path(results_dir) / case.name, files)
            out.update(status=summary.status, message=summary.message, written=True)
    except OutputError as exc:
        out.update(status=FAILED, message=str(exc))
    except InputError as exc:
        out.update(status=FAILED, message="invalid input: " + exc.render(limit=10).replace("\n", "; "))
    except SolverError as exc:
        out.update(status=FAILED, message=f"solver error: {exc}")
    except Exception as exc:  # noqa: BLE001 - one broken case must not stop a batch
        out.update(status=FAILED, message=f"internal error: {type(exc).__name__}: {exc}")
    out["seconds"] = round(time.perf_counter() - started, 4)
    return out


def _failed(case, message: str) -> dict[str, Any]:
    return {"name": case.name, "status": FAILED, "message": message, "seconds": None}


# ================================================================== engines


def _in_process(todo, fps, options, base, task) -> Iterator[tuple[Any, dict]]:
    for case in todo:
        yield case, task(case, fps[case.name], options, base)


def _process_pool(todo, fps, options, base, task, workers: int, tmp_parent: str,
                  results_dir: str | None = None) -> Iterator[tuple[Any, dict]]:
    """One single-threaded solve per process, a few cases in flight per worker; each worker
    writes its cases' folders into ``results_dir``.

    A worker that dies (killed, out of memory) breaks the whole pool: a new pool
    is started and the cases that were in flight become *suspects*, retried one
    at a time, alone, so the innocent ones complete; a case that kills its worker
    ``MAX_ATTEMPTS`` times while running alone is failed with that reason.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    import optimiser.pipeline  # noqa: F401  (imported once here: forked workers start with it)

    pending = deque(todo)
    suspects: deque = deque()
    solo_deaths: Counter[str] = Counter()
    while pending or suspects:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                   initargs=(base, tmp_parent, results_dir))
        inflight: dict[Any, tuple[Any, bool]] = {}
        broken = finished = False
        try:
            while True:
                while not broken:  # fill: suspects run alone, others a few per worker
                    if suspects:
                        if inflight:
                            break
                        case, solo = suspects.popleft(), True
                    elif pending and len(inflight) < 2 * workers:
                        case, solo = pending.popleft(), False
                    else:
                        break
                    inflight[pool.submit(task, case, fps[case.name], options)] = (case, solo)
                    if solo:
                        break
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for future in done:
                    case, solo = inflight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        if not solo:
                            suspects.append(case)
                            continue
                        solo_deaths[case.name] += 1
                        if solo_deaths[case.name] < MAX_ATTEMPTS:
                            suspects.appendleft(case)
                            continue
                        result = _failed(case, "the worker process solving it died (killed, or out of memory) "
                                               f"on {solo_deaths[case.name]} attempts on its own")
                    except Exception as exc:  # noqa: BLE001
                        result = _failed(case, f"internal error: {type(exc).__name__}: {exc}")
                    yield case, result
                if broken and not inflight:
                    break
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:  # interrupted (Ctrl-C) or the consumer stopped: stop the workers now
                processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
                pool.shutdown(wait=False, cancel_futures=True)
                for process in processes:
                    if process.is_alive():
                        process.terminate()
                for process in processes:  # gone before the driver looks at what they wrote
                    process.join(timeout=10)


def _dask(todo, fps, options, base, task, address: str) -> Iterator[tuple[Any, dict]]:
    """The same tasks on a running Dask distributed cluster (its workers need this package)."""
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - the batch extra is installed with tests
        from optimiser.errors import InputError, Problem

        raise InputError([Problem("command line", None, "--scheduler", address, "needs Dask distributed: "
                                  "pip install 'psych-commission-optimiser[batch]'")])
    try:
        client = Client(address, timeout="20s")
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError for a bad address
        from optimiser.errors import InputError, Problem

        raise InputError([Problem("command line", None, "--scheduler", address,
                                  f"cannot reach the Dask scheduler: {type(exc).__name__}: {exc}")]) from None
    futures = []
    try:
        shared = client.scatter(base, broadcast=True)
        by_key = {}
        for case in todo:
            future = client.submit(task, case, fps[case.name], options, shared, pure=False,
                                   key=f"optimiser-case-{case.name}-{uuid.uuid4().hex[:8]}")
            futures.append(future)
            by_key[future.key] = case
        for future in as_completed(futures):
            case = by_key[future.key]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, lost connection...
                result = _failed(case, f"the cluster could not run it: {type(exc).__name__}: {exc}")
            future.release()
            yield case, result
    finally:
        try:
            client.cancel([f for f in futures if not f.done()])
        finally:
            client.close()


# =================================================================== driver


@dataclass
class BatchReport:
    total: int
    skipped: int  # complete from an earlier run
    statuses: dict[str, str] = field(default_factory=dict)  # name -> status, for every case
    messages: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    out: Path | None = None

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.statuses.values() if s in statuses)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        if self.count(FAILED, PENDING):
            return 1
        if self.count("time_limit", "time_limit_no_plan", "not_solved", "unbounded", "error"):
            return 4
        if self.count("infeasible"):
            return 3
        return 0

    def text(self) -> str:
        ran = self.total - self.skipped
        lines = [f"{self.total} scenario(s): {self.skipped} already complete, {ran} run this time"
                 + (" (interrupted)" if self.interrupted else "")]
        lines.append(f"  done (optimal): {self.count('optimal')}, infeasible: {self.count('infeasible')}, "
                     f"not optimal: {self.count('time_limit', 'time_limit_no_plan', 'not_solved', 'unbounded', 'error')}, "
                     f"failed: {self.count(FAILED)}" + (f", not run: {self.count(PENDING)}" if self.count(PENDING) else ""))
        for name, status in self.statuses.items():
            if status not in ("optimal", PENDING):
                lines.append(f"  {name}: {status.upper().replace('_', ' ')}: {self.messages.get(name, '')}")
        if self.out is not None:
            lines.append(f"Comparison: {self.out / (COMPARISON + '.csv')} (and .xlsx); results in {self.out / SCENARIOS_DIR}")
        if self.interrupted:
            lines.append("Run the same command again to solve the rest; complete results are kept.")
        return "\n".join(lines)


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


def require_packages(scheduler: str | None = None, *extra: str) -> None:
    """Import the optional packages a batch needs now, so a missing one stops it before
    anything is written into OUT (``ModuleNotFoundError`` names the package)."""
    import importlib

    for name in ("tqdm", *(("distributed",) if scheduler else ()), *extra):
        importlib.import_module(name)


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


def _solve_all(todo, fps, options, base, task, out: Path, report: BatchReport, *, workers: int | None,
               scheduler: str | None, quiet: bool) -> None:
    """Solve ``todo`` on the chosen engine, writing each result as it comes; Ctrl-C stops cleanly."""
    from tqdm import tqdm

    global _TMP_PARENT
    if workers is None:
        workers = max(1, min(len(todo), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                             else (os.cpu_count() or 1)))
    tmp_parent = tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=out)
    if scheduler:
        results = _dask(todo, fps, options, base, task, scheduler)
    elif workers <= 1 or len(todo) <= 1:
        _TMP_PARENT = tmp_parent
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
        _TMP_PARENT = None
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


def _log(handle, record: dict) -> None:
    handle.write(json.dumps({"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **record}) + "\n")
    handle.flush()


# =============================================================== comparison

BINDING_SHOWN = 3


def comparison_table(out: Path, cases, fps: dict[str, str], report: BatchReport | None = None):
    """One row per case, in file order, from each complete result's summary.json."""
    import pandas as pd

    rows = []
    for case in cases:
        folder = out / SCENARIOS_DIR / case.name
        row: dict[str, Any] = {"scenario": case.name, "scenario_group": case.scenario}
        failed_now = report is not None and report.statuses.get(case.name) == FAILED
        summary = read_summary(folder) if not failed_now and is_complete(folder, fps[case.name]) else None
        if summary is not None:
            status = summary.get("status")
            row.update(status=status, reason=None if status == "optimal" else summary.get("message"),
                       **{key: summary.get(key) for key in SUMMARY_FIGURES})
            limits = summary.get("binding_limits") or []
        else:
            status = report.statuses.get(case.name, PENDING) if report else PENDING
            if status not in (FAILED, PENDING):
                status = FAILED
            row.update(status=status, reason=(report.messages.get(case.name) if report else None)
                       or ("not run yet (interrupted); run the same command again" if status == PENDING else None),
                       **dict.fromkeys(SUMMARY_FIGURES))
            limits = []
        for i in range(BINDING_SHOWN):
            limit = limits[i] if i < len(limits) else None
            row[f"binding_{i + 1}"] = _limit_text(limit) if limit else None
            row[f"binding_{i + 1}_shadow_price"] = limit.get("shadow_price") if limit else None
        row["overrides"] = "; ".join(o.text for o in case.overrides)
        row["results"] = f"{SCENARIOS_DIR}/{case.name}" if summary is not None else None
        rows.append(row)
    table = with_sweep_columns(pd.DataFrame(rows), cases)
    base = base_case(cases)
    index = next((i for i, case in enumerate(cases) if base is not None and case.name == base.name), None)
    from optimiser.deltas import with_changes

    table = with_changes(table, index, BASE_LABEL)
    table.insert(table.columns.get_loc(f"{SUMMARY_FIGURES[-1]}_change_vs_{BASE_LABEL}") + 1, "base_scenario",
                 base.name if base is not None else None)
    return table


#: The suffix of the comparison's change columns: against the case solved from the base as given.
BASE_LABEL = "base"


def base_case(cases):
    """The case with no overrides of its own (a scenario like ``baseline: {}``; only the command
    line's ``--set``, which every case has): the base the comparison's changes are against."""
    return next((case for case in cases if all(o.layer == "command line" for o in case.overrides)), None)


def with_sweep_columns(table, cases):
    """``table`` with one column per swept value (``Override.sweep_column``, e.g.
    ``budget.budget_gbp (scale)``) after ``scenario_group``, holding each case's value (blank for a
    case that does not sweep it), so a pivot needs no parsing of scenario names."""
    columns: dict[str, list] = {}
    for row, case in enumerate(cases):
        for position in case.swept:
            override = case.overrides[position]
            values = columns.setdefault(override.sweep_column, [None] * len(cases))
            values[row] = override.value
    for offset, (name, values) in enumerate(columns.items()):
        if name in table.columns:  # a swept target named like a standard column: keep both apart
            name = f"sweep: {name}"
        table.insert(table.columns.get_loc("scenario_group") + 1 + offset, name, values)
    return table


def _limit_text(limit: dict) -> str:
    parts = [limit.get("family"), limit.get("profession"), limit.get("region"), limit.get("year_label")]
    return " ".join(str(p) for p in parts if p)


def write_comparison(out: Path, cases, fps: dict[str, str], report: BatchReport | None = None):
    """``comparison.csv`` and ``comparison.xlsx``, each replaced in one rename."""
    from optimiser.output import atomic_write

    table = comparison_table(out, cases, fps, report)
    atomic_write(out / (COMPARISON + ".csv"), table.to_csv(index=False, float_format="%.10g").encode("utf-8"))
    atomic_write(out / (COMPARISON + ".xlsx"), _xlsx_bytes(table))
    return table


def _xlsx_bytes(table) -> bytes:
    import io

    import pandas as pd

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="comparison", index=False)
        sheet = writer.sheets["comparison"]
        sheet.freeze_panes = "B2"
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text: '=...', '+...', '-...', '@...' never become formulas
        for column in sheet.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column[:50])
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    return buffer.getvalue()


# ================================================================= commands


@dataclass(frozen=True)
class WhatIf:
    """A what-if asked on the command line: the base, the case's name and its overrides, in order."""

    base: Any  # optimiser.scenarios.Base
    name: str | None
    overrides: tuple
    #: Files read besides the base (the scenario file).
    inputs: tuple = ()

    def dataset(self):
        """``(validated dataset, scenarios.Applied)``: the base with the overrides applied;
        ``InputError`` naming the override (file and line, or the command line)."""
        from optimiser.errors import InputError
        from optimiser.loader import validate_raw
        from optimiser.scenarios import apply_overrides, explain_input_error

        applied = apply_overrides(self.base, self.overrides)
        try:
            return validate_raw(applied.raw), applied
        except InputError as exc:
            raise explain_input_error(exc, applied, self.name) from None


def is_whatif(sets=(), scenario_file=None, name: str | None = None) -> bool:
    return bool(sets or scenario_file or name)


def prepare_whatif(dataset, *, sets=(), scenario_file=None, name: str | None = None) -> WhatIf:
    """``DATASET --scenario FILE --name NAME --set ...`` read and checked: the scenario's
    overrides first, then each ``--set`` in order (a ``base:`` in the file is not used)."""
    from optimiser.errors import InputError, Problem
    from optimiser.scenarios import cli_overrides, expand, load_scenario_file, prepare_base

    if name and not scenario_file:
        raise InputError([Problem("command line", None, "--name", name, "--name needs --scenario FILE")])
    base = prepare_base(dataset)
    cli = cli_overrides(list(sets), base)
    inputs = (scenario_file,) if scenario_file else ()
    if not scenario_file:
        return WhatIf(base, None, tuple(cli), inputs)
    loaded = load_scenario_file(scenario_file)
    scenarios = loaded.spec.scenarios
    if name is None and len(scenarios) != 1:
        raise InputError([Problem(loaded.label, None, None, None,
                                  "holds several scenarios; choose one with --name: " + ", ".join(scenarios))])
    group = name if name is None or name in scenarios else name.split("--", 1)[0]
    if group is not None and group not in scenarios:
        raise InputError([Problem(loaded.label, None, None, name,
                                  "no such scenario; the file has: " + ", ".join(scenarios))])
    cases = expand(loaded, base, cli, only=group)
    # the case named exactly; a scenario's own name also picks its one case (a one-value sweep)
    chosen = [c for c in cases if c.name == name] or (cases if name in (None, group) and len(cases) == 1 else [])
    if name is not None and name != group and not chosen:
        raise InputError([Problem(loaded.label, loaded.line("scenarios", group), None, name,
                                  f"no such case; scenario '{group}' has: "
                                  + ", ".join(c.name for c in cases[:5]) + (" ..." if len(cases) > 5 else ""))])
    if len(chosen) != 1:
        raise InputError([Problem(loaded.label, loaded.line("scenarios", cases[0].scenario), None, name,
                                  f"scenario '{cases[0].scenario}' is a sweep of {len(cases)} cases; name one "
                                  "(" + ", ".join(c.name for c in cases[:5]) + (" ..." if len(cases) > 5 else "")
                                  + ") or run them all with 'optimiser batch'")])
    return WhatIf(base, chosen[0].name, chosen[0].overrides, inputs)


def run_whatif(dataset, out_dir, *, sets=(), scenario_file=None, name: str | None = None,
               solver: str | None = None, time_limit_seconds: float | None = None, integer: bool | None = None):
    """``optimiser run DATASET --scenario FILE --name NAME --set ...``: one what-if, written whole
    (``prepare_whatif``)."""
    from optimiser.output import check_target

    check_target(Path(out_dir), (dataset, scenario_file))  # before any work
    whatif = prepare_whatif(dataset, sets=sets, scenario_file=scenario_file, name=name)
    outcome, _ = solve_overrides(whatif.base, whatif.overrides, out_dir, name=whatif.name,
                                 options=SolveOptions(solver, time_limit_seconds, integer), inputs=whatif.inputs)
    return outcome


def load_cases(scenario_file: Path, *, base: Path | None, data_roots=(), sets=()):
    """Read a scenario file and its base; every case with the command line's overrides last."""
    from optimiser.scenarios import cli_overrides, expand, load_scenario_file, prepare_base, resolve_base_path

    loaded = load_scenario_file(scenario_file)
    base_path = resolve_base_path(loaded, base, data_roots)
    prepared = prepare_base(base_path)
    cli = cli_overrides(list(sets), prepared)
    return loaded, prepared, expand(loaded, prepared, cli)


def run_options(command: Callable) -> Callable:
    """The options ``optimiser batch`` and ``optimiser frontier`` share (how and where cases are solved),
    then ``--debug`` and the CLI's error handling (``cliopts.guarded``)."""
    from optimiser.cliopts import debug_option, guarded, integer_option, solver_option, time_option, verbose_option

    for decorator in reversed((
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Local worker processes (default: all cores)."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786."),
        click.option("--rerun", is_flag=True, help="Solve every case again, even those with complete results."),
        solver_option, time_option, integer_option,
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
        verbose_option, debug_option, guarded,
    )):
        command = decorator(command)
    return command


def register(main) -> None:
    @main.command()
    @click.argument("scenarios", type=click.Path(path_type=Path))
    @click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path),
                  help="Batch folder: scenarios/<name>/, comparison.csv/.xlsx, batch_log.jsonl.")
    @click.option("--base", "base", type=click.Path(path_type=Path), default=None,
                  help="Base dataset (default: the scenario file's 'base:').")
    @click.option("--data-root", "data_roots", multiple=True, type=click.Path(path_type=Path),
                  help="Another folder the file's 'base:' may point into (default: only the file's folder).")
    @click.option("--set", "sets", multiple=True, metavar="OVERRIDE",
                  help="Override applied to every scenario, after its own (e.g. 'budget.budget_gbp=*0.9').")
    @run_options
    def batch(scenarios, out_dir, base, data_roots, sets, workers, scheduler, rerun, solver, time_limit,
              integer, quiet, verbose, debug):
        """Solve every scenario of the SCENARIOS file (sweeps expanded); resumable.

        Exit status: 0 all optimal; 3 some infeasible; 4 some not optimal (time
        limit...); 1 some failed; 2 the scenario file or base dataset is invalid;
        130 interrupted (run the same command again to finish).
        """
        loaded, prepared, cases = load_cases(scenarios, base=base, data_roots=data_roots, sets=sets)
        options = SolveOptions(solver, time_limit, integer)
        report = run_batch(cases, prepared, out_dir, options, workers=workers, scheduler=scheduler,
                           rerun=rerun, quiet=quiet, scenario_file=str(scenarios))
        click.echo(report.text())
        sys.exit(report.exit_code)

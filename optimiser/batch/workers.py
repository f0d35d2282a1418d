"""Worker state: the base dataset (sent once), a temporary folder and a ``reuse.SolveCache`` per
process and thread, and ``run_case``, the task every engine runs (pickled by module path)."""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from optimiser.batch.case import FAILED, SCENARIO_FILE, SolveOptions, solve_overrides

_BASE = None
_TMP_PARENT: str | None = None  # the batch's temporary folder, when the driver made one
_RESULTS_DIR: str | None = None  # a local pool worker's: OUT/scenarios, where it writes its cases
_LOCAL = threading.local()
_TMP_ROOTS: list[str] = []


def use_tmp_parent(folder: str | None) -> None:
    """Make ``folder`` (the batch's temporary folder, or ``None``) the parent of this process's
    worker folders: the in-process engine's, set and cleared by the driver."""
    global _TMP_PARENT
    _TMP_PARENT = folder


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

"""The engines that run a task over the cases and yield ``(case, result)`` as each finishes:
in this process, a local process pool (restarted when a worker dies), or a Dask cluster."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

from optimiser.batch.case import FAILED
from optimiser.batch.workers import _init_worker

#: How many times a case may kill its worker, running on its own, before it is failed.
MAX_ATTEMPTS = 2


def _failed(case, message: str) -> dict[str, Any]:
    return {"name": case.name, "status": FAILED, "message": message, "seconds": None}


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
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    import optimiser.pipeline  # noqa: F401  (imported once here: forked workers start with it)

    pending = deque(todo)
    suspects: deque = deque()
    solo_deaths: Counter[str] = Counter()
    while pending or suspects:
        others = set(multiprocessing.active_children())  # this pool's workers are the children it adds
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
                processes = [p for p in multiprocessing.active_children() if p not in others]
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

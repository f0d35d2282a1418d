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

The package, in the order its modules build on each other (none imports a later one):
``case`` (the folder's names, ``SolveOptions``, a file's cases, one case solved), ``workers``
(worker state and ``run_case``), ``engines`` (in process, process pool, Dask), ``progress``
(``BatchReport``), ``store`` (``OUT`` checked and locked; which results are current),
``comparison`` (the comparison table), ``driver`` (``run_batch``), ``whatif`` (one what-if for
``optimiser run --set``). ``commands`` (the ``optimiser batch`` command and the options it shares
with ``optimiser frontier``) is Click registration: only ``optimiser.cli`` and other commands
modules import it, and this package does not re-export it.
"""

from __future__ import annotations

from optimiser.batch.case import BATCH_FILE, LOG_FILE, SCENARIO_FILE, SCENARIOS_DIR, LOCK_FILE, LOCK_OWNER_FILE, COMPARISON, FAILED, PENDING, SolveOptions, solve_overrides, case_figures, load_cases
from optimiser.batch.workers import run_case
from optimiser.batch.engines import MAX_ATTEMPTS
from optimiser.batch.progress import BatchReport
from optimiser.batch.store import check_out, prepare_out, check_case_folders, batch_lock, read_summary, is_complete, current_cases, retire
from optimiser.batch.comparison import BINDING_SHOWN, comparison_table, BASE_LABEL, base_case, with_sweep_columns, write_comparison
from optimiser.batch.driver import require_packages, run_batch
from optimiser.batch.whatif import WhatIf, is_whatif, prepare_whatif, run_whatif

__all__ = [
    "BATCH_FILE",
    "LOG_FILE",
    "SCENARIO_FILE",
    "SCENARIOS_DIR",
    "LOCK_FILE",
    "LOCK_OWNER_FILE",
    "COMPARISON",
    "FAILED",
    "PENDING",
    "SolveOptions",
    "solve_overrides",
    "case_figures",
    "load_cases",
    "run_case",
    "MAX_ATTEMPTS",
    "BatchReport",
    "check_out",
    "prepare_out",
    "check_case_folders",
    "batch_lock",
    "read_summary",
    "is_complete",
    "current_cases",
    "retire",
    "BINDING_SHOWN",
    "comparison_table",
    "BASE_LABEL",
    "base_case",
    "with_sweep_columns",
    "write_comparison",
    "require_packages",
    "run_batch",
    "WhatIf",
    "is_whatif",
    "prepare_whatif",
    "run_whatif",
]

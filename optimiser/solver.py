"""The one place a solver is called: CBC (bundled with PuLP) or HiGHS (highspy).

Every run is single-threaded, has a time limit and its own temporary folder,
which is removed afterwards whatever happens. The outcome is a normalised
status; PuLP's "Optimal" after a time limit (an incumbent, ``sol_status`` 2)
is reported as ``time_limit``, never as optimal.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pulp

from optimiser.errors import SolverError

OPTIMAL = "optimal"
INFEASIBLE = "infeasible"
UNBOUNDED = "unbounded"
TIME_LIMIT = "time_limit"  # stopped by the time limit with a feasible plan
TIME_LIMIT_NO_PLAN = "time_limit_no_plan"
NOT_SOLVED = "not_solved"
ERROR = "error"

CBC_PATH_VARIABLE = "OPTIMISER_CBC_PATH"
_CBC_TIME = re.compile(r"Total time \(CPU seconds\):\s*([0-9.]+)\s*\(Wallclock seconds\):\s*([0-9.]+)")


@dataclass
class SolverRun:
    """What one solver call gave: normalised status, objective, and timings."""

    status: str
    objective: float | None
    wall_seconds: float
    solver_seconds: float | None
    message: str

    @property
    def has_values(self) -> bool:
        return self.status in (OPTIMAL, TIME_LIMIT)


def available_solvers() -> dict[str, bool]:
    return {
        "cbc": pulp.COIN_CMD(path=cbc_path(), msg=False).available(),
        "highs": pulp.HiGHS(msg=False).available(),
    }


def run_solver(problem: pulp.LpProblem, solver: str, time_limit_seconds: float,
               tmp_root: str | Path | None = None, warm_start: bool = False,
               mip_gap: float | None = None) -> SolverRun:
    """Solve ``problem`` in place; values, duals (``pi``) and reduced costs land on its objects.

    ``warm_start`` hands the variables' current values to the solver as a
    starting plan (used for the cost stage of a MILP, whose stage-1 plan is
    feasible by construction). ``mip_gap`` is the relative gap within which an
    integer plan counts as optimal (ignored for an LP).
    """
    workdir = Path(tempfile.mkdtemp(prefix="optimiser-", dir=tmp_root))
    started = time.perf_counter()
    try:
        if solver == "cbc":
            status, solver_seconds = _run_cbc(problem, time_limit_seconds, workdir, warm_start, mip_gap)
        elif solver == "highs":
            status, solver_seconds = _run_highs(problem, time_limit_seconds, warm_start, mip_gap)
        else:
            raise SolverError(f"unknown solver '{solver}'; expected cbc or highs")
    except pulp.PulpSolverError as exc:
        raise SolverError(f"the {solver} solver failed to run: {exc}") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    wall = time.perf_counter() - started
    normalised, message = _normalise(problem, status, wall, time_limit_seconds)
    objective = pulp.value(problem.objective) if normalised in (OPTIMAL, TIME_LIMIT) else None
    return SolverRun(normalised, objective, wall, solver_seconds, message)


def cbc_path() -> str:
    """The CBC binary: ``OPTIMISER_CBC_PATH`` if set, else the one bundled with PuLP."""
    return os.environ.get(CBC_PATH_VARIABLE) or pulp.PULP_CBC_CMD.pulp_cbc_path


def _run_cbc(problem: pulp.LpProblem, time_limit_seconds: float, workdir: Path,
             warm_start: bool, mip_gap: float | None) -> tuple[int, float | None]:
    log_path = workdir / "cbc.log"
    cmd = pulp.COIN_CMD(path=cbc_path(), msg=False, timeLimit=time_limit_seconds, threads=1,
                        keepFiles=False, logPath=str(log_path), warmStart=warm_start, gapRel=mip_gap)
    if not cmd.available():
        raise SolverError(f"the CBC solver cannot be run ({cmd.path}): reinstall pulp, "
                          f"unset {CBC_PATH_VARIABLE}, or choose solver: highs")
    cmd.tmpDir = str(workdir)
    try:
        status = problem.solve(cmd)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"CBC stopped without a solution (it crashed or was killed): {exc}") from exc
    return status, _cbc_seconds(log_path)


def _cbc_seconds(log_path: Path) -> float | None:
    """CBC's own wall-clock time, as its log reports it."""
    try:
        found = _CBC_TIME.findall(log_path.read_text(errors="replace"))
    except OSError:
        return None
    return float(found[-1][1]) if found else None


def _run_highs(problem: pulp.LpProblem, time_limit_seconds: float, warm_start: bool,
               mip_gap: float | None) -> tuple[int, float | None]:
    cmd = pulp.HiGHS(msg=False, timeLimit=time_limit_seconds, threads=1, warmStart=warm_start, gapRel=mip_gap)
    if not cmd.available():
        raise SolverError("HiGHS is not installed: pip install 'psych-commission-optimiser[highs]'")
    started = time.perf_counter()
    with _quiet_stdout():  # highspy prints its banner even with output off
        status = problem.solve(cmd)
    return status, time.perf_counter() - started


@contextlib.contextmanager
def _quiet_stdout():
    """Send file descriptor 1 to /dev/null for the duration (C libraries ignore sys.stdout)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (embedded use): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _normalise(problem: pulp.LpProblem, status: int, wall: float, limit: float) -> tuple[str, str]:
    sol = problem.sol_status
    if status == pulp.LpStatusOptimal and sol == pulp.LpSolutionOptimal:
        return OPTIMAL, "optimal"
    if sol == pulp.LpSolutionIntegerFeasible:
        return TIME_LIMIT, (f"stopped at the time limit ({limit:g} s) with a feasible plan "
                            "that is not proven optimal")
    if status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return INFEASIBLE, "no plan satisfies every limit"
    if status == pulp.LpStatusUnbounded or sol == pulp.LpSolutionUnbounded:
        return UNBOUNDED, "the model is unbounded"
    if wall >= 0.95 * limit:
        return TIME_LIMIT_NO_PLAN, f"stopped at the time limit ({limit:g} s) before finding any plan"
    return NOT_SOLVED, f"the solver stopped without a solution (PuLP status {pulp.LpStatus.get(status, status)})"

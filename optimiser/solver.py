"""The one place a solver is called: CBC (bundled with PuLP) or HiGHS (highspy).

Every run is single-threaded, has a time limit and its own temporary folder,
which is removed afterwards whatever happens. The outcome is a normalised
status; PuLP's "Optimal" after a time limit (an incumbent, ``sol_status`` 2)
is reported as ``time_limit``, never as optimal.

CBC runs through PuLP's driver with its file handling made fast (``_CbcCommand``):
the same command line and the same values, duals and slacks on the model, in a
fraction of PuLP's time on large models (``bench/``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pulp

from optimiser.errors import SolverError
from optimiser.gcpause import gc_paused
from optimiser.mpsfile import MpsFile, MpsTemplate, write_mps

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
    #: Of ``wall_seconds``: writing the MPS file and reading the solution back (CBC only).
    write_seconds: float = 0.0
    read_seconds: float = 0.0
    #: With ``keep_mps``: the problem as solved, in MPS (as ``problem.writeMPS`` writes it).
    mps: str | None = None
    #: The MPS file's template (``mpsfile.MpsTemplate``), when one was written.
    template: MpsTemplate | None = None

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
               mip_gap: float | None = None, keep_mps: bool = False,
               template: MpsTemplate | None = None) -> SolverRun:
    """Solve ``problem`` in place; values, duals (``pi``) and reduced costs land on its objects.

    ``warm_start`` hands the variables' current values to the solver as a
    starting plan (used for the cost stage of a MILP, whose stage-1 plan is
    feasible by construction). ``mip_gap`` is the relative gap within which an
    integer plan counts as optimal (ignored for an LP). ``keep_mps`` returns the
    problem as solved, as MPS text (``SolverRun.mps``; CBC's own input file).
    ``template``: an earlier MPS file of this problem to write this one from
    (``mpsfile.MpsTemplate``: the caller guarantees what it needs); ``SolverRun.template``
    is this one's.
    """
    workdir = Path(tempfile.mkdtemp(prefix="optimiser-", dir=tmp_root))
    started = time.perf_counter()
    io = (0.0, 0.0)
    written = None
    try:
        if solver == "cbc":
            status, solver_seconds, io, written = _run_cbc(problem, time_limit_seconds, workdir, warm_start,
                                                           mip_gap, template)
        elif solver == "highs":
            if keep_mps:
                with gc_paused():
                    written = write_mps(problem, str(workdir / "problem.mps"), template=template)
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
    return SolverRun(normalised, objective, wall, solver_seconds, message, *io,
                     mps=written.text if keep_mps and written is not None else None,
                     template=written.template if written is not None else None)


def cbc_path() -> str:
    """The CBC binary: ``OPTIMISER_CBC_PATH`` if set, else the one bundled with PuLP."""
    return os.environ.get(CBC_PATH_VARIABLE) or pulp.PULP_CBC_CMD.pulp_cbc_path


def _run_cbc(problem: pulp.LpProblem, time_limit_seconds: float, workdir: Path, warm_start: bool,
             mip_gap: float | None, template: MpsTemplate | None = None
             ) -> tuple[int, float | None, tuple[float, float], MpsFile | None]:
    log_path = workdir / "cbc.log"
    cmd = _CbcCommand(path=cbc_path(), msg=False, timeLimit=time_limit_seconds, threads=1,
                      keepFiles=False, logPath=str(log_path), warmStart=warm_start, gapRel=mip_gap)
    if not cmd.available():
        raise SolverError(f"the CBC solver cannot be run ({cmd.path}): reinstall pulp, "
                          f"unset {CBC_PATH_VARIABLE}, or choose solver: highs")
    cmd.tmpDir = str(workdir)
    cmd.template = template
    try:
        status = problem.solve(cmd)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"CBC stopped without a solution (it crashed or was killed): {exc}") from exc
    return status, _cbc_seconds(log_path), (cmd.write_seconds, cmd.read_seconds), cmd.written


class _CbcCommand(pulp.COIN_CMD):
    """PuLP's CBC driver (the same command line, and the same results put on the problem's
    variables and constraints) with its two slow steps replaced: the MPS file comes from
    ``optimiser.mpsfile`` (PuLP's own writer's output, byte for byte, but keeping the model's
    names, so it is also the ``shortfall_stage.mps`` a results folder keeps), and the solution
    file is read in one pass straight onto the objects, not through name dictionaries rebuilt
    for every assignment. Timings of both steps are kept for the benchmark."""

    write_seconds = 0.0
    read_seconds = 0.0
    template: MpsTemplate | None = None  # in: to write the file from
    written: MpsFile | None = None  # out: the file written

    def solve_CBC(self, lp: pulp.LpProblem, use_mps: bool = True) -> int:
        if not self.executable(self.path):
            raise pulp.PulpSolverError(f"Pulp: cannot execute {self.path} cwd: {os.getcwd()}")
        mps_path, sol_path, start_path = self.create_tmp_files(lp.name, "mps", "sol", "mst")
        started = time.perf_counter()
        with gc_paused():
            written = self.written = write_mps(lp, mps_path, template=self.template)
        self.write_seconds = time.perf_counter() - started
        args = [self.path, mps_path]
        if lp.sense == pulp.LpMaximize:
            args.append("-max")
        if self.optionsDict.get("warmStart", False):
            self.writesol(start_path, lp, written.variables, written.variable_names, written.constraint_names)
            args += ["-mips", start_path]
        if self.timeLimit is not None:
            args += ["-sec", str(self.timeLimit)]
        for option in self.options + self.getOptions():  # threads, gap, timeMode (PuLP's order)
            args += ("-" + option).split()
        args += ["-solve" if self.mip else "-initialSolve", "-printingOptions", "all", "-solution", sol_path]
        with open(self.optionsDict.get("logPath") or os.devnull, "w") as log:
            returncode = subprocess.run(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL).returncode
        if returncode != 0:
            raise pulp.PulpSolverError("Pulp: Error while trying to execute, use msg=True for more details"
                                       + self.path)
        if not os.path.exists(sol_path):
            raise pulp.PulpSolverError("Pulp: Error while executing " + self.path)
        started = time.perf_counter()
        status, sol_status = self.get_status(sol_path)
        with gc_paused():
            _read_cbc_solution(lp, sol_path, written)
        lp.assignStatus(status, sol_status)
        self.read_seconds = time.perf_counter() - started
        self.delete_tmp_files(mps_path, sol_path, start_path)
        return status


def _read_cbc_solution(lp: pulp.LpProblem, path: str, written: MpsFile) -> None:
    """Put CBC's solution file on ``lp`` as PuLP's ``readsol_MPS`` and ``assign*`` do: every
    column's value (0 where the file has none) and reduced cost, every row's dual and slack."""
    columns = written.names.by_name
    rows = lp._constraints
    for var in columns.values():
        var.varValue = 0
    with open(path) as handle:
        for line in handle:
            if len(line) <= 2:
                break
            fields = line.split()
            if fields[0] == "**":  # CBC marks a row or column that breaks a bound
                del fields[0]
            name = fields[1]
            var = columns.get(name)
            if var is not None:
                var.varValue = float(fields[2])
                var.dj = float(fields[3])
                continue
            row = rows.get(name)
            if row is not None:
                row.pi = float(fields[3])
                row.slack = -1 * (row.constant + float(fields[2]))


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

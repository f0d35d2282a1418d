"""The one place a solver is called: CBC (``pulp[cbc]``, through PuLP's ``COIN_CMD``) or
HiGHS (highspy, through PuLP's ``HiGHS``).

Every run is single-threaded, has a time limit and its own temporary folder,
which is removed afterwards whatever happens. With HiGHS, the stages of one LP
solve share one kept solver model (``KeptHighs``): the first stage is solved cold,
each later one changes only the objective and the rows it is told about and
starts from the basis the stage before ended on. Only PuLP's public API is used:
the solver classes, ``LpProblem.solve`` and the ``LpSolveStats`` it returns. The
outcome is a normalised status: a plan the solver did not prove optimal (an
incumbent at the time limit) is ``time_limit``, never optimal.
"""

from __future__ import annotations

import contextlib
import dataclasses
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

try:
    import highspy
except ImportError:  # the ``highs`` extra is not installed: CBC only
    highspy = None

OPTIMAL = "optimal"
INFEASIBLE = "infeasible"
UNBOUNDED = "unbounded"
TIME_LIMIT = "time_limit"  # stopped by the time limit with a feasible plan
TIME_LIMIT_NO_PLAN = "time_limit_no_plan"
NOT_SOLVED = "not_solved"
ERROR = "error"

CBC_PATH_VARIABLE = "OPTIMISER_CBC_PATH"
#: CBC's options for a MIP: without its preprocessing CBC finds a first whole-places plan
#: for England in seconds; with it, none in 60 s (docs/model.md, "Integer places").
CBC_MIP_OPTIONS = ("preprocess off",)
SOLVERS = ("cbc", "highs")
#: Share of the time limit after which a solve that gave nothing counts as stopped by it.
TIME_LIMIT_SHARE = 0.95
_Status = pulp.LpSolveStatus
#: PuLP's reasons for stopping early that still leave a proven-optimal answer out.
_STOPPED_EARLY = {_Status.TimeLimit, _Status.NodeLimit, _Status.IterationLimit, _Status.SolutionLimit,
                  _Status.MemoryLimit, _Status.Interrupted, _Status.Stopped}


@dataclass
class SolverRun:
    """What one solver call gave: normalised status, objective, bound and timings."""

    status: str
    objective: float | None
    wall_seconds: float
    solver_seconds: float | None
    message: str
    #: A MIP's best proven bound and relative gap (``None`` for an LP, or when unknown).
    best_bound: float | None = None
    gap: float | None = None
    solver_version: str | None = None

    @property
    def has_values(self) -> bool:
        return self.status in (OPTIMAL, TIME_LIMIT)


def available_solvers() -> dict[str, bool]:
    return {"cbc": _cbc_command().available(), "highs": pulp.HiGHS(msg=False).available()}


#: HiGHS's ``simplex_strategy`` for primal simplex: a later stage starts from the basis the
#: stage before ended on, which stays primal feasible (its keep row holds at that optimum).
HIGHS_PRIMAL_SIMPLEX = 4


class KeptHighs:
    """One HiGHS model of an LP, kept between solves.

    The first ``solve`` builds it from the problem (PuLP's own ``HiGHS`` builder) and solves
    it cold, exactly as a one-off HiGHS solve does. A later stage (``warm=True``) copies in
    the problem's objective and the rows named in ``changed_rows`` (the keep row the stage
    has filled) and re-solves with primal simplex from the basis it ended on: on England this
    takes the later stages from 1.6 s to 0.2 s (``docs/benchmark.md``). A new stage 1
    (``warm=False``) of a model changed in place (a what-if) copies in the objective, the
    rows reported through ``rows_changed`` and ``changed_rows``, and hands the data to a new
    HiGHS instance, solved cold (no basis, no state of the last solve): its results are a
    fresh build's byte for byte (``tests/test_reuse.py``), so they do not depend on the
    what-ifs solved before it, and building from PuLP's rows (0.2 s on England) is saved.
    Values, duals and slacks are read back onto the problem by PuLP's
    ``HiGHS.findSolutionValues``, which maps columns to the problem's exported variables:
    when those are not the kept model's columns (a variable only in a later stage's
    objective), the model is built afresh and solved cold.
    """

    def __init__(self) -> None:
        self.highs = None
        self._order: list[int] = []  # the kept model's columns: PuLP's exported variables' ids
        self._columns: dict[int, int] = {}
        self._changed: dict[int, pulp.LpConstraint] = {}

    def rows_changed(self, rows) -> None:
        """Note rows of the problem changed in place since the last solve."""
        for row in rows:
            self._changed[row.id] = row

    def solve(self, problem: pulp.LpProblem, time_limit_seconds: float,
              changed_rows: tuple[pulp.LpConstraint, ...] = (), *, warm: bool = True) -> pulp.LpSolveStats:
        cmd = pulp.HiGHS(msg=False, timeLimit=time_limit_seconds, threads=1)
        start = pulp.apis.core.clocks()
        with _quiet_stdout():  # highspy prints its banner even with output off
            order = [var.id for var in problem.exported_variables()]
            if self.highs is None or order != self._order:
                # first solve, or the problem's columns are not the kept model's (a variable that
                # is only in a later stage's objective): build afresh, solve cold
                cmd.createAndConfigureSolver(problem)
                cmd.buildSolverModel(problem)
                self.highs = problem.solverModel
                self._order = order
                self._columns = {var_id: j for j, var_id in enumerate(order)}
                self._changed.clear()
            else:
                self.rows_changed(changed_rows)
                self._copy_objective(problem)
                for row in self._changed.values():
                    self._copy_row(row)
                self._changed.clear()
                if warm:
                    problem.solverModel = self.highs
                    self.highs.setOptionValue("time_limit", float(time_limit_seconds))
                    self.highs.setOptionValue("simplex_strategy", HIGHS_PRIMAL_SIMPLEX)
                else:  # a new HiGHS instance given the kept data: nothing left of the last solve
                    lp = self.highs.getLp()
                    cmd.createAndConfigureSolver(problem)
                    problem.solverModel.passModel(lp)
                    self.highs = problem.solverModel
            cmd.callSolver(problem)
        status, has_solution = cmd.findSolutionValues(problem)
        return cmd.buildStats(problem, status, has_solution, start=start)

    def _copy_objective(self, problem: pulp.LpProblem) -> None:
        n = len(self._columns)
        cost = [0.0] * n
        for var, coefficient in problem.objective.items():
            cost[self._columns[var.id]] = coefficient
        self.highs.changeColsCost(n, list(range(n)), cost)
        self.highs.changeObjectiveOffset(problem.objective.constant)

    def _copy_row(self, row: pulp.LpConstraint) -> None:
        wanted = {self._columns[var.id]: coefficient for var, coefficient in row.items()}
        _, index, _ = self.highs.getRowEntries(row.id)
        for j in index:  # entries the row no longer has
            if int(j) not in wanted:
                self.highs.changeCoeff(row.id, int(j), 0.0)
        for j, coefficient in wanted.items():
            self.highs.changeCoeff(row.id, j, coefficient)
        lower, upper = row.getLb(), row.getUb()
        self.highs.changeRowBounds(row.id, -highspy.kHighsInf if lower is None else lower,
                                   highspy.kHighsInf if upper is None else upper)


class CbcBasis:
    """The basis CBC ended the last LP stage on, the next stage's start.

    CBC runs as a separate program, so the basis goes by file: each LP stage ends by
    writing its basis (``basisO``) and a later stage (``warm=True``) starts from it
    (``basisI``); a stage 1 (``warm=False``) always starts cold, so it never depends on an
    earlier solve. On England the sustain and cost stages take 0.21 s and 0.14 s this way
    against 0.55 s and 0.42 s cold, and on the largest benchmark instances the cost stage
    takes 1.0 s against 3.6 s (``docs/benchmark.md``). CBC names the rows and columns of
    PuLP's MPS file by position, so the basis is used only when the stage has as many
    variables and rows as the one that wrote it.
    """

    def __init__(self) -> None:
        self.text: bytes | None = None
        self.shape: tuple | None = None

    def options(self, problem: pulp.LpProblem, workdir: Path, warm: bool) -> list[str]:
        """CBC's options: read the start (if any), solve, write the basis it ends on. CBC
        options come before the solve PuLP asks for, so that solve follows here with
        presolve off: it starts from the optimal basis and only tidies what postsolve left.
        The shape compared is the number of the problem's variables and rows (cheap: 0.04 s
        at 31,500 variables, a third of listing the exported columns); a basis that is
        still misaligned is only a poorer start, as CBC repairs what it reads."""
        shape = (len(problem.variables()), problem.numConstraints())
        options = []
        if warm and self.text is not None and shape == self.shape:
            start = workdir / "start.bas"
            start.write_bytes(self.text)
            options.append(f"basisI {start}")
        end = workdir / "end.bas"
        end.touch()  # CBC writes a basis only into a file that exists
        self.shape, self.text = shape, None
        return [*options, "initialSolve", f"basisO {end}", "presolve off"]

    def keep(self, workdir: Path) -> None:
        end = workdir / "end.bas"
        text = end.read_bytes() if end.exists() else b""
        self.text = text or None


def run_solver(problem: pulp.LpProblem, solver: str, time_limit_seconds: float,
               tmp_root: str | Path | None = None, warm_start: bool = False,
               mip_gap: float | None = None, kept: KeptHighs | CbcBasis | None = None,
               changed_rows: tuple[pulp.LpConstraint, ...] = (), warm: bool = True) -> SolverRun:
    """Solve ``problem`` in place; values, duals (``pi``) and reduced costs land on its objects.

    ``warm_start`` hands the variables' current values to the solver as a
    starting plan (the cost stage of a MILP, whose earlier stage's plan is
    feasible by construction), with either solver. ``mip_gap`` is the relative
    gap within which an integer plan counts as optimal (ignored for an LP).
    ``kept``: on an LP, what one stage hands the next: with HiGHS the kept solver model
    (``KeptHighs``), with CBC the basis the last stage ended on (``CbcBasis``);
    ``changed_rows``, the rows changed since the kept model's last solve (HiGHS);
    ``warm``, start from the basis the last stage ended on (a later stage) rather than
    from scratch.
    """
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver '{solver}'; expected cbc or highs")
    workdir = Path(tempfile.mkdtemp(prefix="optimiser-", dir=tmp_root))
    started = time.perf_counter()
    reported = None  # the solver's own time, where its log gives it
    lp = not problem.isMIP()
    try:
        if solver == "cbc":
            basis = kept if isinstance(kept, CbcBasis) and lp else None
            stats, reported = _run_cbc(problem, time_limit_seconds, workdir, warm_start, mip_gap, basis, warm)
        elif isinstance(kept, KeptHighs) and lp:
            if highspy is None:
                raise SolverError("HiGHS is not installed: pip install 'psych-commission-optimiser[highs]'")
            stats = kept.solve(problem, time_limit_seconds, changed_rows, warm=warm)
        else:
            stats = _run_highs(problem, time_limit_seconds, warm_start, mip_gap)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"the {solver} solver stopped without a solution (it crashed or was killed): "
                          f"{exc}") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    wall = time.perf_counter() - started
    normalised, message = _normalise(stats, wall, time_limit_seconds)
    has_values = normalised in (OPTIMAL, TIME_LIMIT)
    objective = pulp.value(problem.objective) if has_values else None
    bound = gap = None
    if stats.is_mip and has_values:
        bound, gap = stats.best_bound, _gap(stats)
        if gap is None and normalised == OPTIMAL:  # solved without a search (no bound logged): proven at once
            bound, gap = objective, 0.0
    return SolverRun(normalised, objective, wall, reported or stats.solver_time or stats.time, message,
                     best_bound=bound, gap=gap, solver_version=stats.solver_version)


def cbc_path() -> str:
    """The CBC binary: ``OPTIMISER_CBC_PATH`` if set, else the one ``pulp[cbc]`` installs."""
    return os.environ.get(CBC_PATH_VARIABLE) or pulp.COIN_CMD(msg=False).path


def _cbc_command(**options) -> pulp.COIN_CMD:
    return pulp.COIN_CMD(path=cbc_path(), msg=False, **options)


def _run_cbc(problem: pulp.LpProblem, time_limit_seconds: float, workdir: Path, warm_start: bool,
             mip_gap: float | None, basis: CbcBasis | None = None,
             warm: bool = True) -> tuple[pulp.LpSolveStats, float | None]:
    """Solve with CBC; the stats and CBC's own wall-clock seconds (from its log: PuLP's
    ``time`` also counts writing the MPS file and reading the solution back)."""
    log = workdir / "cbc.log"
    options = list(CBC_MIP_OPTIONS) if problem.isMIP() else []
    if basis is not None:
        options += basis.options(problem, workdir, warm)
    cmd = _cbc_command(timeLimit=time_limit_seconds, threads=1, keepFiles=False, options=options,
                       logPath=str(log), warmStart=warm_start, gapRel=mip_gap)
    if not cmd.available():
        raise SolverError(f"the CBC solver cannot be run ({cmd.path}): pip install 'pulp[cbc]', "
                          f"unset {CBC_PATH_VARIABLE}, or choose solver: highs")
    cmd.tmpDir = str(workdir)
    stats = problem.solve(cmd)
    if basis is not None:
        basis.keep(workdir)
    text = _read_log(log)
    gap = _cbc_gap_at_exit(text)
    if stats.is_mip and gap is not None and stats.objective is not None:
        stats = dataclasses.replace(stats, best_bound=stats.objective - gap)
    found = re.search(r"Total time \(Wallclock seconds\):\s*([0-9.eE+-]+)", text)
    return stats, (float(found.group(1)) if found else None)


def _read_log(log: Path) -> str:
    try:
        return log.read_text(errors="replace")
    except OSError:
        return ""


def _cbc_gap_at_exit(text: str) -> float | None:
    """The absolute gap CBC stopped at when it stopped on the gap (``Cbc0011I``), else ``None``.
    PuLP's log reader takes the bound of such a search to be its best plan (gap 0); the
    bound is the plan's objective less this gap."""
    found = re.search(r"Exiting as integer gap of ([-+0-9.eE]+)", text)
    return max(float(found.group(1)), 0.0) if found else None


def _run_highs(problem: pulp.LpProblem, time_limit_seconds: float, warm_start: bool,
               mip_gap: float | None) -> pulp.LpSolveStats:
    cmd = pulp.HiGHS(msg=False, timeLimit=time_limit_seconds, threads=1, warmStart=warm_start, gapRel=mip_gap)
    if not cmd.available():
        raise SolverError("HiGHS is not installed: pip install 'psych-commission-optimiser[highs]'")
    with _quiet_stdout():  # highspy prints its banner even with output off
        return problem.solve(cmd)


def _gap(stats: pulp.LpSolveStats) -> float | None:
    gap = stats.gap_rel
    return None if gap is None or gap != gap else max(gap, 0.0)


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


def _normalise(stats: pulp.LpSolveStats, wall: float, limit: float) -> tuple[str, str]:
    status, has_solution = stats.status, stats.has_solution
    if has_solution and status in (_Status.Optimal, _Status.GapLimit):
        return OPTIMAL, "optimal"
    if status == _Status.Infeasible:
        return INFEASIBLE, "no plan satisfies every limit"
    if status == _Status.Unbounded:
        return UNBOUNDED, "the model is unbounded"
    if status in _STOPPED_EARLY or wall >= TIME_LIMIT_SHARE * limit:
        if has_solution:
            return TIME_LIMIT, (f"stopped at the time limit ({limit:g} s) with a feasible plan "
                                "that is not proven optimal")
        return TIME_LIMIT_NO_PLAN, f"stopped at the time limit ({limit:g} s) before finding any plan"
    return NOT_SOLVED, f"the solver stopped without a solution (PuLP status {stats.status_str})"

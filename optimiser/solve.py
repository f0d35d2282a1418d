"""Solve a built model lexicographically and read back the plan and the duals.

Stage 1 minimises the weighted target shortfall; stage 2 (when there are
sustain years) keeps it within ``1e-6`` relative plus ``1e-6`` absolute of its
optimum (with whole places, of the objective stage 1's plan achieved: within
``mip_gap`` the optimum itself is not known) and minimises the weighted sustain shortfall; stage 3 keeps both and
minimises the whole cost of the plan (the decision years' and what the cohorts
started commit after the horizon). Shadow prices come from stage 1 (the LP, or
its LP relaxation when ``integer_places``), so they read as weighted target
shortfall removed.
An infeasible model is followed by an elastic solve that names the smallest
relaxations that would make it feasible (``optimiser.whatif.diagnose``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulp

from optimiser import solver as slv
from optimiser.build import build_model
from optimiser.model import COST_STAGE, KEEP_ROW, SHORTFALL_STAGE, SUSTAIN_STAGE, CommissionModel, Lin
from optimiser.registry import ConstraintKey, Registry

__all__ = ["COST_STAGE", "KEEP_ROW", "SHORTFALL_STAGE", "SUSTAIN_STAGE", "Solution", "solve_model", "value_of"]

STAGE2_RELATIVE_TOLERANCE = 1e-6
STAGE2_ABSOLUTE_TOLERANCE = 1e-6
#: Said when CBC stops at its time limit with whole places (docs/model.md, item 11).
WHOLE_PLACES_HINT = ("with whole places, HiGHS (--solver highs, or solver: highs in settings.yaml) "
                     "usually proves a plan within mip_gap in seconds where CBC stops at its time limit")


@dataclass
class Solution:
    """The outcome of a solve: status, values by key, duals by key, timings."""

    status: str
    message: str
    solver: str
    values: dict[pulp.LpVariable, float] = field(default_factory=dict)
    duals: dict[ConstraintKey, float] = field(default_factory=dict)
    stock_reduced_costs: dict[tuple[str, str, int], float] = field(default_factory=dict)
    shadow_prices_from: str | None = None
    solve_seconds: float = 0.0
    solver_reported_seconds: float = 0.0
    solver_version: str | None = None
    #: With whole places: the plan's proven relative gap and best bound, per stage.
    mip_gaps: dict[str, float] = field(default_factory=dict)
    mip_bounds: dict[str, float] = field(default_factory=dict)
    stages: list[dict] = field(default_factory=list)
    #: Each stage's optimum, by stage name (only stages solved to optimality).
    objectives: dict[str, float] = field(default_factory=dict)
    conflicts: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def has_plan(self) -> bool:
        return self.status in (slv.OPTIMAL, slv.TIME_LIMIT)


def value_of(lin: Lin, values: dict[pulp.LpVariable, float]) -> float:
    return lin.constant + sum(coef * values.get(var, 0.0) for var, coef in lin.terms.items())


def _record(solution: Solution, stage: str, run: slv.SolverRun) -> None:
    solution.solve_seconds += run.wall_seconds
    solution.solver_reported_seconds += run.solver_seconds or 0.0
    solution.solver_version = run.solver_version or solution.solver_version
    record = {"stage": stage, "status": run.status, "objective": run.objective,
              "wall_seconds": round(run.wall_seconds, 4), "solver_seconds": run.solver_seconds}
    if run.gap is not None:
        solution.mip_gaps[stage] = record["mip_gap"] = run.gap
    if run.best_bound is not None:
        solution.mip_bounds[stage] = record["best_bound"] = run.best_bound
    solution.stages.append(record)


def _duals(registry: Registry) -> dict[ConstraintKey, float]:
    return {entry.key: (entry.constraint.pi or 0.0) for entry in registry}


def solve_model(model: CommissionModel, *, solver: str | None = None,
                time_limit_seconds: float | None = None, tmp_root: str | Path | None = None) -> Solution:
    """Run the stages on ``model`` and read the results.

    ``model.problem`` is left as built (the later stages' rows emptied again, the objective
    stage 1's), with the variables holding the final stage's values, so it can be solved again.
    """
    settings = model.settings
    solver = solver or settings.solver
    limit = time_limit_seconds or settings.time_limit_seconds
    solution = Solution(slv.NOT_SOLVED, "not solved", solver)

    if model.registry.constant_violations:
        solution.status, solution.message = slv.INFEASIBLE, "inputs contradict a limit before any decision"
        return _diagnose(model, solution, solver, limit, tmp_root)

    gap = settings.mip_gap if model.integer else None
    kept = _stage_start(model, solver)
    stage1 = slv.run_solver(model.problem, solver, limit, tmp_root, mip_gap=gap, kept=kept,
                            changed_rows=tuple(model.keep_rows.values()), warm=False)
    _record(solution, SHORTFALL_STAGE, stage1)
    if not stage1.has_values:
        solution.status, solution.message = stage1.status, stage1.message
        if stage1.status == slv.INFEASIBLE:
            return _diagnose(model, solution, solver, limit, tmp_root)
        return solution
    if not model.integer:
        solution.duals = _duals(model.registry)
        solution.stock_reduced_costs = {k: (v.dj or 0.0) for k, v in model.stock.items()}
        solution.shadow_prices_from = "shortfall stage (LP duals)"
    z1 = stage1.objective or 0.0

    if stage1.status == slv.OPTIMAL:
        solution.objectives[SHORTFALL_STAGE] = z1
        failed = _later_stages(model, solution, solver, limit, tmp_root, gap, z1, kept)
        if failed is not None:
            return failed
    else:
        solution.status, solution.message = stage1.status, stage1.message
        solution.warnings.append("the shortfall stage stopped at its time limit; the later stages were "
                                 "not run, so the plan may leave more sustain-year shortfall or spend more "
                                 "than it needs")

    if model.integer and solver == "cbc" and solution.status == slv.TIME_LIMIT:
        solution.warnings.append(WHOLE_PLACES_HINT)
    solution.values = {var: (var.varValue or 0.0) for var in model.problem.variables()}

    if model.integer:
        relaxed = build_model(model.dataset, integer=False)
        run = slv.run_solver(relaxed.problem, solver, limit, tmp_root)
        _record(solution, "lp_relaxation_for_duals", run)
        if run.status == slv.OPTIMAL:
            solution.duals = _duals(relaxed.registry)
            solution.stock_reduced_costs = {k: (v.dj or 0.0) for k, v in relaxed.stock.items()}
            solution.shadow_prices_from = "LP relaxation of the shortfall stage (integer_places)"
        else:
            solution.warnings.append(f"no shadow prices: the LP relaxation ended {run.status}")
    return solution


def _stage_start(model: CommissionModel, solver: str) -> slv.KeptHighs | slv.CbcBasis | None:
    """What each LP stage hands the next, so the later stages start from the basis the stage
    before ended on: with HiGHS the model kept with ``model`` (made on its first HiGHS solve;
    a what-if re-solved in place, ``optimiser.reuse``, re-uses it rather than building again),
    with CBC the basis, by file. ``None`` with whole places (each stage starts from the plan
    before it instead)."""
    if model.integer:
        return None
    if solver == "cbc":
        return slv.CbcBasis()
    if not isinstance(model.kept_solver, slv.KeptHighs):
        model.kept_solver = slv.KeptHighs()
    return model.kept_solver


def _later_stages(model: CommissionModel, solution: Solution, solver: str, limit: float,
                  tmp_root: str | Path | None, gap: float | None, z1: float,
                  handover: slv.KeptHighs | slv.CbcBasis | None = None) -> Solution | None:
    """Stages 2 (sustain, when there are sustain years) and 3 (cost), each keeping the earlier
    stages' objectives within tolerance of their optima (the model's keep rows, filled for the
    solve and emptied after). With whole places each stage starts from the plan before it, and
    a stage that stops at its time limit keeps the better of its plan and that one. Returns
    the solution when a stage fails (its status says how), ``None`` when the last stage set
    the status."""
    problem = model.problem
    kept: list[pulp.LpConstraint] = []
    stages = [(SUSTAIN_STAGE, model.sustain_objective)] if model.sustain_objective is not None else []
    stages.append((COST_STAGE, model.cost_objective))
    previous, previous_objective, optimum = SHORTFALL_STAGE, model.shortfall_objective, z1
    try:
        for stage, objective in stages:
            bound = optimum + STAGE2_RELATIVE_TOLERANCE * abs(optimum) + STAGE2_ABSOLUTE_TOLERANCE
            keep = model.keep_rows[previous]
            keep += previous_objective
            keep.changeRHS(bound)
            kept.append(keep)
            problem.setObjective(objective)
            start = {var: var.varValue for var in problem.variables()} if model.integer else None
            run = slv.run_solver(problem, solver, limit, tmp_root, warm_start=model.integer, mip_gap=gap,
                                 kept=handover, changed_rows=(keep,))
            _record(solution, stage, run)
            if not run.has_values and start is not None and run.status in (slv.TIME_LIMIT_NO_PLAN, slv.NOT_SOLVED):
                _restore(start)  # the earlier stage's plan is feasible here: keep it, say so
                solution.status, solution.message = slv.TIME_LIMIT, (
                    f"the {stage} stage stopped ({run.message}); the plan is the {previous} stage's, "
                    "optimal for every earlier stage")
                solution.warnings.append(solution.message)
                break
            if not run.has_values:
                solution.status = run.status if run.status != slv.INFEASIBLE else slv.ERROR
                solution.message = f"the {stage} stage failed after an optimal shortfall stage: {run.message}"
                return solution
            solution.status, solution.message = run.status, run.message
            if run.status != slv.OPTIMAL:
                solution.warnings.append(f"the {stage} stage stopped at its time limit; later stages were not run")
                break
            solution.objectives[stage] = run.objective or 0.0
            previous, previous_objective, optimum = stage, objective, run.objective or 0.0
    finally:
        _take_off(model, kept)
    return None


def _restore(values: dict[pulp.LpVariable, float | None]) -> None:
    for var, value in values.items():
        var.varValue = value


def _take_off(model: CommissionModel, kept: list[pulp.LpConstraint]) -> None:
    """Leave ``model.problem`` as built: the keep rows empty (``0 <= 0``), minimising the shortfall."""
    for keep in kept:
        for var in keep.keys():
            del keep[var]
        keep.changeRHS(0.0)
    model.problem.setObjective(model.shortfall_objective)


def _diagnose(model: CommissionModel, solution: Solution, solver: str, limit: float,
              tmp_root: str | Path | None) -> Solution:
    from optimiser.whatif.diagnose import diagnose_infeasibility

    conflicts, run = diagnose_infeasibility(model.dataset, solver, limit, tmp_root)
    if run is not None:
        _record(solution, "elastic_diagnosis", run)
    solution.conflicts = conflicts
    if conflicts:
        solution.message = ("no plan satisfies every limit; smallest relaxations that would: "
                            + "; ".join(c["description"] for c in conflicts[:3])
                            + (" ..." if len(conflicts) > 3 else ""))
    return solution

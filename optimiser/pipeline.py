"""The fixed pipeline: check inputs -> build -> solve -> read solution and duals -> write.

``run`` does it all; ``build`` and ``solve`` are its two halves, joined by
``model.json``, for the ``optimiser build`` / ``optimiser solve`` commands.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from models.inputs import Dataset
from models.results import Summary
from optimiser.build import CommissionModel, build_model
from optimiser.gcpause import gc_paused, without_gc
from optimiser.loader import load_dataset
from optimiser.modelio import model_json
from optimiser.output import Content, check_target, csv_bytes, json_bytes, render, write_folder
from optimiser.results import Results, build_results, top_binding
from optimiser.reuse import SolveCache
from optimiser.solve import Solution, solve_model
from optimiser.validate import completeness_warnings
from optimiser.versions import versions

MPS_FILE = "shortfall_stage.mps"


@dataclass
class RunOutcome:
    summary: Summary
    results: Results | None
    solution: Solution
    out_dir: Path | None
    #: With ``in_memory``: the results folder's files, made but not written.
    files: dict[str, bytes] | None = None


def write_mps(model: CommissionModel) -> bytes:
    """The stage-1 (shortfall) problem as MPS (PuLP's own writer), with the model's names.

    A built model is stage 1 whenever it is not being solved (``build.define_keep_rows``)."""
    with tempfile.TemporaryDirectory(prefix="optimiser-mps-") as tmp:
        path = Path(tmp) / MPS_FILE
        with gc_paused():
            model.problem.writeMPS(str(path))
        return path.read_bytes()


def make_summary(model: CommissionModel, solution: Solution, results: Results | None, *,
                 scenario: str | None = None, overrides: list[dict[str, Any]] | None = None) -> Summary:
    st = model.settings
    plan = results is not None
    return Summary(
        status=solution.status,
        message=solution.message,
        has_plan=plan,
        weighted_shortfall=results.weighted_shortfall if plan else None,
        sustain_shortfall=results.sustain_shortfall if plan else None,
        total_shortfall_wte=results.total_shortfall_wte if plan else None,
        qualified_shortfall_wte=results.qualified_shortfall_wte if plan else None,
        total_cost_gbp=results.total_cost_gbp if plan else None,
        committed_cost_after_horizon_gbp=results.committed_cost_after_horizon_gbp if plan else None,
        solver=solution.solver,
        solve_seconds=round(solution.solve_seconds, 4),
        build_seconds=round(model.build_seconds, 4),
        base_year=st.base_year,
        target_year=st.target_year,
        decision_years=list(st.decision_years),
        assessed_years=list(st.assessed),
        sustain_years=list(st.sustain),
        integer_places=model.integer,
        shadow_prices_from=solution.shadow_prices_from if plan else None,
        dataset=model.dataset.source,
        scenario=scenario,
        overrides=overrides or [],
        warnings=completeness_warnings(model.dataset) + solution.warnings,
        binding_limits=top_binding(results.constraints) if plan else [],
        conflicts=solution.conflicts,
        mip_gaps=dict(solution.mip_gaps),
        mip_bounds=dict(solution.mip_bounds),
        **versions(solution.solver),
    )


def solve_and_write(model: CommissionModel, out_dir: str | Path | None, *, mps: Content | None = None,
                    solver: str | None = None, time_limit_seconds: float | None = None,
                    tmp_root: str | Path | None = None, scenario: str | None = None,
                    overrides: list[dict[str, Any]] | None = None,
                    in_memory: bool = False, inputs: tuple = ()) -> RunOutcome:
    """Solve ``model`` and, if ``out_dir`` is given, write its results folder whole.

    ``in_memory``: make the folder's files as bytes (``RunOutcome.files``; a batch worker
    sends them to the process that writes them), with no ``out_dir``.
    ``inputs``: paths read besides the dataset (a scenario file, a model folder), which
    ``out_dir`` may not be, hold or lie inside; checked before solving.
    """
    if in_memory and out_dir is not None:
        raise ValueError("in_memory makes the files instead of writing out_dir: give one or the other")
    inputs = (model.dataset.source, *inputs)
    if out_dir is not None:
        check_target(Path(out_dir), inputs)  # refused before the solve, not after it
    solution = solve_model(model, solver=solver, time_limit_seconds=time_limit_seconds, tmp_root=tmp_root)
    if mps is None:
        mps = (lambda: write_mps(model))  # made when the folder is written: the model is stage 1 again
    results = build_results(model, solution) if solution.has_plan else None
    summary = make_summary(model, solution, results, scenario=scenario, overrides=overrides)
    written = files = None
    if out_dir is not None:
        written = write_folder(out_dir, result_files(summary, results, solution, mps), inputs=inputs)
    elif in_memory:
        files = render(result_files(summary, results, solution, mps))
    return RunOutcome(summary, results, solution, written, files)


def result_files(summary: Summary, results: Results | None, solution: Solution,
                 mps: Content | None) -> dict[str, Content]:
    """The files of a results folder, by name, each made when ``write_folder`` (or
    ``output.render``) comes to it."""
    files: dict[str, Content] = {"summary.json": lambda: json_bytes(summary.model_dump(mode="json"))}
    if mps is not None:
        files[MPS_FILE] = mps
    if results is not None:
        files.update({
            "plan.csv": lambda: csv_bytes(results.plan),
            "workforce.csv": lambda: csv_bytes(results.workforce),
            "supervision.csv": lambda: csv_bytes(results.supervision),
            "constraints.csv": lambda: csv_bytes(results.constraints),
        })
        if not results.levers.empty:
            files["levers.csv"] = lambda: csv_bytes(results.levers)
    if solution.conflicts:
        files["conflicts.csv"] = lambda: csv_bytes(pd.DataFrame(solution.conflicts))
    return files


@without_gc
def run(dataset: str | Path | Dataset, out_dir: str | Path | None, *, cache: SolveCache | None = None,
        **options) -> RunOutcome:
    """Load, validate, build, solve and write: the whole job.

    ``cache``: a model kept from an earlier run, re-solved in place when ``dataset`` differs
    from its own only in right-hand sides (``optimiser.reuse``).
    """
    if not isinstance(dataset, Dataset):
        dataset = load_dataset(dataset)
    integer = options.pop("integer", None)
    if cache is not None:
        model = cache.model_for(dataset, integer=integer)
    else:
        model = build_model(dataset, integer=integer)
    return solve_and_write(model, out_dir, **options)


def build(dataset: str | Path, model_dir: str | Path, *, integer: bool | None = None) -> CommissionModel:
    """Write ``model.json`` (the built model) and the stage-1 MPS into ``model_dir``."""
    loaded = load_dataset(dataset)
    check_target(Path(model_dir), (loaded.source,))  # refused before the build, not after it
    model = build_model(loaded, integer=integer)
    mps = write_mps(model)
    write_folder(model_dir, {"model.json": lambda: model_json(model), MPS_FILE: mps}, inputs=(loaded.source,))
    return model

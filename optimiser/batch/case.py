"""The batch folder's names, the solve options, a scenario file's cases, and one case solved:
its overrides applied to the base, validated, built, solved and written (``solve_overrides``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BATCH_FILE = "batch.json"
LOG_FILE = "batch_log.jsonl"
SCENARIO_FILE = "scenario.json"
SCENARIOS_DIR = "scenarios"
LOCK_FILE = ".lock"
LOCK_OWNER_FILE = ".lock.pid"
COMPARISON = "comparison"
FAILED, PENDING = "failed", "pending"


@dataclass(frozen=True)
class SolveOptions:
    """Command-line solve options; ``None`` = the dataset's settings (after the overrides)."""

    solver: str | None = None
    time_limit_seconds: float | None = None
    integer: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def load_cases(scenario_file: Path, *, base: Path | None, data_roots=(), sets=()):
    """Read a scenario file and its base; every case with the command line's overrides last."""
    from optimiser.scenarios import cli_overrides, expand, load_scenario_file, prepare_base, resolve_base_path

    loaded = load_scenario_file(scenario_file)
    base_path = resolve_base_path(loaded, base, data_roots)
    prepared = prepare_base(base_path)
    cli = cli_overrides(list(sets), prepared)
    return loaded, prepared, expand(loaded, prepared, cli)

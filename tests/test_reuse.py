"""Re-solving a kept model in place (``optimiser.reuse``) gives what a fresh build gives, byte
for byte, and is used only where it can be: right-hand sides changed, nothing else."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from models.inputs import Dataset, Settings, SupervisorHoursRow
from optimiser import pipeline
from optimiser.build import build_model
from optimiser.loader import load_dataset
from optimiser.reuse import COEFFICIENT_COLUMNS, COLUMNS, SolveCache, changed_columns, update_in_place
from optimiser.solve import KEEP_ROW, solve_model
from tests.reference.generate import generate_dataset

ENGLAND = Path(__file__).resolve().parents[1] / "inputs" / "england"
SEEDS = (1000, 1002, 1005, 1016)  # generated datasets with a value in every RHS column
TIMINGS = ("solve_seconds", "build_seconds")


def replaced(ds: Dataset, table: str, rows) -> Dataset:
    """A new dataset (fresh look-ups) with ``table``'s rows replaced."""
    fields = {name: getattr(ds, name) for name in Dataset.model_fields}
    return Dataset(**{**fields, table: tuple(rows)})


def perturbed(ds: Dataset, table: str, column: str, seed: int | str, low: float = 0.5, high: float = 1.5) -> Dataset:
    """Every non-blank value of ``table.column`` times its own random factor in [low, high]."""
    rng = random.Random(seed)
    rows = []
    for row in getattr(ds, table):
        value = getattr(row, column)
        if value is not None:
            new = value * rng.uniform(low, high)
            if column == "intake_min" and row.intake_max is not None:  # a fixed intake stays valid
                new = min(new, row.intake_max)
            if column == "intake_max" and row.intake_min is not None:
                new = max(new, row.intake_min)
            row = type(row)(**{**row.model_dump(), column: new})
        rows.append(row)
    return replaced(ds, table, rows)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    files = {path.name: path.read_bytes() for path in sorted(folder.iterdir())}
    summary = json.loads(files["summary.json"])
    for key in TIMINGS:
        summary.pop(key)
    files["summary.json"] = json.dumps(summary, sort_keys=True).encode()
    return files


def assert_same_as_fresh(ds: Dataset, cache: SolveCache, tmp_path: Path, name: str, **options) -> str:
    fresh = pipeline.run(ds, tmp_path / f"{name}-fresh", **options)
    kept = pipeline.run(ds, tmp_path / f"{name}-kept", cache=cache, **options)
    assert kept.summary.status == fresh.summary.status
    assert folder_bytes(tmp_path / f"{name}-kept") == folder_bytes(tmp_path / f"{name}-fresh")
    return kept.summary.status


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("reuse")
    datasets = {seed: load_dataset(generate_dataset(root / str(seed), seed)) for seed in SEEDS}
    return {**datasets, "england": load_dataset(ENGLAND)}


@pytest.mark.parametrize("column", sorted(COLUMNS), ids=lambda c: ".".join(c))
@pytest.mark.parametrize("which", [*SEEDS, "england"])
def test_number_changes_are_solved_in_place_with_a_fresh_builds_results(generated, tmp_path, which, column):
    """Right-hand sides (budgets, demand...) and coefficients (rates, costs, hours, weights)."""
    base = generated[which]
    table, name = column
    if not any(getattr(row, name) for row in getattr(base, table)):
        pytest.skip(f"{which} has no {table}.{name} values")
    low, high = (0.6, 0.95) if column in COEFFICIENT_COLUMNS else (0.5, 1.5)  # rates stay rates
    cache = SolveCache()
    pipeline.run(base, None, cache=cache)
    for i in range(2):  # twice: the second update starts from an updated model
        case = perturbed(base, table, name, f"{which}-{i}", low, high)
        assert changed_columns(base, case) == {column}
        assert_same_as_fresh(case, cache, tmp_path, f"case{i}")
    assert (cache.built, cache.reused) == (1, 2)


@pytest.mark.parametrize("column", sorted(COLUMNS), ids=lambda c: ".".join(c))
@pytest.mark.parametrize("which", [SEEDS[0], "england"])
def test_highs_keeps_its_model_in_place_with_a_fresh_builds_results(generated, tmp_path, which, column):
    """With HiGHS the solver's own model is kept too (``solver.KeptHighs``): the rows a what-if
    changed are copied into it and stage 1 is solved from scratch, so each case's results
    folder is a fresh build's, byte for byte, whatever was solved before it."""
    base = generated[which]
    table, name = column
    if not any(getattr(row, name) for row in getattr(base, table)):
        pytest.skip(f"{which} has no {table}.{name} values")
    low, high = (0.6, 0.95) if column in COEFFICIENT_COLUMNS else (0.5, 1.5)
    cache = SolveCache()
    pipeline.run(base, None, cache=cache, solver="highs")
    kept = cache.model.kept_solver
    assert kept is not None and kept.highs is not None
    for i in range(2):
        case = perturbed(base, table, name, f"{which}-highs-{i}", low, high)
        assert_same_as_fresh(case, cache, tmp_path, f"case{i}", solver="highs")
        assert cache.model.kept_solver is kept  # the same HiGHS model, changed in place
    assert (cache.built, cache.reused) == (1, 2)


@pytest.mark.parametrize("column", [("budget", "budget_gbp"), ("workforce", "stock_wte")], ids=lambda c: ".".join(c))
def test_in_place_with_whole_places(generated, tmp_path, column):
    """A MILP: the cost stage starts from stage 1's plan, and prices come from a rebuilt LP relaxation."""
    base = generated[SEEDS[0]]
    cache = SolveCache()
    pipeline.run(base, None, cache=cache, integer=True)
    assert_same_as_fresh(perturbed(base, *column, seed=9, low=0.8, high=1.2), cache, tmp_path, "milp", integer=True)
    assert (cache.built, cache.reused) == (1, 1)


def with_value(ds: Dataset, table: str, index: int, **values) -> Dataset:
    rows = list(getattr(ds, table))
    rows[index] = type(rows[index])(**{**rows[index].model_dump(), **values})
    return replaced(ds, table, rows)


@pytest.mark.parametrize("change", ["pipeline", "duration", "rate_to_one", "cost_to_zero"])
def test_changes_of_the_models_shape_rebuild_it(generated, tmp_path, change):
    """Columns that move variables (pipeline constants in many rows, a course's length) and
    numbers that drop a variable from a row (no stock carried over; a free course) rebuild."""
    base = generated["england"]
    assert len(base.settings.decision_years) > 1  # so some year's stock carries over
    first = base.professions[0]
    case = {
        "pipeline": lambda: perturbed(base, "pipeline", "trainees", seed=5, low=0.6, high=0.9),
        "duration": lambda: with_value(base, "professions", 0, duration_years=first.duration_years + 1),
        "rate_to_one": lambda: with_value(base, "professions", 0, attrition_rate=1.0),
        "cost_to_zero": lambda: with_value(base, "professions", 0, cost_per_trainee_year_gbp=0.0),
    }[change]()
    cache = SolveCache()
    pipeline.run(base, None, cache=cache)
    assert_same_as_fresh(case, cache, tmp_path, "other")
    assert (cache.built, cache.reused) == (2, 0)


def test_a_change_of_which_rows_exist_rebuilds(generated, tmp_path):
    """A placement capacity where there was none adds a row: same column, new structure."""
    base = generated[SEEDS[0]]
    rows = list(base.capacity)
    blank = next((i for i, row in enumerate(rows) if row.placement_capacity is None), None)
    if blank is None:
        pytest.skip("every capacity row has a placement capacity")
    rows[blank] = type(rows[blank])(**{**rows[blank].model_dump(), "placement_capacity": 1e6})
    case = replaced(base, "capacity", rows)
    assert changed_columns(base, case) == {("capacity", "placement_capacity")}
    cache = SolveCache()
    pipeline.run(base, None, cache=cache)
    assert_same_as_fresh(case, cache, tmp_path, "new-row")
    assert (cache.built, cache.reused) == (2, 0)


def test_settings_integrality_and_regional_hours(generated, tmp_path):
    """Settings and integrality must match. Regional supervisor hours are rows of the
    ``supervisor_hours`` table: new values of the same rows are solved in place; rows added
    or taken away, or a zero that takes a stock variable out of a row, rebuild."""
    base = load_dataset(ENGLAND)
    slower = Settings.model_validate({**base.settings.model_dump(), "time_limit_seconds": 30})
    assert changed_columns(base, Dataset(**{**dict(base), "settings": slower})) is None
    cache = SolveCache()
    pipeline.run(base, None, cache=cache)

    def hours(cp: float, pwp: float) -> Dataset:
        rows = [SupervisorHoursRow(profession="clinical_psychologist", region="london", supervisor_hours_per_wte=cp),
                SupervisorHoursRow(profession="pwp", region="midlands", supervisor_hours_per_wte=pwp)]
        return replaced(budget, "supervisor_hours", rows)

    budget = perturbed(base, "budget", "budget_gbp", 3, 1.1, 1.2)
    steps = [
        ("rows", hours(0.5, 2.0), (2, 0)),  # rows added: built
        ("values", hours(3.0, 1.5), (2, 1)),  # the same rows, new values: in place
        ("zero", hours(3.0, 0.0), (3, 1)),  # a zero took a variable out: built
        ("back", base, (4, 1)),  # rows taken away: built
    ]
    for name, ds, counts in steps:
        assert_same_as_fresh(ds, cache, tmp_path, name)
        assert (cache.built, cache.reused) == counts, name
    small = generated[SEEDS[0]]
    pipeline.run(small, None, cache=cache)
    assert_same_as_fresh(perturbed(small, "budget", "budget_gbp", 5), cache, tmp_path, "integer",
                         integer=True)  # integrality differs: built
    assert (cache.built, cache.reused) == (6, 1)


def test_infeasible_and_back(generated, tmp_path):
    """A budget cut that leaves no plan is diagnosed as a fresh build's is, and the kept model
    then solves the next, feasible, case correctly."""
    base = generated[SEEDS[1]]
    cache = SolveCache()
    pipeline.run(base, None, cache=cache)
    cut = perturbed(base, "budget", "budget_gbp", 0, 0.0, 0.0)
    assert_same_as_fresh(cut, cache, tmp_path, "cut")
    assert json.loads((tmp_path / "cut-kept" / "summary.json").read_text())["status"] == "infeasible"
    assert_same_as_fresh(perturbed(base, "budget", "budget_gbp", 1, 1.0, 1.3), cache, tmp_path, "back")
    assert cache.reused == 2


def test_a_failed_check_leaves_the_model_unchanged():
    """Rows that do not match (here: a variable put in a row behind the cache's back) mean no
    update, not even of the rows that did match."""
    base = load_dataset(ENGLAND)
    model = build_model(base)
    budget = [e for e in model.registry if e.key.family == "budget"]
    budget[-1].constraint.set_coefficient(model.u[next(iter(model.u))], 1.0)
    before = {e.key: (e.constraint.constant, dict(e.constraint.items())) for e in model.registry}
    assert not update_in_place(model, perturbed(base, "budget", "budget_gbp", 1))
    assert not update_in_place(model, perturbed(base, "regions", "cost_multiplier", 1, 0.8, 0.9))
    assert {e.key: (e.constraint.constant, dict(e.constraint.items())) for e in model.registry} == before
    assert model.dataset is base


def test_solving_leaves_the_problem_as_built(tmp_path):
    """After the three stages the problem is stage 1 again: the same rows with the same terms
    and right-hand sides, the keep rows empty, the shortfall objective; a second solve repeats
    the first."""
    model = build_model(load_dataset(ENGLAND))
    problem = model.problem

    def rows():
        return [(c.name, c.sense, c.constant, sorted((v.id, k) for v, k in c.items())) for c in problem.constraints()]

    before, objective = rows(), sorted((v.id, k) for v, k in problem.objective.items())
    first = solve_model(model)
    assert [s["stage"] for s in first.stages] == ["shortfall", "sustain", "cost"]
    assert rows() == before
    for name in KEEP_ROW.values():
        keep = problem.get_constraint_by_name(name)
        assert keep is not None and not keep.keys() and keep.constant == 0
    assert sorted((v.id, k) for v, k in problem.objective.items()) == objective
    second = solve_model(model)
    assert [s["objective"] for s in second.stages] == [s["objective"] for s in first.stages]


def test_a_profession_that_starts_needing_supervision_is_built_afresh(tmp_path):
    """Supervision hours of 0 build no allocation for that trainee profession; a case giving it
    hours needs those variables, so the kept model is not updated in place but rebuilt."""
    from tests.helpers import profession, write_dataset

    def dataset(folder, hours):
        return load_dataset(write_dataset(
            tmp_path / folder,
            professions=[profession("a", supervision_hours_per_trainee=hours), profession("q", supervisor_hours_per_wte=1)],
            supervision=[{"trainee_profession": "a", "supervisor_profession": "q"}],
            workforce=[{"profession": k, "region": "r1", "stock_wte": 10} for k in ("a", "q")],
            demand=[{"profession": "a", "region": "r1", "year": 2021, "demand_wte": 30}],
            budget=[{"year": 2021, "budget_gbp": 1e6}]))

    cache = SolveCache()
    pipeline.run(dataset("none", 0), None, cache=cache)
    assert assert_same_as_fresh(dataset("some", 3), cache, tmp_path, "some") == "optimal"
    assert (cache.built, cache.reused) == (2, 0)

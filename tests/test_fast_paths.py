"""The speed-ups change nothing a user sees: the CSV writer is byte for byte what pandas
writes, a results folder's MPS file is PuLP's own of stage 1, and CBC and HiGHS agree on the
default dataset's optimum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser import output, pipeline
from optimiser.build import build_model
from optimiser.loader import load_dataset
from optimiser.results import build_results
from optimiser.solve import solve_model
from tests.helpers import profession, write_dataset

ENGLAND = Path(__file__).resolve().parents[1] / "inputs" / "england"


@pytest.fixture(scope="module")
def england():
    return load_dataset(ENGLAND)


def _same_csv(frame: pd.DataFrame, tmp_path: Path) -> None:
    frame.to_csv(tmp_path / "pandas.csv", index=False, float_format="%.10g")  # as pandas writes a file
    expected = (tmp_path / "pandas.csv").read_bytes()
    assert output.csv_bytes(frame) == expected
    assert output.pandas_csv_bytes(frame) == expected


def test_csv_writer_matches_pandas_on_results(england, tmp_path):
    model = build_model(england)
    results = build_results(model, solve_model(model))
    for frame in (results.plan, results.workforce, results.supervision, results.constraints):
        _same_csv(frame, tmp_path)


@pytest.mark.parametrize("frame", [
    pd.DataFrame(),
    pd.DataFrame([], columns=["a", "b"]),
    pd.DataFrame({"text": ["x,y", 'a "quote"', "two\nlines", None, " padded "],
                  "number": [1.0, np.nan, -0.0, 1e20, 1 / 3], "flag": [True, False, True, True, False],
                  "count": [1, 2, 3, 4, 5]}),
    pd.DataFrame({"mixed": pd.Series([1.5, None, "x", 2, float("nan")], dtype=object)}),
    pd.DataFrame([{"a": None, "b": 1.0}, {"a": "z", "b": None}]),
    pd.DataFrame({"a": [np.inf, -np.inf, 1e-320], "b": np.array([0.1, 2.5, np.nan], dtype=np.float32)}),
    pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": pd.to_datetime(["2020-01-01", None])}),
    pd.DataFrame({1: [1], 2.5: ["x"]}),
    pd.DataFrame({"text": ["plain", "", " padded ", "ünïcode"], "n": [1, 2, 3, 4], "f": [0.5, np.nan, 2, -0.0],
                  "b": [True, False, True, False]}),
    pd.DataFrame({"only": ["", "x"]}),
    pd.DataFrame({"a,b": ["x"], "c": ["y"]}),
    pd.DataFrame({"a": ["x"], "b": ['say "hi"']}),
    pd.DataFrame({"a": ["x", "y"], "b": ["line\rbreak", "z"]}),
], ids=["empty", "header-only", "types", "objects", "records", "special-floats", "extension-types",
        "numeric-labels", "plain-joined", "one-column", "comma-in-header", "quote", "carriage-return"])
def test_csv_writer_matches_pandas(frame, tmp_path):
    _same_csv(frame, tmp_path)


def test_results_folder_mps_is_the_shortfall_stage(tmp_path):
    """The folder's MPS is stage 1: the model as built, byte for byte what PuLP writes of it, with
    the later stages' keep rows empty (no coefficient, right-hand side 0); also when no stage was
    solved (inputs contradict a limit)."""
    dataset = write_dataset(
        tmp_path / "ds", professions=[profession("p")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10}],
        budget=[{"year": 2021, "budget_gbp": 6000}])
    for solver in ("cbc", "highs"):
        out = tmp_path / f"out-{solver}"
        pipeline.run(dataset, out, solver=solver)
        build_model(load_dataset(dataset)).problem.writeMPS(str(tmp_path / "expected.mps"))
        assert (out / pipeline.MPS_FILE).read_bytes() == (tmp_path / "expected.mps").read_bytes()
        text = (out / pipeline.MPS_FILE).read_text()
        columns = text[text.index("COLUMNS"):text.index("RHS")]
        assert " L  keep_shortfall_optimal" in text and "keep_shortfall_optimal" not in columns


def test_cbc_and_highs_agree_on_the_default_dataset(england):
    """Same status, the same optimum of each stage on inputs/england: weighted target and sustain
    shortfall, and the whole cost (decision years and after: only the sum is unique)."""
    cbc = pipeline.run(england, None, solver="cbc").summary
    highs = pipeline.run(england, None, solver="highs").summary
    assert cbc.status == highs.status == "optimal"
    for key in ("weighted_shortfall", "sustain_shortfall"):
        assert getattr(highs, key) == pytest.approx(getattr(cbc, key), rel=1e-5, abs=1e-4), key
    whole = cbc.total_cost_gbp + cbc.committed_cost_after_horizon_gbp
    assert highs.total_cost_gbp + highs.committed_cost_after_horizon_gbp == pytest.approx(whole, rel=1e-6)


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_later_stages_start_warm_and_match_cold_solves(england, solver):
    """The later stages start from the basis the stage before ended on (HiGHS: the kept model,
    primal simplex; CBC: the basis file) and reach the optima that cold, one-off solves of the
    same stage problems reach: each stage is rebuilt here from scratch, its keep rows filled by
    hand, and solved with nothing handed over."""
    from optimiser import solver as slv
    from optimiser.model import COST_STAGE, SHORTFALL_STAGE, SUSTAIN_STAGE

    solution = solve_model(build_model(england), solver=solver)
    assert solution.status == "optimal"

    cold = build_model(england)
    optima = {}
    previous = None
    for stage, objective in ((SHORTFALL_STAGE, cold.shortfall_objective),
                             (SUSTAIN_STAGE, cold.sustain_objective), (COST_STAGE, cold.cost_objective)):
        if previous is not None:
            keep = cold.keep_rows[previous[0]]
            keep += previous[1]
            optimum = optima[previous[0]]
            keep.changeRHS(optimum + 1e-6 * abs(optimum) + 1e-6)
        cold.problem.setObjective(objective)
        run = slv.run_solver(cold.problem, solver, 60)  # nothing handed over: a cold solve
        assert run.status == "optimal"
        optima[stage] = run.objective
        previous = (stage, objective)
    for stage, optimum in optima.items():
        assert solution.objectives[stage] == pytest.approx(optimum, rel=1e-7, abs=1e-6), stage


def test_highs_later_stages_reuse_one_model(england):
    """The kept model is one HiGHS instance across the stages: a second stage on it starts warm."""
    from optimiser import solver as slv
    from optimiser.model import SHORTFALL_STAGE, SUSTAIN_STAGE

    model = build_model(england)
    kept = slv.KeptHighs()
    optimum = solve_model(build_model(england), solver="highs").objectives[SUSTAIN_STAGE]
    first = slv.run_solver(model.problem, "highs", 60, kept=kept)
    assert kept.highs is model.problem.solverModel
    keep = model.keep_rows[SHORTFALL_STAGE]
    keep += model.shortfall_objective
    keep.changeRHS(first.objective * (1 + 1e-6) + 1e-6)
    model.problem.setObjective(model.sustain_objective)
    second = slv.run_solver(model.problem, "highs", 60, kept=kept, changed_rows=(keep,))
    assert kept.highs is model.problem.solverModel
    assert second.objective == pytest.approx(optimum, rel=1e-7)
    assert kept.highs.getInfo().simplex_iteration_count < 1000  # from stage 1's basis, not cold


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_later_objective_that_brings_a_new_column_is_solved_right(solver):
    """Stage 1: min x with x >= 2 (x = 2). Stage 2 keeps x <= 2 and minimises x - y with
    0 <= y <= 3, y in no row and not in stage 1's objective, so it is no column of what stage 1
    handed over: y = 3, objective -1, with either hand-over. HiGHS builds its model afresh (not
    re-solved with misaligned columns); CBC starts from stage 1's basis, which has no y."""
    import pulp

    from optimiser import solver as slv

    problem = pulp.LpProblem("fresh_column", pulp.LpMinimize)
    x = problem.add_variable("x", lowBound=0)
    y = problem.add_variable("y", lowBound=0, upBound=3)
    problem += x >= 2
    row = problem.addConstraint(pulp.LpAffineExpression.empty() <= 0, "keep")  # as build.define_keep_rows
    problem.setObjective(x + 0)
    kept = slv.KeptHighs() if solver == "highs" else slv.CbcBasis()
    first = slv.run_solver(problem, solver, 10, kept=kept, warm=False)
    assert first.status == "optimal" and x.varValue == pytest.approx(2)
    row += x
    row.changeRHS(2)
    problem.setObjective(x - y)
    second = slv.run_solver(problem, solver, 10, kept=kept, changed_rows=(row,))
    assert second.status == "optimal"
    assert (x.varValue, y.varValue, second.objective) == (pytest.approx(2), pytest.approx(3), pytest.approx(-1))
    if solver == "highs":
        assert kept.highs.getNumCol() == 2


def test_cbc_later_stage_starts_from_the_basis_the_stage_before_ended_on(england, tmp_path):
    """Stage 1 with a ``CbcBasis`` keeps the basis CBC wrote (an MPS basis file); a later
    stage (``warm=True``) of the same shape is given it to read (``basisI``), a stage 1
    (``warm=False``) is not, and neither is a stage with another number of variables."""
    from optimiser import solver as slv
    from optimiser.model import SHORTFALL_STAGE

    model = build_model(england)
    basis = slv.CbcBasis()
    first = slv.run_solver(model.problem, "cbc", 60, kept=basis, warm=False)
    assert first.status == "optimal" and basis.text and basis.text.startswith(b"NAME")
    text = basis.text
    keep = model.keep_rows[SHORTFALL_STAGE]
    keep += model.shortfall_objective
    keep.changeRHS(first.objective * (1 + 1e-6) + 1e-6)
    model.problem.setObjective(model.sustain_objective)
    warm = basis.options(model.problem, tmp_path, warm=True)
    assert warm[0] == f"basisI {tmp_path / 'start.bas'}" and (tmp_path / "start.bas").read_bytes() == text
    assert "initialSolve" in warm and any(o.startswith("basisO ") for o in warm)

    basis.text = text
    assert not any(o.startswith("basisI") for o in basis.options(model.problem, tmp_path, warm=False))
    basis.text = text
    extra = model.problem.add_variable("extra_column", lowBound=0, upBound=1)
    model.problem.setObjective(model.sustain_objective - extra)
    assert not any(o.startswith("basisI") for o in basis.options(model.problem, tmp_path, warm=True))


def test_cbc_slacks_are_pulps_own_formula():
    """``CommissionProblem`` reads CBC's row activities in one pass (PuLP 4.2 looks each row up
    by name, quadratic in the rows); the slacks are PuLP's: -(constant + activity). Hand-worked:
    min x + y with x + y >= 3 (c1), x <= 1 (c2), y - x <= 5 (c3) gives x + y = 3 at cost 3,
    so c1's activity is 3 (slack 0 for a >= row read as -(-3 + 3)), and the plain PuLP
    problem reports the same slacks."""
    import pulp

    from optimiser import solver as slv
    from optimiser.model import CommissionProblem

    slacks = []
    for cls in (CommissionProblem, pulp.LpProblem):
        problem = cls("slacks", pulp.LpMinimize)
        x = problem.add_variable("x", lowBound=0)
        y = problem.add_variable("y", lowBound=0)
        problem += x + y >= 3, "c1"
        problem += x <= 1, "c2"
        problem += y - x <= 5, "c3"
        problem.setObjective(x + y)
        run = slv.run_solver(problem, "cbc", 10)
        assert run.status == "optimal" and run.objective == pytest.approx(3)
        slacks.append({c.name: round(c.slack, 9) for c in problem.constraints()})
    assert slacks[0] == slacks[1]
    assert slacks[0]["c1"] == pytest.approx(0)

"""The speed-ups change nothing a user sees: the MPS and CSV writers are byte for byte what
PuLP and pandas write, and CBC and HiGHS agree on the default dataset's optimum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pulp
import pytest

from optimiser import output, pipeline
from optimiser.build import build_model
from optimiser.loader import load_dataset
from optimiser.mpsfile import write_mps
from optimiser.results import build_results
from optimiser.solve import solve_model
from tests.helpers import profession, write_dataset

ENGLAND = Path(__file__).resolve().parents[1] / "inputs" / "england"


@pytest.fixture(scope="module")
def england():
    return load_dataset(ENGLAND)


def _same_mps(make_problem, tmp_path: Path) -> None:
    """Each writer gets a fresh problem: writing mutates one (PuLP leaves its dummy column in a
    constant objective), and so does each writer in the same way."""
    for rename in (False, True):
        make_problem().writeMPS(str(tmp_path / "pulp.mps"), rename=rename)
        ours = write_mps(make_problem(), str(tmp_path / "ours.mps"), rename=rename)
        assert (tmp_path / "ours.mps").read_bytes() == (tmp_path / "pulp.mps").read_bytes(), rename
        assert ours.text == (tmp_path / "pulp.mps").read_text()


@pytest.mark.parametrize("kind", ["lp", "integer", "elastic", "cost_stage"])
def test_mps_writer_matches_pulp(england, tmp_path, kind):
    def make():
        model = build_model(england, integer=kind == "integer", elastic=kind == "elastic")
        if kind == "cost_stage":  # stage 2: an extra row with a long name, the cost objective
            model.problem.addConstraint(pulp.LpConstraint(model.shortfall_objective, pulp.LpConstraintLE,
                                                          "keep_shortfall_optimal", 1e6))
            model.problem.setObjective(model.cost_objective)
        return model.problem

    _same_mps(make, tmp_path)


@pytest.mark.parametrize("integer", [False, True])
@pytest.mark.parametrize("rename", [False, True])
def test_mps_written_from_a_template_matches_pulp(england, tmp_path, integer, rename):
    """The cost stage written from the shortfall stage's template (one row more, another
    objective, new right-hand sides) is PuLP's file of the cost stage, byte for byte; and so
    is the shortfall stage written again from the cost stage's template after the row is taken off."""
    model = build_model(england, integer=integer)
    problem = model.problem
    first = write_mps(problem, str(tmp_path / "first.mps"), rename=rename)
    assert first.template is not None
    for entry in list(model.registry)[::5]:
        entry.constraint.constant = 0.0 - (entry.rhs * 1.25 + 1)
    problem.addConstraint(pulp.LpConstraint(model.shortfall_objective, pulp.LpConstraintLE,
                                            "keep_shortfall_optimal", 123.5))
    problem.setObjective(model.cost_objective)
    cost = write_mps(problem, str(tmp_path / "cost.mps"), rename=rename, template=first.template)
    problem.writeMPS(str(tmp_path / "pulp.mps"), rename=rename)
    assert (tmp_path / "cost.mps").read_bytes() == (tmp_path / "pulp.mps").read_bytes()
    assert cost.text == (tmp_path / "pulp.mps").read_text()
    # the other way: a template with more rows than the problem does not fit, so a full write
    problem._constraints.pop("keep_shortfall_optimal")
    problem.setObjective(model.shortfall_objective)
    again = write_mps(problem, str(tmp_path / "again.mps"), rename=rename, template=cost.template)
    problem.writeMPS(str(tmp_path / "pulp2.mps"), rename=rename)
    assert again.text == (tmp_path / "pulp2.mps").read_text()


@pytest.mark.parametrize("objective", ["constant", "terms"])
def test_mps_writer_matches_pulp_on_odd_problems(tmp_path, objective):
    """Free, negative, fixed and binary bounds, a constant objective (PuLP's dummy column)
    and a variable put in a row after the row was added."""
    def make():
        problem = pulp.LpProblem("odd", pulp.LpMinimize)
        free = problem.add_variable("free")
        neg = problem.add_variable("neg", lowBound=-3, upBound=-1)
        fixed = problem.add_variable("fixed", lowBound=2, upBound=2)
        binary = problem.add_variable("bin", lowBound=0, upBound=1, cat=pulp.LpInteger)
        whole = problem.add_variable("whole", lowBound=0, cat=pulp.LpInteger)
        late = problem.add_variable("late", lowBound=0)
        problem.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression({free: 1.5, neg: -2}),
                                                pulp.LpConstraintGE, "a", 0.25))
        row = pulp.LpConstraint(pulp.LpAffineExpression({fixed: 1, binary: 3.0, whole: 1e-7}),
                                pulp.LpConstraintEQ, "b", -4)
        problem.addConstraint(row)
        row.expr[late] = 2.0
        problem.setObjective(pulp.LpAffineExpression(constant=5) if objective == "constant" else
                             pulp.LpAffineExpression({whole: 1, free: -0.0}))
        return problem

    _same_mps(make, tmp_path)

    def extend(problem):  # rows added over columns the objective has too, and a new objective
        by_name = {v.name: v for v in problem.variables()}
        problem.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression({by_name["whole"]: 2, by_name["neg"]: 1}),
                                                pulp.LpConstraintLE, "c", 7))
        problem.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression({by_name["free"]: -1}),
                                                pulp.LpConstraintGE, "d", -2))
        problem.setObjective(pulp.LpAffineExpression({by_name["free"]: 2, by_name["whole"]: -1, by_name["bin"]: 1}))
        return problem

    def registered():  # every column in a row when the row was added: a template is kept
        problem = make()
        late = next(v for v in problem.variables() if v.name == "late")
        problem.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression({late: 1}), pulp.LpConstraintLE, "e", 9))
        return problem

    for rename in (False, True):
        problem = registered()
        first = write_mps(problem, str(tmp_path / "first.mps"), rename=rename)
        assert (first.template is None) == (objective == "constant")  # PuLP's dummy column: not kept
        extended = write_mps(extend(problem), str(tmp_path / "ours.mps"), rename=rename, template=first.template)
        reference = registered()  # the same steps, with PuLP's writer
        reference.writeMPS(str(tmp_path / "pulp-first.mps"), rename=rename)
        extend(reference).writeMPS(str(tmp_path / "pulp.mps"), rename=rename)
        assert extended.text == (tmp_path / "pulp.mps").read_text(), rename


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
    """The folder's MPS is the file CBC solved for stage 1: the model as built (no stage-2 row),
    byte for byte what PuLP writes; also when no stage was solved (inputs contradict a limit)."""
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
        assert b"keep_shortfall_optimal" not in (out / pipeline.MPS_FILE).read_bytes()


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


def _small_integer_dataset(folder: Path) -> Path:
    return write_dataset(
        folder, settings={"integer_places": True, "target_year": 2022},
        professions=[profession("p", duration_years=2, completion_rate=0.9, cost_per_trainee_year_gbp=1500),
                     profession("q", cost_per_trainee_year_gbp=800, weight=2)],
        regions=[{"region": r, "name": r, "cost_multiplier": m} for r, m in (("r1", 1), ("r2", 1.2))],
        workforce=[{"profession": p, "region": r, "stock_wte": 3} for p in "pq" for r in ("r1", "r2")],
        demand=[{"profession": p, "region": r, "year": 2022, "demand_wte": 9.5} for p in "pq" for r in ("r1", "r2")],
        budget=[{"year": 2021, "budget_gbp": 7300}, {"year": 2022, "budget_gbp": 9100}])


@pytest.mark.parametrize("kind", ["lp", "elastic", "integer"])
def test_cbc_driver_puts_on_the_model_what_pulps_does(england, tmp_path, kind):
    """Our CBC driver (own MPS writer and solution reader) against PuLP's COIN_CMD: the same
    status, values, reduced costs, duals and slacks, to the last bit."""
    from optimiser import solver as slv

    dataset = load_dataset(_small_integer_dataset(tmp_path / "ds")) if kind == "integer" else england
    ours, theirs = (build_model(dataset, elastic=kind == "elastic") for _ in range(2))
    gap = 1e-6 if kind == "integer" else None
    run = slv.run_solver(ours.problem, "cbc", 60, mip_gap=gap)
    status = theirs.problem.solve(pulp.COIN_CMD(path=slv.cbc_path(), msg=False, timeLimit=60, threads=1, gapRel=gap))
    assert run.status == "optimal" and status == ours.problem.status
    assert ours.problem.sol_status == theirs.problem.sol_status
    for mine, other in zip(ours.problem.variables(), theirs.problem.variables(), strict=True):
        assert (mine.name, mine.varValue, mine.dj) == (other.name, other.varValue, other.dj)
    for name, constraint in ours.problem._constraints.items():
        other = theirs.problem._constraints[name]
        assert (constraint.pi, constraint.slack) == (other.pi, other.slack), name

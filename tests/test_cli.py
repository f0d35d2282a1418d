"""The commands as users run them: run, build -> solve -> report, validate, workbook;
whole-or-nothing output; statuses that are not optimal are said plainly."""

from __future__ import annotations

import json
import random

import pulp
import pytest
from click.testing import CliRunner

from models.inputs import MIP_GAP_DEFAULT
from optimiser import solver as slv
from optimiser.cli import main
from tests.reference.checker import check_results


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_run_writes_every_file(dataset, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", dataset, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Status: OPTIMAL" in result.output
    names = {p.name for p in out.iterdir()}
    assert names == {"plan.csv", "workforce.csv", "supervision.csv", "constraints.csv", "summary.json",
                     "shortfall_stage.mps"}
    summary = json.loads((out / "summary.json").read_text())
    for key in ("status", "weighted_shortfall", "total_shortfall_wte", "total_cost_gbp", "solver", "solve_seconds"):
        assert key in summary
    assert check_results(dataset, out) == []


def test_build_solve_report_match_run(dataset, tmp_path):
    assert invoke("run", dataset, "-o", tmp_path / "run").exit_code == 0
    built = invoke("build", dataset, "-o", tmp_path / "model")
    assert built.exit_code == 0, built.output
    assert (tmp_path / "model" / "model.json").exists() and (tmp_path / "model" / "shortfall_stage.mps").exists()
    solved = invoke("solve", tmp_path / "model", "-o", tmp_path / "solved")
    assert solved.exit_code == 0, solved.output
    a = json.loads((tmp_path / "run" / "summary.json").read_text())
    b = json.loads((tmp_path / "solved" / "summary.json").read_text())
    assert b["weighted_shortfall"] == pytest.approx(a["weighted_shortfall"], rel=1e-9, abs=1e-9)
    assert b["total_cost_gbp"] == pytest.approx(a["total_cost_gbp"], rel=1e-9, abs=1e-9)
    assert (tmp_path / "run" / "constraints.csv").read_text() == (tmp_path / "solved" / "constraints.csv").read_text()
    assert check_results(dataset, tmp_path / "solved") == []
    reported = invoke("report", tmp_path / "solved")
    assert reported.exit_code == 0
    assert "Status: OPTIMAL" in reported.output and "2022/23 shortfall" in reported.output


def test_report_needs_a_results_folder(tmp_path):
    result = invoke("report", tmp_path)
    assert result.exit_code == 2 and "is not a results folder" in result.output


def test_solve_rejects_a_file_that_is_not_a_model(tmp_path):
    (tmp_path / "model.json").write_text("{}")
    result = invoke("solve", tmp_path, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "is not a model written by 'optimiser build'" in result.output


def test_rerun_replaces_results_whole(dataset, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    (out / "conflicts.csv").write_text("from an earlier, infeasible run")
    assert invoke("run", dataset, "-o", out).exit_code == 0
    assert not (out / "conflicts.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_result_folder_with_a_file_of_yours_is_not_replaced(dataset, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    (out / "notes.txt").write_text("mine")
    result = invoke("run", dataset, "-o", out)
    assert result.exit_code == 1 and "notes.txt" in result.output
    assert (out / "notes.txt").read_text() == "mine"


def test_refuses_to_overwrite_a_folder_that_is_not_a_result(dataset, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    result = invoke("run", dataset, "-o", mine)
    assert result.exit_code == 1 and "is not a results folder" in result.output
    assert (mine / "thesis.docx").read_text() == "precious"


def test_unwritable_output_leaves_nothing(dataset, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    result = invoke("run", dataset, "-o", blocker / "out")
    assert result.exit_code == 1
    assert "could not write" in result.output and "Traceback" not in result.output
    assert blocker.read_text() == "a file where a folder should be"


def test_validate_command(dataset):
    result = invoke("validate", dataset)
    assert result.exit_code == 0 and "valid" in result.output


def test_missing_demand_rows_are_warned(dataset, tmp_path):
    (dataset / "demand.csv").write_text("profession,region,year,demand_wte\n")
    result = invoke("run", dataset, "-o", tmp_path / "out")
    assert result.exit_code == 0
    assert "demand has no 2022/23 row for 1 profession/region pair(s), taken as 0 WTE" in result.output


def _hard_knapsack() -> pulp.LpProblem:
    rng = random.Random(1)
    problem = pulp.LpProblem("knapsack", pulp.LpMaximize)
    items = [problem.add_variable(f"v{i}", 0, 1, pulp.LpInteger) for i in range(300)]
    problem.setObjective(pulp.LpAffineExpression.from_dict({v: rng.randint(1, 1000) for v in items}))
    for k in range(40):
        problem.addConstraint(pulp.LpAffineExpression.from_dict({v: rng.randint(1, 1000) for v in items}) <= 50_000,
                              f"k{k}")
    return problem


def test_time_limit_with_an_incumbent_is_not_called_optimal():
    """An incumbent after a time limit is reported as time_limit, with either solver."""
    for solver in ("cbc", "highs"):
        run = slv.run_solver(_hard_knapsack(), solver, 0.5)
        assert run.status == slv.TIME_LIMIT, solver
        assert "not proven optimal" in run.message
        assert run.gap is not None and run.gap > 0, solver


def test_unknown_solver_is_a_clear_error(dataset, tmp_path):
    from optimiser.errors import SolverError

    with pytest.raises(SolverError, match="unknown solver"):
        slv.run_solver(_hard_knapsack(), "gurobi", 1)


def test_solver_temporary_files_are_removed(dataset, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    from optimiser import pipeline

    pipeline.run(dataset, tmp_path / "out", tmp_root=scratch)
    assert list(scratch.iterdir()) == []


def test_a_missing_optional_package_names_its_extra(dataset, tmp_path, monkeypatch):
    """A core install without the 'reports' extra: a clear message, not an internal error."""
    import sys

    monkeypatch.setitem(sys.modules, "jinja2", None)  # import jinja2 -> ModuleNotFoundError
    assert invoke("run", dataset, "-o", tmp_path / "out").exit_code == 0
    result = invoke("report", tmp_path / "out", "--html", tmp_path / "page.html")
    assert result.exit_code == 1
    assert "needs the optional package 'jinja2'" in result.output
    assert "psych-commission-optimiser[reports]" in result.output
    assert "internal error" not in result.output and not (tmp_path / "page.html").exists()


def test_whole_places_report_their_proven_gap(dataset, tmp_path):
    """With --integer the summary and the terminal say how close to the optimum each stage was
    proven (a gap no larger than the settings' mip_gap for an optimal run) and the bound."""
    result = invoke("run", dataset, "-o", tmp_path / "out", "--integer")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["integer_places"] is True
    assert set(summary["mip_gaps"]) == {"shortfall", "cost"} <= set(summary["mip_bounds"])
    assert all(0 <= gap <= MIP_GAP_DEFAULT + 1e-9 for gap in summary["mip_gaps"].values())
    assert summary["mip_bounds"]["shortfall"] <= summary["weighted_shortfall"] + 1e-6
    assert "Whole places: proven within" in result.output
    lp = invoke("run", dataset, "-o", tmp_path / "lp")
    assert json.loads((tmp_path / "lp" / "summary.json").read_text())["mip_gaps"] == {}

"""Answers in the user's shape: --json, -q/-v, the versions that made a result, what-ifs that
explain and name themselves, and changes against the base in batch and frontier outputs."""

from __future__ import annotations

import json
import re

import pandas as pd
import pulp
import pytest
from click.testing import CliRunner

import optimiser
from models.results import SUMMARY_FIGURES
from optimiser.cli import main

MORE_2021 = "budget.budget_gbp[year=2021]=+5000"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def json_of(result) -> dict:
    """The one JSON document on stdout (``json.loads`` fails on anything else there)."""
    return json.loads(result.stdout)


# ------------------------------------------------------------------ versions


def test_summary_records_the_versions_and_the_report_shows_them(dataset, tmp_path):
    out = tmp_path / "out"
    done = invoke("run", dataset, "-o", out)
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimiser_version"] == optimiser.__version__
    assert summary["pulp_version"] == pulp.__version__
    # a release (``CBC 2.10.3``) or a development build named by the package it came in
    assert re.fullmatch(r"CBC (\d[\w.]*|Devel \(cbcbox \d[\w.]*\))", summary["solver_version"])
    assert f"Made by optimiser {optimiser.__version__}, PuLP {pulp.__version__}, {summary['solver_version']}" \
        in done.output
    report = invoke("report", out)
    assert summary["solver_version"] in report.output


def test_highs_version_is_recorded(dataset, tmp_path):
    pytest.importorskip("highspy")
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out, "--solver", "highs").exit_code == 0
    assert json.loads((out / "summary.json").read_text())["solver_version"].startswith("HiGHS 1.")


# ---------------------------------------------------------------------- json


def test_run_json_is_the_summary_and_nothing_else(dataset, tmp_path):
    out = tmp_path / "out"
    done = invoke("run", dataset, "-o", out, "--json", "--set", MORE_2021)
    assert done.exit_code == 0
    document = json_of(done)
    assert document["ok"] is True and document["exit_code"] == 0 and document["status"] == "optimal"
    assert document["summary"] == json.loads((out / "summary.json").read_text())
    assert document["results"] == str(out.resolve())
    assert document["summary"]["overrides"][0]["override"] == MORE_2021


def test_run_json_keeps_the_exit_status_of_an_infeasible_run(tmp_path):
    """Trainees already in training cost more than the 2021 budget: infeasible, exit 3."""
    from tests.helpers import profession, write_dataset

    broke = write_dataset(
        tmp_path / "broke", settings={"target_year": 2022},
        professions=[profession("p", duration_years=2)],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 50}],
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 10}],
        demand=[{"profession": "p", "region": "r1", "year": 2022, "demand_wte": 80}],
        budget=[{"year": 2021, "budget_gbp": 5_000}, {"year": 2022, "budget_gbp": 30_000}])
    done = invoke("run", broke, "-o", tmp_path / "out", "--json")
    assert done.exit_code == 3
    document = json_of(done)
    assert document["exit_code"] == 3 and document["status"] == "infeasible"
    assert document["summary"]["has_plan"] is False and document["summary"]["conflicts"]


def test_validate_json(dataset):
    done = invoke("validate", dataset, "--json")
    assert done.exit_code == 0
    document = json_of(done)
    assert document["valid"] is True and document["professions"] == 1 and document["decision_years"] == [2021, 2022]


def test_validate_json_of_bad_input_is_located_exit_2(dataset):
    (dataset / "demand.csv").write_text("profession,region,year,demand_wte\np,r1,2022,lots\n")
    done = invoke("validate", dataset, "--json")
    assert done.exit_code == 2
    document = json_of(done)
    assert document["ok"] is False and document["exit_code"] == 2
    problem = document["problems"][0]
    assert problem["file"].endswith("demand.csv") and problem["row"] == 2


def test_report_json_of_a_result_and_of_a_missing_folder(dataset, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    document = json_of(invoke("report", out, "--json"))
    assert document["kind"] == "result" and document["summary"]["status"] == "optimal"
    missing = invoke("report", tmp_path / "nowhere", "--json")
    assert missing.exit_code == 2 and json_of(missing)["ok"] is False


# ------------------------------------------------------------------ -q and -v


def test_quiet_and_verbose(dataset, tmp_path):
    quiet = invoke("run", dataset, "-o", tmp_path / "q", "-q")
    assert quiet.exit_code == 0
    assert quiet.stdout.splitlines()[0].startswith("Status: OPTIMAL") and len(quiet.stdout.splitlines()) == 2
    verbose = invoke("run", dataset, "-o", tmp_path / "v", "-v")
    assert verbose.exit_code == 0
    assert "[build]" in verbose.stderr and "[solve]" in verbose.stderr
    assert "[build]" not in verbose.stdout  # details go to stderr only
    valid = invoke("validate", dataset, "-q")
    assert valid.exit_code == 0 and len(valid.stdout.splitlines()) == 1
    report = invoke("report", tmp_path / "q", "-q")
    assert report.exit_code == 0 and report.stdout.splitlines() == [quiet.stdout.splitlines()[0]]
    report_verbose = invoke("report", tmp_path / "q", "-v")
    assert "[read the folder]" in report_verbose.stderr and "[read the folder]" not in report_verbose.stdout


# ------------------------------------------------------------ what-if explain


def test_explain_a_whatif_names_it_and_report_why_needs_its_overrides(dataset, tmp_path):
    out = tmp_path / "whatif"
    done = invoke("explain", dataset, "-o", out, "--set", MORE_2021, "-v")
    assert done.exit_code == 0, done.output
    assert "Splitting the shortfall" in done.stderr and "[split the shortfall]" in done.stderr
    assert "Splitting the shortfall" not in done.stdout  # progress never on stdout
    assert f"What-if overrides: {MORE_2021}" in done.output
    why = json.loads((out / "why.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert why["total_wte"] == pytest.approx(summary["total_shortfall_wte"], abs=1e-6)
    assert summary["overrides"][0]["override"] == MORE_2021
    (out / "why.json").unlink()
    (out / "why.csv").unlink()
    refused = invoke("report", out, "--why")
    assert refused.exit_code == 2 and "--set/--scenario/--name" in refused.output
    wrong = invoke("report", out, "--why", "--set", "budget.budget_gbp[year=2021]=+6000")
    assert wrong.exit_code == 2 and "do not make this result's" in wrong.output
    assert not (out / "why.json").exists()
    again = invoke("report", out, "--why", "--set", MORE_2021, "--json")
    assert again.exit_code == 0, again.output
    assert json_of(again)["why"]["total_wte"] == pytest.approx(why["total_wte"])
    assert (out / "why.json").exists()


# ------------------------------------------------------- batch and frontier


def test_batch_comparison_has_a_column_per_swept_value_and_changes_against_the_base(dataset, tmp_path):
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(
        "scenarios:\n"
        "  baseline: {}\n"
        "  more:\n"
        "    - target: budget.budget_gbp\n"
        "      where: {year: 2021}\n"
        "      add: [1000, 5000]\n"
        "  demand:\n"
        "    overrides:\n"
        "      - demand.demand_wte=*1.1\n")
    out = tmp_path / "batch"
    done = invoke("batch", scenarios, "--base", dataset, "-o", out, "--workers", 1)
    assert done.exit_code == 0, done.output
    assert "Scenarios" not in done.stderr  # stderr is not a terminal here: no progress bar without -v
    verbose = invoke("batch", scenarios, "--base", dataset, "-o", out, "--workers", 1, "--rerun", "-v")
    assert verbose.exit_code == 0 and "Scenarios" in verbose.stderr and "Scenarios" not in verbose.stdout
    table = pd.read_csv(out / "comparison.csv")
    column = "budget.budget_gbp[year=2021] (add)"
    swept = table.set_index("scenario")[column]
    assert pd.isna(swept["baseline"])  # blank: not swept there
    assert sorted(swept.dropna().tolist()) == [1000.0, 5000.0]
    assert pd.isna(swept["demand"])
    base = table[table.scenario == "baseline"].iloc[0]
    assert (table["base_scenario"] == "baseline").all()
    for figure in SUMMARY_FIGURES:
        changes = table[f"{figure}_change_vs_base"]
        expected = table[figure] - base[figure]
        assert changes.fillna(0.0).tolist() == pytest.approx(expected.fillna(0.0).tolist(), abs=1e-9), figure
    assert table.loc[table.scenario == "baseline", "total_shortfall_wte_change_vs_base"].iloc[0] == 0.0
    more = table[table[column] == 5000.0].iloc[0]
    assert more["total_shortfall_wte_change_vs_base"] < 0


def test_report_frontier_has_changes_against_x1(dataset, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    done = invoke("report", out, "--frontier")
    assert done.exit_code == 0, done.output
    table = pd.read_csv(out / "budget_frontier.csv")
    unit = table[table["scale"] == 1.0].iloc[0]
    for figure in ("total_shortfall_wte", "total_cost_gbp"):
        assert table[f"{figure}_change_vs_x1"].tolist() == pytest.approx((table[figure] - unit[figure]).tolist())
    assert unit["total_shortfall_wte_change_vs_x1"] == 0.0
    assert "WTE against x1" in done.output

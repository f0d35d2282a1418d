"""``optimiser report`` options and ``optimiser explain``, as users run them."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from optimiser.cli import main
from tests.helpers import profession, write_dataset


@pytest.fixture
def dataset(tmp_path):
    """A one-year course capped by the budget (4 trainees) and by placements (6): gap 10 - 4 = 6 WTE.

    v({}) = 0, v({budget}) = 6, v({placements}) = 4, v(both) = 6: Shapley shares budget
    (6 + 2) / 2 = 4 and placements (4 + 0) / 2 = 2.
    """
    return write_dataset(
        tmp_path / "ds", settings={"target_year": 2021},
        professions=[profession("p", name="Practitioners")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10}],
        budget=[{"year": 2021, "budget_gbp": 4000}],
        capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": 6, "intake_min": "",
                   "intake_max": ""}])


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_report_writes_workbook_and_html(dataset, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    result = invoke("report", out, "--xlsx", tmp_path / "r.xlsx", "--html", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert "Status: OPTIMAL" in result.output
    assert "GBP 1m more national budget in 2021/22 closes 1,000.0 WTE of the 2021/22 shortfall." in result.output
    assert f"Workbook written to {tmp_path / 'r.xlsx'}" in result.output
    assert f"HTML report written to {tmp_path / 'r.html'}" in result.output
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["Summary", "Plan", "Workforce", "Shortfall", "Limits", "Budget", "Supervision use",
                               "Supervision", "Settings", "Overrides"]
    summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_row=2)}
    assert summary["Status"] == "optimal"
    assert summary["Shortfall in 2021/22 (WTE)"] == pytest.approx(6, abs=1e-4)
    plan = book["Plan"]
    row = dict(zip([c.value for c in plan[1]], [c.value for c in plan[2]]))
    assert row["Profession"] == "p" and row["Profession name"] == "Practitioners"
    assert row["Intake (places)"] == pytest.approx(4, abs=1e-4) and row["Cost (GBP)"] == pytest.approx(4000, abs=0.1)
    assert "Not computed for this report" in (tmp_path / "r.html").read_text()  # no --why asked
    assert not (out / "why.json").exists()


def test_report_why_splits_and_saves(dataset, tmp_path):
    out = tmp_path / "out"
    invoke("run", dataset, "-o", out)
    result = invoke("report", out, "--why", "--dataset", dataset)
    assert result.exit_code == 0, result.output
    assert "Why the 2021/22 gap stays open:" in result.output
    assert "The limits account for all of it: budget 4.0 WTE; placements 2.0 WTE." in result.output
    saved = json.loads((out / "why.json").read_text())
    assert saved["totals"]["budget"] == pytest.approx(4, abs=1e-4)
    assert saved["totals"]["placements"] == pytest.approx(2, abs=1e-4)
    assert saved["total_wte"] == pytest.approx(json.loads((out / "summary.json").read_text())["total_shortfall_wte"],
                                               abs=1e-6)
    why = pd.read_csv(out / "why.csv")
    assert {"profession", "region", "year", "training_time", "budget", "total_wte"} <= set(why.columns)
    # A later report reads the saved split without re-solving.
    again = invoke("report", out)
    assert "Why the 2021/22 gap stays open:" in again.output


def test_report_all_writes_into_the_folder(dataset, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # summary.json names the dataset as given: run from here
    invoke("run", "ds", "-o", "out")
    result = invoke("report", out, "--all")
    assert result.exit_code == 0, result.output
    assert (out / "report.xlsx").exists() and (out / "report.html").exists() and (out / "why.json").exists()
    html = (out / "report.html").read_text()
    assert "Why the gap stays open" in html and "Shapley value" in html and "Practitioners" in html


def test_report_why_needs_the_dataset(dataset, tmp_path):
    out = tmp_path / "out"
    invoke("run", dataset, "-o", out)
    summary = json.loads((out / "summary.json").read_text())
    summary["dataset"] = "no/such/dataset"
    (out / "summary.json").write_text(json.dumps(summary))
    result = invoke("report", out, "--why")
    assert result.exit_code == 2
    assert "cannot be read from here; give it with --dataset" in result.output
    # --all goes on without the split, and says why.
    result = invoke("report", out, "--all")
    assert result.exit_code == 0 and "Note: no shortfall split" in result.output
    assert (out / "report.html").exists() and not (out / "why.json").exists()


def test_report_why_on_an_infeasible_result_is_refused(dataset, tmp_path):
    (dataset / "capacity.csv").write_text("profession,region,year,placement_capacity,intake_min,intake_max\n"
                                          "p,r1,2021,6,5,\n")
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 3
    result = invoke("report", out, "--why")
    assert result.exit_code == 2 and "the result is infeasible" in result.output
    result = invoke("report", out, "--html", tmp_path / "r.html", "--xlsx", tmp_path / "r.xlsx")
    assert result.exit_code == 0
    html = (tmp_path / "r.html").read_text()
    assert "What would make a plan possible" in html
    assert "The 2021/22 national budget is GBP 1,000 short" in html


def test_report_why_on_a_time_limited_result_is_refused_with_the_reason(dataset, tmp_path):
    """A plan stopped at its time limit is not the plan a re-solve finds: refused before any solve."""
    out = tmp_path / "out"
    invoke("run", dataset, "-o", out)
    summary = json.loads((out / "summary.json").read_text())
    summary["status"] = "time_limit"
    (out / "summary.json").write_text(json.dumps(summary))
    result = invoke("report", out, "--why", "--dataset", dataset)
    assert result.exit_code == 2, result.output
    assert "the result is time limit: its plan is not proven optimal" in result.output
    assert "longer --time-limit" in result.output
    assert "Splitting the shortfall" not in result.output and "changed since the run" not in result.output
    assert not (out / "why.json").exists()
    # --all writes the report without the split, and says why.
    result = invoke("report", out, "--all", "--dataset", dataset)
    assert result.exit_code == 0 and "Note: no shortfall split: the result is time limit" in result.output
    assert (out / "report.html").exists() and not (out / "why.json").exists()


def test_explain_runs_splits_and_writes_everything(dataset, tmp_path):
    out = tmp_path / "out"
    result = invoke("explain", dataset, "-o", out, "--all")
    assert result.exit_code == 0, result.output
    assert "Why the 2021/22 gap stays open:" in result.output
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "plan.csv", "why.json", "why.csv", "report.xlsx", "report.html"} <= names


def test_explain_of_an_infeasible_dataset_exits_3_with_the_conflict(dataset, tmp_path):
    (dataset / "capacity.csv").write_text("profession,region,year,placement_capacity,intake_min,intake_max\n"
                                          "p,r1,2021,6,5,\n")
    result = invoke("explain", dataset, "-o", tmp_path / "out", "--html", tmp_path / "r.html")
    assert result.exit_code == 3
    assert "national budget is GBP 1,000 short" in result.output
    assert (tmp_path / "r.html").exists()


def test_report_of_a_batch_folder(dataset, tmp_path):
    """A comparison put together by hand (no batch.json): a folder counts when its summary.json
    agrees with the row; 'c' names a's folder with another shortfall, so it is not ranked."""
    root = tmp_path / "batch"
    for name in ("a", "b"):
        assert invoke("run", dataset, "-o", root / "scenarios" / name).exit_code == 0
    pd.DataFrame([{"scenario": "a", "results": "scenarios/a"}, {"scenario": "b", "results": "scenarios/b"},
                  {"scenario": "c", "results": "scenarios/a", "status": "optimal", "total_shortfall_wte": 1.0}]) \
        .to_csv(root / "comparison.csv", index=False)
    result = invoke("report", root, "--all")
    assert result.exit_code == 0, result.output
    assert "3 scenario(s), 2 optimal (ranked)" in result.output and "Ranked by cost:" in result.output
    assert "  c: out of date (no current result" in result.output
    assert (root / "report.xlsx").exists() and (root / "report.html").exists()
    assert invoke("report", root, "--why").exit_code == 2


def test_report_refuses_a_folder_that_is_not_a_result(tmp_path):
    result = invoke("report", tmp_path)
    assert result.exit_code == 2 and "is not a results folder" in result.output


def test_workbook_name_must_end_in_xlsx(dataset, tmp_path):
    out = tmp_path / "out"
    invoke("run", dataset, "-o", out)
    result = invoke("report", out, "--xlsx", tmp_path / "r.csv")
    assert result.exit_code == 2 and "must end in .xlsx" in result.output


def test_the_cli_does_not_load_the_report_libraries():
    """``optimiser run`` stays fast: matplotlib, Jinja2 and openpyxl load only when a report is written."""
    import subprocess
    import sys

    code = ("import sys, optimiser.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'jinja2', 'openpyxl'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

"""optimiser batch: every scenario solved (processes or a Dask cluster), failures and infeasible
cases recorded with their reason, resumable after Ctrl-C or a kill, one comparison table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from optimiser.batch import SolveOptions, load_cases, run_batch, run_case
from optimiser.cli import main
from tests.helpers import profession, write_dataset

ROOT = Path(__file__).resolve().parents[1]
ENGLAND = ROOT / "inputs" / "england"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def small(tmp_path):
    """A two-year course: 10 trainees from 2020 commit GBP 10,000 of the 2021 budget."""
    return write_dataset(
        tmp_path / "ds", settings={"target_year": 2022},
        professions=[profession("p", duration_years=2, trainee_service_wte=0.3, attrition_rate=0.1),
                     profession("q", attrition_rate=0.1, cost_per_trainee_year_gbp=500)],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 50}, {"profession": "q", "region": "r1", "stock_wte": 20}],
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 10}],
        demand=[{"profession": "p", "region": "r1", "year": 2022, "demand_wte": 80},
                {"profession": "q", "region": "r1", "year": 2022, "demand_wte": 40}],
        budget=[{"year": 2021, "budget_gbp": 30_000}, {"year": 2022, "budget_gbp": 30_000}])


SCENARIOS = """\
base: ds
scenarios:
  baseline: {}
  broke:
    description: the 2021 budget cannot pay for the trainees already in training
    overrides:
      - budget.budget_gbp[year=2021]=5000
  sweep:
    - target: budget.budget_gbp
      scale: [1, 1.5, 2]
    - target: professions.attrition_rate
      where: {profession: q}
      set: [0.05, 0.2]
"""


def scenario_file(folder: Path, text: str = SCENARIOS) -> Path:
    path = folder / "whatif.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def results_log(out: Path) -> Counter:
    lines = [json.loads(line) for line in (out / "batch_log.jsonl").read_text().splitlines()]
    return Counter(line["name"] for line in lines if line["event"] == "result")


def mtimes(out: Path) -> dict[str, int]:
    """When each case's result was written (not counting a staging folder a kill left behind)."""
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "scenarios").glob("*/summary.json")
            if not p.parent.name.startswith(".")}


def test_local_batch_records_every_status_and_compares(small, tmp_path):
    out = tmp_path / "out"
    result = invoke("batch", scenario_file(tmp_path), "-o", out, "--workers", "2")
    assert result.exit_code == 3, result.output  # one infeasible, the rest optimal
    assert "8 scenario(s): 0 already complete, 8 run this time" in result.output
    assert "done (optimal): 7, infeasible: 1, not optimal: 0, failed: 0" in result.output
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.scenario) == ["baseline", "broke"] + [f"sweep--budget_gbp=x{s:g}--attrition_rate={a:g}"
                                                            for s in (1, 1.5, 2) for a in (0.05, 0.2)]
    figures = ["weighted_shortfall", "sustain_shortfall", "total_shortfall_wte", "qualified_shortfall_wte",
               "total_cost_gbp", "committed_cost_after_horizon_gbp"]
    assert list(table.columns) == ["scenario", "scenario_group", "budget.budget_gbp (scale)",
                                   "professions.attrition_rate[profession=q]", "status", "reason", *figures,
                                   *[f"{f}_change_vs_base" for f in figures], "base_scenario",
                                   "binding_1", "binding_1_shadow_price",
                                   "binding_2", "binding_2_shadow_price", "binding_3", "binding_3_shadow_price",
                                   "overrides", "results"]
    # the swept values, one column each: a pivot needs no parsing of names
    sweep = table[table.scenario_group == "sweep"]
    assert list(sweep["budget.budget_gbp (scale)"]) == [1, 1, 1.5, 1.5, 2, 2]
    assert list(sweep["professions.attrition_rate[profession=q]"]) == [0.05, 0.2] * 3
    assert table.loc[table.scenario == "baseline", "budget.budget_gbp (scale)"].isna().all()
    pivot = sweep.pivot(index="budget.budget_gbp (scale)", columns="professions.attrition_rate[profession=q]",
                        values="total_shortfall_wte")
    assert pivot.shape == (3, 2)
    # changes against the baseline (the dataset as given)
    given = table.set_index("scenario").loc["baseline"]
    assert (table.base_scenario == "baseline").all()
    for figure in figures:
        expected = table[figure] - given[figure]
        assert table[f"{figure}_change_vs_base"].fillna(0).tolist() == pytest.approx(expected.fillna(0).tolist(), rel=1e-9, abs=1e-6)
    assert pd.isna(table.set_index("scenario").loc["broke", "total_shortfall_wte_change_vs_base"])
    broke = table.set_index("scenario").loc["broke"]
    assert broke.status == "infeasible"
    assert "the 2021/22 national budget is GBP 5,000 short" in broke.reason
    assert pd.isna(broke.weighted_shortfall) and broke.overrides == "budget.budget_gbp[year=2021]=5000"
    optimal = table[table.scenario != "broke"]
    assert (optimal.status == "optimal").all() and optimal.weighted_shortfall.notna().all()
    base = table.set_index("scenario").loc["baseline"]
    assert base.binding_1.startswith("budget 202") and base.binding_1_shadow_price > 0
    # more budget never leaves a larger shortfall
    for a in (0.05, 0.2):
        rows = optimal[optimal.overrides.str.endswith(f"={a:g}")]
        assert list(rows.weighted_shortfall) == sorted(rows.weighted_shortfall, reverse=True)
    # the workbook holds the same table
    pd.testing.assert_frame_equal(pd.read_excel(out / "comparison.xlsx"), table, check_dtype=False)
    # each scenario has a whole results folder naming its scenario and overrides
    folder = out / "scenarios" / "sweep--budget_gbp=x2--attrition_rate=0.2"
    assert {p.name for p in folder.iterdir()} >= {"summary.json", "plan.csv", "constraints.csv", "scenario.json"}
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["scenario"] == folder.name
    assert [o["override"] for o in summary["overrides"]] == ["budget.budget_gbp=*2",
                                                            "professions.attrition_rate[profession=q]=0.2"]
    assert summary["overrides"][0]["source"] == f"{tmp_path / 'whatif.yaml'}, line 9"
    assert not (out / "scenarios" / "broke" / "plan.csv").exists()
    assert (out / "scenarios" / "broke" / "conflicts.csv").exists()


def test_rerun_solves_only_what_is_missing_or_changed(small, tmp_path):
    path = scenario_file(tmp_path)
    out = tmp_path / "out"
    assert invoke("batch", path, "-o", out, "--workers", "1", "--quiet").exit_code == 3
    first = mtimes(out)
    again = invoke("batch", path, "-o", out, "--quiet")
    assert again.exit_code == 3 and "8 already complete, 0 run this time" in again.output
    assert mtimes(out) == first and set(results_log(out).values()) == {1}
    # change one scenario: only it is solved again
    path.write_text(SCENARIOS.replace("budget.budget_gbp[year=2021]=5000", "budget.budget_gbp[year=2021]=15000"))
    changed = invoke("batch", path, "-o", out, "--quiet")
    assert changed.exit_code == 0, changed.output
    assert "7 already complete, 1 run this time" in changed.output
    assert results_log(out)["broke"] == 2 and sum(results_log(out).values()) == 9
    assert {k: v for k, v in mtimes(out).items() if k != "broke"} == {k: v for k, v in first.items() if k != "broke"}
    # a command-line override applies to every scenario: all are new cases
    everything = invoke("batch", path, "-o", out, "--quiet", "--set", "professions.weight[profession=p]=2")
    assert "0 already complete, 8 run this time" in everything.output
    summary = json.loads((out / "scenarios" / "baseline" / "summary.json").read_text())
    assert [o["source"] for o in summary["overrides"]] == ["command line"]


def test_a_failed_scenario_is_recorded_and_retried_while_the_others_complete(small, tmp_path):
    path = scenario_file(tmp_path, SCENARIOS + "  bad:\n    - professions.attrition_rate[profession=q]=1.5\n")
    out = tmp_path / "out"
    result = invoke("batch", path, "-o", out, "--quiet")
    assert result.exit_code == 1
    assert "failed: 1" in result.output
    row = pd.read_csv(out / "comparison.csv").set_index("scenario").loc["bad"]
    assert row.status == "failed"
    assert f"{path}, line 15: scenario 'bad': makes professions.csv row 3, column 'attrition_rate' invalid: must be <= 1" in row.reason
    assert not (out / "scenarios" / "bad").exists()
    assert (pd.read_csv(out / "comparison.csv").status != "failed").sum() == 8
    invoke("batch", path, "-o", out, "--quiet")
    assert results_log(out)["bad"] == 2 and results_log(out)["baseline"] == 1


def test_broken_scenario_files_and_outputs_are_refused_before_solving(small, tmp_path):
    path = scenario_file(tmp_path, "base: ds\nscenarios:\n  a:\n    - professions.attrition_rate[profession=nurse]=0.2\n")
    result = invoke("batch", path, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert f"{path}, line 4: scenario 'a': unknown profession 'nurse'" in result.output
    assert not (tmp_path / "out").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    result = invoke("batch", scenario_file(tmp_path), "-o", mine)
    assert result.exit_code == 1 and "is not a batch folder" in result.output
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]


def dies(case, case_fingerprint, options, base=None):
    """A task whose worker process dies on 'sweep...x1.5...0.05' once, and on 'baseline' always."""
    markers = Path(os.environ["OPTIMISER_TEST_MARKERS"])
    if case.name == "baseline":
        os._exit(9)
    if case.name == "sweep--budget_gbp=x1.5--attrition_rate=0.05" and not (markers / "died").exists():
        (markers / "died").write_text("once")
        os._exit(9)
    return run_case(case, case_fingerprint, options, base)


def test_a_dying_worker_is_replaced_and_its_case_retried(small, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMISER_TEST_MARKERS", str(tmp_path))
    _, base, cases = load_cases(scenario_file(tmp_path), base=None)
    out = tmp_path / "out"
    report = run_batch(cases, base, out, workers=2, quiet=True, task=dies)
    assert report.statuses["baseline"] == "failed"
    assert "died" in report.messages["baseline"] and "on 2 attempts on its own" in report.messages["baseline"]
    assert report.statuses["sweep--budget_gbp=x1.5--attrition_rate=0.05"] == "optimal"
    assert report.count("optimal") == 6 and report.count("infeasible") == 1
    assert len(pd.read_csv(out / "comparison.csv")) == 8


def test_dask_cluster_gives_the_same_table_as_local_processes(small, tmp_path):
    from distributed import LocalCluster

    path = scenario_file(tmp_path)
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert invoke("batch", path, "-o", local, "--workers", "2", "--quiet").exit_code == 3
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        result = invoke("batch", path, "-o", remote, "--scheduler", cluster.scheduler_address, "--quiet")
    assert result.exit_code == 3, result.output
    pd.testing.assert_frame_equal(pd.read_csv(local / "comparison.csv"), pd.read_csv(remote / "comparison.csv"))
    log = (remote / "batch_log.jsonl").read_text()
    assert '"engine": "dask tcp://127.0.0.1:' in log


# ----------------------------------------------- interrupted and killed, then resumed


def _batch_process(args: list, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "optimiser", "batch", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _wait_for_results(out: Path, count: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(list((out / "scenarios").glob("*/summary.json"))) < count:
        assert process.poll() is None, "the batch ended before it could be interrupted"
        assert time.monotonic() < deadline, "no results appeared"
        time.sleep(0.02)


ENGLAND_SWEEP = """\
scenarios:
  sweep:
    - target: budget.budget_gbp
      scale: {start: 0.9, stop: 1.3, step: 0.1}
    - target: professions.attrition_rate
      where: {profession: pwp}
      set: [0.1, 0.2, 0.3, 0.4]
  broke:
    description: half the budget cannot pay for the trainees already in training
    overrides:
      - budget.budget_gbp=*0.5
"""


def test_england_sweep_interrupted_and_resumed(tmp_path):
    """21 cases of the default dataset; Ctrl-C after a few; the rerun finishes only the rest."""
    path = scenario_file(tmp_path, ENGLAND_SWEEP)
    out = tmp_path / "out"
    process = _batch_process([path, "--base", ENGLAND, "-o", out, "--workers", "1", "--quiet"])
    _wait_for_results(out, 4, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert "Run the same command again" in stdout
    done_before = mtimes(out)
    assert set(done_before) <= set(results_log(out))  # every finished case is in the log
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 21 and (table.status == "pending").sum() == 21 - len(done_before)
    process = _batch_process([path, "--base", ENGLAND, "-o", out, "--workers", "2", "--quiet"])
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 3, stdout + stderr  # one infeasible on purpose
    assert f"21 scenario(s): {len(done_before)} already complete, {21 - len(done_before)} run this time" in stdout
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 21
    assert (table.status == "optimal").sum() == 20
    broke = table.set_index("scenario").loc["broke"]
    assert broke.status == "infeasible" and "national budget is GBP" in broke.reason
    assert set(results_log(out).values()) == {1}  # no scenario solved twice
    assert {k: v for k, v in mtimes(out).items() if k in done_before} == done_before
    assert not list((out / "scenarios").glob(".*")) and not list(out.glob(".tmp-*"))


def test_interrupted_pool_logs_every_case_its_workers_finished(small, tmp_path):
    """Workers write their own folders: after Ctrl-C the log still names each one written."""
    path = scenario_file(tmp_path, "base: ds\nscenarios:\n  many:\n    - target: budget.budget_gbp\n"
                                   "      scale: {start: 0.5, stop: 2.45, step: 0.05}\n")
    out = tmp_path / "out"
    process = _batch_process([path, "-o", out, "--workers", "3", "--quiet"])
    _wait_for_results(out, 5, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode in (0, 130), stdout + stderr
    assert set(mtimes(out)) <= set(results_log(out)), (stdout, stderr, (out / "batch_log.jsonl").read_text())
    assert max(results_log(out).values()) == 1


def test_killed_batch_leaves_no_half_result_and_resumes(small, tmp_path):
    """SIGKILL to the whole batch (driver and workers) mid-way: every folder is whole or absent."""
    path = scenario_file(tmp_path, "base: ds\nscenarios:\n  many:\n    - target: budget.budget_gbp\n"
                                   "      scale: {start: 0.5, stop: 2.45, step: 0.05}\n")
    out = tmp_path / "out"
    process = _batch_process([path, "-o", out, "--workers", "1", "--quiet"], start_new_session=True)
    _wait_for_results(out, 3, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    done_before = mtimes(out)
    for folder in (out / "scenarios").iterdir():
        if not folder.name.startswith("."):
            assert (folder / "summary.json").exists() and (folder / "scenario.json").exists()
    process = _batch_process([path, "-o", out, "--workers", "2", "--quiet"])
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stdout + stderr
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 40 and (table.status == "optimal").all()
    assert {k: v for k, v in mtimes(out).items() if k in done_before} == done_before
    assert max(results_log(out).values()) == 1
    assert not list((out / "scenarios").glob(".*")) and not list(out.glob(".tmp-*"))


# ------------------------------------------------------------- review fixes


def test_a_case_that_fails_leaves_no_out_of_date_result(small, tmp_path):
    """'cut' solved, then changed to an invalid value: its old folder goes, the comparison says failed."""
    from optimiser.batch import current_cases

    text = "base: ds\nscenarios:\n  baseline: {}\n  cut:\n    - budget.budget_gbp[year=2021]=*0.9\n"
    path = scenario_file(tmp_path, text)
    out = tmp_path / "out"
    assert invoke("batch", path, "-o", out, "--quiet").exit_code == 0
    assert set(current_cases(out)) == {"baseline", "cut"}
    path.write_text(text.replace("budget.budget_gbp[year=2021]=*0.9", "professions.attrition_rate[profession=q]=1.5"))
    result = invoke("batch", path, "-o", out, "--quiet")
    assert result.exit_code == 1, result.output
    row = pd.read_csv(out / "comparison.csv").set_index("scenario").loc["cut"]
    assert row.status == "failed" and pd.isna(row.weighted_shortfall) and pd.isna(row.results)
    assert not (out / "scenarios" / "cut").exists()
    assert current_cases(out) == {"baseline": out.resolve() / "scenarios" / "baseline"}
    assert not [p for p in (out / "scenarios").iterdir() if p.name.startswith(".")]


def test_rerun_of_a_failing_case_drops_its_old_row(small, tmp_path):
    _, base, cases = load_cases(scenario_file(tmp_path, "base: ds\nscenarios:\n  a: {}\n  b: {}\n"), base=None)
    out = tmp_path / "out"
    run_batch(cases, base, out, workers=1, quiet=True)
    assert (out / "scenarios" / "b" / "summary.json").exists()

    def fails_b(case, case_fingerprint, options, base=None):
        if case.name == "b":
            return {"name": "b", "status": "failed", "message": "solver error: boom", "seconds": 0}
        return run_case(case, case_fingerprint, options, base)

    report = run_batch(cases, base, out, workers=1, quiet=True, rerun=True, task=fails_b)
    assert report.statuses == {"a": "optimal", "b": "failed"}
    table = pd.read_csv(out / "comparison.csv").set_index("scenario")
    assert table.loc["b", "status"] == "failed" and table.loc["b", "reason"] == "solver error: boom"
    assert pd.isna(table.loc["b", "weighted_shortfall"]) and not (out / "scenarios" / "b").exists()


def test_an_unreadable_summary_is_not_a_complete_result(small, tmp_path):
    from optimiser.batch import current_cases, read_summary

    path = scenario_file(tmp_path, "base: ds\nscenarios:\n  a: {}\n  b: {}\n")
    out = tmp_path / "out"
    assert invoke("batch", path, "-o", out, "--quiet").exit_code == 0
    (out / "scenarios" / "b" / "summary.json").write_text("{ not json")
    assert read_summary(out / "scenarios" / "b") is None and set(current_cases(out)) == {"a"}
    result = invoke("batch", path, "-o", out, "--quiet")
    assert result.exit_code == 0 and "1 already complete, 1 run this time" in result.output
    assert read_summary(out / "scenarios" / "b")["status"] == "optimal"


def test_a_second_batch_on_the_same_folder_is_refused(small, tmp_path):
    """Another process holding ``OUT/.lock`` (a real second process: a lock is per process)
    keeps a batch and a frontier out, naming it; once it lets go, the batch runs."""
    import subprocess
    import sys

    path = scenario_file(tmp_path, "base: ds\nscenarios:\n  a: {}\n")
    out = tmp_path / "out"
    assert invoke("batch", path, "-o", out, "--quiet").exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from optimiser.batch import batch_lock\n"
         "with batch_lock(Path(sys.argv[1])):\n    print('held', flush=True); sys.stdin.read()", str(out.resolve())],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout.readline().strip() == "held"
        result = invoke("batch", path, "-o", out, "--quiet", "--rerun")
        frontier = invoke("frontier", tmp_path / "ds", "-o", out, "--quiet", "--steps", "2")
    finally:
        holder.communicate("")
    assert result.exit_code == 1 and f"another batch is writing into {out.resolve()}" in result.output
    assert f"(process {holder.pid})" in result.output
    assert frontier.exit_code == 1 and "another batch is writing into" in frontier.output
    assert invoke("batch", path, "-o", out, "--quiet", "--rerun").exit_code == 0  # released


def test_comparison_workbook_keeps_text_as_text(tmp_path):
    import io

    import openpyxl

    from optimiser.batch.comparison import _xlsx_bytes

    table = pd.DataFrame({"scenario": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "plain"],
                          "overrides": ["professions.name[profession=p]==HYPERLINK(\"x\")"] * 5,
                          "weighted_shortfall": [1.5, 2.0, None, 3.0, 4.0]})
    sheet = openpyxl.load_workbook(io.BytesIO(_xlsx_bytes(table)))["comparison"]
    cells = [row for row in sheet.iter_rows(min_row=2)]
    assert [c[0].value for c in cells] == list(table.scenario)
    assert all(c[0].data_type == "s" and c[1].data_type == "s" for c in cells)
    assert cells[0][2].value == 1.5 and cells[0][2].data_type == "n"


def test_a_worker_writes_its_case_whole_or_fails_it(small, tmp_path):
    """A local worker writes its case's folder itself (staged, then swapped in); when it cannot,
    the case fails with the reason and no bytes are sent back."""
    _, base, cases = load_cases(scenario_file(tmp_path, "base: ds\nscenarios:\n  a: {}\n"), base=None)
    folder = tmp_path / "results"
    folder.mkdir()
    written = run_case(cases[0], "fp", SolveOptions(), base, results_dir=folder)
    assert written["status"] == "optimal" and written["written"] and "files" not in written
    assert sorted(p.name for p in folder.iterdir()) == ["a"]
    assert json.loads((folder / "a" / "scenario.json").read_text())["fingerprint"] == "fp"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    failed = run_case(cases[0], "fp", SolveOptions(), base, results_dir=blocker)
    assert failed["status"] == "failed" and "could not write" in failed["message"] and "files" not in failed
    sent = run_case(cases[0], "fp", SolveOptions(), base)  # no folder (a Dask worker): the bytes
    assert sent["status"] == "optimal" and "summary.json" in sent["files"] and "scenario.json" in sent["files"]

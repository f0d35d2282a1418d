"""Workbook and HTML report on small datasets: text that looks like a formula stays text, names are
escaped, an infeasible dataset names the limit and the amount, a batch folder is compared."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from optimiser import pipeline
from optimiser.reports.folder import load, load_batch
from optimiser.reports.html import BATCH_SECTION_IDS, NO_PLAN_SECTION_IDS, write_html
from optimiser.reports.workbook import write_workbook
from tests import browser
from tests.helpers import profession, write_dataset

HOSTILE = ["=SUM(A1)", "-x", "+1", "@cmd"]


def small(tmp_path, name="ds", budget=30_000, professions=None, regions=None, **extra):
    professions = professions or [profession("p", duration_years=2, trainee_service_wte=0.3, attrition_rate=0.1,
                                             supervision_hours_per_trainee=1, supervisor_hours_per_wte=2)]
    regions = regions or [{"region": "r1", "name": "Region 1", "cost_multiplier": 1}]
    keys = [p["profession"] for p in professions]
    tables = dict(
        professions=professions, regions=regions,
        workforce=[{"profession": p, "region": r["region"], "stock_wte": 10} for p in keys for r in regions],
        demand=[{"profession": p, "region": r["region"], "year": 2022, "demand_wte": 40} for p in keys
                for r in regions],
        supervision=[{"trainee_profession": p, "supervisor_profession": p} for p in keys],
        budget=budget if isinstance(budget, list) else [{"year": 2021, "budget_gbp": budget},
                                                         {"year": 2022, "budget_gbp": budget}],
    )
    tables.update(extra)
    tables = {k: v for k, v in tables.items() if v is not None}
    return write_dataset(tmp_path / name, settings={"target_year": 2022}, **tables)


def xml_of(xlsx) -> str:
    with zipfile.ZipFile(xlsx) as archive:
        return "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("xl/worksheets/"))


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    professions = [profession(key, name=key) for key in HOSTILE[:2]]
    regions = [{"region": HOSTILE[2], "name": HOSTILE[3], "cost_multiplier": 1}]
    ds = small(tmp_path, professions=professions, regions=regions, supervision=None)
    out = tmp_path / "out"
    assert pipeline.run(ds, out).summary.has_plan
    xlsx = write_workbook(out, tmp_path / "r.xlsx")
    assert "<f>" not in xml_of(xlsx)  # no formula anywhere

    from openpyxl import load_workbook

    book = load_workbook(xlsx)
    plan = book["Plan"]
    header = [c.value for c in plan[1]]
    professions_seen = {plan.cell(row=r, column=header.index("Profession") + 1) for r in range(2, plan.max_row + 1)}
    assert {c.value for c in professions_seen} == set(HOSTILE[:2])
    assert all(c.data_type == "s" for c in professions_seen)
    region = plan.cell(row=2, column=header.index("Region") + 1)
    assert region.value == "+1" and region.data_type == "s"
    region_name = plan.cell(row=2, column=header.index("Region name") + 1)
    assert region_name.value == "@cmd" and region_name.data_type == "s"
    # The HTML report names them as written.
    html = write_html(out, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "=SUM(A1)" in html and "@cmd" in html


def test_names_are_escaped_in_html(tmp_path):
    ds = small(tmp_path, professions=[profession("p", name="<b>Bold</b> & co")], supervision=None)
    out = tmp_path / "out"
    pipeline.run(ds, out)
    html = write_html(out, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in html


def test_infeasible_dataset_gets_a_report_naming_the_limit_and_amount(tmp_path):
    """Ten trainees already in a two-year course at GBP 1,000 a year cost GBP 10,000 in 2021/22;
    the budget is GBP 8,000: GBP 2,000 short."""
    ds = small(tmp_path, budget=8000, professions=[profession("p", duration_years=2)], supervision=None,
               pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 10}])
    out = tmp_path / "out"
    assert pipeline.run(ds, out).summary.status == "infeasible"
    html_path = write_html(out, tmp_path / "r.html")
    html = html_path.read_text(encoding="utf-8")
    assert "The 2021/22 national budget is GBP 2,000 short" in html
    assert "National budget" in html and "GBP 2,000" in html
    for section in NO_PLAN_SECTION_IDS:
        assert f'id="{section}"' in html

    from openpyxl import load_workbook

    book = load_workbook(write_workbook(out, tmp_path / "r.xlsx"))
    assert book.sheetnames == ["Summary", "Conflicts", "Settings", "Overrides"]
    sheet = book["Conflicts"]
    header = [c.value for c in sheet[1]]
    row = {h: c.value for h, c in zip(header, sheet[2])}
    assert row["Limit"] == "National budget" and row["Year"] == 2021
    assert row["Amount"] == pytest.approx(2000) and row["Unit"] == "GBP"
    assert "GBP 2,000 short" in row["Description"]
    summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_row=2)}
    assert summary["Status"] == "infeasible" and summary["Limits to relax"] == 1
    assert "national budget is GBP 2,000 short" in summary["Conflict (1)"]

    page = browser.Page(browser.rendered_dom(html_path, tmp_path))
    assert list(page.sections) == list(NO_PLAN_SECTION_IDS)


@pytest.fixture
def batch(tmp_path):
    """A batch folder as ``optimiser batch`` lays it out, with a frontier."""
    root = tmp_path / "batch"
    cases = {"tight": 12_000, "base": 14_000, "generous": 16_000}
    rows = []
    for name, budget in cases.items():
        ds = small(tmp_path, name=f"ds_{name}", budget=budget)
        summary = pipeline.run(ds, root / "scenarios" / name).summary
        rows.append({"scenario": name, "status": summary.status, "total_shortfall_wte": summary.total_shortfall_wte,
                     "total_cost_gbp": summary.total_cost_gbp, "overrides": f"budget.budget_gbp=*{budget}",
                     "results": f"scenarios/{name}"})
    rows.append({"scenario": "=broken", "status": "failed", "total_shortfall_wte": None, "total_cost_gbp": None,
                 "overrides": "", "results": "scenarios/=broken"})
    pd.DataFrame(rows).to_csv(root / "comparison.csv", index=False)
    frontier = pd.DataFrame({"budget_gbp": [12_000, 14_000, 16_000],
                             "total_shortfall_wte": [r["total_shortfall_wte"] for r in rows[:3]]})
    frontier.to_csv(root / "frontier.csv", index=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot(frontier["budget_gbp"], frontier["total_shortfall_wte"])
    fig.savefig(root / "frontier.png")
    plt.close(fig)
    return root


def test_batch_report_ranks_scenarios_and_shows_the_frontier(batch, tmp_path):
    folder = load(batch)
    ranking = folder.ranking()
    assert list(ranking["scenario"]) == ["generous", "base", "tight", "=broken"]
    assert list(ranking["rank_by_shortfall"][:3]) == [1, 2, 3]
    assert list(ranking["rank_by_cost"][:3]) == [3, 2, 1]
    assert pd.isna(ranking["rank_by_shortfall"].iloc[3])

    from openpyxl import load_workbook

    book = load_workbook(write_workbook(batch, tmp_path / "b.xlsx"))
    assert book.sheetnames == ["Ranking", "Comparison", "Shortfall", "Shortfall by profession", "Plan", "Frontier",
                               "Settings", "Overrides"]
    sheet = book["Ranking"]
    assert [sheet.cell(row=r, column=1).value for r in range(2, 6)] == ["generous", "base", "tight", "=broken"]
    assert sheet.cell(row=5, column=1).data_type == "s"
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2" and len(ws.tables) == 1
    assert "<f>" not in xml_of(tmp_path / "b.xlsx")

    html_path = write_html(batch, tmp_path / "b.html")
    html = html_path.read_text(encoding="utf-8")
    from optimiser.reports.charts import png_file_uri

    assert png_file_uri(batch / "frontier.png") in html  # the frontier command's own picture
    assert "The smallest shortfall each level of budget can buy" in html
    page = browser.Page(browser.rendered_dom(html_path, tmp_path))
    assert list(page.sections) == list(BATCH_SECTION_IDS)
    assert set(page.charts) == {"scenarios", "frontier"}
    assert all(int(i["data-natural-width"]) > 100 for i in page.images)
    assert page.links == []


def test_a_supervision_frontier_is_captioned_as_such(batch, tmp_path):
    frontier = pd.read_csv(batch / "frontier.csv").rename(columns={"budget_gbp": "supervision_hours_per_week"})
    frontier.to_csv(batch / "frontier.csv", index=False)
    html = write_html(batch, tmp_path / "b.html").read_text(encoding="utf-8")
    assert "The smallest shortfall at each level of the region&#39;s supervision capacity" in html
    assert "spending" not in html and "budget can buy" not in html


def test_batch_without_frontier_or_folders(tmp_path):
    root = tmp_path / "batch"
    root.mkdir()
    pd.DataFrame([{"scenario": "a", "status": "pending"}]).to_csv(root / "comparison.csv", index=False)
    folder = load_batch(root)
    assert folder.scenarios == {} and list(folder.ranking()["scenario"]) == ["a"]
    html = write_html(folder, tmp_path / "b.html").read_text(encoding="utf-8")
    assert "No frontier in this folder" in html

    from openpyxl import load_workbook

    book = load_workbook(write_workbook(folder, tmp_path / "b.xlsx"))
    assert book.sheetnames == ["Ranking", "Comparison", "Settings", "Overrides"]
    ranking = book["Ranking"]
    header = [c.value for c in ranking[1]]
    row = dict(zip(header, [c.value for c in ranking[2]]))
    assert ranking.max_row == 2 and row["Scenario"] == "a" and row["Status"] == "pending"
    assert row["Rank by shortfall"] is None and row["Note"] == "not run yet"
    assert book["Comparison"]["A2"].value == "a"


def test_weighted_shortfall_and_regional_budgets_are_said_as_such(tmp_path):
    """Weight 2: shadow prices are weighted WTE, and the page and workbook say so; a regional cap
    gets its own table, sheet and sentence."""
    ds = small(tmp_path, professions=[profession("p", weight=2)], supervision=None,
               budget=[{"year": 2021, "region": "", "budget_gbp": 30_000}, {"year": 2022, "region": "", "budget_gbp": 30_000},
                       {"year": 2021, "region": "r1", "budget_gbp": 5_000},
                       {"year": 2022, "region": "r1", "budget_gbp": 6_000}])
    out = tmp_path / "out"
    assert pipeline.run(ds, out).summary.has_plan
    folder = load(out)
    assert folder.shortfall_units() == "weighted WTE"
    html = write_html(folder, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "GBP 1m more for Region 1 in 2022/23 closes" in html
    assert "weighted WTE of the 2022/23 shortfall" in html
    assert "Regional budgets" in html

    from openpyxl import load_workbook

    book = load_workbook(write_workbook(folder, tmp_path / "r.xlsx"))
    sheet = book["Regional budget"]
    header = [c.value for c in sheet[1]]
    rows = [{h: c.value for h, c in zip(header, r)} for r in sheet.iter_rows(min_row=2)]
    assert [r["Budget (GBP)"] for r in rows] == pytest.approx([5000, 6000])
    assert all(r["Used"] == pytest.approx(1, abs=1e-4) for r in rows)


def test_why_of_an_integer_dataset(tmp_path):
    from optimiser.loader import load_dataset
    from optimiser.whatif.why import compute_for_results

    ds = small(tmp_path, professions=[profession("p", cost_per_trainee_year_gbp=1500)], supervision=None)
    (ds / "settings.yaml").write_text("base_year: 2020\ntarget_year: 2022\ninteger_places: true\n")
    outcome = pipeline.run(ds, tmp_path / "out")
    assert outcome.summary.integer_places and outcome.summary.has_plan
    split = compute_for_results(load_dataset(ds), outcome.summary, outcome.results.workforce)
    assert sum(split.totals().values()) == pytest.approx(outcome.summary.total_shortfall_wte, abs=1e-6)

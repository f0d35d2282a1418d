"""Reports on a batch folder the real ``optimiser batch`` wrote: only current, optimal results are
ranked; a case whose latest run failed, or that left the scenario file, is not shown with the
figures of an older run; a plan stopped at its time limit is listed with its status, not ranked."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest
from click.testing import CliRunner

from optimiser.cli import main
from optimiser.errors import InputError
from optimiser.reports.folder import load_batch
from optimiser.reports.html import BATCH_SECTION_IDS
from tests import browser
from tests.helpers import profession, write_dataset

#: A one-year course capped by the budget (GBP 1,000 a trainee) and by 6 placements; demand 10 WTE.
#: baseline: budget 4,000 -> 4 trainees, 6 WTE open; cheaper (x0.8): 3.2 trainees, 6.8 WTE open;
#: more (x1.5): 6 trainees, 4 WTE open; dropped (x3): placements bind, 4 WTE open.
FIRST = """\
base: ds
scenarios:
  baseline: {}
  cheaper:
    - budget.budget_gbp=*0.8
  more:
    - budget.budget_gbp=*1.5
  dropped:
    - budget.budget_gbp=*3
"""
#: 'more' now makes the dataset invalid (its run fails, its folder keeps the first run's result);
#: 'dropped' has left the file (its folder stays on disk).
SECOND = """\
base: ds
scenarios:
  baseline: {}
  cheaper:
    - budget.budget_gbp=*0.8
  more:
    - professions.attrition_rate[profession=p]=1.5
"""


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    write_dataset(
        tmp / "ds", settings={"target_year": 2021},
        professions=[profession("p", name="Practitioners")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10}],
        budget=[{"year": 2021, "budget_gbp": 4000}],
        capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": 6, "intake_min": "",
                   "intake_max": ""}])
    spec = tmp / "whatif.yaml"
    out = tmp / "out"
    spec.write_text(FIRST, encoding="utf-8")
    first = invoke("batch", spec, "-o", out, "--workers", "1", "--quiet")
    assert first.exit_code == 0, first.output
    more = out / "scenarios" / "more"
    shutil.copytree(more, tmp / "more-first-run")
    spec.write_text(SECOND, encoding="utf-8")
    second = invoke("batch", spec, "-o", out, "--workers", "1", "--quiet")
    assert second.exit_code == 1, second.output  # 'more' failed
    # The first run's result of 'more' on disk, as a batch killed before it tidied up (or an older
    # optimiser) leaves it, and the folder of 'dropped': what a report must not show as current.
    shutil.rmtree(more, ignore_errors=True)
    shutil.copytree(tmp / "more-first-run", more)
    assert json.loads((more / "summary.json").read_text())["total_shortfall_wte"] == pytest.approx(4, abs=1e-4)
    assert (out / "scenarios" / "dropped" / "summary.json").exists()
    return out


class Tables(HTMLParser):
    """Each ``<table data-table=NAME>`` of a page as a list of rows of cell texts (header row first)."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("data-table"):
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_a_failed_or_dropped_case_is_not_ranked_with_an_older_result(batch, tmp_path):
    folder = load_batch(batch)
    assert list(folder.scenarios) == ["baseline", "cheaper"]  # current results only; 'dropped' is gone
    ranking = folder.ranking().set_index("scenario")
    assert list(ranking.index) == ["baseline", "cheaper", "more"]
    assert ranking.loc["baseline", "rank_by_shortfall"] == 1 and ranking.loc["cheaper", "rank_by_shortfall"] == 2
    more = ranking.loc["more"]
    assert more["status"] == "failed" and pd.isna(more["rank_by_shortfall"]) and pd.isna(more["rank_by_cost"])
    assert pd.isna(more["total_shortfall_wte"]) and pd.isna(more["total_cost_gbp"])
    assert "invalid" in more["note"]

    result = invoke("report", batch, "--all")
    assert result.exit_code == 0, result.output
    assert "dropped" not in result.output
    ranked = result.output.split("Ranked by shortfall", 1)[1].split("Ranked by cost", 1)[0]
    assert "baseline" in ranked and "cheaper" in ranked and "more" not in ranked
    assert "4.0 WTE" not in result.output  # the older run's figure
    assert "  more: failed" in result.output

    html = (batch / "report.html").read_text(encoding="utf-8")
    tables = Tables(html).tables
    assert [row[1] for row in tables["by-shortfall"][1:]] == ["baseline", "cheaper"]
    assert [row[1] for row in tables["by-cost"][1:]] == ["cheaper", "baseline"]
    assert [row[:4] for row in tables["not-ranked"][1:]] == [["more", "failed", "–", "–"]]
    assert "dropped" not in html
    assert "4.0" not in " ".join(" ".join(row) for t in tables.values() for row in t)

    from openpyxl import load_workbook

    book = load_workbook(batch / "report.xlsx")
    sheet = book["Ranking"]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"baseline", "cheaper", "more"}
    assert rows["more"]["Status"] == "failed" and rows["more"]["Rank by shortfall"] is None
    settings = book["Settings"]
    assert [r[0] for r in settings.iter_rows(min_row=2, values_only=True)] == ["baseline", "cheaper"]


def test_a_plan_stopped_at_its_time_limit_is_listed_but_not_ranked(batch, tmp_path):
    """'cheaper' as if its solve had stopped at the time limit with a better-looking plan."""
    copy = tmp_path / "copy"
    shutil.copytree(batch, copy)
    summary_path = copy / "scenarios" / "cheaper" / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary.update(status="time_limit", total_shortfall_wte=1.0, message="stopped at the time limit")
    summary_path.write_text(json.dumps(summary))
    comparison = pd.read_csv(copy / "comparison.csv")
    comparison.loc[comparison.scenario == "cheaper", ["status", "total_shortfall_wte"]] = ["time_limit", 1.0]
    comparison.to_csv(copy / "comparison.csv", index=False)

    ranking = load_batch(copy).ranking().set_index("scenario")
    assert ranking.loc["baseline", "rank_by_shortfall"] == 1 and ranking.loc["baseline", "rank_by_cost"] == 1
    assert ranking.loc["cheaper", "status"] == "time_limit"
    assert pd.isna(ranking.loc["cheaper", "rank_by_shortfall"]) and pd.isna(ranking.loc["cheaper", "rank_by_cost"])
    assert ranking.loc["cheaper", "total_shortfall_wte"] == pytest.approx(1.0)  # shown, with its status

    result = invoke("report", copy, "--html", tmp_path / "b.html")
    assert result.exit_code == 0, result.output
    ranked = result.output.split("Ranked by shortfall", 1)[1].split("Not ranked", 1)[0]
    assert "cheaper" not in ranked
    assert "  cheaper: time limit" in result.output and "not proven optimal" in result.output

    html_path = tmp_path / "b.html"
    html = html_path.read_text(encoding="utf-8")
    tables = Tables(html).tables
    assert [row[1] for row in tables["by-shortfall"][1:]] == ["baseline"]
    assert [row[:3] for row in tables["not-ranked"][1:]] == [["cheaper", "time limit", "1.0"],
                                                             ["more", "failed", "–"]]
    cards = html.split('id="overview"', 1)[1].split("</section>", 1)[0]
    assert "Smallest shortfall" in cards and "cheaper" not in cards and "baseline" in cards
    page = browser.Page(browser.rendered_dom(html_path, tmp_path))
    assert list(page.sections) == list(BATCH_SECTION_IDS)


def test_a_results_path_outside_the_batch_folder_is_refused(batch, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(batch, copy)
    comparison = pd.read_csv(copy / "comparison.csv")
    for where in ("../elsewhere", str(tmp_path / "elsewhere"), "scenarios/../../elsewhere"):
        shutil.copytree(batch / "scenarios" / "baseline", tmp_path / "elsewhere", dirs_exist_ok=True)
        comparison.loc[comparison.scenario == "baseline", "results"] = where
        comparison.to_csv(copy / "comparison.csv", index=False)
        with pytest.raises(InputError, match="outside the batch folder"):
            load_batch(copy)
        result = invoke("report", copy)
        assert result.exit_code == 2 and "outside the batch folder" in result.output

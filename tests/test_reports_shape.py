"""Reports in the user's shape: a what-if is named (not 'Scenario: none') in its page and workbook,
and a large batch is summarised (its spread, a heat map of the sweep, its ends), not drawn case by case."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from click.testing import CliRunner

from optimiser.cli import main
from optimiser.reports import sweep
from tests import browser
from tests.helpers import profession, write_dataset

SET = "budget.budget_gbp[year=2022]=*0.9"
#: A batch page is at most this tall (CSS px at 1280 px wide), however many cases it has.
BATCH_PAGE_MAX_PX = 9000
#: 7 budget scales x 7 attrition rates: more cases than a batch page draws one by one.
SWEEP = """\
base: ds
scenarios:
  grid:
    - target: budget.budget_gbp
      scale: {start: 0.7, stop: 1.3, step: 0.1}
    - target: professions.attrition_rate
      set: {start: 0.05, stop: 0.35, step: 0.05}
"""
SWEEP_CASES = 49


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def _summary_scenario(xlsx) -> str:
    from openpyxl import load_workbook

    rows = {r[0].value: r[1].value for r in load_workbook(xlsx)["Summary"].iter_rows(min_row=2)}
    return rows["Scenario"]


def test_a_set_only_what_if_is_named_by_its_overrides(dataset, tmp_path):
    out = tmp_path / "what-if"
    assert invoke("run", dataset, "-o", out, "--set", SET).exit_code == 0
    result = invoke("report", out, "--xlsx", tmp_path / "w.xlsx", "--html", tmp_path / "w.html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "w.html").read_text(encoding="utf-8")
    assert f"what-if: {SET}" in _title(html)
    assert f"what-if: {SET}" in html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "none (the dataset as given)" not in html
    assert _summary_scenario(tmp_path / "w.xlsx") == f"what-if: {SET}"


def test_a_named_scenario_is_named_and_the_dataset_as_given_says_so(dataset, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("scenarios:\n  leaner:\n    - budget.budget_gbp=*0.8\n", encoding="utf-8")
    named = tmp_path / "named"
    assert invoke("run", dataset, "-o", named, "--scenario", spec, "--name", "leaner").exit_code == 0
    assert invoke("report", named, "--xlsx", tmp_path / "n.xlsx", "--html", tmp_path / "n.html").exit_code == 0
    html = (tmp_path / "n.html").read_text(encoding="utf-8")
    assert "leaner" in _title(html) and "scenario leaner" in html
    assert _summary_scenario(tmp_path / "n.xlsx") == "leaner"

    plain = tmp_path / "plain"
    assert invoke("run", dataset, "-o", plain).exit_code == 0
    assert invoke("report", plain, "--xlsx", tmp_path / "p.xlsx", "--html", tmp_path / "p.html").exit_code == 0
    html = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "what-if" not in _title(html) and "none (the dataset as given)" in html
    assert _summary_scenario(tmp_path / "p.xlsx") == "none (the dataset as given)"


def test_sweep_names_are_read_as_a_grid():
    names = [f"s--budget_gbp=x{b}--rate={r}" for b in ("0.9", "1.1", "1") for r in ("0.2", "0.1")]
    found = sweep.sweep_of(names)
    assert found.labels == ("budget_gbp", "rate")
    assert found.values == {"budget_gbp": ["x0.9", "x1", "x1.1"], "rate": ["0.1", "0.2"]}
    assert sweep.sweep_of(["a", "b--x=1"]) is None  # not one sweep
    assert sweep.sweep_of(["s--x=1", "t--x=1"]) is None  # two cases at one point


@pytest.fixture(scope="module")
def large_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    write_dataset(
        tmp / "ds", settings={"target_year": 2022},
        professions=[profession("p", duration_years=1, attrition_rate=0.1)],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 50}],
        demand=[{"profession": "p", "region": "r1", "year": 2022, "demand_wte": 80}],
        budget=[{"year": 2021, "budget_gbp": 20_000}, {"year": 2022, "budget_gbp": 30_000}])
    spec = tmp / "sweep.yaml"
    spec.write_text(SWEEP, encoding="utf-8")
    out = tmp / "out"
    result = invoke("batch", spec, "-o", out, "--workers", "1", "--quiet")
    assert result.exit_code == 0, result.output
    result = invoke("report", out, "--all")
    assert result.exit_code == 0, result.output
    return out


def test_a_large_batch_is_summarised_with_a_heat_map_not_a_bar_per_case(large_batch, tmp_path):
    html = (large_batch / "report.html").read_text(encoding="utf-8")
    assert SWEEP_CASES > sweep.CASES_DRAWN_MAX
    assert html.count('data-chart="scenarios"') == 1 and "over the sweep" in html
    assert 'data-table="spread"' in html and 'data-table="best"' in html and 'data-table="worst"' in html
    assert 'data-table="scenarios"' not in html  # no row per case on the page
    assert "They sweep budget_gbp, attrition_rate" in html
    seen = browser.measure(large_batch / "report.html", tmp_path, 1280)
    assert seen["scrollHeight"] <= BATCH_PAGE_MAX_PX, seen["scrollHeight"]
    (picture,) = [i for i in seen["images"] if "sweep" in i["alt"]]
    assert picture["natural"] > 300 and picture["width"] > 600  # drawn, and at a readable size
    phone = browser.measure(large_batch / "report.html", tmp_path, 390)
    assert phone["scrollWidth"] <= 390 and all(t["caption"] for t in phone["tables"])

    from openpyxl import load_workbook

    ranking = load_workbook(large_batch / "report.xlsx")["Ranking"]
    assert ranking.max_row - 1 == SWEEP_CASES  # the workbook still lists every case



def _png_size(uri: str) -> tuple[int, int]:
    import base64
    import io

    from PIL import Image

    assert uri.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        return image.size


def _ranking(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"scenario": names, "status": "optimal",
                         "total_shortfall_wte": [float(i % 17) for i in range(len(names))],
                         "total_cost_gbp": [1e6 + 1e4 * i for i in range(len(names))]})


def test_a_large_batch_that_is_not_a_sweep_gets_one_scatter_of_fixed_size():
    from optimiser.reports import charts

    few, many = _ranking([f"case {i}" for i in range(50)]), _ranking([f"case {i}" for i in range(400)])
    assert sweep.sweep_of(list(many["scenario"])) is None
    assert _png_size(charts.batch_scatter(few)) == _png_size(charts.batch_scatter(many))  # not one bar a case


def test_a_sweep_of_three_columns_is_small_multiples_and_of_too_many_panels_none():
    from optimiser.reports import charts

    names = [f"s--a={a}--b={b}--c={c}" for a in range(5) for b in range(4) for c in range(3)]
    found = sweep.sweep_of(names)
    assert found.labels == ("a", "b", "c")
    three = _png_size(charts.sweep_chart(_ranking(names), found))
    flat = [n for n in names if n.endswith("--c=0")]
    one = _png_size(charts.sweep_chart(_ranking(flat), sweep.sweep_of(flat)))
    assert three[1] > 1.5 * one[1]  # three panels (one per value of c) take two lines; one panel line
    crowded = [f"s--a={a}--b={b}--c={c}" for a in range(3) for b in range(3) for c in range(sweep.MAX_PANELS + 1)]
    assert charts.sweep_chart(_ranking(crowded), sweep.sweep_of(crowded)) is None

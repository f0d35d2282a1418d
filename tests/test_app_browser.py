"""The what-if page as a person uses it: ``optimiser app`` on a free local port, headless
Chromium driven by Playwright, every solve by the real CBC. Figures are compared with what
``optimiser run`` prints for the same dataset and ``--set`` override.

Shiny, Playwright or Chromium missing: skipped locally, FAILED under CI (``tests/app_browser.py``).
"""

from __future__ import annotations

import json
import time

import openpyxl
import pytest
from click.testing import CliRunner

from optimiser.app import changes
from optimiser.cli import main
from optimiser.reports.text import wte
from tests.app_browser import (Offline, app_server, apply_budget_share, chromium_browser, figure, wait_changed,
                               wait_ready)

ENGLAND = "inputs/england"
BUDGET_YEAR, BUDGET_GBP_M = 2021, 250  # moves England's 2023/24 shortfall (tests/test_app.py)
VIEWPORT = {"width": 1400, "height": 1600}
SESSION_END_SECONDS = 2


@pytest.fixture(scope="module")
def server():
    """The app's address; afterwards, nothing it printed may be a traceback (sessions ended included)."""
    with app_server(ENGLAND) as served:
        yield served.url
        time.sleep(SESSION_END_SECONDS)  # the last sessions' on_ended callbacks
        assert served.tracebacks() == [], "".join(served.output)


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as found:
        yield found


@pytest.fixture
def page(browser, server):
    """A fresh browser context (its own session) whose requests may go to the app only."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    offline = Offline(context, server)
    opened = context.new_page()
    opened.errors = []
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    opened.goto(server)
    wait_ready(opened)
    yield opened
    context.close()
    assert offline.refused == [], f"the page asked the network for {offline.refused}"


def cli(tmp_path, *sets: str) -> dict:
    out = tmp_path / f"cli{len(list(tmp_path.iterdir()))}"
    done = CliRunner().invoke(main, ["run", ENGLAND, "-o", str(out), "--solver", "highs",  # the page's solver
                                     *[a for s in sets for a in ("--set", s)]])
    assert done.exit_code == 0, done.output
    return json.loads((out / "summary.json").read_text())


def test_the_page_loads_offline_with_the_command_lines_headline(page, tmp_path):
    given = cli(tmp_path)
    assert figure(page, "shortfall") == wte(given["total_shortfall_wte"])
    assert figure(page, "qualified") == wte(given["qualified_shortfall_wte"])
    assert figure(page, "overrides").startswith("None")
    assert page.locator("svg[aria-label^='Places to commission']").count() == 1
    assert page.get_by_test_id("limits").inner_text().count("\n") >= 1
    assert page.errors == []


def test_a_budget_change_moves_the_shortfall_to_the_command_lines_figure(page, tmp_path):
    text = changes.budget_gbp_m(BUDGET_YEAR, BUDGET_GBP_M)
    given, whatif = cli(tmp_path), cli(tmp_path, text)
    assert wte(whatif["total_shortfall_wte"]) != wte(given["total_shortfall_wte"])
    before = figure(page, "shortfall")
    page.select_option("#budget_year", str(BUDGET_YEAR))
    page.wait_for_function("() => document.querySelector('#budget_amount').value === '316'")
    page.fill("#budget_amount", str(BUDGET_GBP_M))
    page.click("#apply_budget")
    assert wait_changed(page, "shortfall", before) == wte(whatif["total_shortfall_wte"])
    wait_ready(page)
    assert figure(page, "qualified") == wte(whatif["qualified_shortfall_wte"])
    change = whatif["total_shortfall_wte"] - given["total_shortfall_wte"]
    assert figure(page, "shortfall-delta") == f"vs as given: {change:+,.1f}"
    assert text in figure(page, "overrides")
    with page.expect_download() as download:
        page.click("#download_xlsx")
    saved = tmp_path / "whatif.xlsx"
    download.value.save_as(saved)
    cells = [str(v) for ws in openpyxl.load_workbook(saved, read_only=True).worksheets
             for row in ws.iter_rows(values_only=True) for v in row if v]
    assert any(text in c for c in cells)
    assert page.errors == []


def test_a_bad_upload_shows_its_located_message_not_a_traceback(page, tmp_path):
    book = tmp_path / "england.xlsx"
    assert CliRunner().invoke(main, ["workbook", ENGLAND, "-o", str(book)]).exit_code == 0
    wb = openpyxl.load_workbook(book)
    sheet = wb["professions"]
    sheet.cell(row=3, column=[c.value for c in sheet[1]].index("attrition_rate") + 1, value="lots")
    wb.save(book)
    before = figure(page, "shortfall")
    page.set_input_files("#workbook", str(book))
    message = page.get_by_test_id("upload-problems")
    message.wait_for(timeout=60_000)
    shown = message.inner_text()
    assert "england.xlsx" in shown and "row 3" in shown and "attrition_rate" in shown, shown
    assert "Traceback" not in page.inner_text("body")
    assert figure(page, "shortfall") == before and figure(page, "dataset") == "england"


def test_two_sessions_never_see_each_others_what_ifs(browser, server, page):
    other_context = browser.new_context(viewport=VIEWPORT)
    other = other_context.new_page()
    other.goto(server)
    wait_ready(other)
    given = figure(other, "shortfall")
    before = figure(page, "overrides")
    apply_budget_share(page, "2021", 80)
    wait_changed(page, "overrides", before)
    wait_ready(page)
    assert "year=2021]=*0.8" in figure(page, "overrides")
    assert figure(other, "overrides").startswith("None") and figure(other, "shortfall") == given
    text = changes.attrition("pwp", 12)
    other.fill("#free_text", text)
    other.click("#apply_free")
    wait_changed(other, "overrides", figure(other, "overrides"))
    assert text in figure(other, "overrides") and "budget" not in figure(other, "overrides")
    assert "attrition" not in figure(page, "overrides")
    other_context.close()


def test_a_refused_change_is_shown_located_and_a_running_solve_can_be_cancelled(page):
    before_shortfall, before_overrides = figure(page, "shortfall"), figure(page, "overrides")
    page.fill("#free_text", "budget.budget_gbp[year=2022]=-5")
    page.click("#apply_free")
    refused = page.get_by_test_id("change-problems")
    refused.wait_for(timeout=120_000)
    assert "command line (--set)" in refused.inner_text() and "budget_gbp" in refused.inner_text()
    wait_ready(page)
    assert figure(page, "overrides") == before_overrides and figure(page, "shortfall") == before_shortfall
    page.fill("#free_text", "no such thing")
    page.click("#apply_free")
    page.wait_for_function("() => document.querySelector('[data-testid=change-problems]')"
                           ".innerText.includes('no such thing')", timeout=30_000)
    apply_budget_share(page, "2023", 90)
    page.get_by_test_id("progress").wait_for(timeout=30_000)
    page.click("#cancel")
    page.wait_for_selector("[data-testid=ready][data-state=cancelled]", timeout=30_000)
    assert figure(page, "overrides") == before_overrides and figure(page, "shortfall") == before_shortfall
    assert "Traceback" not in page.inner_text("body")

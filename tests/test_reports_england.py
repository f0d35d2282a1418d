"""The reports of the default England dataset: the HTML page as Chromium renders it, the workbook
as openpyxl reads it, and the shortfall split adding up to the shortfall."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from optimiser import pipeline
from optimiser.loader import load_dataset
from optimiser.output import csv_bytes
from optimiser.reports import budget_frontier
from optimiser.reports.folder import load_result
from optimiser.reports.html import SECTION_IDS, write_html
from optimiser.whatif.why import compute_for_results
from optimiser.reports.workbook import GBP, WTE, write_workbook
from tests import browser

ENGLAND = Path(__file__).resolve().parents[1] / "inputs" / "england"
#: Every chart of a report with a plan and a split, by its figure's data-chart name.
CHARTS = {"budget_frontier", "intake", "shortfall_profession", "shortfall_region", "supply_demand", "budget",
          "supervision", "why", "why_region"}


@pytest.fixture(scope="module")
def england(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("england")
    out = tmp / "out"
    dataset = load_dataset(ENGLAND)
    outcome = pipeline.run(dataset, out)
    assert outcome.summary.has_plan, outcome.summary.message
    split = compute_for_results(dataset, outcome.summary, outcome.results.workforce)
    split.save(out)
    frontier = budget_frontier.compute(dataset)
    (out / budget_frontier.FRONTIER_CSV).write_bytes(csv_bytes(frontier))
    result = load_result(out, dataset=dataset)
    html = write_html(result, tmp / "report.html")
    xlsx = write_workbook(result, tmp / "report.xlsx")
    return SimpleNamespace(tmp=tmp, out=out, dataset=dataset, outcome=outcome, split=split, result=result,
                           html=html, xlsx=xlsx, frontier=frontier)


def test_budget_frontier_re_solves_with_more_and_less_money(england):
    """The unscaled point is the plain run; more money never raises either stage's optimum; a cut
    of 15 % cannot pay for the trainees committed (pipeline, floors), and says so."""
    frontier = england.frontier.set_index("scale")
    summary = england.outcome.summary
    assert list(frontier.index) == list(budget_frontier.SCALES)
    assert frontier.loc[1.0, "weighted_shortfall"] == pytest.approx(summary.weighted_shortfall, rel=1e-6)
    assert frontier.loc[1.0, "sustain_shortfall"] == pytest.approx(summary.sustain_shortfall, rel=1e-6)
    solved = frontier[frontier.status == "optimal"]
    assert len(solved) >= 6 and 1.0 in solved.index
    for key in ("weighted_shortfall", "sustain_shortfall"):
        values = list(solved[key])
        assert all(b <= a * (1 + 1e-6) + 1e-6 for a, b in zip(values, values[1:])), key
    assert (frontier.qualified_shortfall_wte.dropna() >= frontier.total_shortfall_wte.dropna() - 1e-6).all()


# ------------------------------------------------------------------- the split


def test_split_adds_up_to_the_total_shortfall(england):
    split, summary = england.split, england.outcome.summary
    assert split.total_wte == pytest.approx(summary.total_shortfall_wte, abs=1e-6)
    # Per profession: the parts add up to workforce.csv's target-year shortfall of that profession.
    workforce = pd.read_csv(england.out / "workforce.csv")
    target = workforce[workforce["year"] == summary.target_year].groupby("profession")["shortfall_wte"].sum()
    by = split.by("profession").set_index("profession")
    assert set(by.index) == set(target.index)
    for profession, row in by.iterrows():
        assert row["total_wte"] == pytest.approx(target[profession], abs=1e-6)
    saved = json.loads((england.out / "why.json").read_text())
    assert saved["total_wte"] == pytest.approx(summary.total_shortfall_wte, abs=1e-6)
    assert saved["totals"] == pytest.approx(split.totals())


# -------------------------------------------------------------------- the page


def test_html_is_self_contained(england):
    html = england.html.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert html.count('src="data:image/png;base64,') == len(CHARTS)
    for section in SECTION_IDS:
        assert f'id="{section}"' in html


def test_html_in_headless_chromium_shows_every_section_and_chart(england):
    png = browser.screenshot(england.html, england.tmp / "report.png", england.tmp)
    from PIL import Image

    with Image.open(png) as shot:
        assert shot.size == (1280, 4000)
        rgb = shot.convert("RGB")
        assert rgb.getpixel((640, 10)) == (0, 94, 184)  # the masthead, NHS blue
        colours = rgb.resize((128, 400)).getcolors(maxcolors=1_000_000)
        assert len(colours) > 200  # charts and text, not a blank page

    page = browser.Page(browser.rendered_dom(england.html, england.tmp))
    assert list(page.sections) == list(SECTION_IDS)
    for section, seen in page.sections.items():
        assert seen["title"], f"section {section} has no heading"
        assert seen["height"] > 80, f"section {section} is not rendered"
    assert set(page.charts) == CHARTS
    assert len(page.images) == len(CHARTS)
    for image in page.images:
        assert image["src"].startswith("data:image/png;base64,")
        assert int(image["data-natural-width"]) > 300, image["alt"]  # decoded by the browser
        assert int(image["data-rendered-width"]) > 200, image["alt"]
    expected = {"budget-frontier": 1, "plan": 1, "shortfall": 2, "supply-demand": 1, "budget": 1, "supervision": 1,
                "why": 2}
    for section, count in expected.items():
        assert page.sections[section]["images"] == count, section
    assert page.links == []  # nothing to fetch: readable offline


def test_html_says_what_to_buy_what_stays_open_and_why(england):
    html = england.html.read_text(encoding="utf-8")
    target = "2023/24"
    assert f"WTE stays open in {target}" in html
    assert f"of the {target} shortfall" in html
    # side by side: the gap counting trainees in posts and of qualified staff, and the budget frontier
    assert f"{target} shortfall, qualified staff" in html and "counting trainees who fill posts" in html
    assert 'id="budget-frontier"' in html and "x0.85" in html and "x1.50" in html
    assert "One more supervision hour a week from" in html
    assert "Shapley value" in html
    assert "Clinical psychologists" in html  # names from the dataset, not keys


# ---------------------------------------------------------------- the workbook


def test_workbook_sheets_formats_and_typed_cells(england):
    from openpyxl import load_workbook

    book = load_workbook(england.xlsx)
    expected = ["Summary", "Plan", "Workforce", "Shortfall", "Levers", "Levers by year", "Budget frontier", "Why",
                "Why by profession", "Why by cell", "Limits", "Budget", "Supervision use", "Supervision", "Settings",
                "Overrides"]
    assert book.sheetnames == expected
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert len(sheet.tables) == 1, sheet.title
        (table,) = sheet.tables.values()
        assert table.ref == f"A1:{sheet.cell(row=1, column=sheet.max_column).column_letter}{sheet.max_row}"
        for cell in sheet[1]:
            assert cell.font.b and isinstance(cell.value, str)
        widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
        assert all(8 <= w <= 90 for w in widths), sheet.title

    plan = book["Plan"]
    header = [c.value for c in plan[1]]
    row = {h: c for h, c in zip(header, plan[2])}
    assert row["Intake (places)"].data_type == "n" and row["Intake (places)"].number_format == WTE
    assert row["Cost (GBP)"].data_type == "n" and row["Cost (GBP)"].number_format == GBP
    assert isinstance(row["Year"].value, int) and row["Profession"].data_type == "s"
    assert plan.max_row - 1 == len(pd.read_csv(england.out / "plan.csv"))

    workforce = book["Workforce"]
    header = [c.value for c in workforce[1]]
    col = header.index("Shortfall (WTE)") + 1
    values = [workforce.cell(row=r, column=col).value for r in range(2, workforce.max_row + 1)]
    assert all(isinstance(v, (int, float)) for v in values)

    summary = {r[0].value: r[1] for r in book["Summary"].iter_rows(min_row=2)}
    shortfall = summary["Shortfall in 2023/24 (WTE)"]
    assert shortfall.value == pytest.approx(england.outcome.summary.total_shortfall_wte)
    assert shortfall.number_format == WTE
    assert summary["Cost of trainees (GBP)"].number_format == GBP

    limits = book["Limits"]
    header = [c.value for c in limits[1]]
    price = limits.cell(row=2, column=header.index("Shadow price") + 1)
    assert price.data_type == "n" and price.value > 0
    sentence = limits.cell(row=2, column=header.index("What one more unit is worth") + 1).value
    assert "WTE of the 2023/24 shortfall" in sentence
    frontier = book["Budget frontier"]
    header = [c.value for c in frontier[1]]
    assert header[:3] == ["Budget scale", "Budget, all years (GBP)", "Status"]
    assert frontier.max_row - 1 == len(budget_frontier.SCALES)

    why = {r[0].value: r[1].value for r in book["Why"].iter_rows(min_row=2)}
    assert why["Total"] == pytest.approx(england.outcome.summary.total_shortfall_wte, abs=1e-6)
    assert sum(v for k, v in why.items() if k != "Total") == pytest.approx(why["Total"], abs=1e-6)

    settings = {r[0].value: r[1].value for r in book["Settings"].iter_rows(min_row=2)}
    assert settings["target_year"] == 2023 and settings["solver"] == "cbc"


def test_charts_are_real_pictures(england):
    from PIL import Image

    html = england.html.read_text(encoding="utf-8")
    for chunk in html.split('src="data:image/png;base64,')[1:]:
        data = base64.b64decode(chunk.split('"', 1)[0])
        with Image.open(io.BytesIO(data)) as picture:
            assert picture.format == "PNG" and picture.width > 500 and picture.height > 200


# ------------------------------------------------------------ any screen, and paper

#: A phone's screen (CSS px) and the printable width of A4 with the page's 10 mm side margins (190 mm at 96 px an inch).
PHONE_WIDTH_PX = 390
A4_PRINTABLE_WIDTH_PX = 718
#: A chart on a phone fills the screen but for the page's and its card's margins (at most this many px).
PHONE_CHART_MARGIN_PX = 60
#: WCAG 2 AA: the least contrast ratio for text.
WCAG_AA_TEXT = 4.5


def test_html_on_a_phone_fits_the_screen_with_charts_as_wide_as_it(england):
    seen = browser.measure(england.html, england.tmp, PHONE_WIDTH_PX)
    assert seen["clientWidth"] == PHONE_WIDTH_PX
    assert seen["scrollWidth"] <= PHONE_WIDTH_PX, "the page scrolls sideways on a phone"
    assert len(seen["images"]) == len(CHARTS)
    for image in seen["images"]:
        assert image["natural"] > 300, image["alt"]  # a picture the browser decoded
        assert image["width"] >= PHONE_WIDTH_PX - PHONE_CHART_MARGIN_PX, image
    # a table wider than the screen scrolls inside its own box, and says what it is
    assert seen["tables"] and all(t["wrapped"] and t["caption"] for t in seen["tables"]), seen["tables"]
    assert any(t["overflows"] for t in seen["tables"])  # the wide ones do scroll (in their box)


def test_html_text_contrast_is_wcag_aa_on_screen_and_phone(england):
    for width in (1280, PHONE_WIDTH_PX):
        seen = browser.measure(england.html, england.tmp, width)
        assert seen["checked"] > 300  # every text of the page, not a few
        assert seen["contrast"] == [], seen["contrast"]
        assert seen["opacity"] == [], "translucent text: " + ", ".join(seen["opacity"][:5])


def test_html_prints_whole_the_why_table_with_its_total_column(england):
    seen = browser.measure(england.html, england.tmp, A4_PRINTABLE_WIDTH_PX, print_rules=True)
    assert seen["scrollWidth"] <= A4_PRINTABLE_WIDTH_PX
    for table in seen["tables"]:
        assert not table["overflows"] and table["right"] <= A4_PRINTABLE_WIDTH_PX, table
    (why,) = [t for t in seen["tables"] if t["name"] == "why"]
    assert why["lastHeader"] == "Shortfall" and why["lastRight"] <= A4_PRINTABLE_WIDTH_PX

    import pypdf

    pdf = browser.print_to_pdf(england.html, england.tmp / "report.pdf", england.tmp)
    reader = pypdf.PdfReader(str(pdf))
    assert len(reader.pages) >= 2
    words = "\n".join(page.extract_text() for page in reader.pages)
    table = words.split("split into its reasons (WTE)", 1)[1]
    header = table.split("Clinical psychologists", 1)[0]
    assert "Shortfall" in header  # the total column's heading is on the paper
    from optimiser.reports.text import wte

    totals = next(line for line in table.splitlines() if line.startswith("All professions"))
    assert totals.endswith(wte(england.split.total_wte)), totals  # and so is its total


def test_badge_and_text_colours_of_the_stylesheet_pass_wcag_aa():
    """The contrast of the colour pairs the stylesheet declares, computed from its CSS."""
    import re

    css = (Path(__file__).resolve().parents[1] / "optimiser" / "reports" / "templates" / "base.html.j2").read_text()
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9A-Fa-f]{6})", css))

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def ratio(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    assert ratio("#000000", "#FFFFFF") == pytest.approx(21)
    white = "#FFFFFF"
    pairs = {"badge optimal": (white, colours["ok-badge"]), "badge infeasible": (white, colours["bad-badge"]),
             "masthead": (white, colours["blue"]), "muted text": (colours["muted"], colours["pale"]),
             "links": (colours["blue"], white), "body text": (colours["ink"], colours["pale"]),
             "gaps": (colours["red"], white)}
    warn = re.search(r"\.badge\.warn\s*\{[^}]*background:\s*(#\w{6});\s*color:\s*(#\w{6})", css)
    pairs["badge not optimal"] = (warn.group(2), warn.group(1))
    for name, (fg, bg) in pairs.items():
        assert ratio(fg, bg) >= WCAG_AA_TEXT, f"{name}: {fg} on {bg} is {ratio(fg, bg):.2f}:1"


def test_workbook_prints_one_page_wide_and_shows_every_sentence(england):
    from openpyxl import load_workbook

    from optimiser.sheetlayout import wrapped_lines

    book = load_workbook(england.xlsx)
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert int(sheet.page_setup.fitToWidth) == 1 and int(sheet.page_setup.fitToHeight) == 0, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title
    summary = book["Summary"]
    width = summary.column_dimensions["B"].width
    long = [c for c in summary["B"][1:] if isinstance(c.value, str) and len(c.value) > width]
    assert long, "the summary has sentences longer than their column"
    for cell in long:
        assert cell.alignment.wrap_text, cell.value
        height = summary.row_dimensions[cell.row].height
        assert height and height >= 14 * wrapped_lines(cell.value, width), (cell.row, height)

"""The what-if page's layers without a browser (real CBC in every solve): the engine gives the
command line's figures and recorded overrides for the same ``--set``, the forms make valid
overrides, the supervision ranking by re-solve, uploads, downloads and the upload cap.
The page itself, in Chromium, is ``tests/test_app_browser.py``."""

from __future__ import annotations

import asyncio
import json
import re

import openpyxl
import pytest
from click.testing import CliRunner
from pytest import approx

from optimiser.app import answer, bottleneck, changes, downloads, upload
from optimiser.app.engine import Engine
from optimiser.app.limits import TOO_LARGE, BodyCap
from optimiser.cli import main
from optimiser.errors import InputError
from tests.helpers import profession, write_dataset

ENGLAND = "inputs/england"
#: A budget change that moves England's 2023/24 shortfall (2021/22's national budget, GBP m).
MOVING_BUDGET_GBP_M = 250
#: The later stages keep the shortfall within 1e-6 relative and absolute of its optimum.
TOLERANCE_WTE = 1e-4


def two_regions(tmp_path):
    """Trainees t need 2 h a week each, from supervisors s (1 h a week a WTE); demand 10 in each
    region. r1 has 10 WTE of s (5 trainees, gap 5), r2 16 (8 trainees, gap 2): 10 more hours per WTE
    percent... +10 % hours removes 0.5 WTE in r1 and 0.8 in r2."""
    regions = [{"region": r, "name": f"Region {r[-1]}", "cost_multiplier": 1} for r in ("r1", "r2")]
    return write_dataset(
        tmp_path / "two", regions=regions, settings={"supervision_time_counts": False},
        professions=[profession("t", supervision_hours_per_trainee=2), profession("s", supervisor_hours_per_wte=1)],
        workforce=[{"profession": "t", "region": r, "stock_wte": 0} for r in ("r1", "r2")]
        + [{"profession": "s", "region": "r1", "stock_wte": 10}, {"profession": "s", "region": "r2", "stock_wte": 16}],
        demand=[{"profession": p, "region": r, "year": 2021, "demand_wte": 10} for p in ("t", "s") for r in ("r1", "r2")],
        budget=[{"year": 2021, "budget_gbp": 1e9}],
        supervision=[{"trainee_profession": "t", "supervisor_profession": "s"}])


def cli_summary(tmp_path, *sets: str, solver: str = "highs") -> dict:
    """``optimiser run ENGLAND --set ...`` with the page's solver (HiGHS) unless told otherwise."""
    out = tmp_path / f"cli{len(list(tmp_path.iterdir()))}"
    args = ["run", ENGLAND, "-o", str(out), "--solver", solver] + [a for s in sets for a in ("--set", s)]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    return json.loads((out / "summary.json").read_text())


def test_engine_gives_the_command_lines_figures_and_overrides_for_the_same_set(tmp_path):
    """England: the dataset as given, then a budget change re-solved in place, equal to
    ``optimiser run --solver highs --set`` figure for figure (the page's solver), with the
    same recorded overrides; the target shortfall (a stage optimum) equals CBC's too."""
    engine = Engine.for_dataset(ENGLAND)
    assert engine.options.solver == "highs"
    given = engine.solve(())
    text = changes.budget_gbp_m(2021, MOVING_BUDGET_GBP_M)
    whatif = engine.solve((text,))
    assert whatif.how == "in place"
    cli_given, cli_whatif = cli_summary(tmp_path), cli_summary(tmp_path, text)
    for ours, theirs in ((given.summary, cli_given), (whatif.summary, cli_whatif)):
        for key in ("total_shortfall_wte", "qualified_shortfall_wte", "total_cost_gbp", "sustain_shortfall"):
            assert getattr(ours, key) == approx(theirs[key], rel=1e-9, abs=1e-6), key
    assert whatif.summary.model_dump(mode="json")["overrides"] == cli_whatif["overrides"]
    assert cli_whatif["total_shortfall_wte"] > cli_given["total_shortfall_wte"] + answer.SAME_WTE  # it moves
    cbc = cli_summary(tmp_path, text, solver="cbc")
    assert whatif.summary.total_shortfall_wte == approx(cbc["total_shortfall_wte"], abs=TOLERANCE_WTE * 100)
    shortfall, qualified = answer.difference(given, whatif)[:2]
    assert shortfall.what.startswith("2023/24 shortfall, trainees in posts")
    assert qualified.change_value == approx(cli_whatif["qualified_shortfall_wte"] - cli_given["qualified_shortfall_wte"])
    assert shortfall.change_value == approx(cli_whatif["total_shortfall_wte"] - cli_given["total_shortfall_wte"])
    assert shortfall.change.startswith("+")
    engine.close()


def test_every_form_makes_an_override_the_command_line_accepts(tmp_path):
    engine = Engine.for_dataset(ENGLAND)
    texts = [changes.budget_gbp_m(2022, 321.5), changes.budget_share(2023, 95),
             changes.supervisor_hours("london", "clinical_psychologist", 10),
             changes.supervisor_hours("london", changes.ALL, -5), changes.attrition("pwp", 12.5),
             changes.placements("pwp", changes.ALL, 20), changes.placements(changes.ALL, "midlands", -10),
             changes.target_year(2024), *changes.LEVER_OFF.values()]
    resolved = engine.overrides(texts)
    assert [o.text for o in resolved][:1] == ["budget.budget_gbp[region=,year=2022]=321500000"]
    assert resolved[1].op == "scale" and resolved[1].value == approx(0.95)
    assert dict(resolved[3].where) == {"region": ("london",)}  # every supervising profession: no filter
    with pytest.raises(InputError) as bad:
        engine.overrides([changes.placements("nobody", changes.ALL, 10)])
    assert "command line (--set)" in str(bad.value) and "unknown profession 'nobody'" in str(bad.value)
    with pytest.raises(InputError) as refused:  # a value the dataset refuses: located as the CLI locates it
        engine.solve((changes.budget_gbp_m(2022, -5),))
    assert "budget" in str(refused.value) and "budget_gbp" in str(refused.value)
    engine.close()


def test_a_second_change_of_the_same_values_replaces_the_first():
    engine = Engine.for_dataset(ENGLAND)
    resolve = lambda text: engine.overrides([text])[0]  # noqa: E731
    whatif = changes.WhatIf()
    for text in (changes.budget_share(2022, 90), changes.attrition("pwp", 10), changes.budget_gbp_m(2022, 300)):
        whatif = whatif.with_change(text, resolve(text))
    assert whatif.texts == (changes.attrition("pwp", 10), changes.budget_gbp_m(2022, 300))
    whatif = whatif.levers_off({"recruitment"}, resolve)
    assert whatif.texts[-1] == changes.LEVER_OFF["recruitment"]
    assert changes.LEVER_OFF["recruitment"] not in whatif.levers_off(set(), resolve).texts
    assert whatif.without_last().texts == whatif.texts[:-1]
    engine.overrides(whatif.texts)  # one layer, no clash
    assert changes.levers_in(engine.base) == ["routes", "retention", "recruitment"]


def test_supervision_bottleneck_ranked_by_resolve_and_by_price(tmp_path):
    engine = Engine.for_dataset(two_regions(tmp_path))
    assert changes.levers_in(engine.base) == []  # no lever tables: the page offers none
    given = engine.solve(())
    assert given.summary.total_shortfall_wte == approx(7, abs=TOLERANCE_WTE)
    seen = []
    ranked = bottleneck.by_resolve(engine, (), given.summary.total_shortfall_wte,
                                   progress=lambda done, of: seen.append((done, of)))
    assert ranked == [("r2", approx(0.8, abs=TOLERANCE_WTE)), ("r1", approx(0.5, abs=TOLERANCE_WTE))]
    assert seen[-1] == (2, 2)
    assert answer.supervision_by_price(given) == [("Region 1", approx(0.5)), ("Region 2", approx(0.5))]
    assert bottleneck.by_resolve(engine, (), 7.0, stopped=lambda: True) == []
    engine.close()


def test_an_upload_is_checked_before_it_is_read_and_its_problems_are_located(tmp_path):
    with pytest.raises(InputError, match="is not an Excel workbook"):
        upload.check("data.csv", 10)
    with pytest.raises(InputError, match="workbooks up to"):
        upload.check("big.xlsx", upload.MAX_WORKBOOK_BYTES + 1)
    assert upload.plain_name("../../etc/pass wd.xlsx") == "pass_wd.xlsx"
    book = tmp_path / "england.xlsx"
    assert CliRunner().invoke(main, ["workbook", ENGLAND, "-o", str(book)]).exit_code == 0
    wb = openpyxl.load_workbook(book)
    sheet = wb["professions"]
    column = [c.value for c in sheet[1]].index("attrition_rate") + 1
    sheet.cell(row=3, column=column, value="lots")
    wb.save(book)
    received = upload.receive("My England.xlsx", book.stat().st_size, book, tmp_path / "session")
    assert received == tmp_path / "session" / "My_England.xlsx"
    with pytest.raises(InputError) as problems:
        Engine.for_dataset(received).dataset  # noqa: B018
    lines = upload.messages(problems.value)
    assert any("row 3" in line and "attrition_rate" in line and "My_England.xlsx" in line for line in lines), lines
    assert not any("Traceback" in line for line in lines)


def test_downloads_are_the_reports_with_the_overrides_in_them(tmp_path):
    engine = Engine.for_dataset(ENGLAND)
    text = changes.budget_share(2022, 90)
    solved = engine.solve((text,))
    xlsx = downloads.write(solved, downloads.WORKBOOK, tmp_path)
    html = downloads.write(solved, downloads.HTML, tmp_path)
    book = openpyxl.load_workbook(xlsx, read_only=True)
    cells = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    assert any("budget.budget_gbp[region=,year=2022]=*0.9" in c for c in cells)
    assert "budget.budget_gbp[region=,year=2022]=*0.9" in html.read_text(encoding="utf-8")
    engine.close()


def _asgi(app, headers, body: bytes) -> int:
    sent, chunks = [], [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": "http", "method": "POST", "path": "/upload", "headers": headers}, receive, send))
    return sent[0]["status"]


def test_request_bodies_above_the_cap_are_refused_before_the_app_stores_them():
    reached = []

    async def inner(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    cap = BodyCap(inner, 10)
    huge = str(cap.max_bytes + 1).encode()
    assert _asgi(cap, [(b"content-length", huge)], b"") == TOO_LARGE  # announced too large
    assert _asgi(cap, [], b"x" * (cap.max_bytes + 1)) == TOO_LARGE  # sent too large, not announced
    assert reached == []
    assert _asgi(cap, [], b"small") == 200 and reached == ["/upload"]


def test_the_places_chart_is_inline_svg_with_a_bar_per_profession_and_year():
    import pandas as pd

    from optimiser.app.chart import places_svg

    table = pd.DataFrame({"2021/22": [10.0, 0.0], "2022/23": [5.0, 7.5]}, index=["a", "b<&>"])
    svg = places_svg(table, lambda p: p.upper())
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<title>") == 3  # the zero cell draws no bar
    assert "B&lt;&amp;&gt;" in svg and "<script" not in svg
    assert [u for u in re.findall(r"https?://[^\"']+", svg)] == ["http://www.w3.org/2000/svg"]
    assert places_svg(pd.DataFrame(), str).startswith("<p>")

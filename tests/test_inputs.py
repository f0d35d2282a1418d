"""Malformed inputs: each case gives one clear message naming the file (or sheet), row and
column, exit status 2, no traceback, and nothing written to the output folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from optimiser.cli import main
from optimiser.errors import InputError
from optimiser.loader import load_dataset
from tests.helpers import profession, write_dataset

PROF_HEADER = ("profession,name,duration_years,completion_rate,joining_rate,attrition_rate,"
               "cost_per_trainee_year_gbp,supervision_hours_per_trainee,supervisor_hours_per_wte,"
               "trainee_service_wte,weight,max_growth")


@pytest.fixture
def base(tmp_path) -> Path:
    """A small valid dataset using every table."""
    return write_dataset(
        tmp_path / "ds", settings={"target_year": 2022},
        regions=[{"region": "r1", "name": "One", "cost_multiplier": 1}, {"region": "r2", "name": "Two", "cost_multiplier": 1.2}],
        professions=[profession("p", duration_years=2, supervision_hours_per_trainee=1),
                     profession("q", supervisor_hours_per_wte=2)],
        workforce=[{"profession": k, "region": r, "stock_wte": 10} for k in ("p", "q") for r in ("r1", "r2")],
        demand=[{"profession": k, "region": r, "year": 2022, "demand_wte": 20} for k in ("p", "q") for r in ("r1", "r2")],
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 2}],
        capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": 30, "intake_min": "", "intake_max": ""}],
        supervision=[{"trainee_profession": "p", "supervisor_profession": "q"}],
        recruitment_sources=[{"trainee_profession": "p", "source_profession": "q", "share": 0.2}],
        budget=[{"year": 2021, "region": "", "budget_gbp": 1e6}, {"year": 2022, "region": "r1", "budget_gbp": 5e5}],
        inflows=[{"profession": "q", "region": "r2", "year": 2022, "inflow_wte": 1.5}],
    )


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# (id, mutation(folder), expected fragments of the message)
CASES = [
    ("missing required table", lambda d: (d / "demand.csv").unlink(), ["demand.csv", "required table is missing"]),
    ("missing settings", lambda d: (d / "settings.yaml").unlink(), ["settings.yaml", "required settings file is missing"]),
    ("missing column", lambda d: replace(d / "workforce.csv", "stock_wte", "stock"),
     ["workforce.csv, row 1, column 'stock_wte'", "required column is missing"]),
    ("extra column", lambda d: replace(d / "regions.csv", "cost_multiplier", "cost_multiplier,notes"),
     ["regions.csv, row 1, column 'notes'", "unknown column"]),
    ("column twice", lambda d: replace(d / "regions.csv", "region,name", "region,name,name"),
     ["regions.csv, row 1, column 'name'", "column appears twice"]),
    ("wrong type", lambda d: replace(d / "workforce.csv", "p,r1,10", "p,r1,ten"),
     ["workforce.csv, row 2, column 'stock_wte'", "expected a number", "'ten'"]),
    ("blank required value", lambda d: replace(d / "workforce.csv", "p,r1,10", "p,r1,"),
     ["workforce.csv, row 2, column 'stock_wte'", "a value is required"]),
    ("nan", lambda d: replace(d / "workforce.csv", "p,r1,10", "p,r1,nan"),
     ["workforce.csv, row 2, column 'stock_wte'", "finite number"]),
    ("infinity", lambda d: replace(d / "demand.csv", "p,r1,2022,20", "p,r1,2022,inf"),
     ["demand.csv, row 2, column 'demand_wte'", "finite number"]),
    ("negative", lambda d: replace(d / "workforce.csv", "p,r1,10", "p,r1,-3"),
     ["workforce.csv, row 2, column 'stock_wte'", "must be >= 0"]),
    ("rate above 1", lambda d: replace(d / "professions.csv", "p,p,2,1,1,0", "p,p,2,1.2,1,0"),
     ["professions.csv, row 2, column 'completion_rate'", "must be <= 1"]),
    ("duration 0", lambda d: replace(d / "professions.csv", "p,p,2,", "p,p,0,"),
     ["professions.csv, row 2, column 'duration_years'", "must be >= 1"]),
    ("fractional duration", lambda d: replace(d / "professions.csv", "p,p,2,", "p,p,1.5,"),
     ["professions.csv, row 2, column 'duration_years'", "whole number"]),
    ("duplicate key", lambda d: append(d / "workforce.csv", "p,r1,5\n"),
     ["workforce.csv, row 6, column 'profession, region'", "duplicate key; the same key is on row 2"]),
    ("unknown profession", lambda d: append(d / "workforce.csv", "z,r1,5\n"),
     ["workforce.csv, row 6, column 'profession'", "unknown profession", "'z'"]),
    ("unknown region", lambda d: append(d / "demand.csv", "p,r9,2022,5\n"),
     ["demand.csv, row 6, column 'region'", "unknown region", "'r9'"]),
    ("unknown year", lambda d: append(d / "demand.csv", "p,r1,2030,5\n"),
     ["demand.csv, row 6, column 'year'", "expected a decision year (2021/22..2022/23)"]),
    ("not a year", lambda d: append(d / "demand.csv", "p,r1,next year,5\n"),
     ["demand.csv, row 6, column 'year'", "expected a year such as 2023 or 2023/24"]),
    ("bad financial year", lambda d: append(d / "demand.csv", "p,r1,2021/23,5\n"),
     ["demand.csv, row 6, column 'year'", "not a financial year"]),
    ("pipeline after base year", lambda d: append(d / "pipeline.csv", "q,r1,2021,3\n"),
     ["pipeline.csv, row 3, column 'start_year'", "in or before the base year 2020/21"]),
    ("unknown supervisor", lambda d: append(d / "supervision.csv", "p,zz\n"),
     ["supervision.csv, row 3, column 'supervisor_profession'", "unknown profession"]),
    ("shares above 1", lambda d: append(d / "recruitment_sources.csv", "p,p,0.9\n"),
     ["recruitment_sources.csv, row 3, column 'share'", "sum to 1.1", "must sum to <= 1"]),
    ("unknown budget region", lambda d: append(d / "budget.csv", "2022,r7,5\n"),
     ["budget.csv, row 4, column 'region'", "unknown region"]),
    ("intake min above max", lambda d: append(d / "capacity.csv", "q,r2,2022,,5,3\n"),
     ["capacity.csv, row 3", "intake_min 5 is above intake_max 3"]),
    ("empty file", lambda d: (d / "regions.csv").write_text(""), ["regions.csv", "the file is empty"]),
    ("too many cells", lambda d: append(d / "regions.csv", "r3,Three,1,oops\n"),
     ["regions.csv, row 4", "more cells than the 3 columns"]),
    ("not utf-8", lambda d: (d / "regions.csv").write_bytes(b"region,name,cost_multiplier\nr1,Caf\xe9,1\n"),
     ["regions.csv", "is not UTF-8 text"]),
    ("settings not yaml", lambda d: (d / "settings.yaml").write_text("base_year: 2020\ntarget_year: [2022\n"),
     ["settings.yaml", "is not valid YAML"]),
    ("settings not a mapping", lambda d: (d / "settings.yaml").write_text("- 2020\n- 2022\n"),
     ["settings.yaml", "expected key: value lines"]),
    ("unknown setting", lambda d: append(d / "settings.yaml", "colour: red\n"),
     ["settings.yaml, line 3, key 'colour'", "Extra inputs are not permitted"]),
    ("assessed year outside", lambda d: append(d / "settings.yaml", "assessed_years: [2025]\n"),
     ["settings.yaml", "assessed year 2025 is not a decision year"]),
    ("target before base", lambda d: replace(d / "settings.yaml", "target_year: 2022", "target_year: 2019"),
     ["settings.yaml", "target_year 2019 must be after base_year 2020"]),
    ("unknown solver", lambda d: append(d / "settings.yaml", "solver: gurobi\n"),
     ["settings.yaml, line 3, key 'solver'", "expected one of 'cbc' or 'highs'"]),
]


@pytest.mark.parametrize("mutate, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named(base, tmp_path, mutate, fragments):
    mutate(base)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(base), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output
    assert not out.exists()


def test_the_base_dataset_is_valid(base, solve):
    assert solve(base).status == "optimal"


def test_all_problems_reported_at_once(base):
    replace(base / "workforce.csv", "p,r1,10", "p,r1,-1")
    append(base / "demand.csv", "p,r9,2022,5\n")
    replace(base / "regions.csv", "cost_multiplier", "cost_multiplier,notes")
    with pytest.raises(InputError) as info:
        load_dataset(base)
    columns = {p.column for p in info.value.problems}
    assert {"stock_wte", "notes"} <= columns


def test_years_as_labels_and_numbers_agree(base, solve, tmp_path):
    first = solve(base).summary
    replace(base / "demand.csv", "p,r1,2022,20", "p,r1,2022/23,20")
    replace(base / "pipeline.csv", "p,r1,2020,2", "p,r1,2020/21,2")
    second = solve(base).summary
    assert first["weighted_shortfall"] == pytest.approx(second["weighted_shortfall"])


def test_byte_order_mark_is_accepted(base, solve):
    path = base / "regions.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert solve(base).status == "optimal"


def test_optional_tables_may_be_absent(base, solve):
    for name in ("pipeline", "capacity", "supervision", "recruitment_sources", "inflows"):
        (base / f"{name}.csv").unlink()
    assert solve(base).status == "optimal"


def test_missing_folder(tmp_path):
    result = CliRunner().invoke(main, ["run", str(tmp_path / "nowhere"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no such file or folder" in result.output


def test_workbook_round_trip_and_sheet_errors(base, tmp_path, solve):
    book = tmp_path / "ds.xlsx"
    result = CliRunner().invoke(main, ["workbook", str(base), "-o", str(book)])
    assert result.exit_code == 0, result.output
    from_csv, from_book = solve(base).summary, solve(book).summary
    assert from_book["status"] == "optimal"
    assert from_book["weighted_shortfall"] == pytest.approx(from_csv["weighted_shortfall"])
    assert from_book["total_cost_gbp"] == pytest.approx(from_csv["total_cost_gbp"])

    from openpyxl import load_workbook

    wb = load_workbook(book)
    wb["demand"].title = "demands"
    wb["workforce"]["C2"] = -5
    wb.save(book)
    result = CliRunner().invoke(main, ["run", str(book), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "ds.xlsx [sheet demand]: required sheet is missing" in result.output
    assert "ds.xlsx [sheet demands]: unknown sheet" in result.output


def test_workbook_cell_errors_name_sheet_row_column(base, tmp_path):
    book = tmp_path / "ds.xlsx"
    CliRunner().invoke(main, ["workbook", str(base), "-o", str(book)])
    from openpyxl import load_workbook

    wb = load_workbook(book)
    wb["workforce"]["C3"] = -5
    wb.save(book)
    result = CliRunner().invoke(main, ["run", str(book), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "ds.xlsx [sheet workforce], row 3, column 'stock_wte': must be >= 0" in result.output

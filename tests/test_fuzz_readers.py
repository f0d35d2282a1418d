"""Fuzz the CSV reader, the workbook reader and the override parser (hypothesis).

For any input: either a validated dataset, or an ``InputError`` whose every
problem names a file (or the command line), within a time bound; never any
other exception.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.inputs import Dataset
from optimiser.errors import InputError
from optimiser.loader import load_dataset
from tests.helpers import profession, write_dataset

FUZZ = settings(max_examples=150, deadline=3000, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def base_folder():
    root = Path(tempfile.mkdtemp(prefix="fuzz-"))
    folder = write_dataset(
        root / "ds", settings={"target_year": 2022},
        professions=[profession("p", duration_years=2, trainee_service_wte=0.3, attrition_rate=0.1)],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 50}],
        demand=[{"profession": "p", "region": "r1", "year": 2022, "demand_wte": 80}],
        budget=[{"year": 2021, "budget_gbp": 20_000}, {"year": 2022, "budget_gbp": 30_000}])
    yield folder
    shutil.rmtree(root, ignore_errors=True)


def outcome(load) -> None:
    """Call ``load``: a ``Dataset``, or an ``InputError`` with located problems; nothing else."""
    try:
        result = load()
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file and problem.message, problem
            str(problem)
        return
    assert isinstance(result, Dataset)


CSV_ALPHABET = st.sampled_from(list('pr1,;"\n\r\t 0123456789.-eE/\u2013\ufeffxyz_') + ["profession", "region",
                                                                                      "year", "demand_wte", "2022",
                                                                                      "p,r1,2022,80\n", "nan", "inf",
                                                                                      "1e308", "-0", '""'])
CSV_TEXT = st.lists(CSV_ALPHABET, max_size=60).map("".join)
HEADER = "profession,region,year,demand_wte\n"


@FUZZ
@given(body=CSV_TEXT, header=st.booleans(), raw=st.binary(max_size=40), encoding=st.sampled_from(
    ["utf-8", "utf-16", "cp1252", "latin-1", "raw"]))
def test_csv_reader(base_folder, body, header, raw, encoding):
    work = Path(tempfile.mkdtemp(prefix="fuzz-csv-"))
    try:
        folder = work / "ds"
        shutil.copytree(base_folder, folder)
        text = (HEADER if header else "") + body
        if encoding == "raw":
            data = text.encode("utf-8", "replace") + raw
        else:
            data = text.encode(encoding, "replace")
        (folder / "demand.csv").write_bytes(data)
        outcome(lambda: load_dataset(folder))
    finally:
        shutil.rmtree(work, ignore_errors=True)


CELL = st.one_of(
    st.none(), st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.sampled_from(["p", "r1", "2022", "2021/22", "2022\u201323", "=1+1", " ", "demand_wte", "year",
                     "profession", "region"]),
    st.datetimes(min_value=datetime.datetime(1900, 3, 1), max_value=datetime.datetime(2200, 1, 1)),
)
GRID = st.lists(st.lists(CELL, max_size=6), max_size=6)


@pytest.fixture(scope="module")
def base_book(base_folder):
    from click.testing import CliRunner

    from optimiser.cli import main

    book = base_folder.parent / "book.xlsx"
    assert CliRunner().invoke(main, ["workbook", str(base_folder), "-o", str(book)]).exit_code == 0
    return book


@settings(max_examples=60, deadline=5000, suppress_health_check=list(HealthCheck), derandomize=True)
@given(grid=GRID, settings_rows=st.lists(st.tuples(CELL, CELL), max_size=3), keep_header=st.booleans(),
       sheet=st.sampled_from(["demand", "Demand", "demand ", "budget", "extra", "settings"]))
def test_workbook_reader(base_book, grid, settings_rows, keep_header, sheet):
    from openpyxl import load_workbook

    work = Path(tempfile.mkdtemp(prefix="fuzz-book-"))
    try:
        book = work / "book.xlsx"
        wb = load_workbook(base_book)
        if sheet in wb.sheetnames and sheet != "settings":
            ws = wb[sheet]
            if not keep_header:
                ws.delete_rows(1, ws.max_row)
        else:
            ws = wb[sheet] if sheet in wb.sheetnames else wb.create_sheet(sheet)
        for row in grid:
            ws.append(row)
        for key, value in settings_rows:
            wb["settings"].append([key, value])
        try:
            wb.save(book)
        except (ValueError, TypeError):  # openpyxl cannot write this cell: nothing to read
            return
        outcome(lambda: load_dataset(book))
    finally:
        shutil.rmtree(work, ignore_errors=True)


OVERRIDE_PARTS = st.sampled_from([
    "professions", "budget", "demand", "settings", ".", "weight", "budget_gbp", "demand_wte", "base_year",
    "[", "]", "=", "*", "+", "-", "|", ",", "year", "region", "profession", "p", "r1", "2022", "2021/22",
    "1e308", "-1e308", "nan", "inf", "0.5", "[[[", "]]]", "&a", "*a", "!!python/object", "{", "}", ":", " ",
    "'", '"', "\n", "2022\u201323", "duration_years", "1000000000", "horizon_end", "2200", "target_year",
])
OVERRIDE = st.lists(OVERRIDE_PARTS, max_size=14).map("".join)


@pytest.fixture(scope="module")
def prepared(base_folder):
    from optimiser.scenarios import prepare_base

    return prepare_base(base_folder)


@FUZZ
@given(texts=st.lists(st.one_of(OVERRIDE, st.text(max_size=30)), min_size=1, max_size=3))
def test_override_parser(prepared, texts):
    from optimiser.loader import validate_raw
    from optimiser.scenarios import apply_overrides, cli_overrides, explain_input_error

    def load():
        overrides = cli_overrides(texts, prepared)
        applied = apply_overrides(prepared, tuple(overrides))
        try:
            return validate_raw(applied.raw)
        except InputError as exc:
            raise explain_input_error(exc, applied, None) from None

    outcome(load)


YAML_PARTS = st.sampled_from([
    "base_year: 2020\n", "target_year: 2022\n", "horizon_end: ", "assessed_years: ", "year_weights: ",
    "solver: ", "time_limit_seconds: ", "integer_places: ", "mip_gap: ", "2021", "2022/23", "[", "]", "{", "}",
    ": ", ", ", "\n", "  ", "- ", "&a ", "*a ", "!!python/name:os.system ", "1e308", "-1", "true", "cbc", "~",
    "'", '"', "#", "\t", "2022\u201323", "1.0e+20", "---\n", "...\n", "? ", "|\n", "base_year: 2021\n",
])
YAML_TEXT = st.lists(YAML_PARTS, max_size=25).map("".join)


@FUZZ
@given(text=YAML_TEXT)
def test_settings_reader(base_folder, text):
    work = Path(tempfile.mkdtemp(prefix="fuzz-yaml-"))
    try:
        folder = work / "ds"
        shutil.copytree(base_folder, folder)
        (folder / "settings.yaml").write_text(text, encoding="utf-8")
        outcome(lambda: load_dataset(folder))
    finally:
        shutil.rmtree(work, ignore_errors=True)


SCENARIO_PARTS = st.sampled_from([
    "scenarios:\n", "  s:\n", "  t: {}\n", "    - ", "budget.budget_gbp=*0.9\n", "professions.weight=2\n",
    "target: budget.budget_gbp\n", "      scale: {start: 0.5, stop: 1.5, step: 0.5}\n", "      set: [1, 2]\n",
    "    settings:\n", "      target_year: 2023\n", "    overrides:\n", "      - ", "where: {year: 2021}\n",
    "[", "]", "{", "}", ": ", "\n", "  ", "&a ", "*a ", "1e308", "nan", "-", "step: 0\n", "label: x\n",
])
SCENARIO_TEXT = st.lists(SCENARIO_PARTS, max_size=25).map("".join)


@FUZZ
@given(text=SCENARIO_TEXT)
def test_scenario_file_reader(prepared, text):
    from optimiser.scenarios import expand, load_scenario_file

    work = Path(tempfile.mkdtemp(prefix="fuzz-scenario-"))
    try:
        path = work / "s.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            cases = expand(load_scenario_file(path), prepared)
        except InputError as exc:
            assert exc.problems and all(p.file and p.message for p in exc.problems)
            return
        assert isinstance(cases, list)
    finally:
        shutil.rmtree(work, ignore_errors=True)

"""The dataset workbook (``optimiser workbook``) as an analyst opens it: formats by unit, fitted
widths, frozen filtered headers, drop-downs, each table's sources on a notes sheet, a print
set-up; and read back by ``optimiser run`` it is the same dataset."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from models.inputs import TABLES
from optimiser.cli import main
from optimiser.loader import load_dataset
from optimiser.workbook import (DATASET_FORMATS, GBP, NOTES_SHEET, SHARE, WTE, YEAR, PROFESSION_COLUMNS,
                                REGION_COLUMNS)

ENGLAND = Path(__file__).resolve().parents[1] / "inputs" / "england"
#: Columns that hold text (keys, names, kinds): no number format.
TEXT_COLUMNS = {"profession", "region", "name", "service_basis", "route", "trainee_profession",
                "supervisor_profession", "source_profession"}


@pytest.fixture
def base(tmp_path) -> Path:
    """The England dataset without its SOURCES.md."""
    folder = tmp_path / "ds"
    shutil.copytree(ENGLAND, folder, ignore=shutil.ignore_patterns("SOURCES.md", "scenarios"))
    return folder


@pytest.fixture(scope="module")
def book_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "england.xlsx"
    result = CliRunner().invoke(main, ["workbook", str(ENGLAND), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def book(book_path):
    from openpyxl import load_workbook

    return load_workbook(book_path)


def _column(sheet, name: str) -> int:
    return [c.value for c in sheet[1]].index(name) + 1


def test_the_workbook_reads_back_as_the_same_dataset(book_path):
    from_csv, from_book = load_dataset(ENGLAND), load_dataset(book_path)
    for field in type(from_csv).model_fields:
        if field != "source":
            assert getattr(from_book, field) == getattr(from_csv, field), field


def test_every_numeric_column_has_a_format_by_its_unit():
    for name, spec in TABLES.items():
        for column in spec.columns:
            assert column in TEXT_COLUMNS or column in DATASET_FORMATS, f"{name}.{column} has no number format"
    assert DATASET_FORMATS["stock_wte"] == WTE == "#,##0.0"
    assert DATASET_FORMATS["budget_gbp"] == GBP and "," in GBP
    assert DATASET_FORMATS["year"] == YEAR and DATASET_FORMATS["completion_rate"] == SHARE


def test_cells_carry_the_format_of_their_unit(book):
    checks = {("workforce", "stock_wte"): WTE, ("budget", "budget_gbp"): GBP, ("demand", "year"): YEAR,
              ("professions", "completion_rate"): SHARE, ("pipeline", "start_year"): YEAR}
    for (sheet_name, column), wanted in checks.items():
        sheet = book[sheet_name]
        col = _column(sheet, column)
        values = [sheet.cell(row=r, column=col) for r in range(2, sheet.max_row + 1)]
        numbers = [c for c in values if isinstance(c.value, (int, float))]
        assert numbers, (sheet_name, column)
        assert {c.number_format for c in numbers} == {wanted}, (sheet_name, column)
    # a year is a whole number, not 2,023.0
    assert isinstance(book["demand"].cell(row=2, column=_column(book["demand"], "year")).value, int)


def test_headers_are_frozen_filtered_and_never_cut(book):
    for name in (*[n for n in TABLES if n in book.sheetnames], "settings"):
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        if name != "settings":
            assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), name
        for cell in sheet[1]:
            width = sheet.column_dimensions[cell.column_letter].width
            assert width >= len(str(cell.value)), f"{name}.{cell.value} is cut to {width} characters"
    sheet = book["professions"]
    names = [sheet.cell(row=r, column=_column(sheet, "name")).value for r in range(2, sheet.max_row + 1)]
    assert sheet.column_dimensions["B"].width >= max(len(n) for n in names)


def test_profession_region_and_year_columns_have_drop_downs(book):
    sheet = book["demand"]
    by_column = {}
    for validation in sheet.data_validations.dataValidation:
        for ref in str(validation.sqref).split():
            by_column[ref.split(":")[0].rstrip("0123456789")] = validation
    professions = by_column[sheet.cell(row=1, column=_column(sheet, "profession")).column_letter]
    assert professions.type == "list" and professions.formula1.startswith("'professions'!$A$2:$A$")
    assert professions.errorStyle == "stop"
    regions = by_column[sheet.cell(row=1, column=_column(sheet, "region")).column_letter]
    assert regions.formula1.startswith("'regions'!$A$2:$A$")
    years = by_column[sheet.cell(row=1, column=_column(sheet, "year")).column_letter]
    listed = [int(y) for y in years.formula1.strip('"').split(",")]
    assert 2020 in listed and 2023 in listed and 2027 in listed and listed == sorted(listed)
    # every sheet with a profession or region column has its drop-down
    for name in TABLES:
        if name not in book.sheetnames or name in ("professions", "regions"):
            continue
        headers = [c.value for c in book[name][1]]
        wanted = [h for h in headers if h in PROFESSION_COLUMNS or h in REGION_COLUMNS]
        assert len(book[name].data_validations.dataValidation) >= len(wanted), name


def test_notes_sheet_holds_each_tables_sources(book):
    assert NOTES_SHEET in book.sheetnames
    rows = [tuple(c.value for c in row) for row in book[NOTES_SHEET].iter_rows(min_row=2)]
    by_sheet: dict[str, list[str]] = {}
    for sheet, _, note in rows:
        by_sheet.setdefault(sheet, []).append(note)
    assert "316" in " ".join(by_sheet["budget"])  # the budget rule of SOURCES.md, not another table's text
    assert any("Rule" in n for n in by_sheet["budget"])
    for table in ("professions", "regions", "workforce", "demand", "routes", "retention", "recruitment"):
        assert by_sheet.get(table), f"no sources for {table}"
    sources = (ENGLAND / "SOURCES.md").read_text(encoding="utf-8")
    assert "How to read the dataset" in sources and any("Baseline" in n for n in by_sheet["(dataset)"])


def test_every_sheet_prints_landscape_one_page_wide_header_repeated(book):
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.fitToWidth in (1, "1") and sheet.page_setup.fitToHeight in (0, "0"), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title


def test_the_reader_ignores_a_notes_or_readme_sheet_and_refuses_any_other(book_path, tmp_path):
    from openpyxl import load_workbook

    edited = tmp_path / "edited.xlsx"
    wb = load_workbook(book_path)
    wb[NOTES_SHEET]["C2"] = "=SUM(A1:A9)"  # even a formula with no saved value is not read
    readme = wb.create_sheet("README ")
    readme["A1"] = "anything at all"
    wb.save(edited)
    result = CliRunner().invoke(main, ["validate", str(edited)])
    assert result.exit_code == 0, result.output

    wb.create_sheet("scratch")["A1"] = 1
    wb.save(edited)
    result = CliRunner().invoke(main, ["validate", str(edited)])
    assert result.exit_code == 2
    assert "edited.xlsx [sheet scratch]: unknown sheet" in result.output
    assert "notes or readme" in result.output


def test_a_dataset_without_sources_says_so(base, tmp_path):
    from openpyxl import load_workbook

    assert not (base / "SOURCES.md").exists()
    out = tmp_path / "small.xlsx"
    result = CliRunner().invoke(main, ["workbook", str(base), "-o", str(out)])
    assert result.exit_code == 0, result.output
    notes = " ".join(str(c.value) for row in load_workbook(out)[NOTES_SHEET].iter_rows() for c in row)
    assert "has no SOURCES.md" in notes
    assert load_dataset(out).professions == load_dataset(base).professions


def test_sources_are_split_by_the_table_each_heading_names():
    from optimiser.sourcenotes import DATASET_NOTES, split_sources

    text = ("# Title\nintro\n\n## recruitment.csv\nabout recruitment\n\n### `cost_per_wte_gbp`\nits cost\n\n"
            "## recruitment_sources.csv and budget.csv\n* a\n* b\n\n```\n# not a heading\n```\n## Other\nmore\n")
    notes = split_sources(text, ("recruitment", "recruitment_sources", "budget"))
    got = {(n.table, n.text) for n in notes}
    assert (DATASET_NOTES, "intro") in got and (DATASET_NOTES, "more") in got
    assert ("recruitment", "about recruitment") in got and ("recruitment", "its cost") in got
    assert ("recruitment_sources", "* a\n* b") in got and ("budget", "* a\n* b") in got
    assert not any(n.table == "recruitment" and "* a" in n.text for n in notes)
    assert any("# not a heading" in n.text for n in notes)


def test_text_that_looks_like_a_formula_stays_text_with_formats_on(base, tmp_path):
    from openpyxl import load_workbook

    regions = base / "regions.csv"
    regions.write_text(regions.read_text().replace("London", "=1+1"))
    out = tmp_path / "f.xlsx"
    assert CliRunner().invoke(main, ["workbook", str(base), "-o", str(out)]).exit_code == 0
    sheet = load_workbook(out)["regions"]
    cell = sheet.cell(row=2, column=_column(sheet, "name"))
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_a_long_span_of_years_is_a_range_not_a_list_excel_would_refuse():
    from openpyxl import Workbook

    from optimiser.workbook import MAX_LIST_CHARS, _drop_downs, _list_validation

    book = Workbook()
    for name in ("professions", "regions"):
        book.create_sheet(name).append(["key"])
    short = _drop_downs(book, list(range(2020, 2028)))
    assert short["year"] == '"2020,2021,2022,2023,2024,2025,2026,2027"'
    long = _drop_downs(book, list(range(1900, 2101)))
    assert long["year"] == (1900, 2100)
    validation = _list_validation(long["year"], "year", strict=False)
    assert validation.type == "whole" and (validation.formula1, validation.formula2) == ("1900", "2100")
    assert len(",".join(map(str, range(1900, 2101)))) > MAX_LIST_CHARS


def test_sources_that_cannot_be_read_are_a_note_not_a_failure(base, tmp_path):
    from openpyxl import load_workbook

    (base / "SOURCES.md").mkdir()  # there, but not a file
    out = tmp_path / "odd.xlsx"
    result = CliRunner().invoke(main, ["workbook", str(base), "-o", str(out)])
    assert result.exit_code == 0, result.output
    notes = " ".join(str(c.value) for row in load_workbook(out)[NOTES_SHEET].iter_rows() for c in row)
    assert "SOURCES.md could not be read" in notes

"""A corpus of hostile inputs, as analysts' real files would try the optimiser.

Each case makes a dataset (a CSV folder or a workbook) that is broken in one
way, runs ``optimiser run DATASET -o OUT`` and checks: exit status 2 (bad
input), a message naming the file (and row, line or column where there is
one), nothing written (OUT absent), the input untouched (hash before and
after), and an answer within seconds.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from optimiser.cli import main
from tests.helpers import profession, write_dataset

SECONDS = 20


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def tree_hash(path: Path) -> str:
    digest = hashlib.sha256()
    paths = [path] if not path.is_dir() or path.is_symlink() else sorted(path.rglob("*"))
    for p in paths:
        digest.update(str(p).encode())
        if p.is_symlink():
            digest.update(b"link:" + os.readlink(p).encode())
        elif p.is_file() and os.access(p, os.R_OK):
            digest.update(p.read_bytes())
        elif p.exists():
            digest.update(oct(p.stat().st_mode).encode())
    return digest.hexdigest()


def good(folder: Path) -> Path:
    return write_dataset(
        folder, settings={"target_year": 2022},
        professions=[profession("p", duration_years=2, trainee_service_wte=0.3, attrition_rate=0.1)],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 50}],
        demand=[{"profession": "p", "region": "r1", "year": 2022, "demand_wte": 80}],
        capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": 5,
                   "intake_min": "", "intake_max": ""}],
        budget=[{"year": 2021, "budget_gbp": 20_000}, {"year": 2022, "budget_gbp": 30_000}])


def workbook(folder: Path) -> Path:
    book = folder.parent / "book.xlsx"
    assert invoke("workbook", folder, "-o", book).exit_code == 0
    return book


def edit_book(book: Path, change: Callable) -> Path:
    from openpyxl import load_workbook

    wb = load_workbook(book)
    change(wb)
    wb.save(book)
    return book


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, text)
    path.write_text(text.replace(old, new), encoding="utf-8")


def set_cell(name: str, column: str, value: str) -> Callable[[Path], Path]:
    """Give ``column`` of the first data row of ``name``.csv the text ``value``."""
    def make(ds: Path) -> Path:
        path = ds / f"{name}.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        cells = lines[1].split(",")
        cells[header.index(column)] = value
        lines[1] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ds
    return make


def settings_text(text: str) -> Callable[[Path], Path]:
    def make(ds: Path) -> Path:
        (ds / "settings.yaml").write_text(text, encoding="utf-8")
        return ds
    return make


# --------------------------------------------------------------- the corpus

def _dangling(name):
    def make(ds):
        (ds / name).unlink()
        (ds / name).symlink_to(ds / "nowhere.csv")
        return ds
    return make


def _looping(name):
    def make(ds):
        (ds / name).unlink(missing_ok=True)
        (ds / name).symlink_to(ds / name)
        return ds
    return make


def _folder(name):
    def make(ds):
        (ds / name).unlink(missing_ok=True)
        (ds / name).mkdir()
        return ds
    return make


def _fifo(name):
    def make(ds):
        (ds / name).unlink()
        os.mkfifo(ds / name)
        return ds
    return make


def _misnamed(ds):
    (ds / "capacity.csv").rename(ds / "Capacity.CSV")
    return ds


def _both_cases(ds):
    (ds / "Budget.csv").write_text("year,budget_gbp\n2021,1\n")
    return ds


def _deep_yaml(ds):
    (ds / "settings.yaml").write_text("base_year: 2020\ntarget_year: 2022\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    return ds


def _big_settings(ds):
    (ds / "settings.yaml").write_text("base_year: 2020\ntarget_year: 2022\n" + "# padding\n" * 200_000)
    return ds


def _laughs(ds):
    lines = ["base_year: 2020", "target_year: 2022", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
              for i in range(1, 12)]
    (ds / "settings.yaml").write_text("\n".join(lines) + "\n")
    return ds


def _unclosed_quote(ds):
    replace_text(ds / "demand.csv", "p,r1,2022", 'p,"r1,2022')
    return ds


def _semicolons(ds):
    path = ds / "workforce.csv"
    path.write_text(path.read_text().replace(",", ";"))
    return ds


def _tabs(ds):
    path = ds / "workforce.csv"
    path.write_text(path.read_text().replace(",", "\t"))
    return ds


def _utf16_no_bom(ds):
    path = ds / "regions.csv"
    path.write_bytes(path.read_text().encode("utf-16-le"))
    return ds


def _cp1252(ds):
    path = ds / "regions.csv"
    path.write_bytes(path.read_text().replace("Region 1", "Région 1").encode("cp1252"))
    return ds


def _nul(ds):
    path = ds / "regions.csv"
    path.write_bytes(path.read_bytes() + b"\x00\x00junk\n")
    return ds


def _en_dash(ds):
    replace_text(ds / "demand.csv", "p,r1,2022", "p,r1,2022\u201323")
    return ds


def _dup_setting(ds):
    (ds / "settings.yaml").write_text("base_year: 2020\ntarget_year: 2022\ntarget_year: 2023\n")
    return ds


def _empty_file(name):
    def make(ds):
        (ds / name).write_text("")
        return ds
    return make


def _ods(ds):
    path = ds.parent / "book.ods"
    path.write_bytes(b"PK\x03\x04 not really")
    return path


def _xls(ds):
    path = ds.parent / "book.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    return path


def _one_csv(ds):
    return ds / "demand.csv"


def _book(change):
    def make(ds):
        return edit_book(workbook(ds), change)
    return make


def _two_demand_sheets(wb):
    wb.copy_worksheet(wb["demand"]).title = "Demand "


def _dup_settings_row(wb):
    wb["settings"].append(["target_year", 2023])


def _right_of_table(wb):
    wb["workforce"]["F2"] = 42


def _title_row(wb):
    wb["workforce"].insert_rows(1)
    wb["workforce"]["A1"] = "Workforce in post, March 2021"


def _blank_first_row(wb):
    wb["workforce"].insert_rows(1)


def _excel_date(wb):
    import datetime

    wb["demand"]["C2"] = datetime.datetime(2022, 4, 1)
    wb["demand"]["C2"].number_format = "yyyy-mm-dd"


def _formula(wb):
    wb["workforce"]["C2"] = "=40+10"  # openpyxl saves no value: as a program that does not calculate


def _zip_bomb(ds):
    """A workbook whose parts unpack to 300 MB from a few hundred kilobytes."""
    import zipfile

    book = workbook(ds)
    with zipfile.ZipFile(book, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/padding.bin", "w") as part:
            block = b"\0" * 1_000_000
            for _ in range(300):
                part.write(block)
    return book


def _garbage_book(ds):
    path = ds.parent / "book.xlsx"
    path.write_bytes(b"this is not a zip file")
    return path


CORPUS = {
    # class 2: a table that is named but cannot be read is an error, never absent
    "required table is a dangling link": (_dangling("professions.csv"), ["professions.csv", "does not exist"]),
    "optional table is a dangling link": (_dangling("capacity.csv"), ["capacity.csv", "does not exist"]),
    "optional table is a looping link": (_looping("inflows.csv"), ["inflows.csv", "loops"]),
    "optional table is a folder": (_folder("capacity.csv"), ["capacity.csv", "is a folder"]),
    "required table is a folder": (_folder("budget.csv"), ["budget.csv", "is a folder"]),
    "settings is a folder": (_folder("settings.yaml"), ["settings.yaml", "is a folder"]),
    "settings is a dangling link": (_dangling("settings.yaml"), ["settings.yaml", "does not exist"]),
    "table is a pipe": (_fifo("regions.csv"), ["regions.csv", "not a regular file"]),
    "table named in the wrong case": (_misnamed, ["Capacity.CSV", "capacity.csv"]),
    "table given twice in two cases": (_both_cases, ["Budget.csv", "same table as budget.csv"]),
    "settings key given twice": (_dup_setting, ["settings.yaml, line 3", "appears twice (first on line 2)"]),
    "two sheets one table": (_book(_two_demand_sheets), ["book.xlsx [sheet Demand ]", "same table as sheet 'demand'"]),
    "settings sheet key twice": (_book(_dup_settings_row), ["[sheet settings]", "given twice (first on row"]),
    # class 4: bounded work
    "settings nested 5000 deep": (_deep_yaml, ["settings.yaml, line 3", "nested more than"]),
    "settings of 2 MB": (_big_settings, ["settings.yaml", "bytes; at most"]),
    "settings with exploding aliases": (_laughs, ["settings.yaml, line 4", "alias"]),
    "duration of a billion years": (set_cell("professions", "duration_years", "1000000000"),
                                    ["professions.csv, row 2, column 'duration_years'", "between 1 and 15"]),
    # class 5: located messages instead of internal errors
    "csv with an unclosed quote": (_unclosed_quote, ["demand.csv, row 2", "never closed"]),
    "number right of a workbook table": (_book(_right_of_table), ["[sheet workforce], row 2, column 'F'",
                                                                  "right of the table"]),
    "title row above the header": (_book(_title_row), ["[sheet workforce], row 1", "row 2 looks like"]),
    "blank row above the header": (_book(_blank_first_row), ["[sheet workforce], row 1", "row 1 is blank"]),
    "workbook that unpacks to 300 MB": (_zip_bomb, ["book.xlsx", "unpacks to"]),
    "not a workbook at all": (_garbage_book, ["book.xlsx", "cannot be opened as a workbook"]),
    "empty required table": (_empty_file("workforce.csv"), ["workforce.csv", "empty"]),
    # class 6: messages that help
    "semicolon delimiter": (_semicolons, ["workforce.csv, row 1", "';' (semicolon) looks like the delimiter"]),
    "tab delimiter": (_tabs, ["workforce.csv, row 1", "a tab looks like the delimiter"]),
    "utf-16 without a BOM": (_utf16_no_bom, ["regions.csv", "UTF-16"]),
    "windows-1252": (_cp1252, ["regions.csv, row 2", "Windows-1252"]),
    "NUL bytes": (_nul, ["regions.csv", "NUL"]),
    "en dash in a year": (_en_dash, ["demand.csv, row 2, column 'year'", "dash"]),
    "excel date in a year": (_book(_excel_date), ["[sheet demand], row 2, column 'year'", "holds a date"]),
    "formula without a value": (_book(_formula), ["[sheet workforce], row 2, column 'stock_wte'",
                                                  "formula with no saved value"]),
    "ods workbook": (_ods, ["book.ods", "OpenDocument"]),
    "xls workbook": (_xls, ["book.xls", ".xlsx"]),
    "one csv file": (_one_csv, ["demand.csv", "expected a folder of CSV files"]),
    # class 3: numbers bounded where the domain bounds them
    "weight 1e20": (set_cell("professions", "weight", "1e20"), ["professions.csv, row 2, column 'weight'"]),
    "growth limit 1e308": (set_cell("professions", "max_growth", "1e308"),
                           ["professions.csv, row 2, column 'max_growth'"]),
    "demand 1e12": (set_cell("demand", "demand_wte", "1e12"), ["demand.csv, row 2, column 'demand_wte'", "WTE"]),
    "stock 1e10": (set_cell("workforce", "stock_wte", "1e10"), ["workforce.csv, row 2, column 'stock_wte'"]),
    "cost 1e15": (set_cell("professions", "cost_per_trainee_year_gbp", "1e15"),
                  ["column 'cost_per_trainee_year_gbp'", "GBP"]),
    "budget 1e16": (set_cell("budget", "budget_gbp", "1e16"), ["budget.csv, row 2, column 'budget_gbp'"]),
    "supervision hours a week 1000": (set_cell("professions", "supervision_hours_per_trainee", "1000"),
                                      ["column 'supervision_hours_per_trainee'", "hours a week"]),
    "capacity 1e9": (set_cell("capacity", "placement_capacity", "1e9"), ["capacity.csv, row 2"]),
    "trainee service 50 WTE": (set_cell("professions", "trainee_service_wte", "50"),
                               ["column 'trainee_service_wte'"]),
    "weights a billion apart": (settings_text("base_year: 2020\ntarget_year: 2022\nassessed_years: [2021, 2022]\n"
                                              "year_weights: {2021: 1.0e-4, 2022: 1.0e+5}\n"),
                                ["professions.csv, row 2, column 'weight'", "weights span 1e+09 times",
                                 "settings.yaml (line 4)"]),
    "year weight 1e20": (settings_text("base_year: 2020\ntarget_year: 2022\nyear_weights: {2022: 1.0e+20}\n"),
                         ["settings.yaml, line 3, key 'year_weights'"]),
    "time limit of a century": (settings_text("base_year: 2020\ntarget_year: 2022\ntime_limit_seconds: 3.0e+9\n"),
                                ["settings.yaml, line 3, key 'time_limit_seconds'"]),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_hostile_input_is_refused_with_a_located_message(tmp_path, case):
    make, words = CORPUS[case]
    dataset = make(good(tmp_path / "ds"))
    out = tmp_path / "out"
    before = tree_hash(tmp_path)
    started = time.monotonic()
    result = invoke("run", dataset, "-o", out)
    assert time.monotonic() - started < SECONDS
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    for word in words:
        assert word in result.output, result.output
    assert not out.exists() and not out.is_symlink()
    assert tree_hash(tmp_path) == before


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 40


# ------------------------------------------------------- read, not refused


def test_utf16_with_a_bom_is_read(tmp_path):
    ds = good(tmp_path / "ds")
    path = ds / "regions.csv"
    path.write_bytes(path.read_text().encode("utf-16"))
    assert invoke("validate", ds).exit_code == 0


def test_a_formatted_cell_far_away_costs_nothing(tmp_path):
    """One formatted cell at XFD1048576 (and a declared range to match): read in well under a second."""
    from openpyxl.styles import Font

    book = workbook(good(tmp_path / "ds"))

    def far(wb):
        wb["demand"]["XFD1048576"].font = Font(bold=True)

    edit_book(book, far)
    started = time.monotonic()
    result = invoke("validate", book)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 5


def test_missing_optional_table_is_still_absent(tmp_path):
    ds = good(tmp_path / "ds")
    (ds / "capacity.csv").unlink()
    assert invoke("validate", ds).exit_code == 0


# ------------------------------------------------------------ scenario files


def scenario(tmp_path: Path, text: str) -> Path:
    good(tmp_path / "ds")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


SCENARIOS = {
    "a billion cases": ("base: ds\nscenarios:\n  s:\n" + "".join(
        f"    - target: budget.budget_gbp\n      label: b{i}\n      scale: {{start: 0.001, stop: 1, step: 0.001}}\n"
        for i in range(3)), ["s.yaml", "cases; at most"]),
    "nested deep": ("base: ds\nscenarios:\n  s: " + "[" * 3000 + "]" * 3000 + "\n", ["s.yaml, line 3", "nested"]),
    "aliases": ("base: ds\nx: &x [1, 2]\nscenarios:\n  s: *x\n", ["s.yaml, line 4", "alias"]),
    "huge": ("base: ds\nscenarios:\n  s: {}\n" + "#" * 6_000_000 + "\n", ["s.yaml", "bytes; at most"]),
    "duplicate scenario": ("base: ds\nscenarios:\n  s: {}\n  s: {}\n", ["s.yaml, line 4", "appears twice"]),
}


@pytest.mark.parametrize("kind, words", [
    ("utf-16 without BOM", ["s.yaml", "UTF-16"]),
    ("windows-1252", ["s.yaml", "Windows-1252"]),
    ("folder", ["s.yaml", "is a folder"]),
    ("dangling link", ["s.yaml", "does not exist"]),
])
def test_unreadable_scenario_file_is_refused(tmp_path, kind, words):
    good(tmp_path / "ds")
    path = tmp_path / "s.yaml"
    text = "base: ds\nscenarios:\n  caf\u00e9: {}\n"
    if kind == "utf-16 without BOM":
        path.write_bytes(text.encode("utf-16-le"))
    elif kind == "windows-1252":
        path.write_bytes(text.encode("cp1252"))
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "gone.yaml")
    out = tmp_path / "out"
    before = tree_hash(tmp_path)
    result = invoke("batch", path, "-o", out, "--quiet")
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, result.output
    assert not out.exists() and tree_hash(tmp_path) == before


def test_a_scenario_that_makes_a_value_out_of_bounds_names_its_line(tmp_path):
    path = scenario(tmp_path, "base: ds\nscenarios:\n  s:\n    - professions.weight=1e20\n")
    out = tmp_path / "out"
    before = tree_hash(tmp_path)
    result = invoke("run", tmp_path / "ds", "-o", out, "--scenario", path)
    assert result.exit_code == 2, result.output
    assert (f"{path}, line 4: scenario 's': makes professions.csv row 2, column 'weight' invalid: "
            "must be between 0 and 1,000,000") in result.output
    assert not out.exists() and tree_hash(tmp_path) == before


@pytest.mark.parametrize("case", list(SCENARIOS))
def test_hostile_scenario_file_is_refused(tmp_path, case):
    text, words = SCENARIOS[case]
    path = scenario(tmp_path, text)
    out = tmp_path / "out"
    before = tree_hash(tmp_path)
    started = time.monotonic()
    result = invoke("batch", path, "-o", out, "--quiet")
    assert time.monotonic() - started < SECONDS
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, result.output
    assert not out.exists()
    assert tree_hash(tmp_path) == before


@pytest.mark.parametrize("override, words", [
    ("professions.weight=1e20", ["weight", "between"]),
    ("demand.demand_wte=1e12", ["demand_wte", "between"]),
    ("professions.duration_years=1000000000", ["duration_years", "between"]),
    ("settings.base_year=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", ["--set"]),
])
def test_hostile_set_override_is_refused(tmp_path, override, words):
    ds = good(tmp_path / "ds")
    out = tmp_path / "out"
    before = tree_hash(tmp_path)
    result = invoke("run", ds, "-o", out, "--set", override)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, result.output
    assert not out.exists()
    assert tree_hash(tmp_path) == before


@pytest.mark.parametrize("damage", ["dangling link", "missing key", "bad dataset", "out of bounds", "deep"])
def test_a_damaged_model_is_a_located_error(tmp_path, damage):
    import json

    ds = good(tmp_path / "ds")
    model = tmp_path / "model"
    assert invoke("build", ds, "-o", model).exit_code == 0
    path = model / "model.json"
    data = json.loads(path.read_text())
    if damage == "dangling link":
        path.unlink()
        path.symlink_to(tmp_path / "gone.json")
    elif damage == "missing key":
        del data["x"]
        path.write_text(json.dumps(data))
    elif damage == "bad dataset":
        data["dataset"]["professions"][0]["duration_years"] = "soon"
        path.write_text(json.dumps(data))
    elif damage == "out of bounds":
        data["dataset"]["professions"][0]["weight"] = 1e20
        path.write_text(json.dumps(data))
    else:
        path.write_text('{"format": "psych-commission-model/1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    out = tmp_path / "out"
    before = tree_hash(tmp_path)
    result = invoke("solve", model, "-o", out)
    assert result.exit_code == 2, result.output
    assert "model.json" in result.output and "internal error" not in result.output
    assert not out.exists() and tree_hash(tmp_path) == before


def test_a_demand_far_above_its_stock_is_warned_about(tmp_path):
    ds = set_cell("demand", "demand_wte", "5000000")(good(tmp_path / "ds"))
    result = invoke("validate", ds)
    assert result.exit_code == 0, result.output
    assert "Warning: demand is over 100 times the stock for 1 row(s), a typo? (p/r1 2022/23: 5,000,000 WTE" \
        in result.output


def test_a_time_limit_beyond_a_week_is_refused_on_the_command_line(tmp_path):
    ds = good(tmp_path / "ds")
    before = tree_hash(tmp_path)
    result = invoke("run", ds, "-o", tmp_path / "out", "--time-limit", "1e308")
    assert result.exit_code == 2 and "--time-limit" in result.output
    assert not (tmp_path / "out").exists() and tree_hash(tmp_path) == before

"""No command ever modifies or deletes an input: an output that is, holds or lies inside the
input being read is refused, and a folder is replaced only when it holds nothing but an
earlier result's own files (a stray summary.json beside your files is not enough)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from optimiser.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def tree_hash(path: Path) -> str:
    """Every name, link and byte under ``path`` (or of the file ``path``)."""
    digest = hashlib.sha256()
    paths = [path] if not path.is_dir() else sorted(path.rglob("*"))
    for p in paths:
        digest.update(str(p.relative_to(path.parent)).encode())
        if p.is_symlink():
            digest.update(b"link:" + os.readlink(p).encode())
        elif p.is_file():
            digest.update(p.read_bytes())
    return digest.hexdigest()


def stray_summary(folder: Path) -> Path:
    """A folder of the user's with a summary.json that looks like a result's."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "thesis.docx").write_text("precious")
    (folder / "summary.json").write_text(json.dumps({"status": "optimal"}))
    return folder


def assert_refused(result, *protected: Path, hashes: list[str]):
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert [tree_hash(p) for p in protected] == hashes, result.output


def check(args, *protected: Path, words=()):
    hashes = [tree_hash(p) for p in protected]
    result = invoke(*args)
    assert_refused(result, *protected, hashes=hashes)
    for word in words:
        assert word in result.output, result.output
    return result


# ----------------------------------------------------------------------- run


@pytest.mark.parametrize("where", ["itself", "inside", "parent"])
def test_run_never_writes_onto_into_or_around_its_dataset(dataset, where):
    out = {"itself": dataset, "inside": dataset / "results", "parent": dataset.parent}[where]
    check(("run", dataset, "-o", out), dataset.parent if where == "parent" else dataset,
          words=("input",))
    assert not (dataset / "results").exists()


def test_run_dataset_with_a_stray_summary_run_onto_itself_keeps_every_csv(dataset):
    (dataset / "summary.json").write_text(json.dumps({"status": "optimal"}))
    check(("run", dataset, "-o", dataset), dataset, words=("is the input",))


def test_run_refuses_a_folder_with_a_stray_summary(dataset, tmp_path):
    mine = stray_summary(tmp_path / "mine")
    check(("run", dataset, "-o", mine), mine, dataset, words=("thesis.docx",))


def test_run_keeps_a_workbook_read_from_the_results_folder(dataset, tmp_path):
    """The issue's example: run, export a workbook into the results, run the workbook there."""
    out = tmp_path / "out" / "x"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    book = out / "england.xlsx"
    assert invoke("workbook", dataset, "-o", book).exit_code == 0
    check(("run", book, "-o", out), book, words=("holds the input",))


def test_run_refuses_an_output_that_is_a_link_to_the_dataset(dataset, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(dataset)
    check(("run", dataset, "-o", link), dataset, words=("is the input",))


def test_run_with_a_scenario_file_keeps_it(dataset, tmp_path):
    out = stray_summary(tmp_path / "out")
    (out / "thesis.docx").unlink()
    scenario = out / "s.yaml"
    scenario.write_text("scenarios:\n  a: {}\n")
    check(("run", dataset, "--scenario", scenario, "-o", out), out, dataset, words=("holds the input",))


def test_run_still_replaces_its_own_results(dataset, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    assert invoke("run", dataset, "-o", out).exit_code == 0


# --------------------------------------------------------------- build, solve


@pytest.mark.parametrize("where", ["itself", "inside", "stray"])
def test_build_keeps_its_dataset(dataset, tmp_path, where):
    out = {"itself": dataset, "inside": dataset / "model", "stray": stray_summary(tmp_path / "m")}[where]
    check(("build", dataset, "-o", out), dataset, out)


@pytest.mark.parametrize("where", ["itself", "inside", "stray"])
def test_solve_keeps_its_model(dataset, tmp_path, where):
    model = tmp_path / "model"
    assert invoke("build", dataset, "-o", model).exit_code == 0
    out = {"itself": model, "inside": model / "r", "stray": stray_summary(tmp_path / "m")}[where]
    check(("solve", model, "-o", out), model, out)


def test_build_replaces_its_own_model(dataset, tmp_path):
    model = tmp_path / "model"
    assert invoke("build", dataset, "-o", model).exit_code == 0
    assert invoke("build", dataset, "-o", model).exit_code == 0


# -------------------------------------------------------------------- workbook


@pytest.mark.parametrize("where", ["itself", "inside", "stray", "a table"])
def test_workbook_keeps_its_dataset(dataset, tmp_path, where):
    out = {"itself": dataset, "inside": dataset / "book.xlsx", "stray": stray_summary(tmp_path / "x.xlsx"),
           "a table": dataset / "professions.csv"}[where]
    check(("workbook", dataset, "-o", out), dataset, out)


def test_workbook_written_over_a_workbook_being_read_is_refused(dataset, tmp_path):
    """A link named like the output, pointing at the dataset's folder, is followed."""
    link = tmp_path / "link.xlsx"
    link.symlink_to(dataset)
    check(("workbook", dataset, "-o", link / "book.xlsx"), dataset, words=("is inside the input",))


def test_workbook_makes_missing_parent_folders(dataset, tmp_path):
    out = tmp_path / "a" / "b" / "book.xlsx"
    result = invoke("workbook", dataset, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.is_file()


# ---------------------------------------------------------- batch, frontier


def scenario_in(folder: Path, base: Path) -> Path:
    path = folder / "s.yaml"
    path.write_text(f"base: {os.path.relpath(base, folder)}\nscenarios:\n  a: {{}}\n")
    return path


@pytest.mark.parametrize("where", ["dataset", "inside", "parent", "stray", "scenario file", "batch with yours"])
def test_batch_keeps_its_inputs(dataset, tmp_path, where):
    scenarios = scenario_in(tmp_path, dataset)
    if where == "batch with yours":  # a batch folder, with a file of the user's beside its own
        assert invoke("batch", scenarios, "-o", tmp_path / "b", "--quiet").exit_code == 0
        (tmp_path / "b" / "notes.txt").write_text("mine")
    out = {"dataset": dataset, "inside": dataset / "b", "parent": tmp_path,
           "stray": stray_summary(tmp_path / "mine"), "scenario file": scenarios,
           "batch with yours": tmp_path / "b"}[where]
    protected = (tmp_path,) if where == "parent" else (dataset, scenarios, out)
    check(("batch", scenarios, "-o", out, "--quiet"), *protected)


def test_batch_keeps_a_folder_of_yours_where_a_case_goes(dataset, tmp_path):
    scenarios = scenario_in(tmp_path, dataset)
    out = tmp_path / "out"
    (out / "scenarios" / "a").mkdir(parents=True)
    (out / "scenarios" / "a" / "notes.txt").write_text("mine")
    check(("batch", scenarios, "-o", out, "--quiet"), out, words=("notes.txt",))


@pytest.mark.parametrize("where", ["dataset", "inside", "stray"])
def test_frontier_keeps_its_dataset(dataset, tmp_path, where):
    out = {"dataset": dataset, "inside": dataset / "f", "stray": stray_summary(tmp_path / "mine")}[where]
    check(("frontier", dataset, "-o", out, "--steps", "2", "--quiet"), dataset, out)


@pytest.mark.parametrize("package", ["tqdm", "matplotlib"])
def test_batch_and_frontier_missing_package_write_nothing(dataset, tmp_path, monkeypatch, package):
    monkeypatch.setitem(sys.modules, package, None)  # import of it fails as if not installed
    scenarios = scenario_in(tmp_path, dataset)
    out = tmp_path / "out"
    if package == "tqdm":
        result = invoke("batch", scenarios, "-o", out, "--quiet")
        assert result.exit_code == 1 and package in result.output
        assert not out.exists()
    result = invoke("frontier", dataset, "-o", out, "--steps", "2", "--quiet")
    assert result.exit_code == 1 and package in result.output
    assert not out.exists()


# ------------------------------------------------------------ report, explain


def test_report_never_writes_over_what_it_reads(dataset, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    check(("report", out, "--xlsx", out / "summary.json"), out, dataset)
    check(("report", out, "--html", out / "plan.csv"), out, dataset)
    check(("report", out, "--xlsx", dataset / "r.xlsx"), out, dataset)
    check(("report", out, "--html", dataset / "regions.csv"), out, dataset)


def test_report_never_writes_over_the_workbook_it_came_from(dataset, tmp_path):
    book = tmp_path / "book.xlsx"
    assert invoke("workbook", dataset, "-o", book).exit_code == 0
    out = tmp_path / "out"
    assert invoke("run", book, "-o", out).exit_code == 0
    check(("report", out, "--xlsx", book), book, out, words=("is the input",))


def test_report_writes_nothing_into_a_dataset_with_a_stray_summary(dataset):
    (dataset / "summary.json").write_text(json.dumps({"status": "optimal", "dataset": str(dataset)}))
    check(("report", dataset, "--all"), dataset)


@pytest.mark.parametrize("where", ["itself", "inside", "stray"])
def test_explain_keeps_its_dataset(dataset, tmp_path, where):
    out = {"itself": dataset, "inside": dataset / "e", "stray": stray_summary(tmp_path / "mine")}[where]
    check(("explain", dataset, "-o", out), dataset, out)


def test_explain_report_files_never_land_on_the_dataset(dataset, tmp_path):
    check(("explain", dataset, "-o", tmp_path / "e", "--xlsx", dataset / "x.xlsx"), dataset)
    assert not (tmp_path / "e").exists()


def test_validate_reads_only(dataset):
    before = tree_hash(dataset)
    assert invoke("validate", dataset).exit_code == 0
    assert tree_hash(dataset) == before


@pytest.mark.parametrize("damage", ["dangling plan", "broken summary", "summary missing fields", "unclosed quote"])
def test_report_of_a_damaged_results_folder_is_a_located_error(dataset, tmp_path, damage):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    if damage == "dangling plan":
        (out / "plan.csv").unlink()
        (out / "plan.csv").symlink_to(tmp_path / "gone.csv")
        words = ["plan.csv", "does not exist"]
    elif damage == "broken summary":
        (out / "summary.json").write_text('{"status": 5')
        words = ["summary.json", "cannot be read"]
    elif damage == "summary missing fields":
        (out / "summary.json").write_text('{"status": "optimal"}')
        words = ["summary.json", "is not a summary the optimiser wrote"]
    else:
        (out / "constraints.csv").write_text('a,b\n"x\n')
        words = ["constraints.csv", "cannot be read as a results table"]
    check(("report", out, "--all"), out, dataset, words=words)


@pytest.mark.parametrize("package", ["jinja2", "matplotlib"])
def test_report_and_explain_missing_package_write_nothing(dataset, tmp_path, monkeypatch, package):
    out = tmp_path / "out"
    assert invoke("run", dataset, "-o", out).exit_code == 0
    before = tree_hash(tmp_path)
    monkeypatch.setitem(sys.modules, package, None)
    result = invoke("report", out, "--all")
    assert result.exit_code == 1 and package in result.output
    result = invoke("report", out, "--xlsx", tmp_path / "r.xlsx", "--html", tmp_path / "r.html")
    assert result.exit_code == 1 and package in result.output
    result = invoke("explain", dataset, "-o", tmp_path / "e", "--all")
    assert result.exit_code == 1 and package in result.output
    assert tree_hash(tmp_path) == before


def test_every_file_a_command_writes_is_known_to_the_safety_check(dataset, tmp_path):
    """safety.RESULT_FILES and BATCH_ENTRIES list every name the commands write (else a rerun is refused)."""
    from optimiser.safety import BATCH_ENTRIES, RESULT_FILES

    out, model = tmp_path / "out", tmp_path / "model"
    assert invoke("explain", dataset, "-o", out, "--all").exit_code == 0
    assert invoke("build", dataset, "-o", model).exit_code == 0
    scenarios = scenario_in(tmp_path, dataset)
    batch = tmp_path / "b"
    assert invoke("batch", scenarios, "-o", batch, "--quiet").exit_code == 0
    assert invoke("frontier", dataset, "-o", batch / "f", "--steps", "2", "--quiet").exit_code == 0
    assert invoke("report", batch, "--all").exit_code == 0
    assert {p.name for p in out.iterdir()} <= RESULT_FILES
    assert {p.name for p in model.iterdir()} <= RESULT_FILES
    assert {p.name for p in batch.iterdir()} - {"f"} <= BATCH_ENTRIES
    assert {p.name for p in (batch / "f").iterdir()} <= BATCH_ENTRIES
    for case in (batch / "scenarios").iterdir():
        assert {p.name for p in case.iterdir()} <= RESULT_FILES
    for folder in (out, model):  # and each is replaced by its command again
        assert invoke("explain" if folder == out else "build", dataset, "-o", folder).exit_code == 0

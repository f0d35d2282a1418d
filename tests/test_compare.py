"""``optimiser compare RESULT BASELINE``: the differences of two results, exactly ``result - baseline``,
in the terminal, in files written whole (never into a folder compared) and as JSON."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from models.results import SUMMARY_FIGURES
from optimiser.cli import main
from optimiser.compare import compare
from tests.test_output_safety import tree_hash

#: GBP added to the small dataset's 2021 budget (GBP 20,000, binding): it buys places.
EXTRA_BUDGET_GBP = 5_000
COMPARE_FILES = {"compare.json", "compare.csv", "compare_shortfall.csv", "compare_places.csv", "compare_limits.csv"}


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def run_pair(dataset, tmp_path):
    """The small dataset as given, and with more budget in 2022: both results folders."""
    base, plus = tmp_path / "base", tmp_path / "plus"
    assert invoke("run", dataset, "-o", base).exit_code == 0
    done = invoke("run", dataset, "-o", plus, "--set", f"budget.budget_gbp[year=2021]=+{EXTRA_BUDGET_GBP}")
    assert done.exit_code == 0, done.output
    return base, plus


def summary(folder):
    return json.loads((folder / "summary.json").read_text())


def test_compare_with_itself_is_all_zero(dataset, tmp_path):
    base = tmp_path / "base"
    assert invoke("run", dataset, "-o", base).exit_code == 0
    c = compare(base, base)
    figures = c.figures.set_index("figure")
    assert figures["result"].isna().tolist() == [summary(base)[f] is None for f in SUMMARY_FIGURES]
    assert (figures["change"].dropna() == 0.0).all() and figures["change"].notna().sum() >= 5
    assert (c.shortfall["change_wte"] == 0).all() and (c.shortfall["qualified_change_wte"] == 0).all()
    assert (c.places["change"] == 0).all() and len(c.places) > 0
    assert c.limits.empty
    done = invoke("compare", base, base)
    assert done.exit_code == 0, done.output
    assert "no change" in done.output and "Binding limits: the same on both sides" in done.output


def test_more_budget_against_base_is_the_difference_of_the_summaries(dataset, tmp_path):
    base, plus = run_pair(dataset, tmp_path)
    old, new = summary(base), summary(plus)
    assert new["total_shortfall_wte"] < old["total_shortfall_wte"]  # the budget binds: more money, more places
    c = compare(plus, base)
    for figure in SUMMARY_FIGURES:
        expected = None if new[figure] is None else new[figure] - old[figure]
        assert c.change(figure) == expected, figure
    workforce = {side: pd.read_csv(folder / "workforce.csv") for side, folder in (("new", plus), ("old", base))}
    target = {side: w[w.year == old["target_year"]].set_index(["profession", "region"])["shortfall_wte"]
              for side, w in workforce.items()}
    row = c.shortfall.set_index(["profession", "region"]).loc[("p", "r1")]
    assert row["change_wte"] == pytest.approx(target["new"].loc[("p", "r1")] - target["old"].loc[("p", "r1")])
    plans = {side: pd.read_csv(folder / "plan.csv").groupby("year")["intake"].sum()
             for side, folder in (("new", plus), ("old", base))}
    places = c.places.set_index("year")["change"]
    for year in plans["old"].index:
        assert places.loc[year] == pytest.approx(plans["new"].loc[year] - plans["old"].loc[year])
    assert c.limits.empty  # the budget still binds, at a higher level
    data = c.as_dict()
    assert data["result"]["overrides"] == ["budget.budget_gbp[year=2021]=+5000"]
    assert data["baseline"]["overrides"] == []


def test_ample_budget_stops_binding(dataset, tmp_path):
    base, _ = run_pair(dataset, tmp_path)
    ample = tmp_path / "ample"
    done = invoke("run", dataset, "-o", ample, "--set", "budget.budget_gbp=+1000000")
    assert done.exit_code == 0, done.output
    c = compare(ample, base)
    stopped = c.limits[c.limits["change"] == "stopped binding"]
    assert ("budget", 2021) in set(zip(stopped["family"], stopped["year"]))
    assert summary(ample)["total_shortfall_wte"] == pytest.approx(0.0, abs=1e-6)
    assert c.change("total_shortfall_wte") == -summary(base)["total_shortfall_wte"] + summary(ample)["total_shortfall_wte"]
    text = invoke("compare", ample, base).output
    assert "Limits that stopped binding" in text and "budget 2021/22 (shadow price 1,000)" in text


def test_compare_writes_its_folder_whole_and_prints_json(dataset, tmp_path):
    base, plus = run_pair(dataset, tmp_path)
    out = tmp_path / "cmp"
    done = CliRunner().invoke(main, ["compare", str(plus), str(base), "-o", str(out), "--json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)  # stdout holds the one document and nothing else
    assert {p.name for p in out.iterdir()} == COMPARE_FILES
    assert document["figures"]["total_shortfall_wte"]["change"] == \
        summary(plus)["total_shortfall_wte"] - summary(base)["total_shortfall_wte"]
    assert document["written"] == str(out.resolve())
    written = json.loads((out / "compare.json").read_text())
    assert written["figures"] == document["figures"]
    table = pd.read_csv(out / "compare.csv").set_index("figure")
    assert table.loc["total_cost_gbp", "change"] == pytest.approx(document["figures"]["total_cost_gbp"]["change"])
    again = invoke("compare", plus, base, "-o", out)  # its own folder is replaced whole
    assert again.exit_code == 0, again.output
    assert "Comparison written to" in again.output


@pytest.mark.parametrize("where", ["result", "baseline", "inside"])
def test_compare_never_writes_into_a_folder_compared(dataset, tmp_path, where):
    base, plus = run_pair(dataset, tmp_path)
    target = {"result": plus, "baseline": base, "inside": base / "cmp"}[where]
    before = (tree_hash(base), tree_hash(plus))
    done = invoke("compare", plus, base, "-o", target)
    assert done.exit_code == 1
    assert "outside the inputs" in done.output
    assert (tree_hash(base), tree_hash(plus)) == before


def test_compare_will_not_replace_a_folder_of_yours(dataset, tmp_path):
    base, plus = run_pair(dataset, tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    done = invoke("compare", plus, base, "-o", mine)
    assert done.exit_code == 1 and "notes.txt" in done.output
    assert (mine / "notes.txt").read_text() == "keep me"


def test_compare_bad_input_is_located_exit_2(dataset, tmp_path):
    base, plus = run_pair(dataset, tmp_path)
    missing = invoke("compare", tmp_path / "nowhere", base)
    assert missing.exit_code == 2 and "nowhere" in missing.output and "Traceback" not in missing.output
    not_result = invoke("compare", dataset, base)
    assert not_result.exit_code == 2 and "is not a results folder" in not_result.output
    (plus / "workforce.csv").unlink()
    broken = invoke("compare", plus, base)
    assert broken.exit_code == 2 and "workforce.csv: is missing" in broken.output
    as_json = CliRunner().invoke(main, ["compare", str(plus), str(base), "--json"])
    assert as_json.exit_code == 2
    document = json.loads(as_json.stdout)
    assert document["ok"] is False and document["exit_code"] == 2
    assert document["problems"][0]["file"].endswith("workforce.csv")


def test_compare_of_a_result_without_a_plan(dataset, tmp_path):
    base = tmp_path / "base"
    assert invoke("run", dataset, "-o", base).exit_code == 0
    cut = tmp_path / "cut"
    done = invoke("run", dataset, "-o", cut, "--set", "demand.demand_wte=*100", "--set",
                  "budget.budget_gbp=*0")
    assert done.exit_code in (0, 3), done.output
    c = compare(cut, base)
    if not summary(cut)["has_plan"]:
        assert c.figures["change"].isna().all()
        assert c.limits.empty
        assert any("no plan" in w for w in c.warnings)


def test_readme_shows_what_compare_prints_for_five_million_more(tmp_path, monkeypatch):
    """The README's 'What does GBP 5m more buy?' block is this command's real output."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    england = root / "inputs" / "england"
    monkeypatch.chdir(tmp_path)
    assert invoke("run", england, "-o", "out/base").exit_code == 0
    assert invoke("run", england, "-o", "out/plus5m", "--set", "budget.budget_gbp[year=2022]=+5000000").exit_code == 0
    done = invoke("compare", "out/plus5m", "out/base", "-o", "out/plus5m-vs-base")
    assert done.exit_code == 0, done.output
    readme = (root / "README.md").read_text(encoding="utf-8")
    command = "$ optimiser compare out/plus5m out/base -o out/plus5m-vs-base\n"
    assert command + done.output in readme

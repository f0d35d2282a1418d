"""Scenario files and command-line overrides: syntax, errors naming the scenario and the line,
precedence, sweeps, path safety, model-level regional supervisor hours, and traceability."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from optimiser.cli import main
from optimiser.errors import InputError
from optimiser.scenarios import (
    apply_overrides,
    cli_overrides,
    expand,
    load_scenario_file,
    parse_compact,
    prepare_base,
    resolve_base_path,
)
from tests.helpers import profession, write_dataset

ENGLAND = Path(__file__).resolve().parents[1] / "inputs" / "england"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def two_regions(tmp_path):
    """p needs 2 supervision hours a week per trainee; a qualified WTE gives 1; 10 WTE in each region,
    so each region can train 5 a year. Demand is far above; no budget limit; one-year course.
    Supervision time is not counted (the scenario mechanics, not supervision, are tested here)."""
    return write_dataset(
        tmp_path / "ds", settings={"supervision_time_counts": False},
        regions=[{"region": "r1", "name": "R1", "cost_multiplier": 1}, {"region": "r2", "name": "R2", "cost_multiplier": 1}],
        professions=[profession("p", supervision_hours_per_trainee=2, supervisor_hours_per_wte=1),
                     profession("q", attrition_rate=0.1)],
        supervision=[{"trainee_profession": "p", "supervisor_profession": "p"}],
        workforce=[{"profession": "p", "region": r, "stock_wte": 10} for r in ("r1", "r2")]
        + [{"profession": "q", "region": r, "stock_wte": 5} for r in ("r1", "r2")],
        demand=[{"profession": k, "region": r, "year": 2021, "demand_wte": 100} for k in ("p", "q") for r in ("r1", "r2")],
        budget=[{"year": 2021, "budget_gbp": 1_000_000}],
    )


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(excinfo) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


# --------------------------------------------------------------------- syntax


@pytest.mark.parametrize("text, expected", [
    ("budget.budget_gbp[year=2022]=*0.9", {"target": "budget.budget_gbp", "where": {"year": "2022"}, "scale": 0.9}),
    ("professions.attrition_rate[profession=pwp]=0.2",
     {"target": "professions.attrition_rate", "where": {"profession": "pwp"}, "set": 0.2}),
    ("inflows.inflow_wte[region=r1|r2,year=2021]=+-5",
     {"target": "inflows.inflow_wte", "where": {"region": ["r1", "r2"], "year": "2021"}, "add": -5.0}),
    ("capacity.intake_max[profession=p]=", {"target": "capacity.intake_max", "where": {"profession": "p"}, "set": None}),
    ("settings.integer_places=true", {"target": "settings.integer_places", "where": {}, "set": True}),
    ("settings.assessed_years=[2022, 2023]", {"target": "settings.assessed_years", "where": {}, "set": [2022, 2023]}),
])
def test_compact_form(text, expected):
    assert parse_compact(text) == expected


@pytest.mark.parametrize("text", ["budget", "budget.budget_gbp", "budget.budget_gbp[year]=1", "budget.budget_gbp=*x"])
def test_compact_form_errors(text):
    with pytest.raises(ValueError):
        parse_compact(text)


def test_scenario_file_forms_and_lines(tmp_path, two_regions):
    path = write_yaml(tmp_path / "s.yaml", """\
scenarios:
  baseline: {}
  structured:
    description: the long form
    settings: {integer_places: true}
    overrides:
      - target: budget.budget_gbp
        where: {year: 2021}
        scale: 0.5
  compact:
    - professions.attrition_rate[profession=q]=0.2
    - workforce.stock_wte[region=r2]=+1
""")
    loaded = load_scenario_file(path)
    base = prepare_base(two_regions)
    cases = {c.name: c for c in expand(loaded, base)}
    assert list(cases) == ["baseline", "structured", "compact"]
    assert cases["baseline"].overrides == ()
    assert [o.text for o in cases["structured"].overrides] == ["settings.integer_places=true",
                                                               "budget.budget_gbp[year=2021]=*0.5"]
    assert [o.line for o in cases["structured"].overrides] == [5, 7]
    assert [o.line for o in cases["compact"].overrides] == [11, 12]
    assert cases["structured"].description == "the long form"


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("override, line_message", [
    ("{target: budgett.budget_gbp, scale: 0.9}", "scenario 'bad': unknown table 'budgett'"),
    ("{target: budget.budget_gbpp, scale: 0.9}", "scenario 'bad': unknown column 'budget_gbpp' of budget"),
    ("professions.attrition_rate[profession=nurse]=0.2", "scenario 'bad': unknown profession 'nurse'"),
    ("workforce.stock_wte[region=r9]=*2", "scenario 'bad': unknown region 'r9'"),
    ("demand.demand_wte[year=2030]=*2", "scenario 'bad': unknown year 2030/31"),
    ("settings.target_yaer=2022", "scenario 'bad': unknown setting 'target_yaer'"),
    ("workforce.profession[region=r1]=q", "is a key column of workforce"),
    ("professions.name[profession=p]=*2", "is text; it can be set but not scaled"),
    ("workforce.stock_wte[year=2021]=*2", "workforce cannot be filtered by 'year'"),
    ("capacity.placement_capacity=*2", "the base dataset has no capacity table"),
    ("professions.attrition_rate[profession=p,region=r1]=0.2",
     "professions.attrition_rate is national (one value per profession), so a region filter cannot apply"),
])
def test_unknown_names_are_errors_naming_scenario_and_line(tmp_path, two_regions, override, line_message):
    path = write_yaml(tmp_path / "s.yaml", f"scenarios:\n  fine: []\n  bad:\n    - {override}\n")
    with pytest.raises(InputError) as excinfo:
        expand(load_scenario_file(path), prepare_base(two_regions))
    (problem,) = excinfo.value.problems
    assert problem.file == str(path) and problem.row == 4
    assert line_message in str(problem)
    assert str(problem).startswith(f"{path}, line 4: ")


def test_clashing_overrides_name_both_lines(tmp_path, two_regions):
    path = write_yaml(tmp_path / "s.yaml", """\
scenarios:
  clash:
    - budget.budget_gbp=*0.9
    - target: budget.budget_gbp
      where: {year: 2021}
      set: 5
  settings_clash:
    settings: {integer_places: true}
    overrides:
      - settings.integer_places=false
  hours_clash:
    - professions.supervisor_hours_per_wte[profession=p,region=r1]=2
    - professions.supervisor_hours_per_wte[profession=p]=3
  no_clash_in_different_rows:
    - workforce.stock_wte[region=r1]=*2
    - workforce.stock_wte[region=r2]=*3
""")
    with pytest.raises(InputError) as excinfo:
        expand(load_scenario_file(path), prepare_base(two_regions))
    messages = problems_of(excinfo)
    assert len(messages) == 3
    assert messages[0].startswith(f"{path}, line 4: scenario 'clash': clashes with the override on line 3")
    assert messages[1].startswith(f"{path}, line 10: scenario 'settings_clash': clashes with the override on line 8")
    assert messages[2].startswith(f"{path}, line 13: scenario 'hours_clash': clashes with the override on line 12")


def test_structural_errors_name_the_line(tmp_path):
    path = write_yaml(tmp_path / "s.yaml", """\
scenarios:
  ok: []
  "bad name!": []
  x:
    - {target: budget.budget_gbp, scale: 1, colour: blue}
    - {target: budget.budget_gbp, scale: 1, set: 2}
    - {target: budget.budget_gbp, scale: abc}
    - {target: budget.budget_gbp, scale: {start: 1, stop: 0, step: 0.1}}
extra: 1
""")
    with pytest.raises(InputError) as excinfo:
        load_scenario_file(path)
    text = "\n".join(problems_of(excinfo))
    assert "line 3" in text and "scenario name 'bad name!'" in text
    assert f"{path}, line 5, at 'scenarios.x.0.colour': scenario 'x': unknown key 'colour'" in text
    assert "line 6" in text and "give exactly one of set, scale or add (found set, scale)" in text
    assert "line 7" in text and "scale expects a number, a list of numbers (a sweep) or a range" in text
    assert "line 8" in text and "step must be non-zero" in text
    assert "line 9" in text and "unknown key 'extra'" in text


def test_duplicate_keys_bad_yaml_and_code_are_refused(tmp_path):
    dup = write_yaml(tmp_path / "dup.yaml", "scenarios:\n  a: []\n  a: []\n")
    with pytest.raises(InputError, match=r"line 3: key 'a' appears twice \(first on line 2\)"):
        load_scenario_file(dup)
    broken = write_yaml(tmp_path / "broken.yaml", "scenarios:\n  a: [\n")
    with pytest.raises(InputError, match="is not valid YAML"):
        load_scenario_file(broken)
    marker = tmp_path / "pwned"
    code = write_yaml(tmp_path / "code.yaml",
                      f"scenarios:\n  a: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(InputError, match="line 2: is not plain data"):
        load_scenario_file(code)
    assert not marker.exists()


# ------------------------------------------------------------- applying


def test_overrides_change_copies_and_precedence(tmp_path, two_regions):
    """Base, then the scenario in order, then the command line (which may change the same value)."""
    base = prepare_base(two_regions)
    before = json.dumps({k: t.rows for k, t in base.raw.tables.items()})
    path = write_yaml(tmp_path / "s.yaml", "scenarios:\n  s:\n    - budget.budget_gbp=500000\n")
    (case,) = expand(load_scenario_file(path), base, cli_overrides(["budget.budget_gbp=*0.5"], base))
    applied = apply_overrides(base, case.overrides)
    (row,) = [cells for _, cells in applied.raw.tables["budget"].rows]
    assert row["budget_gbp"] == "250000"  # set by the scenario, then halved by the command line
    assert [r["source"] for r in applied.records] == [f"{path}, line 3", "command line"]
    assert [r["changes"][0]["to"] for r in applied.records] == ["500000", "250000"]
    assert json.dumps({k: t.rows for k, t in base.raw.tables.items()}) == before  # the base is untouched


def test_blank_limits_stay_blank_when_scaled_and_can_be_set(tmp_path):
    ds = write_dataset(
        tmp_path / "ds", professions=[profession("p")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 1}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10}],
        capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": "", "intake_min": "",
                   "intake_max": 4}])
    base = prepare_base(ds)
    applied = apply_overrides(base, cli_overrides(["capacity.placement_capacity=*2", "capacity.intake_max=*2",
                                                   "capacity.intake_min[profession=p]=1"], base))
    (row,) = [cells for _, cells in applied.raw.tables["capacity"].rows]
    assert row["placement_capacity"] is None and row["intake_max"] == "8" and row["intake_min"] == "1"


def test_a_value_made_invalid_names_the_scenario_line(tmp_path, two_regions):
    path = write_yaml(tmp_path / "s.yaml", "scenarios:\n  bad:\n    - professions.attrition_rate[profession=q]=1.5\n")
    result = invoke("run", two_regions, "-o", tmp_path / "out", "--scenario", path, "--name", "bad")
    assert result.exit_code == 2
    assert f"{path}, line 3: scenario 'bad': makes professions.csv row 3, column 'attrition_rate' invalid: must be <= 1" in result.output
    assert not (tmp_path / "out").exists()
    result = invoke("run", two_regions, "-o", tmp_path / "out", "--set", "settings.target_year=2019")
    assert result.exit_code == 2 and "target_year 2019 must be after base_year 2020 (after the overrides)" in result.output


def test_target_year_brings_tied_settings_along():
    base = prepare_base(ENGLAND)  # base_year 2020, target 2023, horizon_end 2027, assessed_years [2023]
    down = apply_overrides(base, cli_overrides(["settings.target_year=2022"], base)).raw.settings
    assert (down["target_year"], down["assessed_years"], down["horizon_end"]) == (2022, [2022], 2027)
    up = apply_overrides(base, cli_overrides(["settings.target_year=2024"], base)).raw.settings
    assert (up["assessed_years"], up["horizon_end"]) == ([2024], 2027)  # the given horizon holds
    beyond = apply_overrides(base, cli_overrides(["settings.target_year=2028"], base)).raw.settings
    assert beyond["horizon_end"] == 2028  # a given horizon moves up to a later target
    kept = apply_overrides(base, cli_overrides(["settings.target_year=2022", "settings.assessed_years=[2023]"],
                                               base)).raw.settings
    assert kept["assessed_years"] == [2023]


# ------------------------------------------------------------------ sweeps


def test_sweeps_expand_to_the_product_named_by_value(tmp_path, two_regions):
    path = write_yaml(tmp_path / "s.yaml", """\
scenarios:
  sweep:
    - target: budget.budget_gbp
      scale: {start: 0.5, stop: 0.7, step: 0.1}
    - target: professions.attrition_rate
      where: {profession: q}
      set: [0.1, 0.2]
    - workforce.stock_wte[region=r1]=+1
  labelled:
    - {target: workforce.stock_wte, where: {region: r1}, add: [1, -1], label: r1}
    - {target: workforce.stock_wte, where: {region: r2}, add: [2]}
  set_range:
    - target: professions.attrition_rate
      set: {start: 0.1, stop: 0.3, step: 0.1}
""")
    cases = expand(load_scenario_file(path), prepare_base(two_regions))
    names = [c.name for c in cases]
    assert names[:6] == [f"sweep--budget_gbp=x{s}--attrition_rate={a}" for s in (0.5, 0.6, 0.7) for a in (0.1, 0.2)]
    assert names[6:8] == ["labelled--r1=+1--stock_wte=+2", "labelled--r1=-1--stock_wte=+2"]
    assert names[8:] == ["set_range--attrition_rate=0.1", "set_range--attrition_rate=0.2", "set_range--attrition_rate=0.3"]
    assert [o.text for o in cases[5].overrides] == ["budget.budget_gbp=*0.7",
                                                    "professions.attrition_rate[profession=q]=0.2",
                                                    "workforce.stock_wte[region=r1]=+1"]


def test_run_picks_one_case_of_a_sweep(tmp_path, two_regions):
    path = write_yaml(tmp_path / "s.yaml", "scenarios:\n  sw:\n    - {target: budget.budget_gbp, scale: [0.5, 1]}\n")
    result = invoke("run", two_regions, "-o", tmp_path / "o1", "--scenario", path, "--name", "sw")
    assert result.exit_code == 2 and "is a sweep of 2 cases" in result.output
    result = invoke("run", two_regions, "-o", tmp_path / "o1", "--scenario", path, "--name", "sw--budget_gbp=x0.5")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o1" / "summary.json").read_text())["scenario"] == "sw--budget_gbp=x0.5"
    result = invoke("run", two_regions, "-o", tmp_path / "o2", "--scenario", path, "--name", "nope")
    assert result.exit_code == 2 and "no such scenario" in result.output


# -------------------------------------------------------------- path safety


def test_base_path_is_resolved_against_the_file_and_kept_inside(tmp_path, two_regions):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    inside = write_dataset(project / "data" / "ds", professions=[profession("p")],
                           workforce=[{"profession": "p", "region": "r1", "stock_wte": 1}],
                           demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 2}])
    ok = write_yaml(project / "ok.yaml", "base: data/ds\nscenarios:\n  a: []\n")
    assert resolve_base_path(load_scenario_file(ok), None) == inside.resolve()
    for base in ("../ds", str(two_regions), "data/../../ds"):
        bad = write_yaml(project / "bad.yaml", f"base: {base}\nscenarios:\n  a: []\n")
        with pytest.raises(InputError, match="line 1, at 'base': the base dataset must be inside the scenario file's folder"):
            resolve_base_path(load_scenario_file(bad), None)
    os.symlink(two_regions, project / "link")
    link = write_yaml(project / "link.yaml", "base: link\nscenarios:\n  a: []\n")
    with pytest.raises(InputError, match="must be inside"):
        resolve_base_path(load_scenario_file(link), None)
    # folders the user names are allowed
    escape = write_yaml(project / "escape.yaml", f"base: {two_regions}\nscenarios:\n  a: []\n")
    assert resolve_base_path(load_scenario_file(escape), None, [two_regions.parent]) == two_regions.resolve()
    assert resolve_base_path(load_scenario_file(escape), two_regions) == two_regions  # --base wins


# ------------------------------------------------------------ traceability


def test_every_result_records_its_scenario_and_overrides(tmp_path, two_regions):
    path = write_yaml(tmp_path / "s.yaml", "scenarios:\n  cut:\n    description: half the budget\n"
                                           "    overrides:\n      - budget.budget_gbp[year=2021]=*0.5\n")
    out = tmp_path / "out"
    result = invoke("run", two_regions, "-o", out, "--scenario", path, "--name", "cut",
                    "--set", "professions.attrition_rate[profession=q]=0.2", "--quiet")
    assert result.exit_code == 0, result.output
    assert "[scenario cut]" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "cut"
    first, second = summary["overrides"]
    assert first == {"scenario": "cut", "source": f"{path}, line 5", "override": "budget.budget_gbp[year=2021]=*0.5",
                     "target": "budget.budget_gbp", "where": {"year": [2021]}, "op": "scale", "value": 0.5,
                     "values_changed": 1, "changes": [{"row": 2, "key": "2021", "from": "1000000", "to": "500000"}]}
    assert second["source"] == "command line" and second["scenario"] is None
    assert second["changes"] == [{"row": 3, "key": "q", "from": "0.1", "to": "0.2"}]
    # with no override, run behaves exactly as before: no scenario, no overrides
    plain = tmp_path / "plain"
    assert invoke("run", two_regions, "-o", plain).exit_code == 0
    summary = json.loads((plain / "summary.json").read_text())
    assert summary["scenario"] is None and summary["overrides"] == []


# --------------------------------------------- regional supervisor hours (model level)


def _intake(out: Path, region: str, prof: str = "p", year: int = 2021) -> float:
    plan = pd.read_csv(out / "plan.csv")
    return float(plan[(plan.profession == prof) & (plan.region == region) & (plan.year == year)].intake.iloc[0])


def test_regional_supervisor_hours_change_that_region_only(tmp_path, two_regions):
    out = tmp_path / "out"
    result = invoke("run", two_regions, "-o", out, "--set", "professions.supervisor_hours_per_wte[profession=p,region=r1]=2")
    assert result.exit_code == 0, result.output
    assert _intake(out, "r1") == pytest.approx(10, abs=1e-3)  # 10 WTE x 2 h / 2 h per trainee
    assert _intake(out, "r2") == pytest.approx(5, abs=1e-3)  # national 1 h: unchanged
    constraints = pd.read_csv(out / "constraints.csv")
    caps = constraints[constraints.family == "supervision_capacity"].set_index("region")
    assert caps.loc["r1", "rhs"] == pytest.approx(20) and caps.loc["r2", "rhs"] == pytest.approx(10)
    # one more hour a week in r1 trains half a trainee more: 0.5 WTE of shortfall removed
    assert caps.loc["r1", "shadow_price"] == pytest.approx(0.5)
    record = json.loads((out / "summary.json").read_text())["overrides"][0]
    assert record["applied_to"].startswith("supervisor_hours table") and record["changes"][0]["to"] == 2.0
    # a later national change on the command line: r1's row replaces the national value there
    both = tmp_path / "both"
    path = write_yaml(tmp_path / "s.yaml",
                      "scenarios:\n  s:\n    - professions.supervisor_hours_per_wte[profession=p,region=r1]=2\n")
    result = invoke("run", two_regions, "-o", both, "--scenario", path,
                    "--set", "professions.supervisor_hours_per_wte[profession=p]=*1.5")
    assert result.exit_code == 0, result.output
    assert _intake(both, "r1") == pytest.approx(10, abs=1e-3) and _intake(both, "r2") == pytest.approx(7.5, abs=1e-3)


def test_regional_supervisor_hours_reach_the_diagnosis_and_integer_prices(tmp_path, two_regions):
    """8 trainees started in 2020 on a two-year course need 16 h in r1 in 2021: 1 h/WTE gives 10."""
    ds = write_dataset(
        tmp_path / "ds2", settings={"target_year": 2021},
        regions=[{"region": "r1", "name": "R1", "cost_multiplier": 1}, {"region": "r2", "name": "R2", "cost_multiplier": 1}],
        professions=[profession("p", duration_years=2, supervision_hours_per_trainee=2, supervisor_hours_per_wte=2)],
        supervision=[{"trainee_profession": "p", "supervisor_profession": "p"}],
        workforce=[{"profession": "p", "region": r, "stock_wte": 10} for r in ("r1", "r2")],
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 8}],
        demand=[{"profession": "p", "region": r, "year": 2021, "demand_wte": 100} for r in ("r1", "r2")],
        budget=[])
    out = tmp_path / "out"
    result = invoke("run", ds, "-o", out, "--set", "professions.supervisor_hours_per_wte[region=r1]=1")
    assert result.exit_code == 3, result.output
    (conflict,) = json.loads((out / "summary.json").read_text())["conflicts"]
    # 6 hours a week short in r1 (the elastic copy may relax the need or the capacity: both cost the same)
    assert conflict["family"] in ("supervision_capacity", "supervision_need")
    assert (conflict["region"], conflict["year"], conflict["amount"]) == ("r1", 2021, pytest.approx(6))
    # integer places: the shadow prices come from an LP relaxation with the same regional hours
    # (100 h per WTE in r1 makes its supervision slack: price 0; the dataset's 1 h would price it 0.5)
    integer = tmp_path / "integer"
    result = invoke("run", two_regions, "-o", integer, "--integer",
                    "--set", "professions.supervisor_hours_per_wte[profession=p,region=r1]=100")
    assert result.exit_code == 0, result.output
    summary = json.loads((integer / "summary.json").read_text())
    assert summary["integer_places"] and summary["shadow_prices_from"].startswith("LP relaxation")
    caps = pd.read_csv(integer / "constraints.csv").query("family == 'supervision_capacity'").set_index("region")
    assert caps.loc["r1", "rhs"] == pytest.approx(1000) and caps.loc["r1", "shadow_price"] == pytest.approx(0)
    assert caps.loc["r2", "rhs"] == pytest.approx(10) and caps.loc["r2", "shadow_price"] == pytest.approx(0.5)
    assert _intake(integer, "r1") == pytest.approx(90, abs=1e-3) and _intake(integer, "r2") == pytest.approx(5, abs=1e-3)


def test_england_what_if_on_the_command_line(tmp_path):
    base, cut = tmp_path / "base", tmp_path / "cut"
    assert invoke("run", ENGLAND, "-o", base, "--quiet").exit_code == 0
    result = invoke("run", ENGLAND, "-o", cut, "--quiet", "--set", "budget.budget_gbp[year=2022]=*0.9",
                    "--set", "professions.attrition_rate[profession=clinical_psychologist]=0.1")
    assert result.exit_code == 0, result.output
    a = json.loads((base / "summary.json").read_text())
    b = json.loads((cut / "summary.json").read_text())
    assert [o["override"] for o in b["overrides"]] == ["budget.budget_gbp[year=2022]=*0.9",
                                                       "professions.attrition_rate[profession=clinical_psychologist]=0.1"]
    plan = pd.read_csv(cut / "plan.csv")
    assert plan[plan.year == 2022].cost_gbp.sum() <= 0.9 * 316_000_000 * (1 + 1e-9)
    assert b["weighted_shortfall"] != pytest.approx(a["weighted_shortfall"])


# ------------------------------------------------------- review fixes: years, errors, aliases


def _two_years(tmp_path: Path) -> Path:
    """target_year 2022 and no horizon_end: decision years 2021 and 2022, demand in both."""
    return write_dataset(
        tmp_path / "ds2y", settings={"target_year": 2022},
        regions=[{"region": "r1", "name": "R1", "cost_multiplier": 1}, {"region": "r2", "name": "R2", "cost_multiplier": 1}],
        professions=[profession("p", supervision_hours_per_trainee=2, supervisor_hours_per_wte=1)],
        supervision=[{"trainee_profession": "p", "supervisor_profession": "p"}],
        workforce=[{"profession": "p", "region": r, "stock_wte": 10} for r in ("r1", "r2")],
        demand=[{"profession": "p", "region": r, "year": y, "demand_wte": 100} for r in ("r1", "r2") for y in (2021, 2022)],
        budget=[{"year": 2021, "budget_gbp": 1_000_000}, {"year": 2022, "budget_gbp": 1_000_000}])


def test_a_lower_target_year_keeps_a_default_horizon(tmp_path):
    ds = _two_years(tmp_path)
    base = prepare_base(ds)
    applied = apply_overrides(base, cli_overrides(["settings.target_year=2021"], base))
    assert (applied.raw.settings["target_year"], applied.raw.settings["horizon_end"]) == (2021, 2022)
    (derived,) = [r for r in applied.records if r["target"] == "settings.horizon_end"]
    assert derived["derived"] == "keeps the base's horizon" and derived["changes"] == [{"from": None, "to": 2022}]
    out = tmp_path / "out"
    result = invoke("run", ds, "-o", out, "--set", "settings.target_year=2021", "--quiet")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["decision_years"] == [2021, 2022] and summary["assessed_years"] == [2021]
    # a higher target of such a dataset needs nothing: the default horizon follows it
    up = apply_overrides(base, cli_overrides(["settings.target_year=2023"], base)).raw.settings
    assert "horizon_end" not in up


def test_regional_supervisor_hours_are_rows_of_the_supervisor_hours_table(tmp_path, two_regions):
    """A region filter writes (or adds) rows of ``supervisor_hours``, from the national value
    where there is none; the table has no year, so a year filter is refused."""
    base = prepare_base(two_regions)
    applied = apply_overrides(base, cli_overrides(["professions.supervisor_hours_per_wte[region=r1]=*3"], base))
    table = applied.raw.tables["supervisor_hours"]
    assert [cells for _, cells in table.rows] == [{"profession": "p", "region": "r1", "supervisor_hours_per_wte": "3"},
                                                  {"profession": "q", "region": "r1", "supervisor_hours_per_wte": "0"}]
    again = apply_overrides(base, cli_overrides(["supervisor_hours.supervisor_hours_per_wte[profession=p,region=r1|r2]=2"],
                                                base))
    assert sorted(c["region"] for _, c in again.raw.tables["supervisor_hours"].rows) == ["r1", "r2"]
    with pytest.raises(InputError) as excinfo:
        cli_overrides(["professions.supervisor_hours_per_wte[region=r1,year=2021]=2"], base)
    assert "have no year" in problems_of(excinfo)[0]
    england = prepare_base(ENGLAND)
    path = write_yaml(tmp_path / "s.yaml", "scenarios:\n  london:\n    - professions.supervisor_hours_per_wte[region=london]=*2\n")
    (case,) = expand(load_scenario_file(path), england)
    rows = apply_overrides(england, case.overrides).raw.tables["supervisor_hours"].rows
    assert {c["region"] for _, c in rows} == {"london"} and len(rows) == len(england.professions)


def test_malformed_settings_and_empty_sweeps_are_located_errors(tmp_path, two_regions):
    path = write_yaml(tmp_path / "s.yaml", """\
scenarios:
  spaced:
    settings: {"target year": 2022}
  bad_range:
    settings:
      target_year: {start: 1, stop: 0, step: 1}
  empty:
    - {target: budget.budget_gbp, scale: []}
""")
    with pytest.raises(InputError) as excinfo:
        expand(load_scenario_file(path), prepare_base(two_regions))
    messages = problems_of(excinfo)
    assert messages[0].startswith(f"{path}, line 3: scenario 'spaced': unknown setting 'target year'")
    assert messages[1].startswith(f"{path}, line 6: scenario 'bad_range': settings.target_year: set: step must")
    assert messages[2].startswith(f"{path}, line 8: scenario 'empty': a sweep needs at least one value")
    result = invoke("batch", path, "--base", two_regions, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "internal error" not in result.output
    for option in ("budget.budget_gbp=[]", "x.y=[]"):
        result = invoke("run", two_regions, "-o", tmp_path / "o", "--set", option)
        assert result.exit_code == 2 and "command line (--set)" in result.output, result.output
    regional = write_yaml(tmp_path / "r.yaml", "scenarios:\n  r1:\n    - professions.supervisor_hours_per_wte[region=r1]=2\n")
    result = invoke("run", two_regions, "-o", tmp_path / "o", "--scenario", regional,
                    "--set", "professions.supervisor_hours_per_wte=abc")
    assert result.exit_code == 2, result.output
    assert "command line (--set): makes professions.csv row 2, column 'supervisor_hours_per_wte' invalid" in result.output
    result = invoke("frontier", two_regions, "-o", tmp_path / "f", "--year", "abc")
    assert result.exit_code == 2 and "command line, column '--year'" in result.output, result.output
    assert not (tmp_path / "o").exists() and not (tmp_path / "f").exists()


def test_yaml_aliases_are_refused(tmp_path):
    laughs = write_yaml(tmp_path / "lol.yaml", """\
a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
scenarios:
  s: *c
""")
    with pytest.raises(InputError) as excinfo:
        load_scenario_file(laughs)
    messages = problems_of(excinfo)
    assert messages[0] == f"{laughs}, line 2: uses a YAML alias (*name); aliases are not allowed in scenario files: write the values out"
    assert len(messages) == 10


def test_run_name_must_match_a_case_exactly(tmp_path, two_regions):
    path = write_yaml(tmp_path / "s.yaml", "scenarios:\n  one:\n    - {target: budget.budget_gbp, scale: [0.5]}\n")
    result = invoke("run", two_regions, "-o", tmp_path / "typo", "--scenario", path, "--name", "one--budget_gbp=x0.6")
    assert result.exit_code == 2 and "no such case; scenario 'one' has: one--budget_gbp=x0.5" in result.output
    assert not (tmp_path / "typo").exists()
    for name in ("one--budget_gbp=x0.5", "one"):  # the case's name, or its scenario's when it has one case
        result = invoke("run", two_regions, "-o", tmp_path / name, "--scenario", path, "--name", name, "--quiet")
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / name / "summary.json").read_text())["scenario"] == "one--budget_gbp=x0.5"


def test_regional_supervisor_hours_reach_each_side_solve_once(tmp_path, two_regions):
    """The pipeline makes the model-level change to the diagnosis and LP-relaxation models it
    builds: one diagnosis, one relaxation, nothing solved unpatched and then again."""
    from optimiser.batch import SolveOptions, solve_overrides

    ds = write_dataset(
        tmp_path / "ds2", settings={"target_year": 2021},
        professions=[profession("p", duration_years=2, supervision_hours_per_trainee=2, supervisor_hours_per_wte=2)],
        supervision=[{"trainee_profession": "p", "supervisor_profession": "p"}],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 10}],
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 8}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 100}])
    base = prepare_base(ds)  # 2 h per WTE: feasible as it is; 1 h in r1 is 6 h short
    outcome, _ = solve_overrides(base, cli_overrides(["professions.supervisor_hours_per_wte[region=r1]=1"], base),
                                 None, name=None, options=SolveOptions())
    assert outcome.summary.status == "infeasible"
    assert [s["stage"] for s in outcome.solution.stages] == ["shortfall", "elastic_diagnosis"]
    assert [c["amount"] for c in outcome.summary.conflicts] == [pytest.approx(6)]
    base = prepare_base(two_regions)
    outcome, _ = solve_overrides(
        base, cli_overrides(["professions.supervisor_hours_per_wte[profession=p,region=r1]=100"], base), None,
        name=None, options=SolveOptions(integer=True))
    assert [s["stage"] for s in outcome.solution.stages] == ["shortfall", "cost", "lp_relaxation_for_duals"]
    assert outcome.summary.shadow_prices_from.startswith("LP relaxation") and not outcome.summary.warnings
    caps = outcome.results.constraints.query("family == 'supervision_capacity'").set_index("region")
    assert caps.loc["r1", "shadow_price"] == pytest.approx(0) and caps.loc["r2", "shadow_price"] == pytest.approx(0.5)

"""optimiser frontier: shortfall against budget (and a region's supervision) over a range, with the
marginal value at each point; more budget or supervision never gives a larger shortfall."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from optimiser.cli import main
from tests.helpers import profession, write_dataset

ENGLAND = Path(__file__).resolve().parents[1] / "inputs" / "england"
PNG = b"\x89PNG\r\n\x1a\n"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def tolerance(value: float) -> float:
    """The cost stage may leave the shortfall this far above its optimum (MODEL.md)."""
    return 2e-6 * abs(value) + 2e-6


def assert_monotone(table: pd.DataFrame, x: str) -> None:
    solved = table[table.weighted_shortfall.notna()].sort_values(x)
    shortfall = list(solved.weighted_shortfall)
    for before, after in zip(shortfall, shortfall[1:]):
        assert after <= before + tolerance(before), f"more {x} gave a larger shortfall: {shortfall}"


def test_england_budget_frontier(tmp_path):
    out = tmp_path / "frontier"
    result = invoke("frontier", ENGLAND, "-o", out, "--from", "0.5", "--to", "1.5", "--steps", "11", "--quiet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "frontier.csv")
    assert list(table.scale) == pytest.approx([0.5 + 0.1 * i for i in range(11)])
    assert (out / "frontier.png").read_bytes()[:8] == PNG
    assert len(pd.read_csv(out / "comparison.csv")) == 11
    # the x-axis is the national budget over the years, scaled (GBP 316m in each of 7 years)
    assert table.budget_gbp.iloc[5] == pytest.approx(7 * 316e6)
    assert list(table.budget_gbp) == pytest.approx([s * 7 * 316e6 for s in table.scale])
    assert_monotone(table, "budget_gbp")
    # too little money to pay for the trainees already in training: infeasible, with the reason
    low = table[table.status == "infeasible"]
    assert len(low) >= 1 and low.scale.max() < 1
    assert low.reason.str.contains("national budget is GBP").all()
    solved = table[table.status == "optimal"].sort_values("budget_gbp").reset_index(drop=True)
    assert solved.scale.min() <= 0.9 and len(solved) >= 7
    # the unscaled point is the plain run of the dataset
    plain = tmp_path / "plain"
    assert invoke("run", ENGLAND, "-o", plain, "--quiet").exit_code == 0
    baseline = json.loads((plain / "summary.json").read_text())["weighted_shortfall"]
    assert table.set_index("scale").loc[1.0, "weighted_shortfall"] == pytest.approx(baseline, rel=1e-9)
    # marginal value = budget-weighted shadow prices of the years; it brackets the slope between points
    years = [c for c in table.columns if c.startswith("shadow_price_")]
    assert years == [f"shadow_price_{y}/{(y + 1) % 100:02d}" for y in range(2021, 2028)]
    for _, row in solved.iterrows():
        budgets = [316e6 * row.scale] * len(years)
        expected = sum(row[y] * b for y, b in zip(years, budgets)) / sum(budgets)
        assert row.marginal_value_per_gbp_1m == pytest.approx(expected, rel=1e-9, abs=1e-12)
    for (_, a), (_, b) in zip(solved.iterrows(), solved.iloc[1:].iterrows()):
        slope = (a.weighted_shortfall - b.weighted_shortfall) / ((b.budget_gbp - a.budget_gbp) / 1e6)
        assert b.marginal_value_per_gbp_1m - 1e-6 <= slope + 1e-3
        assert slope <= a.marginal_value_per_gbp_1m + 1e-3


def test_one_year_budget_frontier_by_hand(tmp_path):
    """GBP 1,000 a trainee, one-year course, 100 WTE wanted: shortfall = 100 - budget / 1,000
    until it reaches 0; each GBP 1m removes 1,000 WTE while the budget binds."""
    ds = write_dataset(
        tmp_path / "ds", professions=[profession("p")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 100}],
        budget=[{"year": 2021, "budget_gbp": 50_000}])
    out = tmp_path / "out"
    result = invoke("frontier", ds, "-o", out, "--year", "2021/22", "--from", "0.3", "--to", "2.8", "--steps", "6",
                    "--workers", "1", "--quiet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "frontier.csv")
    assert list(table.budget_gbp) == pytest.approx([15_000, 40_000, 65_000, 90_000, 115_000, 140_000])
    assert list(table.weighted_shortfall) == pytest.approx([85, 60, 35, 10, 0, 0], abs=1e-4)
    assert list(table.marginal_value_per_gbp_1m) == pytest.approx([1000, 1000, 1000, 1000, 0, 0])
    assert list(table["shadow_price_2021/22"]) == pytest.approx(list(table.marginal_value_per_gbp_1m))
    assert_monotone(table, "budget_gbp")
    summary = json.loads((out / "scenarios" / "budget-x1.8" / "summary.json").read_text())
    assert [o["override"] for o in summary["overrides"]] == ["budget.budget_gbp[year=2021]=*1.8"]


def test_regional_supervision_frontier(tmp_path):
    """r1 trains 5 x scale a year (10 WTE x 1 h x scale / 2 h per trainee); r2 stays at 5.
    (Supervision time not counted: the frontier's arithmetic, not supervision's, is tested.)"""
    ds = write_dataset(
        tmp_path / "ds", settings={"supervision_time_counts": False},
        regions=[{"region": "r1", "name": "R1", "cost_multiplier": 1}, {"region": "r2", "name": "R2", "cost_multiplier": 1}],
        professions=[profession("p", supervision_hours_per_trainee=2, supervisor_hours_per_wte=1)],
        supervision=[{"trainee_profession": "p", "supervisor_profession": "p"}],
        workforce=[{"profession": "p", "region": r, "stock_wte": 10} for r in ("r1", "r2")],
        demand=[{"profession": "p", "region": r, "year": 2021, "demand_wte": 100} for r in ("r1", "r2")])
    out = tmp_path / "out"
    result = invoke("frontier", ds, "-o", out, "--kind", "supervision", "--region", "r1",
                    "--from", "0", "--to", "2", "--steps", "5", "--quiet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "frontier.csv")
    assert list(table.supervision_hours_per_week) == pytest.approx([0, 5, 10, 15, 20])
    assert list(table.weighted_shortfall) == pytest.approx([90 + 85 - 5 * k for k in (0, 0.5, 1, 1.5, 2)], abs=1e-3)
    assert list(table.marginal_value_per_hour) == pytest.approx([0.5] * 5)
    assert_monotone(table, "supervision_hours_per_week")
    plan = pd.read_csv(out / "scenarios" / "supervision-x2" / "plan.csv").set_index("region")
    assert plan.loc["r1", "intake"] == pytest.approx(10, abs=1e-3) and plan.loc["r2", "intake"] == pytest.approx(5, abs=1e-3)
    assert invoke("frontier", ds, "-o", tmp_path / "o2", "--kind", "supervision").exit_code == 2


def test_england_supervision_frontier_is_monotone(tmp_path):
    out = tmp_path / "out"
    result = invoke("frontier", ENGLAND, "-o", out, "--kind", "supervision", "--region", "london",
                    "--from", "1", "--to", "1.5", "--steps", "3", "--quiet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "frontier.csv")
    assert (table.status == "optimal").all()
    assert list(table.supervision_hours_per_week) == pytest.approx([table.supervision_hours_per_week[0] * s
                                                                    for s in (1, 1.25, 1.5)])
    assert_monotone(table, "supervision_hours_per_week")
    assert table.weighted_shortfall.iloc[-1] < table.weighted_shortfall.iloc[0]
    assert (out / "frontier.png").read_bytes()[:8] == PNG


# ------------------------------------------------------------- review fixes


def _two_year_supervision(tmp_path: Path) -> Path:
    """One-year course, 2 h of supervision a trainee, 1 h per qualified WTE, 10 WTE per region, no budget.
    2021: 5 trainees in each region (10 h); they qualify, so 2022 has 15 WTE to supervise with.
    Supervision time not counted."""
    return write_dataset(
        tmp_path / "ds", settings={"target_year": 2022, "supervision_time_counts": False},
        regions=[{"region": "r1", "name": "R1", "cost_multiplier": 1}, {"region": "r2", "name": "R2", "cost_multiplier": 1}],
        professions=[profession("p", supervision_hours_per_trainee=2, supervisor_hours_per_wte=1)],
        supervision=[{"trainee_profession": "p", "supervisor_profession": "p"}],
        workforce=[{"profession": "p", "region": r, "stock_wte": 10} for r in ("r1", "r2")],
        demand=[{"profession": "p", "region": r, "year": 2022, "demand_wte": 100} for r in ("r1", "r2")])


def test_supervision_frontier_of_one_year(tmp_path):
    """Scaling r1's hours by s scales them in every year (the supervisor_hours table has no year);
    --year 2022 makes 2022's capacity the axis. r1: 2021 10 s hours -> 5 s trainees, who qualify:
    2022 starts with 10 + 5 s WTE, s (10 + 5 s) hours -> s (10 + 5 s) / 2 trainees. Shortfall
    r1 90 - 10 s - 2.5 s^2, r2 77.5. Each 2022 hour trains half a trainee (0.5 WTE). An hour of
    2021 is worth more (its trainees supervise in 2022): it must not enter the marginal value."""
    ds = _two_year_supervision(tmp_path)
    out = tmp_path / "out"
    result = invoke("frontier", ds, "-o", out, "--kind", "supervision", "--region", "r1", "--year", "2022",
                    "--from", "0.5", "--to", "2", "--steps", "3", "--quiet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "frontier.csv")
    assert list(table.supervision_hours_per_week) == pytest.approx([s * (10 + 5 * s) for s in (0.5, 1.25, 2)], abs=1e-4)
    assert list(table.weighted_shortfall) == pytest.approx([167.5 - 10 * s - 2.5 * s * s for s in (0.5, 1.25, 2)],
                                                           abs=1e-3)
    assert list(table.marginal_value_per_hour) == pytest.approx([0.5] * 3, abs=1e-6)
    assert_monotone(table, "supervision_hours_per_week")
    # without --year the axis is the first decision year's capacity (10 WTE x 1 h x s)
    whole = invoke("frontier", ds, "-o", tmp_path / "all", "--kind", "supervision", "--region", "r1",
                   "--from", "0.5", "--to", "2", "--steps", "3", "--quiet")
    assert whole.exit_code == 0, whole.output
    assert list(pd.read_csv(tmp_path / "all" / "frontier.csv").supervision_hours_per_week) == pytest.approx([5, 12.5, 20])
    figures = json.loads((out / "scenarios" / "supervision-x2" / "scenario.json").read_text())["figures"]
    assert ["p", "r1", 2022, 2.0, pytest.approx(40, abs=1e-4)] in figures["supervision_capacity"]


def test_options_that_select_nothing_are_refused_before_solving(tmp_path):
    ds = _two_year_supervision(tmp_path)
    out = tmp_path / "out"
    result = invoke("frontier", ds, "-o", out, "--region", "r1", "--quiet")
    assert result.exit_code == 2, result.output
    assert ("command line (frontier --kind budget --region r1): matches no row of budget.csv (filters: region=r1)"
            in result.output)
    assert not out.exists()


def test_point_names_stay_distinct(tmp_path):
    ds = write_dataset(
        tmp_path / "ds", professions=[profession("p")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 100}],
        budget=[{"year": 2021, "budget_gbp": 50_000}])
    result = invoke("frontier", ds, "-o", tmp_path / "close", "--from", "1", "--to", "1.000001", "--steps", "3",
                    "--workers", "1", "--quiet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "close" / "frontier.csv")
    assert list(table.point) == ["budget-x1", "budget-x1.0000005", "budget-x1.000001"]
    assert list(table.budget_gbp) == pytest.approx([50_000, 50_000.025, 50_000.05])
    same = invoke("frontier", ds, "-o", tmp_path / "same", "--from", "1", "--to", "1", "--steps", "3", "--quiet")
    assert same.exit_code == 0 and list(pd.read_csv(tmp_path / "same" / "frontier.csv").point) == ["budget-x1"]


def test_frontier_reads_only_current_results(tmp_path):
    from optimiser.whatif.frontier import frontier_cases, frontier_table
    from optimiser.scenarios import prepare_base

    ds = write_dataset(
        tmp_path / "ds", professions=[profession("p")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 100}],
        budget=[{"year": 2021, "budget_gbp": 50_000}])
    out = tmp_path / "out"
    assert invoke("frontier", ds, "-o", out, "--from", "1", "--to", "3", "--steps", "3", "--quiet").exit_code == 0
    (out / "scenarios" / "budget-x2" / "summary.json").write_text("{ corrupt")
    record = json.loads((out / "scenarios" / "budget-x3" / "scenario.json").read_text())
    (out / "scenarios" / "budget-x3" / "scenario.json").write_text(json.dumps({**record, "fingerprint": "old"}))
    cases = frontier_cases(prepare_base(ds), "budget", [1, 2, 3])
    table = frontier_table(out, cases, "budget")
    assert list(table.status) == ["optimal", "failed", "failed"]
    assert table.weighted_shortfall.iloc[0] == pytest.approx(50, abs=1e-4) and table.weighted_shortfall.iloc[1:].isna().all()

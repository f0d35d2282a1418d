"""Deliberately infeasible datasets: the status says so, no plan figures are written, and the
elastic diagnosis names the limit and the amount."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from optimiser.cli import main
from tests.helpers import profession, write_dataset


def committed_pipeline(tmp_path, **extra):
    """Two-year course, 10 trainees started 2020 at GBP 1,000 a year: GBP 10,000 committed
    in 2021 against a GBP 8,000 budget."""
    tables = dict(
        professions=[profession("p", duration_years=2)],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10}],
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 10}],
        budget=[{"year": 2021, "budget_gbp": 8000}],
    )
    tables.update(extra)
    return write_dataset(tmp_path / "ds", **tables)


def test_budget_below_committed_cost_is_infeasible_and_named(tmp_path, solve):
    s = solve(committed_pipeline(tmp_path))
    assert s.status == "infeasible"
    assert s.summary["has_plan"] is False
    assert s.summary["weighted_shortfall"] is None and s.summary["total_cost_gbp"] is None
    assert not (s.out / "plan.csv").exists() and not (s.out / "workforce.csv").exists()
    (conflict,) = s.summary["conflicts"]
    assert conflict["family"] == "budget" and conflict["year"] == 2021
    assert conflict["amount"] == pytest.approx(2000)
    assert "the 2021/22 national budget is GBP 2,000 short" in conflict["description"]
    assert (s.out / "conflicts.csv").exists()


def test_trainees_without_a_supervisor_row_cannot_be_taken(tmp_path, solve):
    """A pipeline of a profession that needs 3 h a week and has no supervisor row: 10 x 3 = 30 h."""
    ds = committed_pipeline(tmp_path, professions=[profession("p", duration_years=2, supervision_hours_per_trainee=3)],
                            budget=[{"year": 2021, "budget_gbp": 1e9}])
    s = solve(ds)
    assert s.status == "infeasible"
    (conflict,) = s.summary["conflicts"]
    assert (conflict["family"], conflict["profession"], conflict["region"]) == ("supervision_need", "p", "r1")
    assert conflict["amount"] == pytest.approx(30)


def test_placements_below_pipeline(tmp_path, solve):
    ds = committed_pipeline(tmp_path, budget=[{"year": 2021, "budget_gbp": 1e9}], capacity=[
        {"profession": "p", "region": "r1", "year": 2021, "placement_capacity": 6, "intake_min": "", "intake_max": ""}])
    s = solve(ds)
    (conflict,) = s.summary["conflicts"]
    assert conflict["family"] == "placements" and conflict["amount"] == pytest.approx(4)


def test_cli_exit_status_for_infeasible(tmp_path):
    ds = committed_pipeline(tmp_path)
    result = CliRunner().invoke(main, ["run", str(ds), "-o", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "INFEASIBLE" in result.output
    assert "national budget is GBP 2,000 short" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "infeasible"


def test_a_supervisor_short_of_hours_is_named_not_the_trainees(tmp_path, solve):
    """Trainees a (minimum intake 10, 0.3 h a week each: 3 h) may be supervised by q, whose 10 WTE
    give 0.1 h each (1 h): 2 hours short. The conflict names q's capacity, not trainees without
    any permitted supervisor (which is the message only where there is no supervision row)."""
    ds = write_dataset(
        tmp_path / "ds",
        professions=[profession("a", supervision_hours_per_trainee=0.3), profession("q", supervisor_hours_per_wte=0.1)],
        supervision=[{"trainee_profession": "a", "supervisor_profession": "q"}],
        workforce=[{"profession": "a", "region": "r1", "stock_wte": 0}, {"profession": "q", "region": "r1", "stock_wte": 10}],
        demand=[{"profession": "a", "region": "r1", "year": 2021, "demand_wte": 10}],
        capacity=[{"profession": "a", "region": "r1", "year": 2021, "placement_capacity": "", "intake_min": 10,
                   "intake_max": ""}])
    s = solve(ds)
    assert s.status == "infeasible"
    (conflict,) = s.summary["conflicts"]
    assert (conflict["family"], conflict["profession"]) == ("supervision_capacity", "q")
    assert conflict["amount"] == pytest.approx(2)

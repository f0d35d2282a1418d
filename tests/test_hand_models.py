"""Models small enough to solve by hand: each asserts the plan, the objective and the
shadow prices worked out on paper (derivations in the docstrings)."""

from __future__ import annotations

import pytest

from tests.helpers import profession, write_dataset

TOL = 1e-4  # stage 2 may give back 1e-6 relative + 1e-6 absolute of the shortfall


def approx(value):
    return pytest.approx(value, rel=TOL, abs=TOL)


def one_profession(tmp_path, *, demand_wte=10.0, stock=0.0, budget=6000.0, settings=None, **tables):
    tables.setdefault("professions", [profession("p")])
    tables.setdefault("workforce", [{"profession": "p", "region": "r1", "stock_wte": stock}])
    tables.setdefault("demand", [{"profession": "p", "region": "r1", "year": 2021, "demand_wte": demand_wte}])
    tables.setdefault("budget", [{"year": 2021, "budget_gbp": budget}])
    return write_dataset(tmp_path / "ds", settings=settings, **tables)


def test_budget_limits_intake(tmp_path, solve):
    """Duration 1, c = j = 1, GBP 1,000 a trainee, budget GBP 6,000, demand 10:
    6 places, shortfall 4; GBP 1m more buys 1,000 places -> 1,000 WTE per GBP 1m."""
    s = solve(one_profession(tmp_path))
    assert s.status == "optimal"
    assert s.intake("p", "r1", 2021) == approx(6)
    assert s.summary["weighted_shortfall"] == approx(4)
    assert s.summary["total_shortfall_wte"] == approx(4)
    assert s.summary["total_cost_gbp"] == approx(6000)
    assert s.shadow("budget", year=2021) == approx(1000)
    assert s.summary["binding_limits"][0]["family"] == "budget"


def test_money_that_closes_no_gap_is_not_spent(tmp_path, solve):
    """Budget for 50 places, demand 10: the cost stage buys exactly 10, and the budget is slack."""
    s = solve(one_profession(tmp_path, budget=50_000))
    assert s.intake("p", "r1", 2021) == approx(10)
    assert s.summary["weighted_shortfall"] == approx(0)
    assert s.summary["total_cost_gbp"] == approx(10_000)
    assert s.shadow("budget", year=2021) == approx(0)


def test_regional_budget(tmp_path, solve):
    """Two regions, demand 10 each, national GBP 100k, region r1 capped at GBP 3k with
    cost multiplier 1.5 (GBP 1,500 a trainee): r1 takes 2, r2 takes 10; shortfall 8.
    One more GBP 1m in r1 buys 666.67 places there."""
    regions = [{"region": "r1", "name": "One", "cost_multiplier": 1.5},
               {"region": "r2", "name": "Two", "cost_multiplier": 1}]
    ds = write_dataset(
        tmp_path / "ds", regions=regions, professions=[profession("p")],
        workforce=[{"profession": "p", "region": r, "stock_wte": 0} for r in ("r1", "r2")],
        demand=[{"profession": "p", "region": r, "year": 2021, "demand_wte": 10} for r in ("r1", "r2")],
        budget=[{"year": 2021, "region": "", "budget_gbp": 100_000},
                {"year": 2021, "region": "r1", "budget_gbp": 3000}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(2)
    assert s.intake("p", "r2", 2021) == approx(10)
    assert s.summary["weighted_shortfall"] == approx(8)
    assert s.shadow("regional_budget", region="r1", year=2021) == approx(1e6 / 1500)
    assert s.shadow("budget", year=2021) == approx(0)


def test_supervision_capacity(tmp_path, solve):
    """Trainees t need 2 h a week each; 10 WTE of supervisors s give 1 h each: 5 trainees,
    shortfall 5 of 10. One more supervision hour a week -> 0.5 trainee -> 0.5 WTE.
    (Supervision time not counted here: ``test_hand_models_v2`` prices it.)"""
    ds = one_profession(
        tmp_path, budget=1e9, settings={"supervision_time_counts": False},
        professions=[profession("t", supervision_hours_per_trainee=2),
                     profession("s", supervisor_hours_per_wte=1)],
        workforce=[{"profession": "t", "region": "r1", "stock_wte": 0},
                   {"profession": "s", "region": "r1", "stock_wte": 10}],
        demand=[{"profession": "t", "region": "r1", "year": 2021, "demand_wte": 10},
                {"profession": "s", "region": "r1", "year": 2021, "demand_wte": 10}],
        supervision=[{"trainee_profession": "t", "supervisor_profession": "s"}])
    s = solve(ds)
    assert s.intake("t", "r1", 2021) == approx(5)
    assert s.summary["weighted_shortfall"] == approx(5)
    assert s.shadow("supervision_capacity", "s", "r1", 2021) == approx(0.5)
    alloc = s.table("supervision")
    assert alloc["hours_per_week"].sum() == approx(10)


def test_supervision_capacity_grows_with_the_plan(tmp_path, solve):
    """Capacity in year t comes from the stock at the end of t-1. Supervisors s (stock 2,
    1 h each) may supervise t (1 h each) and s itself (1 h each); horizon 2021..2022, target 2022.
    2021: 2 h -> 2 trainees. Training s in 2021 (2 places) gives 4 h in 2022.
    (Supervision time not counted, and no sustain years after 2022.)"""
    ds = write_dataset(
        tmp_path / "ds", settings={"target_year": 2022, "supervision_time_counts": False},
        professions=[profession("t", supervision_hours_per_trainee=1),
                     profession("s", supervision_hours_per_trainee=1, supervisor_hours_per_wte=1)],
        workforce=[{"profession": "t", "region": "r1", "stock_wte": 0},
                   {"profession": "s", "region": "r1", "stock_wte": 2}],
        demand=[{"profession": "t", "region": "r1", "year": 2022, "demand_wte": 4},
                {"profession": "s", "region": "r1", "year": 2022, "demand_wte": 4}],
        supervision=[{"trainee_profession": "t", "supervisor_profession": "s"},
                     {"trainee_profession": "s", "supervisor_profession": "s"}],
        budget=[{"year": 2021, "budget_gbp": 1e9}])
    s = solve(ds)
    assert s.status == "optimal"
    # 2021: 2 h -> s gets 2 places (stock 4 at end of 2021); 2022: 4 h -> 4 t places.
    assert s.summary["weighted_shortfall"] == approx(0)
    assert s.intake("s", "r1", 2021) == approx(2)
    assert s.intake("t", "r1", 2022) == approx(4)


def test_placements(tmp_path, solve):
    """Placement capacity 3, demand 10: shortfall 7, one more placement -> 1 WTE."""
    ds = one_profession(tmp_path, budget=1e9, capacity=[
        {"profession": "p", "region": "r1", "year": 2021, "placement_capacity": 3, "intake_min": "", "intake_max": ""}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(3)
    assert s.summary["weighted_shortfall"] == approx(7)
    assert s.shadow("placements", "p", "r1", 2021) == approx(1)


def test_intake_limits(tmp_path, solve):
    """intake_max 4 -> shortfall 6, 1 WTE per place; an intake_min of 8 for q forces 8 places
    though q's demand is 5 (the minimum is a commitment), and costs money."""
    ds = one_profession(
        tmp_path, budget=1e9,
        professions=[profession("p"), profession("q")],
        workforce=[{"profession": k, "region": "r1", "stock_wte": 0} for k in ("p", "q")],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10},
                {"profession": "q", "region": "r1", "year": 2021, "demand_wte": 5}],
        capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": "", "intake_min": "", "intake_max": 4},
                  {"profession": "q", "region": "r1", "year": 2021, "placement_capacity": "", "intake_min": 8, "intake_max": ""}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(4)
    assert s.intake("q", "r1", 2021) == approx(8)
    assert s.summary["weighted_shortfall"] == approx(6)
    assert s.summary["total_cost_gbp"] == approx(12_000)
    assert s.shadow("intake_max", "p", "r1", 2021) == approx(1)
    assert s.shadow("intake_min", "q", "r1", 2021) == approx(0)


def test_growth_limit(tmp_path, solve):
    """Base-year intake 10 (pipeline), max_growth 0.5: at most 15 places in 2021, 22.5 in 2022.
    Demand 50 in 2022 for a 1-year course: 15 + 22.5 = 37.5 qualified, shortfall 12.5.
    One more trainee allowed in 2021 also raises the 2022 cap by 1.5: 2.5 WTE."""
    ds = write_dataset(
        tmp_path / "ds", settings={"target_year": 2022},
        professions=[profession("p", max_growth=0.5)],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2022, "demand_wte": 50}],
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 10}],
        budget=[{"year": 2021, "budget_gbp": 1e9}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(15)
    assert s.intake("p", "r1", 2022) == approx(22.5)
    assert s.summary["weighted_shortfall"] == approx(12.5)
    assert s.shadow("growth", "p", None, 2022) == approx(1)
    assert s.shadow("growth", "p", None, 2021) == approx(2.5)


def test_dynamics_two_year_course(tmp_path, solve):
    """d = 2 (April starts), c = 0.8, j = 0.5, a = 0.1, stock 100, GBP 1,000 a year; a
    ``posts`` profession whose first-year trainees give 0.25 WTE (a ``trainee_service`` row).
    Pipeline: 10 started 2020 (complete end 2021). Budgets: 2021 GBP 20k, 2022 GBP 50k.
      S2021 = 0.9*100 + 0.5*0.8*10 = 94;  S2022 = 0.9*94 + 0.4*x21 = 84.6 + 0.4 x21
      supply2022 = S2022 + 0.25*x22;  N2021 = 10 + x21 <= 20;  N2022 = x21 + x22 <= 50
    Max 0.4 x21 + 0.25 x22 -> x21 = 10, x22 = 40: supply 98.6, shortfall 120 - 98.6 = 21.4.
    Duals: GBP 1m more in 2022 -> 1,000 x22 -> 250 WTE; in 2021 -> 1,000 more x21 and
    1,000 fewer x22 -> 1,000 * (0.4 - 0.25) = 150 WTE. The 2022 cohort's second year,
    2023, is after the horizon: 40 x GBP 1,000 committed."""
    ds = write_dataset(
        tmp_path / "ds", settings={"target_year": 2022},
        professions=[profession("p", duration_years=2, completion_rate=0.8, joining_rate=0.5,
                                attrition_rate=0.1, trainee_service_wte=0, service_basis="posts")],
        trainee_service=[{"profession": "p", "training_year": 1, "service_wte": 0.25}],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 100}],
        demand=[{"profession": "p", "region": "r1", "year": 2022, "demand_wte": 120}],
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 10}],
        budget=[{"year": 2021, "budget_gbp": 20_000}, {"year": 2022, "budget_gbp": 50_000}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(10)
    assert s.intake("p", "r1", 2022) == approx(40)
    assert s.summary["weighted_shortfall"] == approx(21.4)
    assert s.summary["total_cost_gbp"] == approx(70_000)
    assert s.summary["committed_cost_after_horizon_gbp"] == approx(40_000)
    assert s.shadow("budget", year=2022) == approx(250)
    assert s.shadow("budget", year=2021) == approx(150)
    plan = s.table("plan").set_index("year")
    assert plan.loc[2021, "completions"] == approx(8)
    assert plan.loc[2022, "completions"] == approx(8)
    assert plan.loc[2022, "in_training_end"] == approx(40)
    wf = s.table("workforce").set_index("year")
    assert wf.loc[2021, "stock_wte"] == approx(94)
    assert wf.loc[2022, "supply_wte"] == approx(98.6)


def test_recruitment_sources(tmp_path, solve):
    """CBT trainees q draw half their intake from PWP stock p (10 WTE, demand 10); q demand 20.
    GBP 1,000 a place, budget GBP 20k: shortfall = 20 - 0.5 x_q - x_p while x_p <= 0.5 x_q,
    so x_q = 40/3, x_p = 20/3, shortfall 20/3; GBP 1m more closes 1e6/1500 = 666.67 WTE."""
    ds = one_profession(
        tmp_path, budget=20_000,
        professions=[profession("p"), profession("q")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 10},
                   {"profession": "q", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10},
                {"profession": "q", "region": "r1", "year": 2021, "demand_wte": 20}],
        recruitment_sources=[{"trainee_profession": "q", "source_profession": "p", "share": 0.5}])
    s = solve(ds)
    assert s.intake("q", "r1", 2021) == approx(40 / 3)
    assert s.intake("p", "r1", 2021) == approx(20 / 3)
    assert s.summary["weighted_shortfall"] == approx(20 / 3)
    assert s.shadow("budget", year=2021) == approx(1e6 / 1500)


def test_inflows_and_weights(tmp_path, solve):
    """Inflow 2 WTE closes 2 of the gap; weight 3 on p makes its WTE worth 3 in the objective
    and the budget goes to p first: budget 6 places, p demand 5 (weight 3), q demand 5."""
    ds = one_profession(
        tmp_path, budget=6000,
        professions=[profession("p", weight=3), profession("q")],
        workforce=[{"profession": k, "region": "r1", "stock_wte": 0} for k in ("p", "q")],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 5},
                {"profession": "q", "region": "r1", "year": 2021, "demand_wte": 5}],
        inflows=[{"profession": "q", "region": "r1", "year": 2021, "inflow_wte": 2}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(5)
    assert s.intake("q", "r1", 2021) == approx(1)
    assert s.summary["weighted_shortfall"] == approx(2)
    assert s.summary["total_shortfall_wte"] == approx(2)
    assert s.shadow("budget", year=2021) == approx(1000)  # the marginal place goes to q (weight 1)


def test_year_weights_and_several_assessed_years(tmp_path, solve):
    """Assessed 2021 (weight 2) and 2022 (weight 1), demand 10 both years, budget 5 places
    a year, 1-year course, no attrition: 2021 stock 5 (gap 5), 2022 stock 10 (gap 0).
    Objective 2*5 = 10; total_shortfall_wte is the target year's: 0."""
    ds = write_dataset(
        tmp_path / "ds", settings={"target_year": 2022, "assessed_years": [2021, 2022],
                                   "year_weights": {2021: 2, 2022: 1}},
        professions=[profession("p")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": y, "demand_wte": 10} for y in (2021, 2022)],
        budget=[{"year": y, "budget_gbp": 5000} for y in (2021, 2022)])
    s = solve(ds)
    assert s.summary["weighted_shortfall"] == approx(10)
    assert s.summary["total_shortfall_wte"] == approx(0)
    assert s.shadow("budget", year=2021) == approx(2000)


def test_integer_places(tmp_path, solve):
    """Budget for 6.5 places: the LP buys 6.5 (shortfall 3.5); with integer_places 6 (4).
    Shadow prices then come from the LP relaxation, and the summary says so."""
    lp = solve(one_profession(tmp_path, budget=6500))
    assert lp.summary["weighted_shortfall"] == approx(3.5)
    milp = solve(one_profession(tmp_path / "int", budget=6500), integer=True)
    assert milp.status == "optimal"
    assert milp.intake("p", "r1", 2021) == approx(6)
    assert milp.summary["weighted_shortfall"] == approx(4)
    assert "relaxation" in milp.summary["shadow_prices_from"]
    assert milp.shadow("budget", year=2021) == approx(1000)


def test_whole_places_optimum_is_not_the_rounded_lp_plan(tmp_path, solve):
    """Two one-year courses in one region and year, c = j = 1, demand 10 each, budget GBP 5,000:
    a costs GBP 2,000 a trainee and weighs 3, b costs GBP 1,000 and weighs 1.

    LP: a closes 3 / 2,000 weighted WTE per pound, b 1 / 1,000, so the money goes to a:
    a = 2.5, shortfall 3 * 7.5 + 10 = 32.5 (budget dual 3 / 2,000 a pound = 1,500 per GBP 1m).
    Whole places: 2,000a + 1,000b <= 5,000 with a, b whole; the shortfall 3(10 - a) + (10 - b)
    is least at a = 2, b = 1: 24 + 9 = 33 (a = 2, b = 0 -- the LP plan rounded down -- gives 34;
    a = 1, b = 3 gives 34; a = 0, b = 5 gives 35). So the integer optimum, 33, is above the
    LP's 32.5 and buys a place of b the LP does not. The cost stage keeps 33: 3a + b = 7 within
    the budget only at (2, 1), GBP 5,000. ``mip_gap: 0`` asks for the proven optimum (34 is
    within 3% of 33)."""
    tables = {"professions": [profession("a", cost_per_trainee_year_gbp=2000, weight=3),
                              profession("b", cost_per_trainee_year_gbp=1000, weight=1)],
              "workforce": [{"profession": k, "region": "r1", "stock_wte": 0} for k in ("a", "b")],
              "demand": [{"profession": k, "region": "r1", "year": 2021, "demand_wte": 10} for k in ("a", "b")]}
    lp = solve(one_profession(tmp_path / "lp", budget=5000, **tables))
    assert lp.intake("a", "r1", 2021) == approx(2.5) and lp.intake("b", "r1", 2021) == approx(0)
    assert lp.summary["weighted_shortfall"] == approx(32.5)
    milp = solve(one_profession(tmp_path / "int", budget=5000, settings={"mip_gap": 0}, **tables), integer=True)
    assert milp.status == "optimal"
    assert milp.intake("a", "r1", 2021) == approx(2) and milp.intake("b", "r1", 2021) == approx(1)
    assert milp.summary["weighted_shortfall"] == approx(33)
    assert milp.summary["total_cost_gbp"] == approx(5000)
    assert milp.summary["mip_gaps"]["shortfall"] <= 1e-9
    assert milp.shadow("budget", year=2021) == approx(1500)

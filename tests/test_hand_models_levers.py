"""The levers of model version 2, each on a model small enough to solve by hand: another route
into a profession (drawing on a source profession, with a share cap), retention tranches and
direct recruitment with a lead time. Derivations in the docstrings; every solve also goes
through the independent checker and HiGHS (``conftest``).

Unless a test says otherwise: base year 2020, target year 2021, one region, c = j = 1, a = 0,
one-year April courses at GBP 1,000 a trainee-year, supervision time counted (no supervision here).
"""

from __future__ import annotations

import pandas as pd
import pytest

from optimiser import pipeline
from tests.helpers import profession, write_dataset

TOL = 1e-4


def approx(value):
    return pytest.approx(value, rel=TOL, abs=TOL)


def workforce(*stocks, regions=("r1",)):
    return [{"profession": p, "region": r, "stock_wte": s} for p, s in stocks for r in regions]


def demand(*rows, regions=("r1",)):
    return [{"profession": p, "region": r, "year": t, "demand_wte": d} for p, t, d in rows for r in regions]


def no_training(*professions, years=(2021,), regions=("r1",)):
    return [{"profession": p, "region": r, "year": t, "placement_capacity": "", "intake_min": "", "intake_max": 0}
            for p in professions for t in years for r in regions]


def levers(solved) -> pd.DataFrame:
    return pd.read_csv(solved.out / "levers.csv")


def test_a_route_drawing_on_another_profession_with_a_share_cap(tmp_path, solve):
    """q (demand 10) can be trained on its main route (GBP 1,000) or on route 'conversion'
    (GBP 500 a trainee, drawing 1 WTE from p's stock of 20, demand 5), which may take at most
    half of q's intake: conv <= 0.5 (main + conv), i.e. conv <= main. Budget GBP 7,000:
      1,000 main + 500 conv <= 7,000 with conv = main -> main = conv = 14/3, q gap 10 - 28/3 = 2/3.
    p keeps 20 - 14/3 >= 5. GBP 1m more -> 2e6/1,500 = 1,333.3 WTE. One more trainee of the
    route's share (conv <= main + 2 eps): main = (7,000 - 1,000 eps)/1,500, total + 2/3 eps:
    0.667 WTE. levers.csv: the route's 14/3 trainees cost GBP 2,333.33, all in post in 2021/22."""
    ds = write_dataset(
        tmp_path / "ds",
        professions=[profession("p"), profession("q")],
        routes=[{"profession": "q", "route": "conversion", "cost_per_trainee_year_gbp": 500,
                 "source_profession": "p", "source_draw": 1, "max_share": 0.5}],
        workforce=workforce(("p", 20), ("q", 0)), demand=demand(("p", 2021, 5), ("q", 2021, 10)),
        capacity=no_training("p"), budget=[{"year": 2021, "budget_gbp": 7000}])
    s = solve(ds)
    plan = s.table("plan").set_index(["profession", "route"])
    assert plan.loc[("q", "main"), "intake"] == approx(14 / 3)
    assert plan.loc[("q", "conversion"), "intake"] == approx(14 / 3)
    assert s.summary["weighted_shortfall"] == approx(2 / 3)
    assert s.shadow("budget", year=2021) == approx(2e6 / 1500)
    share = s.table("constraints").query("family == 'route_share'")
    assert list(share["item"]) == ["conversion"] and float(share["shadow_price"].iloc[0]) == approx(2 / 3)
    assert s.row("workforce", profession="p")["stock_wte"] == approx(20 - 14 / 3)
    (route,) = levers(s).to_dict(orient="records")
    assert (route["kind"], route["name"]) == ("route", "conversion")
    assert route["cost_gbp"] == approx(7000 / 3) and route["in_post_target_wte"] == approx(14 / 3)
    assert route["gbp_per_wte"] == approx(500)


def test_retention_tranches_keep_leavers_cheapest_first(tmp_path, solve):
    """p: stock 100, attrition 0.3 (30 leave in 2021/22), demand 90, no training. Tranche 1
    keeps up to half the leavers at GBP 2,000 a WTE, tranche 2 another half at GBP 5,000.
    Budget GBP 40,000: rho1 = 15 (GBP 30,000), rho2 = 2 (GBP 10,000): stock 87, gap 3.
    GBP 1m more keeps 200 more at GBP 5,000: 200 WTE. One more WTE of tranche 1's cap saves
    GBP 3,000 of tranche 2: rho1 = 15 + e, rho2 = 2 - 0.4 e, + 0.6 e WTE: 0.6."""
    ds = write_dataset(
        tmp_path / "ds",
        professions=[profession("p", attrition_rate=0.3)],
        retention=[{"profession": "p", "region": "", "tranche": 1, "max_share_of_leavers": 0.5,
                    "cost_per_wte_year_gbp": 2000, "first_year": ""},
                   {"profession": "p", "region": "", "tranche": 2, "max_share_of_leavers": 0.5,
                    "cost_per_wte_year_gbp": 5000, "first_year": ""}],
        workforce=workforce(("p", 100)), demand=demand(("p", 2021, 90)),
        capacity=no_training("p"), budget=[{"year": 2021, "budget_gbp": 40_000}])
    s = solve(ds)
    assert s.summary["weighted_shortfall"] == approx(3)
    assert s.summary["total_cost_gbp"] == approx(40_000)
    assert s.shadow("budget", year=2021) == approx(200)
    caps = s.table("constraints").query("family == 'retention_cap'").set_index("item")
    assert float(caps.loc["tranche 1", "shadow_price"]) == approx(0.6)
    assert float(caps.loc["tranche 2", "shadow_price"]) == approx(0)
    kept = levers(s).set_index("name")
    assert kept.loc["tranche 1", "amount_wte"] == approx(15) and kept.loc["tranche 2", "amount_wte"] == approx(2)
    assert kept.loc["tranche 1", "gbp_per_wte"] == approx(2000)


def test_retention_from_its_first_year_only(tmp_path, solve):
    """A tranche with first_year 2022/23 keeps no one in 2021/22: the 2021/22 gap of 30 stays."""
    ds = write_dataset(
        tmp_path / "ds", settings={"horizon_end": 2022},
        professions=[profession("p", attrition_rate=0.3)],
        retention=[{"profession": "p", "region": "", "tranche": 1, "max_share_of_leavers": 1,
                    "cost_per_wte_year_gbp": 1000, "first_year": 2022}],
        workforce=workforce(("p", 100)), demand=demand(("p", 2021, 100), ("p", 2022, 70)),
        capacity=no_training("p", years=(2021, 2022)))
    s = solve(ds)
    assert s.summary["weighted_shortfall"] == approx(30)
    assert list(levers(s)["year"]) == [2022]


def test_recruitment_with_a_lead_time_a_cap_and_first_year_attrition(tmp_path, solve):
    """Two regions, demand 50 in 2022/23 (the target and horizon), no stock, no training.
    Recruitment: signed in a year, in post a year later (lead time 1), a quarter lost in the
    first year, GBP 10,000 each, at most 40 a year; r1's own row caps it at 10. Only the
    2021/22 signings arrive by 2022/23 (a 2022/23 signing would arrive after the horizon: no
    variable). r1: 0.75 x 10 = 7.5, gap 42.5; r2: 30, gap 20; objective 62.5. One more WTE of a
    cap: 0.75 WTE. levers.csv: GBP 13,333 per WTE in post."""
    regions = ("r1", "r2")
    ds = write_dataset(
        tmp_path / "ds", settings={"target_year": 2022},
        regions=[{"region": r, "name": r, "cost_multiplier": 1} for r in regions],
        professions=[profession("p")],
        recruitment=[{"profession": "p", "region": "", "lead_time_years": 1, "cost_per_wte_gbp": 10_000,
                      "max_wte_per_year": 40, "first_year_attrition": 0.25},
                     {"profession": "p", "region": "r1", "lead_time_years": 1, "cost_per_wte_gbp": 10_000,
                      "max_wte_per_year": 10, "first_year_attrition": 0.25}],
        workforce=workforce(("p", 0), regions=regions), demand=demand(("p", 2022, 50), regions=regions),
        capacity=no_training("p", years=(2021, 2022), regions=regions))
    s = solve(ds)
    assert s.summary["weighted_shortfall"] == approx(62.5)
    assert s.shadow("recruitment_cap", "p", "r1", 2021) == approx(0.75)
    assert s.shadow("recruitment_cap", "p", "r2", 2021) == approx(0.75)
    signed = levers(s).set_index("region")
    assert list(signed["year"]) == [2021, 2021]
    assert signed.loc["r1", "amount_wte"] == approx(10) and signed.loc["r2", "amount_wte"] == approx(40)
    assert signed.loc["r2", "in_post_target_wte"] == approx(30)
    assert signed.loc["r2", "gbp_per_wte"] == approx(400_000 / 30)
    assert s.summary["total_cost_gbp"] == approx(500_000)


def test_a_lever_never_raises_the_optimal_shortfall(tmp_path):
    """The same dataset with and without each lever: the lever can only help (stage 1)."""
    base = dict(professions=[profession("p", attrition_rate=0.2), profession("q")],
                workforce=workforce(("p", 50), ("q", 10)), demand=demand(("p", 2021, 60), ("q", 2021, 20)),
                budget=[{"year": 2021, "budget_gbp": 8000}])
    with_levers = dict(base,
                       routes=[{"profession": "p", "route": "fast", "cost_per_trainee_year_gbp": 600,
                                "source_profession": "q", "source_draw": 0.5, "max_share": 0.3}],
                       retention=[{"profession": "p", "region": "", "tranche": 1, "max_share_of_leavers": 0.4,
                                   "cost_per_wte_year_gbp": 700, "first_year": ""}],
                       recruitment=[{"profession": "q", "region": "", "lead_time_years": 0, "cost_per_wte_gbp": 900,
                                     "max_wte_per_year": 3, "first_year_attrition": 0.1}])
    without = pipeline.run(write_dataset(tmp_path / "a", **base), None).solution.objectives["shortfall"]
    levered = pipeline.run(write_dataset(tmp_path / "b", **with_levers), None).solution.objectives["shortfall"]
    assert levered <= without + 1e-6
    assert levered < without - 1  # and here they close part of the gap


def test_what_ifs_reach_the_lever_tables(tmp_path):
    """Overrides set or scale any lever column like any other: switching the route off (a share of
    0) leaves q to its main route (GBP 7,000: 7 places, gap 3), and ``region=`` selects the rows
    that apply to every region. An invalid lever value is refused with the override named."""
    from click.testing import CliRunner

    from optimiser.cli import main

    ds = write_dataset(
        tmp_path / "ds",
        professions=[profession("p", attrition_rate=0.5), profession("q")],
        routes=[{"profession": "q", "route": "conversion", "cost_per_trainee_year_gbp": 500,
                 "source_profession": "p", "source_draw": 1, "max_share": 0.5}],
        retention=[{"profession": "p", "region": "", "tranche": 1, "max_share_of_leavers": 0.5,
                    "cost_per_wte_year_gbp": 100_000, "first_year": ""}],
        workforce=workforce(("p", 20), ("q", 0)), demand=demand(("p", 2021, 5), ("q", 2021, 10)),
        capacity=no_training("p"), budget=[{"year": 2021, "budget_gbp": 7000}])
    out = tmp_path / "off"
    result = CliRunner().invoke(main, ["run", str(ds), "-o", str(out), "--set", "routes.max_share[route=conversion]=0",
                                       "--set", "retention.max_share_of_leavers[region=]=*0.5"])
    assert result.exit_code == 0, result.output
    summary = pd.read_json(out / "summary.json", typ="series")
    assert summary["weighted_shortfall"] == approx(3)
    assert [o["values_changed"] for o in summary["overrides"]] == [1, 1]
    bad = CliRunner().invoke(main, ["run", str(ds), "-o", str(tmp_path / "bad"), "--set", "routes.source_draw=2"])
    assert bad.exit_code == 2, bad.output
    assert "command line (--set): makes routes.csv row 2, column 'source_draw' invalid" in bad.output
    assert not (tmp_path / "bad").exists()

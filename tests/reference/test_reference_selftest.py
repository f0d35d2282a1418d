"""Self-tests of the reference implementation (spec_lp, checker, generate) only.

Each tiny dataset has an answer worked out on paper in its docstring.
Defaults: base year 2020, target 2021 (= horizon unless given), one region R
(multiplier 1), cost GBP 1000 per trainee-year, completion = joining = 1,
attrition 0, no supervision, courses starting in April, the ``qualified``
service basis (trainees do not count against demand; sigma[1] = 0), 37.5
contracted hours a week and supervision time counting. A budget row for 2019
only means "no budget limit".
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .checker import (check_results, completion_offset, months_in_year, qualified_shortfall, simulate,
                      sustain_shortfall, total_shortfall, weighted_shortfall, write_results)
from .generate import generate_dataset
from .spec_lp import DatasetError, load_dataset, parse_year, solve_reference, timing, year_label

ROOT = Path(__file__).resolve().parents[2]

PROF_COLUMNS_V1 = ["profession", "name", "duration_years", "completion_rate", "joining_rate", "attrition_rate",
                   "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "supervisor_hours_per_wte",
                   "trainee_service_wte", "weight", "max_growth"]
PROF_COLUMNS = PROF_COLUMNS_V1 + ["start_month", "service_basis", "max_decline"]


ROUTE_COLUMNS = ["profession", "route", "duration_years", "start_month", "completion_rate", "joining_rate",
                 "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "source_profession", "source_draw",
                 "max_share"]
RETENTION_COLUMNS = ["profession", "region", "tranche", "max_share_of_leavers", "cost_per_wte_year_gbp",
                     "first_year"]
RECRUITMENT_COLUMNS = ["profession", "region", "lead_time_years", "cost_per_wte_gbp", "max_wte_per_year",
                       "first_year_attrition"]


def route(p="P", k="alt", d="", m="", c="", j="", cost="", h="", source="", draw="", share=""):
    """A routes.csv row; blanks take the profession's values."""
    return [p, k, d, m, c, j, cost, h, source, draw, share]


def prof(key="P", d=1, c=1, j=1, a=0, cost=1000, h=0, H=0, tsw=0, weight="", g="", m="", basis="", dec=""):
    return [key, f"name {key}", d, c, j, a, cost, h, H, tsw, weight, g, m, basis, dec]


def _csv(path: Path, header, rows):
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(header)
        w.writerows(rows)


def make(tmp_path: Path, *, profs=None, regions=(("R", ""),), stock=(), demand=(), pipeline=None,
         capacity=None, supervision=None, sources=None, budget=(), regional=False, inflows=None,
         supervisor_hours=None, trainee_service=None, settings=None, name="ds", v1=False, routes=None,
         retention=None, recruitment=None) -> Path:
    """Write a dataset; optional tables are only written when given (None = file absent).

    ``v1=True`` writes professions.csv with the version-1 columns only.
    """
    out = tmp_path / name
    out.mkdir()
    rows = profs or [prof()]
    if v1:
        _csv(out / "professions.csv", PROF_COLUMNS_V1, [r[:len(PROF_COLUMNS_V1)] for r in rows])
    else:
        _csv(out / "professions.csv", PROF_COLUMNS, rows)
    _csv(out / "regions.csv", ["region", "name", "cost_multiplier"], [[r, r, m] for r, m in regions])
    _csv(out / "workforce.csv", ["profession", "region", "stock_wte"], stock)
    _csv(out / "demand.csv", ["profession", "region", "year", "demand_wte"], demand)
    if regional:
        _csv(out / "budget.csv", ["year", "region", "budget_gbp"], budget)
    else:
        _csv(out / "budget.csv", ["year", "budget_gbp"], budget)
    optional = {
        "pipeline.csv": (["profession", "region", "start_year", "trainees"], pipeline),
        "capacity.csv": (["profession", "region", "year", "placement_capacity", "intake_min", "intake_max"],
                         capacity),
        "supervision.csv": (["trainee_profession", "supervisor_profession"], supervision),
        "recruitment_sources.csv": (["trainee_profession", "source_profession", "share"], sources),
        "inflows.csv": (["profession", "region", "year", "inflow_wte"], inflows),
        "supervisor_hours.csv": (["profession", "region", "supervisor_hours_per_wte"], supervisor_hours),
        "trainee_service.csv": (["profession", "training_year", "service_wte"], trainee_service),
        "routes.csv": (ROUTE_COLUMNS, routes),
        "retention.csv": (RETENTION_COLUMNS, retention),
        "recruitment.csv": (RECRUITMENT_COLUMNS, recruitment),
    }
    for file, (header, rows) in optional.items():
        if rows is not None:
            _csv(out / file, header, rows)
    base = {"base_year": 2020, "target_year": 2021, "integer_places": False, "solver": "cbc",
            "time_limit_seconds": 10}
    base.update(settings or {})
    (out / "settings.yaml").write_text(yaml.safe_dump(base))
    return out


def solve(path: Path) -> dict:
    result = solve_reference(path)
    assert result["status"] == "optimal", result
    return result


def approx(value):
    return pytest.approx(value, rel=1e-5, abs=1e-5)


# ---------------------------------------------------------------------------- years


def test_years_parse_and_label():
    assert parse_year(2023) == 2023
    assert parse_year("2023") == 2023
    assert parse_year("2023/24") == 2023
    assert parse_year("1999/00") == 1999
    assert year_label(2023) == "2023/24"
    assert year_label(1999) == "1999/00"
    with pytest.raises(ValueError):
        parse_year("2023/25")


# ---------------------------------------------------------------------------- objective and budget


def test_budget_national_limits_intake(tmp_path):
    """Budget 6000 at 1000 a trainee -> x = 6, S = 6, shortfall 10 - 6 = 4."""
    r = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 6000]]))
    assert r["intake"] == {("P", "R", 2021): approx(6)}
    assert r["weighted_shortfall"] == approx(4)
    assert r["total_shortfall_wte"] == approx(4)
    assert r["total_cost_gbp"] == approx(6000)


def test_stage_two_spends_nothing_that_closes_no_gap(tmp_path):
    """Budget for 100 trainees, demand 10, stock 3 -> exactly 7 trainees, cost 7000."""
    r = solve(make(tmp_path, stock=[["P", "R", 3]], demand=[["P", "R", 2021, 10]], budget=[[2021, 100000]]))
    assert r["intake"][("P", "R", 2021)] == approx(7)
    assert r["weighted_shortfall"] == approx(0)
    assert r["total_cost_gbp"] == approx(7000)


def test_absent_budget_year_means_no_limit(tmp_path):
    """Budget row only for another year -> no limit in 2021: x = 10."""
    r = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2019, 1]]))
    assert r["intake"][("P", "R", 2021)] == approx(10)
    assert r["weighted_shortfall"] == approx(0)


def test_cost_multiplier(tmp_path):
    """Multiplier 1.5: 6000 / 1500 = 4 trainees, shortfall 6, cost 6000."""
    r = solve(make(tmp_path, regions=[("R", 1.5)], demand=[["P", "R", 2021, 10]], budget=[[2021, 6000]]))
    assert r["intake"][("P", "R", 2021)] == approx(4)
    assert r["weighted_shortfall"] == approx(6)
    assert r["total_cost_gbp"] == approx(6000)


def test_regional_budget(tmp_path):
    """National 10 trainees, region A capped at 3; demand A 8, B 4.

    A = 3 (cap), B = 4 (its need; more closes no gap) -> shortfall 5, cost 7000.
    """
    r = solve(make(tmp_path, regions=[("A", ""), ("B", "")],
                   demand=[["P", "A", 2021, 8], ["P", "B", 2021, 4]],
                   budget=[[2021, "", 10000], [2021, "A", 3000]], regional=True))
    assert r["intake"][("P", "A", 2021)] == approx(3)
    assert r["intake"][("P", "B", 2021)] == approx(4)
    assert r["weighted_shortfall"] == approx(5)
    assert r["total_cost_gbp"] == approx(7000)


def test_profession_weights(tmp_path):
    """Shared budget of 10 trainees, demand 8 each; A weight 2 is served first.

    A = 8, B = 2 -> weighted = 1 * 6 = 6, total shortfall 6.
    """
    r = solve(make(tmp_path, profs=[prof("A", weight=2), prof("B")],
                   demand=[["A", "R", 2021, 8], ["B", "R", 2021, 8]], budget=[[2021, 10000]]))
    assert r["intake"][("A", "R", 2021)] == approx(8)
    assert r["intake"][("B", "R", 2021)] == approx(2)
    assert r["weighted_shortfall"] == approx(6)
    assert r["total_shortfall_wte"] == approx(6)


def test_assessed_years_and_year_weights(tmp_path):
    """Two years, 5 trainees a year, attrition 0.5, demand 10 each year, "2021/22" labels.

    Weights 1 and 2: S1 = x1, S2 = 0.5 x1 + x2; best x1 = x2 = 5 -> shortfall 5 and 2.5,
    weighted 5 + 2 * 2.5 = 10; target year 2022 total shortfall 2.5.
    """
    r = solve(make(tmp_path, profs=[prof(a=0.5)],
                   demand=[["P", "R", "2021/22", 10], ["P", "R", "2022/23", 10]],
                   budget=[["2021/22", 5000], [2022, 5000]],
                   settings={"target_year": "2022/23", "assessed_years": [2021, "2022/23"],
                             "year_weights": {"2021/22": 1, 2022: 2}}))
    assert r["weighted_shortfall"] == approx(10)
    assert r["total_shortfall_wte"] == approx(2.5)
    assert r["total_cost_gbp"] == approx(10000)


def test_unassessed_year_is_not_optimised(tmp_path):
    """Only 2022 assessed, attrition 0: x1 + x2 = 10 closes it; cost 10 trainees; 2021 gap ignored."""
    r = solve(make(tmp_path, demand=[["P", "R", 2021, 10], ["P", "R", 2022, 10]],
                   budget=[[2021, 5000], [2022, 5000]],
                   settings={"target_year": 2022}))
    assert r["weighted_shortfall"] == approx(0)
    assert r["total_cost_gbp"] == approx(10000)


# ---------------------------------------------------------------------------- dynamics


def test_pipeline_duration_service_and_completion(tmp_path):
    """d = 2 (April: phi = 1, 1, 0; Q = 1), c = 0.8, j = 0.5, a = 0.1, stock 10, pipeline 4 started 2020.

    ``posts`` basis with sigma[1] = 0.5 (trainee_service row). 2021: N = 4 + x <= 9 (budget) -> x = 5
    (all of it helps): S = 0.9 * 10 + 0.5 * 0.8 * 4 = 10.6, E = x, T = 0.5 x, Y = 10.6 + 0.5 x = 13.1,
    shortfall 20 - 13.1 = 6.9 (qualified basis: 20 - 10.6 = 9.4), P = 9, cost 9 * 1000; the 2021
    cohort's second year (2022) is after the horizon: committed 5 * 1000.
    """
    r = solve(make(tmp_path, profs=[prof(d=2, c=0.8, j=0.5, a=0.1, tsw=0.5, basis="posts")],
                   stock=[["P", "R", 10]], trainee_service=[["P", 1, 0.5]],
                   demand=[["P", "R", 2021, 20]], pipeline=[["P", "R", 2020, 4], ["P", "R", 2018, 50]],
                   budget=[[2021, 9000]]))
    key = ("P", "R", 2021)
    assert r["intake"][key] == approx(5)
    assert r["stock"][key] == approx(10.6)
    assert r["in_training"][key] == approx(9)
    assert r["on_placement"][key] == approx(9)
    assert r["in_training_end"][key] == approx(5)
    assert r["trainee_service"][key] == approx(2.5)
    assert r["completions"][key] == approx(3.2)
    assert r["weighted_shortfall"] == approx(6.9)
    assert r["qualified_shortfall_wte"] == approx(9.4)
    assert r["total_cost_gbp"] == approx(9000)
    assert r["committed_cost_after_horizon_gbp"] == approx(5000)


def test_version_one_dataset_loads_with_defaults(tmp_path):
    """The dataset above with only the version-1 columns and no trainee_service table.

    Defaults: start month 4, ``qualified`` basis, sigma[1] = 0, no decline, no sustain years,
    W = 37.5, supervision time counts. Trainees no longer count, so x cannot help in 2021
    and the cost stage takes x = 0: Y = S = 10.6, shortfall 9.4, cost 4 * 1000 (pipeline), nothing committed.
    """
    path = make(tmp_path, profs=[prof(d=2, c=0.8, j=0.5, a=0.1, tsw=0.5)], stock=[["P", "R", 10]],
                demand=[["P", "R", 2021, 20]], pipeline=[["P", "R", 2020, 4], ["P", "R", 2018, 50]],
                budget=[[2021, 9000]], v1=True)
    ds = load_dataset(path)
    p = ds.professions["P"]
    assert (p.start_month, p.service_basis, p.max_decline) == (4, "qualified", None)
    assert ds.sustain_years == [] and ds.horizon_end == 2021
    assert ds.contracted_hours_per_week == 37.5 and ds.supervision_time_counts is True
    assert ds.sigma("P", 1) == 0 and ds.sigma("P", 2) == 0.5
    r = solve(path)
    assert r["intake"][("P", "R", 2021)] == approx(0)
    assert r["weighted_shortfall"] == approx(9.4)
    assert r["total_shortfall_wte"] == approx(9.4)
    assert r["sustain_shortfall"] is None
    assert r["total_cost_gbp"] == approx(4000)
    assert r["committed_cost_after_horizon_gbp"] == approx(0)


def test_inflows(tmp_path):
    """Inflow 3 WTE covers part of a demand of 10 -> 7 trainees."""
    r = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 100000]],
                   inflows=[["P", "R", 2021, 3]]))
    assert r["intake"][("P", "R", 2021)] == approx(7)
    assert r["total_cost_gbp"] == approx(7000)


def test_recruitment_source_keeps_stock_nonnegative(tmp_path):
    """P draws all its intake from Q (share 1), Q has stock 3 and no intake -> x <= 3, shortfall 7."""
    r = solve(make(tmp_path, profs=[prof("P"), prof("Q")], stock=[["Q", "R", 3]],
                   demand=[["P", "R", 2021, 10]], budget=[[2021, 100000]], sources=[["P", "Q", 1]],
                   capacity=[["Q", "R", 2021, "", "", 0]]))
    assert r["intake"][("P", "R", 2021)] == approx(3)
    assert r["stock"][("Q", "R", 2021)] == approx(0)
    assert r["weighted_shortfall"] == approx(7)


def test_recruitment_source_shortfall_tradeoff(tmp_path):
    """Share 0.5 from Q (stock 10, demand 10): each P trainee costs Q 0.5 WTE.

    Q cannot train: one P trainee gains 1, loses 0.5 -> 10 P: shortfall P 0, Q 5 = 5.
    Q can train (d = 1, same budget of 10): backfill z = x / 2 keeps Q whole,
    x + z <= 10 -> x = 20/3, z = 10/3, shortfall 10/3.
    """
    common = dict(profs=[prof("P"), prof("Q")], stock=[["Q", "R", 10]],
                  demand=[["P", "R", 2021, 10], ["Q", "R", 2021, 10]], budget=[[2021, 10000]],
                  sources=[["P", "Q", 0.5]])
    r = solve(make(tmp_path, **common, capacity=[["Q", "R", 2021, "", "", 0]], name="fixed"))
    assert r["intake"][("P", "R", 2021)] == approx(10)
    assert r["weighted_shortfall"] == approx(5)
    r = solve(make(tmp_path, **common, name="backfill"))
    assert r["intake"][("P", "R", 2021)] == approx(20 / 3)
    assert r["intake"][("Q", "R", 2021)] == approx(10 / 3)
    assert r["weighted_shortfall"] == approx(10 / 3)


# ---------------------------------------------------------------------------- version 2: timing


def test_timing_table_and_checker_months_agree():
    """phi and Q from the formula of MODEL.md, and the checker's month count, for every d and month.

    April d = 3: phi = 1, 1, 1, 0, Q = 2. September d = 1: f0 = (12 - 5) / 12 = 7/12, phi = 7/12, 5/12,
    Q = 1. January d = 2: f0 = (12 - 9) / 12 = 1/4, phi = 1/4, 1, 3/4, Q = 2.
    """
    assert timing(3, 4) == ([1, 1, 1, 0], 2)
    phi, lag = timing(1, 9)
    assert phi == approx([7 / 12, 5 / 12]) and lag == 1
    phi, lag = timing(2, 1)
    assert phi == approx([0.25, 1, 0.75]) and lag == 2
    for d in range(1, 5):
        for m in range(1, 13):
            phi, lag = timing(d, m)
            assert [months_in_year(d, m, l) for l in range(d + 1)] == approx(phi)
            assert months_in_year(d, m, d + 1) == 0 and months_in_year(d, m, -1) == 0
            assert completion_offset(d, m) == lag


def test_september_one_year_course_completes_next_year(tmp_path):
    """d = 1, start month 9: phi = 7/12, 5/12; Q = 1 (a cohort of year s is in post at the end of s + 1).

    Pipeline 6 started September 2020: 5/12 of a year in 2021 (cost 2500) and in post at the end of
    2021. Target 2022, demand 16: S2022 = 6 + x2021 -> x2021 = 10 (x2022 would only qualify in 2023, so
    the cost stage leaves it 0). N2021 = 5/12*6 + 7/12*10 = 8.3333, N2022 = 5/12*10 = 4.1667;
    P2021 = 10 (only this year's intake is on placement), E2021 = 10; C2021 = 6, C2022 = 10;
    cost 8333.33 + 4166.67 = 12500, nothing after the horizon.

    Same course, target = horizon = 2021, demand 16, intake_min 3: x cannot help in 2021 -> x = 3,
    shortfall 16 - 6 = 10, cost 2500 + 3 * 7/12 * 1000 = 4250, committed 3 * 5/12 * 1000 = 1250.
    """
    common = dict(profs=[prof(m=9)], pipeline=[["P", "R", 2020, 6]], budget=[[2019, 1]])
    r = solve(make(tmp_path, **common, demand=[["P", "R", 2021, 4], ["P", "R", 2022, 16]],
                   settings={"target_year": 2022}, name="two"))
    k1, k2 = ("P", "R", 2021), ("P", "R", 2022)
    assert r["intake"] == {k1: approx(10), k2: approx(0)}
    assert r["weighted_shortfall"] == approx(0)
    assert r["stock"][k1] == approx(6) and r["stock"][k2] == approx(16)
    assert r["completions"][k1] == approx(6) and r["completions"][k2] == approx(10)
    assert r["in_training"][k1] == approx(2.5 + 70 / 12) and r["in_training"][k2] == approx(50 / 12)
    assert r["on_placement"][k1] == approx(10) and r["on_placement"][k2] == approx(0)
    assert r["in_training_end"][k1] == approx(10) and r["in_training_end"][k2] == approx(0)
    assert r["cost"][k1] == approx(2500 + 70000 / 12) and r["total_cost_gbp"] == approx(12500)
    assert r["committed_cost_after_horizon_gbp"] == approx(0)

    r = solve(make(tmp_path, **common, demand=[["P", "R", 2021, 16]],
                   capacity=[["P", "R", 2021, "", 3, ""]], name="one"))
    assert r["intake"][k1] == approx(3)
    assert r["weighted_shortfall"] == approx(10)
    assert r["total_cost_gbp"] == approx(4250)
    assert r["committed_cost_after_horizon_gbp"] == approx(1250)


def test_january_start(tmp_path):
    """d = 1, start month 1: f0 = 3/12, phi = 1/4, 3/4, Q = 1.

    Pipeline 4 of start year 2020 (January 2021): 3/4 of 2021 in training (cost 3000), in post at the
    end of 2021. Target 2022, demand 8: x2021 = 4 (January 2022 start, in post at the end of 2022);
    cost 2021 = 3000 + 1/4*4*1000 = 4000, 2022 = 3/4*4*1000 = 3000, total 7000; x2022 = 0.
    """
    r = solve(make(tmp_path, profs=[prof(m=1)], pipeline=[["P", "R", 2020, 4]],
                   demand=[["P", "R", 2022, 8]], budget=[[2019, 1]], settings={"target_year": 2022}))
    k1, k2 = ("P", "R", 2021), ("P", "R", 2022)
    assert r["intake"] == {k1: approx(4), k2: approx(0)}
    assert r["stock"][k1] == approx(4) and r["stock"][k2] == approx(8)
    assert r["in_training"][k1] == approx(4) and r["in_training"][k2] == approx(3)
    assert r["in_training_end"][k1] == approx(4)
    assert r["cost"][k1] == approx(4000) and r["cost"][k2] == approx(3000)
    assert r["total_cost_gbp"] == approx(7000) and r["committed_cost_after_horizon_gbp"] == approx(0)
    assert r["weighted_shortfall"] == approx(0)


def test_service_by_training_year_on_both_bases(tmp_path):
    """d = 3 April (Q = 2: trainees are in training years 1 and 2 at year ends), trainee_service_wte 0.4.

    Stock 20, pipeline 5 (2019, completes at the end of 2021) and 10 (2020, training year 2 at the end
    of 2021); intake_max 8; demand 40 in 2021. S2021 = 20 + 5 = 25; T2021 = sigma1 x + 10 sigma2.

    * qualified basis, no rows: sigma = (0, 0.4): T = 4 is reported but not counted; x cannot help -> 0;
      Y = 25, shortfall 15 = the qualified-basis shortfall.
    * posts basis, no rows: x still cannot help (sigma1 = 0) -> 0; Y = 25 + 4 = 29, shortfall 11,
      qualified shortfall 15.
    * posts basis, rows sigma1 = 0.25, sigma2 = 0.5: x = 8, T = 2 + 5 = 7, Y = 32, shortfall 8,
      qualified shortfall 15.
    """
    common = dict(stock=[["P", "R", 20]], pipeline=[["P", "R", 2019, 5], ["P", "R", 2020, 10]],
                  capacity=[["P", "R", 2021, "", "", 8]], demand=[["P", "R", 2021, 40]], budget=[[2019, 1]])
    key = ("P", "R", 2021)
    r = solve(make(tmp_path, profs=[prof(d=3, tsw=0.4)], **common, name="qualified"))
    assert r["intake"][key] == approx(0)
    assert r["trainee_service"][key] == approx(4) and r["counted_service"][key] == approx(0)
    assert r["supply"][key] == approx(25)
    assert r["total_shortfall_wte"] == approx(15) and r["qualified_shortfall_wte"] == approx(15)
    r = solve(make(tmp_path, profs=[prof(d=3, tsw=0.4, basis="posts")], **common, name="posts"))
    assert r["intake"][key] == approx(0)
    assert r["counted_service"][key] == approx(4) and r["supply"][key] == approx(29)
    assert r["total_shortfall_wte"] == approx(11) and r["qualified_shortfall_wte"] == approx(15)
    r = solve(make(tmp_path, profs=[prof(d=3, tsw=0.4, basis="posts")], **common, name="rows",
                   trainee_service=[["P", 1, 0.25], ["P", 2, 0.5]]))
    assert r["intake"][key] == approx(8)
    assert r["trainee_service"][key] == approx(7) and r["supply"][key] == approx(32)
    assert r["in_training_end"][key] == approx(18)
    assert r["total_shortfall_wte"] == approx(8) and r["qualified_shortfall_wte"] == approx(15)


def test_supervision_time_reduces_supervisor_supply(tmp_path):
    """P (d = 1) needs 7.5 h a week per trainee from Q (5 h per WTE), Q stock 30 = Q demand, P demand 10.

    Q takes no trainees (intake_max 0), so its supply is 30 - G_Q.
    G_Q = 7.5 x / W. Stage 1 minimises (10 - x) + 7.5 x / W, so x = 10 while Q can give 150 h:
    * W = 37.5: y = 75 (exactly the need), G = 2, Y_Q = 28, weighted shortfall 2 (all of it Q's; also
      the qualified-basis figure: P is in post, Q is short by 2).
    * supervision_time_counts false: G = 0, shortfall 0.
    * W = 30: G = 2.5, shortfall 2.5.
    * supervisor_hours row (Q, R) = 2 h per WTE: 60 h -> x = 8, y = 60, G = 1.6; shortfall 2 + 1.6 = 3.6.
    """
    common = dict(profs=[prof("P", h=7.5), prof("Q", H=5)], stock=[["Q", "R", 30]],
                  demand=[["P", "R", 2021, 10], ["Q", "R", 2021, 30]], budget=[[2019, 1]],
                  supervision=[["P", "Q"]], capacity=[["Q", "R", 2021, "", "", 0]])
    kp, kq, ky = ("P", "R", 2021), ("Q", "R", 2021), ("P", "Q", "R", 2021)
    r = solve(make(tmp_path, **common, name="default"))
    assert r["intake"][kp] == approx(10)
    assert r["supervision"][ky] == approx(75)
    assert r["supervision_given"][kq] == approx(2) and r["supply"][kq] == approx(28)
    assert r["weighted_shortfall"] == approx(2) and r["qualified_shortfall_wte"] == approx(2)
    r = solve(make(tmp_path, **common, name="off", settings={"supervision_time_counts": False}))
    assert r["supervision"][ky] == approx(75) and r["supervision_given"][kq] == approx(0)
    assert r["weighted_shortfall"] == approx(0)
    r = solve(make(tmp_path, **common, name="thirty", settings={"contracted_hours_per_week": 30}))
    assert r["supervision_given"][kq] == approx(2.5) and r["weighted_shortfall"] == approx(2.5)
    r = solve(make(tmp_path, **common, name="regional", supervisor_hours=[["Q", "R", 2]]))
    assert r["intake"][kp] == approx(8)
    assert r["supervision"][ky] == approx(60) and r["supervision_given"][kq] == approx(1.6)
    assert r["weighted_shortfall"] == approx(3.6)


def test_supervision_hours_given_equal_need(tmp_path):
    """Q supervises only itself (h = 1, v = 10); supervision time does not count.

    Stock 4, demand 10, intake_min 6: N = 6, so y = 6 exactly (not the 40 Q could give): the need row
    is an equality. x = 6 closes the gap; cost 6000.
    """
    r = solve(make(tmp_path, profs=[prof("Q", h=1, H=10)], stock=[["Q", "R", 4]],
                   demand=[["Q", "R", 2021, 10]], budget=[[2019, 1]], supervision=[["Q", "Q"]],
                   capacity=[["Q", "R", 2021, "", 6, ""]], settings={"supervision_time_counts": False}))
    assert r["intake"][("Q", "R", 2021)] == approx(6)
    assert r["supervision"][("Q", "Q", "R", 2021)] == approx(6)


def test_sustain_stage_changes_the_plan(tmp_path):
    """d = 1, attrition 0.5, demand 10 in 2021 (target) and 2022; budgets 12 trainees in 2021, 3 in 2022.

    Stage 1 needs x1 >= 10 (S2021 = x1). S2022 = 0.5 x1 + x2.
    * sustain_years [] (none): the cost stage takes x1 = 10, x2 = 0: cost 10000, sustain shortfall None.
    * default (the decision years after the last assessed year: [2022]), weight 2 on 2022: stage 2
      raises S2022 as far as it can: x2 = 3, x1 = 12 -> S2022 = 9, sustain shortfall 2 * 1 = 2;
      weighted (target) shortfall still 0; cost 15000.
    """
    common = dict(profs=[prof(a=0.5)], demand=[["P", "R", 2021, 10], ["P", "R", 2022, 10]],
                  budget=[[2021, 12000], [2022, 3000]])
    k1, k2 = ("P", "R", 2021), ("P", "R", 2022)
    r = solve(make(tmp_path, **common, name="none",
                   settings={"horizon_end": 2022, "sustain_years": [], "year_weights": {2022: 2}}))
    assert r["intake"] == {k1: approx(10), k2: approx(0)}
    assert r["sustain_shortfall"] is None and r["total_cost_gbp"] == approx(10000)
    path = make(tmp_path, **common, name="sustain", settings={"horizon_end": "2022/23", "year_weights": {2022: 2}})
    assert load_dataset(path).sustain_years == [2022]
    r = solve(path)
    assert r["intake"] == {k1: approx(12), k2: approx(3)}
    assert r["weighted_shortfall"] == approx(0)
    assert r["sustain_shortfall"] == approx(2) and r["stage2_objective"] == approx(2)
    assert r["total_shortfall_wte"] == approx(0)
    assert r["total_cost_gbp"] == approx(15000)


def test_max_decline(tmp_path):
    """d = 1, max_decline 0.25, base-year intake 8 (pipeline 2020), no demand, target 2022.

    X2021 >= 0.75 * 8 = 6, X2022 >= 0.75 * 6 = 4.5; the cost stage takes exactly that: cost 10500
    (the April 2020 one-year cohort costs nothing after 2020).
    """
    r = solve(make(tmp_path, profs=[prof(dec=0.25)], pipeline=[["P", "R", 2020, 8]], budget=[[2019, 1]],
                   settings={"target_year": 2022}))
    assert r["intake"] == {("P", "R", 2021): approx(6), ("P", "R", 2022): approx(4.5)}
    assert r["total_cost_gbp"] == approx(10500)


def test_committed_cost_after_horizon(tmp_path):
    """d = 3 April, target = horizon = 2021, pipeline 3 (2020), intake_min 2 in 2021, no demand.

    2021: N = 2 + 3 = 5 -> cost 5000. After 2021: 2022: 2 (year 2) + 3 (year 3) = 5, 2023: 2 -> 7000.
    """
    r = solve(make(tmp_path, profs=[prof(d=3)], pipeline=[["P", "R", 2020, 3]], budget=[[2019, 1]],
                   capacity=[["P", "R", 2021, "", 2, ""]]))
    assert r["intake"][("P", "R", 2021)] == approx(2)
    assert r["total_cost_gbp"] == approx(5000)
    assert r["committed_cost_after_horizon_gbp"] == approx(7000)
    assert r["stage3_objective"] == approx(12000)


def test_whole_cost_stage_has_no_saving_from_late_long_courses(tmp_path):
    """``posts`` basis, d = 3 April, sigma1 = 0.6 (row), sigma2 = 1; demand 10 in 2022 = target = horizon.

    Pipeline 3 (2020) completes at the end of 2022: S2022 = 3. Y2022 = 3 + x2021 (year 2) + 0.6 x2022.
    Every trainee costs 3000 in all, so the whole-cost stage takes x2021 = 7 (21000) rather than
    x2022 = 11.67 (35000). Decision-year cost: 2021 N = 7 + 3, 2022 N = 7 + 3 -> 20000; committed:
    7 in 2023 -> 7000. (Counting decision years only, x2022 = 11.67 would look cheaper: 3000 + 3000
    + 11667 = 17667 < 20000.)
    """
    r = solve(make(tmp_path, profs=[prof(d=3, tsw=1, basis="posts")], pipeline=[["P", "R", 2020, 3]],
                   trainee_service=[["P", 1, 0.6]], demand=[["P", "R", 2022, 10]], budget=[[2019, 1]],
                   settings={"target_year": 2022}))
    assert r["intake"] == {("P", "R", 2021): approx(7), ("P", "R", 2022): approx(0)}
    assert r["weighted_shortfall"] == approx(0)
    assert r["total_cost_gbp"] == approx(20000)
    assert r["committed_cost_after_horizon_gbp"] == approx(7000)


# ---------------------------------------------------------------------------- constraints


def test_supervision_by_another_profession(tmp_path):
    """P needs 2 h/week, Q gives 1 h/week per WTE, Q stock 8 -> N <= 4, shortfall 6."""
    r = solve(make(tmp_path, profs=[prof("P", h=2), prof("Q", H=1)], stock=[["Q", "R", 8]],
                   demand=[["P", "R", 2021, 10]], budget=[[2021, 100000]], supervision=[["P", "Q"]]))
    assert r["intake"][("P", "R", 2021)] == approx(4)
    assert r["supervision"][("P", "Q", "R", 2021)] == approx(8)
    assert r["weighted_shortfall"] == approx(6)


def test_supervision_without_supervisor_row_takes_no_trainees(tmp_path):
    """h > 0 and no supervision.csv -> no trainees, shortfall 10."""
    r = solve(make(tmp_path, profs=[prof(h=1, H=5)], stock=[["P", "R", 100]],
                   demand=[["P", "R", 2021, 110]], budget=[[2021, 100000]]))
    assert r["intake"][("P", "R", 2021)] == approx(0)
    assert r["weighted_shortfall"] == approx(10)


def test_supervision_capacity_grows_with_stock(tmp_path):
    """Self-supervision, h = H = 1, stock 2, d = 1, demand 10 in 2022 only.

    Supervision time does not count (so supply is the stock):
    2021: x1 <= S0 = 2 -> S1 = 4; 2022: x2 <= S1 = 4 -> S2 = 8, shortfall 2, cost 6 trainees.
    """
    r = solve(make(tmp_path, profs=[prof(h=1, H=1)], stock=[["P", "R", 2]],
                   demand=[["P", "R", 2022, 10]], budget=[[2021, 100000]], supervision=[["P", "P"]],
                   settings={"target_year": 2022, "supervision_time_counts": False}))
    assert r["intake"][("P", "R", 2021)] == approx(2)
    assert r["intake"][("P", "R", 2022)] == approx(4)
    assert r["weighted_shortfall"] == approx(2)
    assert r["total_cost_gbp"] == approx(6000)


def test_supervisors_shared_between_professions(tmp_path):
    """A and B (h = 1) both need Q (H = 1, stock 6); A weight 3 is served first: A 6, B 0."""
    r = solve(make(tmp_path, profs=[prof("A", h=1, weight=3), prof("B", h=1), prof("Q", H=1)],
                   stock=[["Q", "R", 6]], demand=[["A", "R", 2021, 10], ["B", "R", 2021, 10]],
                   budget=[[2021, 100000]], supervision=[["A", "Q"], ["B", "Q"]]))
    assert r["intake"][("A", "R", 2021)] == approx(6)
    assert r["intake"][("B", "R", 2021)] == approx(0)
    assert r["weighted_shortfall"] == approx(3 * 4 + 10)


def test_placement_capacity(tmp_path):
    """Placement capacity 3 -> shortfall 7."""
    r = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 100000]],
                   capacity=[["P", "R", 2021, 3, "", ""]]))
    assert r["intake"][("P", "R", 2021)] == approx(3)
    assert r["weighted_shortfall"] == approx(7)


def test_intake_max(tmp_path):
    r = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 100000]],
                   capacity=[["P", "R", 2021, "", "", 5]]))
    assert r["intake"][("P", "R", 2021)] == approx(5)
    assert r["weighted_shortfall"] == approx(5)


def test_intake_min_forces_spending(tmp_path):
    """intake_min 12 > need 10 -> 12 trainees, cost 12000."""
    r = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 100000]],
                   capacity=[["P", "R", 2021, "", 12, ""]]))
    assert r["intake"][("P", "R", 2021)] == approx(12)
    assert r["total_cost_gbp"] == approx(12000)


def test_growth_from_base_year_intake(tmp_path):
    """g = 0.5, base-year intake 4 (d = 1): x1 <= 6, x2 <= 9 -> S2 = 15, shortfall 5 in 2022."""
    r = solve(make(tmp_path, profs=[prof(g=0.5)], demand=[["P", "R", 2022, 20]], budget=[[2021, 100000]],
                   pipeline=[["P", "R", 2020, 4]], settings={"target_year": 2022}))
    assert r["intake"][("P", "R", 2021)] == approx(6)
    assert r["intake"][("P", "R", 2022)] == approx(9)
    assert r["weighted_shortfall"] == approx(5)


def test_growth_is_national(tmp_path):
    """g = 0, base-year intake 2 in A and 2 in B -> 4 a year nationally, placed where needed (A)."""
    r = solve(make(tmp_path, profs=[prof(g=0)], regions=[("A", ""), ("B", "")],
                   demand=[["P", "A", 2021, 10]], budget=[[2021, 100000]],
                   pipeline=[["P", "A", 2020, 2], ["P", "B", 2020, 2]]))
    assert r["intake"][("P", "A", 2021)] == approx(4)
    assert r["weighted_shortfall"] == approx(6)


def test_growth_without_base_year_intake_takes_no_trainees(tmp_path):
    r = solve(make(tmp_path, profs=[prof(g=1.0)], demand=[["P", "R", 2021, 10]], budget=[[2021, 100000]]))
    assert r["intake"][("P", "R", 2021)] == approx(0)
    assert r["weighted_shortfall"] == approx(10)


def test_integer_places(tmp_path):
    """Budget for 6.5 trainees: LP takes 6.5 (shortfall 3.5), MILP 6 (shortfall 4)."""
    lp = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 6500]], name="lp"))
    ip = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 6500]], name="ip",
                    settings={"integer_places": True}))
    assert lp["weighted_shortfall"] == approx(3.5)
    assert ip["intake"][("P", "R", 2021)] == 6
    assert ip["weighted_shortfall"] == approx(4)


def test_infeasible_when_pipeline_exceeds_budget(tmp_path):
    """d = 2, 10 trainees started 2020 cost 10000 in 2021 > budget 5000."""
    r = solve_reference(make(tmp_path, profs=[prof(d=2)], demand=[["P", "R", 2021, 10]],
                             budget=[[2021, 5000]], pipeline=[["P", "R", 2020, 10]]))
    assert r["status"] == "infeasible"
    assert r["weighted_shortfall"] is None


def test_input_errors(tmp_path):
    path = make(tmp_path, demand=[["X", "R", 2021, 10]], budget=[[2021, 1]])
    with pytest.raises(DatasetError, match="demand.csv row 2, column profession"):
        load_dataset(path)


@pytest.mark.parametrize("kwargs, match", [
    ({"profs": [prof(m=13)]}, "professions.csv row 2, column start_month"),
    ({"profs": [prof(m=4.5)]}, "professions.csv row 2, column start_month"),
    ({"profs": [prof(basis="both")]}, "professions.csv row 2, column service_basis"),
    ({"profs": [prof(dec=1.5)]}, "professions.csv row 2, column max_decline"),
    ({"trainee_service": [["P", 0, 0.5]]}, "trainee_service.csv row 2, column training_year"),
    ({"trainee_service": [["P", 1, 0.5], ["P", 1, 0.2]]}, "trainee_service.csv row 3: duplicate"),
    ({"trainee_service": [["X", 1, 0.5]]}, "trainee_service.csv row 2, column profession"),
    ({"supervisor_hours": [["P", "Z", 3]]}, "supervisor_hours.csv row 2, column region"),
    ({"supervisor_hours": [["P", "R", -1]]}, "supervisor_hours.csv row 2, column supervisor_hours_per_wte"),
    ({"settings": {"horizon_end": 2022, "sustain_years": [2021]}}, "sustain year 2021 is also an assessed"),
    ({"settings": {"sustain_years": [2023]}}, "sustain year 2023 is not a decision year"),
    ({"settings": {"assessed_years": []}}, "assessed_years may not be empty"),
    ({"settings": {"contracted_hours_per_week": 0}}, "contracted_hours_per_week must be > 0"),
    ({"settings": {"horizon_end": 2020}}, "need base_year < target_year <= horizon_end"),
])
def test_version_two_input_errors(tmp_path, kwargs, match):
    path = make(tmp_path, **{"budget": [[2021, 1]], **kwargs})
    with pytest.raises(DatasetError, match=match):
        load_dataset(path)


# ---------------------------------------------------------------------------- levers


def test_route_cheaper_route_and_route_timing(tmp_path):
    """Demand 10, budget 4000. main costs 1000 a trainee, ``fast`` (one year, blank = main's timing)
    500, ``slow`` (two years) 100 a year but completes only at the end of 2022, after the target.
    Stage 1: fast gives one WTE per 500 -> x_fast = 8, shortfall 2. Stage 3: slow would only cost
    (and its second year is committed after the horizon) -> x_slow = 0, x_main = 0; cost 4000."""
    path = make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 4000]],
                routes=[route(k="fast", cost=500), route(k="slow", d=2, cost=100)])
    r = solve(path)
    assert r["intake"] == {("P", "R", 2021): approx(0)}
    assert r["route_intake"] == {("P", "fast", "R", 2021): approx(8), ("P", "slow", "R", 2021): approx(0)}
    assert r["weighted_shortfall"] == approx(2)
    assert r["total_cost_gbp"] == approx(4000) and r["committed_cost_after_horizon_gbp"] == approx(0)
    assert r["route_figures"]["P", "fast", "R", 2021]["cost"] == approx(4000)
    [lever] = [row for row in r["levers"] if row["name"] == "fast"]
    assert lever["in_post_target_wte"] == approx(8) and lever["gbp_per_wte"] == approx(500)


def test_route_max_share(tmp_path):
    """As above with fast's max_share 0.5: x_f <= 0.5 (x_m + x_f), i.e. x_f <= x_m, and
    1000 x_m + 500 x_f <= 4000. Max x_m + x_f: x_m = x_f = 8/3, total 16/3, shortfall 10 - 16/3 = 14/3."""
    r = solve(make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 4000]],
                   routes=[route(k="fast", cost=500, share=0.5)]))
    assert r["intake"][("P", "R", 2021)] == approx(8 / 3)
    assert r["route_intake"][("P", "fast", "R", 2021)] == approx(8 / 3)
    assert r["weighted_shortfall"] == approx(14 / 3)


@pytest.mark.parametrize("draw, x, shortfall", [("", 5, 10), (0.5, 10, 0)])
def test_route_from_source_profession_draws_its_stock(tmp_path, draw, x, shortfall):
    """P (weight 2) demand 10, no budget for its main route (budget 0); route ``conv`` from Q costs 0 and
    draws theta WTE of Q's stock (5, no demand) per trainee in the intake year. theta = 1 (blank):
    S_Q = 5 - x >= 0 -> x = 5, P shortfall 5, weighted 10. theta = 0.5: x <= 10 -> x = 10, shortfall 0."""
    r = solve(make(tmp_path, profs=[prof("P", weight=2), prof("Q")], stock=[["Q", "R", 5]],
                   demand=[["P", "R", 2021, 10]], budget=[[2021, 0]],
                   routes=[route(k="conv", cost=0, source="Q", draw=draw)]))
    assert r["route_intake"] == {("P", "conv", "R", 2021): approx(x)}
    assert r["weighted_shortfall"] == approx(shortfall)
    assert r["stock"]["Q", "R", 2021] == approx(0)
    assert r["stock"]["P", "R", 2021] == approx(x)


def test_retention_tranches_regions_and_first_year(tmp_path):
    """Regions A, B, stock 100 each, attrition 0.2 (20 leavers each in 2021), demand 100 each, no training
    (intake_max 0). Tranche 1 (blank region): 25% of leavers at 1000; in B a row naming B replaces it
    with 10% (cap 2). Tranche 2: 50% at 3000 (cap 10 each). Tranche 3 starts in 2022, after the
    horizon: no variable. Budget 30000: tranche 1 first (5 + 2 = 7 WTE, 7000), then 23000 / 3000 = 23/3
    of tranche 2. Shortfall 40 - 7 - 23/3 = 76/3; stage 3 spends all 30000 (no cheaper plan at that gap)."""
    path = make(tmp_path, regions=[("A", ""), ("B", "")], profs=[prof(a=0.2)],
                stock=[["P", "A", 100], ["P", "B", 100]], demand=[["P", "A", 2021, 100], ["P", "B", 2021, 100]],
                capacity=[["P", "A", 2021, "", "", 0], ["P", "B", 2021, "", "", 0]], budget=[[2021, 30000]],
                retention=[["P", "", "", 0.25, 1000, ""], ["P", "B", 1, 0.1, 1000, ""],
                           ["P", "", 2, 0.5, 3000, ""], ["P", "", 3, 1, 0, 2022]])
    data = load_dataset(path)
    assert sorted(data.retention) == [("P", "A", "1"), ("P", "A", "2"), ("P", "A", "3"), ("P", "B", "1"),
                                      ("P", "B", "2"), ("P", "B", "3")]
    assert data.retention["P", "B", "1"].max_share == 0.1 and data.retention_years("P", "A", "3") == []
    r = solve(path)
    ret = r["retention"]
    assert set(ret) == {("P", i, reg, 2021) for i in ("1", "2") for reg in ("A", "B")}
    assert ret["P", "1", "A", 2021] == approx(5) and ret["P", "1", "B", 2021] == approx(2)
    assert ret["P", "2", "A", 2021] + ret["P", "2", "B", 2021] == approx(23 / 3)
    assert r["weighted_shortfall"] == approx(76 / 3)
    assert r["total_cost_gbp"] == approx(30000)
    assert r["stock"]["P", "A", 2021] + r["stock"]["P", "B", 2021] == approx(160 + 7 + 23 / 3)


def test_direct_recruitment_lead_time_cap_attrition(tmp_path):
    """Base 2020, target = horizon 2023, attrition 0.1, stock 100 in A (multiplier 1.5) and B, demand 100
    each in 2023, no training. Without levers S_2023 = 100 * 0.9^3 = 72.9. Blank-region row: lead 1,
    2000 a WTE, cap 10, first-year attrition 0.5: z signed in 2021 is in post at the end of 2022 (half
    of it) and 0.45 z at 2023; z_2022 gives 0.5 z; z_2023 would arrive after the horizon (no variable).
    A: 27.1 - 4.5 - 5 = 17.6, cost 20 * 2000 * 1.5 = 60000. B's own row: lead 0, 1000, cap 3: z each
    year, in post at 2023 3 (0.81 + 0.9 + 1) = 8.13, shortfall 18.97, cost 9000."""
    path = make(tmp_path, regions=[("A", 1.5), ("B", "")], profs=[prof(a=0.1)],
                stock=[["P", "A", 100], ["P", "B", 100]], demand=[["P", "A", 2023, 100], ["P", "B", 2023, 100]],
                capacity=[["P", reg, t, "", "", 0] for reg in "AB" for t in (2021, 2022, 2023)],
                budget=[[2019, 1]], settings={"target_year": 2023},
                recruitment=[["P", "", 1, 2000, 10, 0.5], ["P", "B", "", 1000, 3, ""]])
    r = solve(path)
    assert r["recruitment"] == {("P", "A", 2021): approx(10), ("P", "A", 2022): approx(10),
                                ("P", "B", 2021): approx(3), ("P", "B", 2022): approx(3),
                                ("P", "B", 2023): approx(3)}
    assert r["weighted_shortfall"] == approx(17.6 + 18.97)
    assert r["total_cost_gbp"] == approx(69000)
    assert r["lever_cost"]["P", "A", 2021] == approx(30000)
    rows = {(row["region"], row["year"]): row for row in r["levers"]}
    assert rows["A", 2021]["in_post_target_wte"] == approx(4.5)
    assert rows["A", 2021]["gbp_per_wte"] == approx(30000 / 4.5)
    assert rows["B", 2021]["in_post_target_wte"] == approx(2.43)


def test_route_own_start_month_and_supervision_hours(tmp_path):
    """Target = horizon 2022, demand 10 in 2022, budget 7000 in 2021 only. P needs 2 supervision hours a
    trainee and has no supervisor row, so its main route and route ``blank_h`` (blank hours = 2) can take
    nobody; route ``sept`` (one year from September, 0 hours, 1200 a year) can. A 2021 September cohort
    spends 7/12 of 2021 and 5/12 of 2022 in training and is in post at the end of 2022 (Q = d = 1); a 2022
    cohort would complete after the horizon. 2021 cost 700 x <= 7000 -> x = 10, shortfall 0. Whole cost
    12000 = 7000 (2021) + 5000 (2022); nothing after the horizon."""
    r = solve(make(tmp_path, profs=[prof(h=2)], demand=[["P", "R", 2022, 10]], budget=[[2021, 7000]],
                   routes=[route(k="sept", m=9, h=0, cost=1200), route(k="blank_h", cost=1)],
                   settings={"target_year": 2022}))
    assert r["intake"] == {("P", "R", 2021): approx(0), ("P", "R", 2022): approx(0)}
    assert r["route_intake"] == {("P", "sept", "R", 2021): approx(10), ("P", "sept", "R", 2022): approx(0),
                                 ("P", "blank_h", "R", 2021): approx(0), ("P", "blank_h", "R", 2022): approx(0)}
    assert r["weighted_shortfall"] == approx(0)
    assert r["cost"] == {("P", "R", 2021): approx(7000), ("P", "R", 2022): approx(5000)}
    assert r["total_cost_gbp"] == approx(12000) and r["committed_cost_after_horizon_gbp"] == approx(0)
    sept = [row for row in r["levers"] if row["name"] == "sept" and row["year"] == 2021][0]
    assert sept["cost_gbp"] == approx(12000) and sept["in_post_target_wte"] == approx(10)
    assert sept["gbp_per_wte"] == approx(1200)


def test_retention_cap_uses_last_year_stock_with_its_retention(tmp_path):
    """Stock 100, attrition 0.5, one tranche keeping up to half the leavers (cap 0.25 S[t-1]) at 1000,
    target = horizon 2022, demand 100 in 2022 only, no training. 2021: rho <= 25 -> S = 50 + 25 = 75;
    2022: rho <= 0.25 x 75 = 18.75 -> S = 37.5 + 18.75 = 56.25 (S_2022 <= 0.75 S_2021, so both caps
    bind). Shortfall 43.75; cost (25 + 18.75) x 1000 = 43750."""
    r = solve(make(tmp_path, profs=[prof(a=0.5)], stock=[["P", "R", 100]], demand=[["P", "R", 2022, 100]],
                   capacity=[["P", "R", t, "", "", 0] for t in (2021, 2022)], budget=[[2019, 1]],
                   retention=[["P", "R", "", 0.5, 1000, ""]], settings={"target_year": 2022}))
    assert r["retention"] == {("P", "1", "R", 2021): approx(25), ("P", "1", "R", 2022): approx(18.75)}
    assert r["weighted_shortfall"] == approx(43.75)
    assert r["total_cost_gbp"] == approx(43750)
    rows = {row["year"]: row for row in r["levers"]}
    assert rows[2021]["in_post_target_wte"] == approx(12.5) and rows[2022]["in_post_target_wte"] == approx(18.75)


def test_route_draws_its_source_in_the_intake_year_only(tmp_path):
    """P (weight 2) demand 10 in 2022, Q stock 10 and demand 10 in 2022, no attrition, target = horizon
    2022. Route ``conv`` (two years from April, blank cost = 1000, theta 1 from Q): a 2021 cohort draws
    Q once, in 2021, and completes at the end of 2022; a 2022 cohort completes too late. S_Q = 10 - x in
    both years, so x <= 10; objective 2 (10 - x) + x = 20 - x -> x = 10, weighted shortfall 10 (Q's).
    Were Q drawn every training year, x <= 5. Cost 1000 x 10 in 2021 and in 2022 = 20000. P's main
    route (which draws nothing) and Q's are closed: they need 2 supervision hours a trainee and there is
    no supervisor row, while conv needs 0 hours (intake_max could not close P's main route alone: it
    limits the sum over routes)."""
    r = solve(make(tmp_path, profs=[prof("P", weight=2, h=2), prof("Q", h=2)], stock=[["Q", "R", 10]],
                   demand=[["P", "R", 2022, 10], ["Q", "R", 2022, 10]], budget=[[2019, 1]],
                   settings={"target_year": 2022}, routes=[route(k="conv", d=2, h=0, source="Q")]))
    assert r["intake"] == {(p, "R", t): approx(0) for p in "PQ" for t in (2021, 2022)}
    assert r["route_intake"] == {("P", "conv", "R", 2021): approx(10), ("P", "conv", "R", 2022): approx(0)}
    assert r["weighted_shortfall"] == approx(10)
    # stage 3 may give up the stage-1 tolerance (1e-6 x 10 + 1e-6) of x to save cost
    assert r["stock"]["Q", "R", 2021] == pytest.approx(0, abs=2e-5) == r["stock"]["Q", "R", 2022]
    assert r["total_cost_gbp"] == approx(20000)


def test_cost_stage_picks_the_cheaper_lever(tmp_path):
    """Stock 100, attrition 0.1 (S = 90 without levers), demand 96 in 2021, no training. Retention (cap 50%
    of 10 leavers = 5, 1000 a WTE) and recruitment (lead 0, cap 4, 500 a WTE) both put one WTE in post per
    unit; 6 are needed (shortfall 0 is reachable with 9). Stage 3 takes the 4 cheap recruits and 2
    retained: cost 4 x 500 + 2 x 1000 = 4000."""
    r = solve(make(tmp_path, profs=[prof(a=0.1)], stock=[["P", "R", 100]], demand=[["P", "R", 2021, 96]],
                   capacity=[["P", "R", 2021, "", "", 0]], budget=[[2019, 1]],
                   retention=[["P", "", "", 0.5, 1000, ""]], recruitment=[["P", "", "", 500, 4, ""]]))
    assert r["weighted_shortfall"] == approx(0)
    assert r["recruitment"] == {("P", "R", 2021): approx(4)}
    assert r["retention"] == {("P", "1", "R", 2021): approx(2)}
    assert r["total_cost_gbp"] == approx(4000)


@pytest.mark.parametrize("table, row, match", [
    ("routes", route(k="main"), "may not be named 'main'"),
    ("routes", route(source="P"), "its own profession"),
    ("routes", route(source="Q", draw=1.5), "must be <= 1"),
    ("routes", route(source="X"), "unknown source_profession"),
    ("retention", ["P", "", "", "", 1000, ""], "max_share_of_leavers: value is missing"),
    ("retention", ["P", "Z", "", 0.1, 1000, ""], "unknown region"),
    ("recruitment", ["P", "", 0.5, 1000, "", ""], "lead_time_years: must be an integer"),
    ("recruitment", ["P", "", 1, 1000, "", 2], "rate must be in"),
])
def test_lever_input_errors(tmp_path, table, row, match):
    path = make(tmp_path, profs=[prof(), prof("Q")], budget=[[2021, 1]], **{table: [row]})
    with pytest.raises(DatasetError, match=match):
        load_dataset(path)


# ---------------------------------------------------------------------------- checker


@pytest.fixture
def solved(tmp_path):
    """A small dataset exercising every family, solved and written as results.

    P: two-year September course on the ``posts`` basis with sigma[1] = 0.2, growth and decline
    limits; Q supervises P (regional supervisor hours in B); horizon 2023 after the target 2022,
    so 2023 is a sustain year; 30 contracted hours a week.
    """
    ds = make(tmp_path, profs=[prof("P", d=2, h=2, g=1.0, tsw=0.5, m=9, basis="posts", dec=0.5),
                               prof("Q", H=2, a=0.1)],
              regions=[("A", 1.2), ("B", "")],
              stock=[["Q", "A", 10], ["Q", "B", 10], ["P", "A", 5]],
              demand=[["P", "A", 2021, 12], ["P", "B", 2021, 6], ["P", "A", 2022, 15], ["Q", "A", 2022, 9],
                      ["P", "A", 2023, 15]],
              pipeline=[["P", "A", 2020, 3], ["P", "B", 2020, 2]],
              capacity=[["P", "B", 2022, 6, "", 3], ["P", "A", 2021, "", 1, ""]],
              supervision=[["P", "Q"]], sources=[["P", "Q", 0.2]],
              supervisor_hours=[["Q", "B", 1.5]], trainee_service=[["P", 1, 0.2]],
              budget=[[2021, "", 30000], [2022, "A", 20000]], regional=True,
              settings={"target_year": 2022, "horizon_end": 2023, "assessed_years": [2021, 2022],
                        "contracted_hours_per_week": 30})
    results = write_results(ds, solve(ds), tmp_path / "results")
    return ds, results


def solution_of(path: Path, x: dict, y: dict) -> dict:
    """A solve_reference()-shaped solution for plan (x, y), every figure from the checker's simulation."""
    data = load_dataset(path)
    sim = simulate(data, x, y)
    keys = [(p, r, t) for p in data.professions for r in data.regions for t in data.decision_years]
    pick = lambda store: {k: store[k] for k in keys}  # noqa: E731
    return {
        "status": "optimal", "intake": dict(x), "supervision": dict(y),
        "in_training": pick(sim.N), "on_placement": pick(sim.P), "in_training_end": pick(sim.E),
        "completions": pick(sim.C), "cost": pick(sim.cost), "stock": pick(sim.S),
        "trainee_service": pick(sim.T),
        "counted_service": {k: data.professions[k[0]].beta * sim.T[k] for k in keys},
        "supervision_given": pick(sim.G), "supply": pick(sim.supply), "qualified_supply": pick(sim.qualified),
        "demand": {k: data.demand.get(k, 0.0) for k in keys}, "shortfall": pick(sim.shortfall),
        "qualified_shortfall": pick(sim.qualified_shortfall),
        "weighted_shortfall": weighted_shortfall(data, sim), "sustain_shortfall": sustain_shortfall(data, sim),
        "total_shortfall_wte": total_shortfall(data, sim), "qualified_shortfall_wte": qualified_shortfall(data, sim),
        "total_cost_gbp": sum(sim.cost.values()), "committed_cost_after_horizon_gbp": sim.committed,
    }


def _edit_csv(path: Path, match: dict, column: str, value):
    rows = list(csv.DictReader(path.open()))
    hits = 0
    for row in rows:
        if all(row[k] == str(v) for k, v in match.items()):
            row[column] = value
            hits += 1
    assert hits, (match, column)
    with path.open("w", newline="") as handle:
        w = csv.DictWriter(handle, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_checker_accepts_reference_results(solved):
    ds, results = solved
    assert check_results(ds, results, compare_reference=True) == []


def test_checker_flags_changed_intake(solved):
    ds, results = solved
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "A", "year": 2021}, "intake", "500")
    messages = check_results(ds, results)
    text = "\n".join(messages)
    assert "plan.csv (P, A, 2021): in_training" in text
    assert "budget.csv: year 2021 national spend" in text
    assert "summary.json: total_cost_gbp" in text
    assert "supervision.csv: (P, A, 2021) trainees need" in text
    assert "stock: (Q, A, 2021)" in text


def test_checker_flags_negative_and_fractional_intake(tmp_path):
    ds = make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 6000]], settings={"integer_places": True})
    results = write_results(ds, solve(ds), tmp_path / "results")
    assert check_results(ds, results) == []
    _edit_csv(results / "plan.csv", {"profession": "P"}, "intake", "-0.5")
    text = "\n".join(check_results(ds, results))
    assert "intake = -0.5 < 0" in text
    assert "not a whole number" in text


def test_checker_flags_supervision_problems(solved):
    ds, results = solved
    with (results / "supervision.csv").open("a", newline="") as handle:
        csv.writer(handle).writerow(["Q", "P", "A", 2021, "2021/22", 3.0])
        csv.writer(handle).writerow(["P", "Q", "B", 2022, "2022/23", 1000])
    text = "\n".join(check_results(ds, results))
    assert "P may not supervise Q" in text
    assert "duplicate row for (P, Q, B, 2022)" in text


def test_checker_flags_supervisor_overuse_and_unmet_need(solved):
    ds, results = solved
    _edit_csv(results / "supervision.csv", {"region": "A", "year": 2021}, "hours_per_week", "1000")
    _edit_csv(results / "supervision.csv", {"region": "B", "year": 2021}, "hours_per_week", "0")
    text = "\n".join(check_results(ds, results))
    assert "supervisors (Q, A, 2021) give 1000" in text
    assert "(P, B, 2021) trainees need" in text


def test_checker_flags_limits(solved):
    ds, results = solved
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "B", "year": 2022}, "intake", "4")
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "A", "year": 2021}, "intake", "0")
    text = "\n".join(check_results(ds, results))
    assert "above intake_max 3" in text
    assert "below intake_min 1" in text


def test_checker_flags_placement_growth_and_regional_budget(solved):
    ds, results = solved
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "A", "year": 2022}, "intake", "300")
    text = "\n".join(check_results(ds, results))
    assert "growth: P national intake" in text
    assert "region A spend" in text
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "A", "year": 2022}, "intake", "0")
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "B", "year": 2022}, "intake", "3")
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "B", "year": 2021}, "intake", "4")
    assert "exceeds placement_capacity 6" in "\n".join(check_results(ds, results))


def test_checker_flags_reported_figures(solved):
    ds, results = solved
    summary = json.loads((results / "summary.json").read_text())
    summary["weighted_shortfall"] += 0.01
    del summary["solver"]
    (results / "summary.json").write_text(json.dumps(summary))
    _edit_csv(results / "workforce.csv", {"profession": "Q", "region": "A", "year": 2022}, "stock_wte", "1")
    _edit_csv(results / "workforce.csv", {"profession": "Q", "region": "A", "year": 2021}, "assessed", "false")
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "A", "year": 2021}, "year_label", "2021")
    text = "\n".join(check_results(ds, results))
    assert "summary.json: weighted_shortfall" in text
    assert "summary.json: key 'solver' is missing" in text
    assert "workforce.csv (Q, A, 2022): stock_wte = 1" in text
    assert "assessed = 'false'" in text
    assert "year_label '2021' should be '2021/22'" in text


def test_checker_flags_missing_rows_and_status(solved):
    ds, results = solved
    rows = (results / "workforce.csv").read_text().splitlines()
    (results / "workforce.csv").write_text("\n".join(rows[:-1]) + "\n")
    summary = json.loads((results / "summary.json").read_text())
    summary["status"] = "infeasible"
    (results / "summary.json").write_text(json.dumps(summary))
    text = "\n".join(check_results(ds, results))
    assert "workforce.csv: no row for" in text
    assert "status is 'infeasible'" in text


def test_checker_compares_with_reference_optimum(solved):
    """A feasible but worse plan (3 P trainees a year in A) passes the constraints, not the optimum check."""
    ds, results = solved
    data = load_dataset(ds)
    x = {(p, r, t): (3.0 if (p, r) == ("P", "A") else 0.0)
         for p in data.professions for r in data.regions for t in data.decision_years}
    sim = simulate(data, x)
    y = {("P", "Q", r, t): 2 * sim.N["P", r, t] for r in data.regions for t in data.decision_years}
    shutil.rmtree(results)
    write_results(ds, solution_of(ds, x, y), results)
    assert check_results(ds, results) == []
    text = "\n".join(check_results(ds, results, compare_reference=True))
    assert "vs reference optimum" in text


def test_checker_flags_version_two_columns(solved):
    """Every new results column is recomputed: a wrong value in each is named."""
    ds, results = solved
    edits = [
        ("plan.csv", {"profession": "P", "region": "A", "year": 2021}, "on_placement", "99"),
        ("workforce.csv", {"profession": "P", "region": "A", "year": 2022}, "trainee_service_wte", "99"),
        ("workforce.csv", {"profession": "P", "region": "A", "year": 2022}, "counted_service_wte", "99"),
        ("workforce.csv", {"profession": "Q", "region": "A", "year": 2021}, "supervision_given_wte", "99"),
        ("workforce.csv", {"profession": "Q", "region": "A", "year": 2021}, "qualified_supply_wte", "99"),
        ("workforce.csv", {"profession": "P", "region": "A", "year": 2021}, "qualified_shortfall_wte", "99"),
        ("workforce.csv", {"profession": "P", "region": "A", "year": 2022}, "weighted_shortfall", "99"),
        ("workforce.csv", {"profession": "Q", "region": "B", "year": 2021}, "service_basis", "posts"),
        ("workforce.csv", {"profession": "Q", "region": "B", "year": 2023}, "sustain", "false"),
        ("workforce.csv", {"profession": "Q", "region": "B", "year": 2022}, "sustain", "true"),
    ]
    for file, match, column, value in edits:
        _edit_csv(results / file, match, column, value)
    text = "\n".join(check_results(ds, results))
    assert "plan.csv (P, A, 2021): on_placement = 99" in text
    for column in ("trainee_service_wte", "counted_service_wte", "weighted_shortfall"):
        assert f"workforce.csv (P, A, 2022): {column} = 99" in text
    assert "workforce.csv (Q, A, 2021): supervision_given_wte = 99" in text
    assert "workforce.csv (Q, A, 2021): qualified_supply_wte = 99" in text
    assert "workforce.csv (P, A, 2021): qualified_shortfall_wte = 99" in text
    assert "(Q, B, 2021): service_basis = 'posts' but the dataset says 'qualified'" in text
    assert "(Q, B, 2023): sustain = 'false' but year 2023 is a sustain year" in text
    assert "(Q, B, 2022): sustain = 'true' but year 2022 is not a sustain year" in text


def test_checker_flags_blank_and_route_rules(solved):
    """Demand blank only outside assessed/sustain years; weighted_shortfall blank there; route main."""
    ds, results = solved
    _edit_csv(results / "workforce.csv", {"profession": "Q", "region": "B", "year": 2021}, "demand_wte", "")
    _edit_csv(results / "workforce.csv", {"profession": "Q", "region": "B", "year": 2021}, "weighted_shortfall", "")
    _edit_csv(results / "plan.csv", {"profession": "Q", "region": "B", "year": 2022}, "route", "apprenticeship")
    text = "\n".join(check_results(ds, results))
    assert "workforce.csv (Q, B, 2021): demand_wte is missing" in text
    assert "workforce.csv (Q, B, 2021): weighted_shortfall is missing" in text
    assert "route 'apprenticeship'" in text
    assert "plan.csv: no row for (Q, B, 2022)" in text


def test_checker_blank_demand_outside_scored_years(tmp_path):
    """Horizon 2022, only 2021 assessed and no sustain years: 2022 has no demand row, so blanks are fine,
    and its weighted_shortfall must be blank."""
    ds = make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2019, 1]],
              settings={"horizon_end": 2022, "sustain_years": []})
    results = write_results(ds, solve(ds), tmp_path / "results")
    rows = list(csv.DictReader((results / "workforce.csv").open()))
    assert [r["demand_wte"] for r in rows] == ["10.0", ""]
    assert check_results(ds, results) == []
    _edit_csv(results / "workforce.csv", {"year": 2022}, "weighted_shortfall", "0")
    assert "should be blank" in "\n".join(check_results(ds, results))


def test_checker_flags_summary_figures_of_version_two(solved):
    ds, results = solved
    summary = json.loads((results / "summary.json").read_text())
    assert summary["sustain_shortfall"] is not None
    for key in ("sustain_shortfall", "qualified_shortfall_wte", "committed_cost_after_horizon_gbp"):
        summary[key] += 1
    (results / "summary.json").write_text(json.dumps(summary))
    text = "\n".join(check_results(ds, results))
    for key in ("sustain_shortfall", "qualified_shortfall_wte", "committed_cost_after_horizon_gbp"):
        assert f"summary.json: {key} = " in text


def test_checker_sustain_shortfall_null_without_sustain_years(tmp_path):
    ds = make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 6000]])
    results = write_results(ds, solve(ds), tmp_path / "results")
    assert json.loads((results / "summary.json").read_text())["sustain_shortfall"] is None
    assert check_results(ds, results) == []
    summary = json.loads((results / "summary.json").read_text())
    summary["sustain_shortfall"] = 0
    (results / "summary.json").write_text(json.dumps(summary))
    assert "sustain_shortfall = 0 should be null" in "\n".join(check_results(ds, results))


def test_checker_flags_supervision_beyond_need_and_regional_hours(solved):
    """The need row is an equality: more hours than needed are flagged too. Region B's supervisors
    give 1.5 h per WTE (supervisor_hours row), not the profession's 2."""
    ds, results = solved
    rows = list(csv.DictReader((results / "supervision.csv").open()))
    row_a = next(r for r in rows if r["region"] == "A" and r["year"] == "2021")
    _edit_csv(results / "supervision.csv", {"region": "A", "year": 2021}, "hours_per_week",
              repr(float(row_a["hours_per_week"]) + 0.5))
    _edit_csv(results / "supervision.csv", {"region": "B", "year": 2021}, "hours_per_week", "16")
    text = "\n".join(check_results(ds, results))
    assert "(P, A, 2021) trainees need" in text and "must equal the hours needed" in text
    assert "supervisors (Q, B, 2021) give 16 hours/week but have 15 (= 1.5 x stock 10)" in text


def test_checker_flags_decline(solved):
    """P may fall by half a year nationally: base-year intake 5 -> at least 2.5 in 2021."""
    ds, results = solved
    for region in ("A", "B"):
        for year in (2021, 2022, 2023):
            _edit_csv(results / "plan.csv", {"profession": "P", "region": region, "year": year}, "intake", "0")
    _edit_csv(results / "plan.csv", {"profession": "P", "region": "A", "year": 2021}, "intake", "2")
    text = "\n".join(check_results(ds, results))
    assert "decline: P national intake 2 in 2021 is below (1 - 0.5) x 5 = 2.5" in text


def test_checker_reads_shortfall_stage_mps(tmp_path, solved):
    """The stage-1 MPS is solved by HiGHS directly; its optimum must be the reported weighted shortfall."""
    pytest.importorskip("highspy")
    ds, _ = solved
    results = write_results(ds, solve(ds), tmp_path / "with_mps", mps=True)
    assert (results / "shortfall_stage.mps").exists()
    assert check_results(ds, results) == []
    other = make(tmp_path, demand=[["P", "R", 2021, 10]], budget=[[2021, 6000]], name="other")
    shutil.copy(write_results(other, solve(other), tmp_path / "other_results", mps=True) / "shortfall_stage.mps",
                results / "shortfall_stage.mps")
    assert "shortfall_stage.mps optimum vs summary.json: weighted_shortfall" in "\n".join(check_results(ds, results))


# ---------------------------------------------------------------------------- generator


@pytest.mark.parametrize("seed", range(16))
def test_generated_reference_passes_checker(tmp_path, seed):
    integer = seed % 4 == 3
    size = {"n_professions": 3, "n_regions": 2} if integer else {}  # whole-places stages solve quickly
    ds = generate_dataset(tmp_path / "ds", seed, integer=integer, **size)
    result = solve(ds)
    write_results(ds, result, tmp_path / "results")
    assert check_results(ds, tmp_path / "results", compare_reference=seed % 4 == 0) == []


def test_generator_covers_version_two_inputs(tmp_path):
    """Across 24 seeds every version-2 input appears, both ways where it has two."""
    seen = set()
    for seed in range(24):
        data = load_dataset(generate_dataset(tmp_path / str(seed), seed))
        for p in data.professions.values():
            seen.add(("month", p.start_month if p.start_month in (4, 9, 1) else "other"))
            seen.add(("basis", p.service_basis))
            seen.add(("decline", p.max_decline is not None))
        seen.add(("sustain", bool(data.sustain_years)))
        seen.add(("beyond target", data.horizon_end > data.target_year))
        seen.add(("service rows", bool(data.trainee_service)))
        seen.add(("regional hours", bool(data.supervisor_hours)))
        seen.add(("time counts", data.supervision_time_counts))
        seen.add(("hours", data.contracted_hours_per_week == 37.5))
    for item in [("month", 4), ("month", 9), ("month", 1), ("month", "other"), ("basis", "qualified"),
                 ("basis", "posts"), ("decline", True), ("decline", False), ("sustain", True), ("sustain", False),
                 ("beyond target", True), ("service rows", True), ("service rows", False),
                 ("regional hours", True), ("regional hours", False), ("time counts", True),
                 ("time counts", False), ("hours", True), ("hours", False)]:
        assert item in seen, item


def test_generator_covers_levers(tmp_path):
    """Across 24 seeds: routes with and without a source, used and unused, with and without max_share;
    retention rows with blank and named regions, first_year, several tranches; recruitment rows with
    blank and named regions and lead times; retention and recruitment used in some optimal plans. Each
    solution passes the checker (levers.csv included)."""
    seen = set()
    for seed in range(24):
        path = generate_dataset(tmp_path / str(seed), seed)
        data = load_dataset(path)
        result = solve(path)
        for (p, k), rt in data.routes.items():
            used = any(v > 1e-6 for (pp, kk, _, _), v in result["route_intake"].items() if (pp, kk) == (p, k))
            seen |= {("route", rt.source is not None, used), ("share", rt.max_share is not None)}
        for table, column in (("retention", "region"), ("retention", "first_year"), ("recruitment", "region")):
            if (path / f"{table}.csv").exists():
                rows = list(csv.DictReader((path / f"{table}.csv").open()))
                seen |= {(table, column, bool(row[column])) for row in rows}
                if table == "retention":
                    seen.add(("tranches", len({row["tranche"] or "1" for row in rows}) > 1))
        seen |= {("lead", rec.lead_time > 0) for rec in data.recruitment.values()}
        seen.add(("retention used", any(v > 1e-6 for v in result["retention"].values())))
        seen.add(("recruitment used", any(v > 1e-6 for v in result["recruitment"].values())))
        if data.routes or data.retention or data.recruitment:
            write_results(path, result, tmp_path / f"results{seed}")
            assert check_results(path, tmp_path / f"results{seed}") == [], seed
    for item in [("route", True, True), ("route", True, False), ("route", False, True), ("share", True),
                 ("share", False), ("retention", "region", True), ("retention", "region", False),
                 ("retention", "first_year", True), ("retention", "first_year", False), ("tranches", True),
                 ("recruitment", "region", True), ("recruitment", "region", False), ("lead", True),
                 ("lead", False), ("retention used", True), ("recruitment used", True)]:
        assert item in seen, item


def test_generated_infeasible_variants(tmp_path):
    """Levers only add options: datasets with levers stay infeasible when the pipeline breaks a limit."""
    with_levers = 0
    for seed in range(6):
        bad = generate_dataset(tmp_path / str(seed), seed, feasible=False)
        assert solve_reference(bad)["status"] == "infeasible"
        data = load_dataset(bad)
        with_levers += bool(data.routes or data.retention or data.recruitment)
    assert with_levers >= 2


def test_generator_is_deterministic(tmp_path):
    a = generate_dataset(tmp_path / "a", 11)
    b = generate_dataset(tmp_path / "b", 11)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    for name in files:
        assert (a / name).read_text() == (b / name).read_text(), name


def test_generator_without_levers_writes_the_same_other_tables(tmp_path):
    """levers=False leaves out routes, retention and recruitment and changes nothing else (the levers have
    a generator of their own; checked once for seeds 0..29: the tables are byte for byte those of the
    generator before levers, commit f139b0f)."""
    for seed in range(12):
        a = generate_dataset(tmp_path / f"a{seed}", seed)
        b = generate_dataset(tmp_path / f"b{seed}", seed, levers=False)
        lever_files = {"routes.csv", "retention.csv", "recruitment.csv"}
        assert not {p.name for p in b.iterdir()} & lever_files
        for path in b.iterdir():
            assert (a / path.name).read_text() == path.read_text(), (seed, path.name)


def test_generator_sizes_and_infeasible(tmp_path):
    ds = generate_dataset(tmp_path / "ds", 5, n_professions=3, n_regions=2, horizon=2)
    data = load_dataset(ds)
    assert len(data.professions) == 3 and len(data.regions) == 2 and len(data.decision_years) == 2
    bad = generate_dataset(tmp_path / "bad", 5, feasible=False)
    assert solve_reference(bad)["status"] == "infeasible"


def test_generator_cli(tmp_path):
    out = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", "tests.reference.generate", str(out), "--seed", "3"],
                   cwd=ROOT, check=True, capture_output=True)
    assert (out / "settings.yaml").exists() and (out / "professions.csv").exists()


def test_workbook_form_reads_like_the_folder(tmp_path):
    """The same tables as sheets of one .xlsx (settings as key/value rows) give the same dataset."""
    openpyxl = pytest.importorskip("openpyxl")
    folder = make(tmp_path, profs=[prof(a=0.5, m=9, basis="posts", tsw=0.3, dec=0.5, h=1), prof("Q", H=2)],
                  stock=[["Q", "R", 20]], pipeline=[["P", "R", 2020, 2]],
                  demand=[["P", "R", "2021/22", 10], ["P", "R", 2022, 10], ["P", "R", 2023, 10]],
                  budget=[[2021, 5000], [2022, 5000]], capacity=[["P", "R", 2022, "", "", 4]],
                  supervision=[["P", "Q"]], supervisor_hours=[["Q", "R", 1.5]], trainee_service=[["P", 1, 0.1]],
                  routes=[route(k="conv", d=2, m=1, source="Q", draw=0.5, share=0.5)],
                  retention=[["P", "", "", 0.5, 100, ""], ["P", "R", 2, 0.2, 300, 2022]],
                  recruitment=[["P", "", 1, 2000, 3, 0.1]],
                  settings={"target_year": 2022, "horizon_end": 2023, "assessed_years": [2021, 2022],
                            "sustain_years": [2023], "year_weights": {2022: 2, 2023: 0.5},
                            "supervision_time_counts": False, "contracted_hours_per_week": 30})
    book = openpyxl.Workbook()
    book.remove(book.active)
    for path in sorted(folder.glob("*.csv")):
        sheet = book.create_sheet(path.stem)
        for row in csv.reader(path.open()):
            sheet.append([float(c) if c.replace(".", "", 1).isdigit() else (c or None) for c in row])
    sheet = book.create_sheet("settings")
    sheet.append(["key", "value"])
    for key, value in yaml.safe_load((folder / "settings.yaml").read_text()).items():
        sheet.append([key, value if isinstance(value, (int, float, str, bool)) else yaml.safe_dump(value).strip()])
    book.save(tmp_path / "ds.xlsx")
    data = load_dataset(tmp_path / "ds.xlsx")
    assert data == load_dataset(folder)
    assert data.trainee_service and data.supervisor_hours and data.sustain_years == [2023]
    assert data.supervision_time_counts is False and data.contracted_hours_per_week == 30
    book_result, folder_result = solve(tmp_path / "ds.xlsx"), solve(folder)
    assert book_result["levers"] == folder_result["levers"] and folder_result["levers"]
    for key in ("weighted_shortfall", "sustain_shortfall", "total_cost_gbp", "committed_cost_after_horizon_gbp"):
        assert book_result[key] == approx(folder_result[key])


# ---------------------------------------------------------------------------- checker with levers


@pytest.fixture
def solved_levers(tmp_path):
    """Every lever at once: P has a cheap ``fast`` route (max_share 0.6) and a two-year September ``conv``
    route drawing 0.5 WTE of Q's stock per trainee (supervised by Q); retention of P (blank region, and a
    second tranche in B from 2022); recruitment of Q (blank region, lead 1, cap 5, 20% first-year attrition)
    and of P in A (lead 0, cap 2). Target 2022, horizon 2023, national and regional budgets."""
    ds = make(tmp_path, profs=[prof("P", a=0.2, weight=2, h=1, cost=10000), prof("Q", a=0.1, H=2)],
              regions=[("A", 1.2), ("B", "")],
              stock=[["P", "A", 20], ["P", "B", 10], ["Q", "A", 30], ["Q", "B", 30]],
              demand=[["P", "A", 2022, 40], ["P", "B", 2022, 25], ["Q", "A", 2022, 32], ["Q", "B", 2022, 30],
                      ["P", "A", 2023, 40], ["P", "B", 2023, 25], ["Q", "A", 2023, 30], ["Q", "B", 2023, 30]],
              pipeline=[["P", "A", 2020, 4]], supervision=[["P", "Q"]],
              routes=[route(k="fast", cost=6000, share=0.6),
                      route(k="conv", d=2, m=9, cost=300, source="Q", draw=0.5)],
              retention=[["P", "", "", 0.5, 800, ""], ["P", "B", 2, 0.3, 2000, 2022]],
              recruitment=[["Q", "", 1, 3000, 5, 0.2], ["P", "A", "", 5000, 2, ""]],
              budget=[[2021, "", 150000], [2022, "", 200000], [2022, "A", 90000]], regional=True,
              settings={"target_year": 2022, "horizon_end": 2023})
    results = write_results(ds, solve(ds), tmp_path / "results")
    return ds, results


def test_checker_accepts_reference_results_with_levers(solved_levers):
    ds, results = solved_levers
    assert check_results(ds, results, compare_reference=True) == []
    kinds = {row["kind"] for row in csv.DictReader((results / "levers.csv").open())}
    assert kinds == {"route", "retention", "recruitment"}
    routes = {row["route"] for row in csv.DictReader((results / "plan.csv").open())}
    assert routes == {"main", "fast", "conv"}
    r = solve(ds)
    assert r["route_intake"]["P", "conv", "B", 2021] > 1 and r["retention"]["P", "1", "A", 2021] > 1
    assert r["recruitment"]["P", "A", 2021] > 1


def test_checker_flags_lever_caps_and_figures(solved_levers):
    """Amounts beyond the retention and recruitment caps, a route over its max_share, a conversion draw
    that empties the source pool, and wrong levers.csv figures are all reported."""
    ds, results = solved_levers
    levers = results / "levers.csv"
    _edit_csv(levers, {"kind": "retention", "region": "A", "year": 2021}, "amount_wte", "50")
    _edit_csv(levers, {"kind": "recruitment", "profession": "P", "region": "A", "year": 2022}, "amount_wte", "7")
    _edit_csv(levers, {"kind": "recruitment", "profession": "Q", "region": "B", "year": 2021}, "cost_gbp", "1")
    _edit_csv(levers, {"kind": "route", "name": "conv", "region": "A", "year": 2021}, "in_post_target_wte", "99")
    _edit_csv(levers, {"kind": "route", "name": "fast", "region": "B", "year": 2022}, "gbp_per_wte", "1")
    _edit_csv(levers, {"kind": "route", "name": "conv", "region": "B", "year": 2023}, "gbp_per_wte", "5")
    _edit_csv(levers, {"kind": "retention", "region": "A", "year": 2022}, "gbp_per_wte", "")
    for file in ("plan.csv", "levers.csv"):
        _edit_csv(results / file, {"route" if file == "plan.csv" else "name": "conv", "region": "B", "year": 2022},
                  "intake" if file == "plan.csv" else "amount_wte", "500")
        _edit_csv(results / file, {"route" if file == "plan.csv" else "name": "fast", "region": "A", "year": 2023},
                  "intake" if file == "plan.csv" else "amount_wte", "400")
    text = "\n".join(check_results(ds, results))
    assert "retention_cap: (P, 1, A, 2021) retained 50" in text
    assert "recruitment_cap: (P, A, 2022) recruited 7 exceeds max_wte_per_year 2" in text
    assert "levers.csv recruitment (Q, B, 2021): cost_gbp = 1 but recomputed 0" in text
    assert "levers.csv route (P, conv, A, 2021): in_post_target_wte = 99" in text
    assert "levers.csv route (P, fast, B, 2022): gbp_per_wte = 1 but recomputed" in text
    assert "levers.csv route (P, conv, B, 2023): gbp_per_wte = '5' should be blank" in text
    assert "levers.csv retention (P, 1, A, 2022): gbp_per_wte is blank but" in text
    assert "route_share: P route fast intake" in text and "in 2023 exceeds max_share 0.6" in text
    assert "stock: (Q, B, 2022) S = " in text
    assert "budget.csv: year 2021 national spend" in text  # retention of 50 at 800 x 1.2 is over budget
    assert "supervision.csv: (P, B, 2022) trainees need" in text  # conv trainees need Q's hours


def test_checker_flags_missing_and_unknown_lever_rows(solved_levers):
    ds, results = solved_levers
    rows = list(csv.DictReader((results / "levers.csv").open()))
    kept = [row for row in rows if not (row["kind"] == "retention" and row["region"] == "B")]
    kept.append({**rows[0], "kind": "retention", "name": "tranche 2", "region": "A", "year": "2022",
                 "year_label": "2022/23"})
    kept.append({**rows[0], "kind": "bonus"})
    with (results / "levers.csv").open("w", newline="") as handle:
        w = csv.DictWriter(handle, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(kept)
    _edit_csv(results / "levers.csv", {"kind": "route", "name": "fast", "region": "A", "year": 2021}, "amount_wte",
              "0")
    text = "\n".join(check_results(ds, results))
    assert "levers.csv: no row for retention (P, 2, B, 2022) (amount taken as 0)" in text
    assert "no retention lever 'tranche 2' for (P, A, 2022)" in text
    assert "kind 'bonus'" in text
    assert "levers.csv route (P, fast, A, 2021): amount_wte (the plan.csv intake) = 0" in text
    (results / "levers.csv").unlink()
    assert "levers.csv: file is missing" in check_results(ds, results)

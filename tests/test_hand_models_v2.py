"""The pieces of model version 2, each on a model small enough to solve by hand: course
start months, service by year of training on both bases, supervision time, the sustain
stage, ``max_decline`` and the cost committed after the horizon. Derivations in the
docstrings; every solve also goes through the independent checker and HiGHS (``conftest``).

Unless a test says otherwise: base year 2020, one region, c = j = 1, a = 0, GBP 1,000 a
trainee-year, April starts, no trainee service, supervision time counted at 37.5 h a week.
"""

from __future__ import annotations

import pytest

from tests.helpers import profession, write_dataset

TOL = 1e-4  # later stages may give back 1e-6 relative + 1e-6 absolute of an earlier optimum


def approx(value):
    return pytest.approx(value, rel=TOL, abs=TOL)


def workforce(*stocks: tuple[str, float]) -> list[dict]:
    return [{"profession": p, "region": "r1", "stock_wte": s} for p, s in stocks]


def demand(*rows: tuple[str, int, float]) -> list[dict]:
    return [{"profession": p, "region": "r1", "year": t, "demand_wte": d} for p, t, d in rows]


def test_a_september_one_year_course_completes_the_next_year(tmp_path, solve):
    """d = 1, start month 9: f0 = (12 - 5)/12 = 7/12 of the intake year is spent training,
    5/12 of the next; Q = d = 1, so a 2021 cohort qualifies in 2022. Target 2022, demand 10,
    stock 0; budget 2021 GBP 3,500.
      N2021 = 7/12 x21 -> 583.33 x21 <= 3,500 -> x21 <= 6;  S2022 = x21 (x22 qualifies in 2023).
    Shortfall 10 - 6 = 4. GBP 1m more in 2021 buys 1e6/583.33 places, each 1 WTE in 2022:
    1,714.29 WTE. The cost stage buys no 2022 place (it would qualify after the horizon).
    Cost: 2021 3,500; 2022 1,000 x 5/12 x 6 = 2,500; nothing after 2022."""
    ds = write_dataset(
        tmp_path / "ds", settings={"target_year": 2022},
        professions=[profession("p", start_month=9)],
        workforce=workforce(("p", 0)), demand=demand(("p", 2022, 10)),
        budget=[{"year": 2021, "budget_gbp": 3500}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(6)
    assert s.intake("p", "r1", 2022) == approx(0)
    assert s.summary["weighted_shortfall"] == approx(4)
    assert s.shadow("budget", year=2021) == approx(1e6 * 12 / 7000)
    assert s.summary["total_cost_gbp"] == approx(6000)
    assert s.summary["committed_cost_after_horizon_gbp"] == approx(0)
    assert s.row("plan", year=2021)["completions"] == approx(0)
    assert s.row("plan", year=2021)["in_training_end"] == approx(6)  # still training on 31 March 2022
    assert s.row("plan", year=2022)["completions"] == approx(6)
    assert s.row("plan", year=2021)["in_training"] == approx(3.5)  # trainee-years


def test_a_january_start_spends_a_quarter_of_its_first_year_training(tmp_path, solve):
    """d = 1, start month 1 (January of the next calendar year): f0 = (12 - 9)/12 = 1/4,
    Q = 1. The pipeline's 2020 cohort of 8 (January 2021) trains 3/4 of 2021 and qualifies
    in 2021: S2021 = 8. Target 2022, demand 20: S2022 = 8 + x21.
      Budget 2021 GBP 8,000 >= 1,000 (3/4 x 8 + 1/4 x21) -> x21 <= 8; shortfall 20 - 16 = 4.
    GBP 1m more in 2021 buys 1e6/250 = 4,000 places, 4,000 WTE. Cost: 2021 8,000;
    2022 3/4 x 8 x 1,000 = 6,000."""
    ds = write_dataset(
        tmp_path / "ds", settings={"target_year": 2022},
        professions=[profession("p", start_month=1)],
        workforce=workforce(("p", 0)), demand=demand(("p", 2022, 20)),
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 8}],
        budget=[{"year": 2021, "budget_gbp": 8000}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(8)
    assert s.summary["weighted_shortfall"] == approx(4)
    assert s.shadow("budget", year=2021) == approx(4000)
    assert s.row("workforce", year=2021)["stock_wte"] == approx(8)
    assert s.summary["total_cost_gbp"] == approx(14_000)


def test_service_by_training_year_on_both_bases(tmp_path, solve):
    """Two 3-year April courses, p on the ``posts`` basis and q on the ``qualified`` basis,
    with the same data: stock 10, demand 30 in 2021 (target = horizon), pipeline cohorts of 10
    in 2019 and 2020. Service rows: year 1 0.1 WTE, year 2 0.5; year 3 would be the
    profession's 0.3 (Q = 2: nobody is in year 3 at a year end).
      S2021 = 10 + 10 (the 2019 cohort completes) = 20 for both.
      T2021 = 0.5 x 10 (2020 cohort, year 2) + 0.1 x21 (year 1).
      p: Y = 20 + 5 + 0.1 x21p (counted);  q: Y = 20 (trainees not counted).
    Budget GBP 50k: the pipeline's 40 trainees cost 40k, so 10 places, all to p:
    p gap 30 - 26 = 4, q gap 10; objective 14. GBP 1m more -> 1,000 places x 0.1 = 100 WTE.
    Qualified basis: 10 + 10 = 20. After 2021 (the horizon): each 2020 cohort's third year
    (2 x 10 x 1,000) and x21p's second and third (2 x 10 x 1,000): GBP 40k committed."""
    service = [{"profession": k, "training_year": n, "service_wte": v}
               for k in ("p", "q") for n, v in ((1, 0.1), (2, 0.5))]
    ds = write_dataset(
        tmp_path / "ds",
        professions=[profession("p", duration_years=3, trainee_service_wte=0.3, service_basis="posts"),
                     profession("q", duration_years=3, trainee_service_wte=0.3, service_basis="qualified")],
        trainee_service=service,
        workforce=workforce(("p", 10), ("q", 10)), demand=demand(("p", 2021, 30), ("q", 2021, 30)),
        pipeline=[{"profession": k, "region": "r1", "start_year": y, "trainees": 10}
                  for k in ("p", "q") for y in (2019, 2020)],
        budget=[{"year": 2021, "budget_gbp": 50_000}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(10)
    assert s.intake("q", "r1", 2021) == approx(0)
    assert s.summary["weighted_shortfall"] == approx(14)
    assert s.summary["total_shortfall_wte"] == approx(14)
    assert s.summary["qualified_shortfall_wte"] == approx(20)
    assert s.shadow("budget", year=2021) == approx(100)
    p, q = s.row("workforce", profession="p"), s.row("workforce", profession="q")
    assert (p["trainee_service_wte"], p["counted_service_wte"], p["supply_wte"]) == (approx(6), approx(6), approx(26))
    assert (q["trainee_service_wte"], q["counted_service_wte"], q["supply_wte"]) == (approx(5), approx(0), approx(20))
    assert s.summary["committed_cost_after_horizon_gbp"] == approx(40_000)
    assert s.summary["total_cost_gbp"] == approx(50_000)


def test_supervision_takes_time_from_the_supervisors(tmp_path, solve):
    """Trainees t (1-year April course) need 2 h a week each; supervisors s (stock 10, demand
    10, no places: intake_max 0) give at most 1 h a week per WTE: 10 h. A WTE is 20 h a week
    here, so each hour given is 1/20 WTE of s's service lost. Demand t 10.
      objective = (10 - x) + 2x/20 = 10 - 0.9x, x <= 5 -> x = 5, objective 5.5
    (t 5 short, s 0.5 short). Hours given = hours needed (10), not spare capacity.
    One more supervision hour a week: 0.5 trainee -> 0.5 x 0.9 = 0.45 WTE."""
    ds = write_dataset(
        tmp_path / "ds", settings={"target_year": 2021, "contracted_hours_per_week": 20},
        professions=[profession("t", supervision_hours_per_trainee=2),
                     profession("s", supervisor_hours_per_wte=1)],
        workforce=workforce(("t", 0), ("s", 10)), demand=demand(("t", 2021, 10), ("s", 2021, 10)),
        supervision=[{"trainee_profession": "t", "supervisor_profession": "s"}],
        capacity=[{"profession": "s", "region": "r1", "year": 2021, "placement_capacity": "",
                   "intake_min": "", "intake_max": 0}],
        budget=[{"year": 2021, "budget_gbp": 1e9}])
    s = solve(ds)
    assert s.intake("t", "r1", 2021) == approx(5)
    assert s.summary["weighted_shortfall"] == approx(5.5)
    assert s.shadow("supervision_capacity", "s", "r1", 2021) == approx(0.45)
    assert s.table("supervision")["hours_per_week"].sum() == approx(10)
    given = s.row("workforce", profession="s")
    assert given["supervision_given_wte"] == approx(0.5)
    assert given["supply_wte"] == approx(9.5)


def test_supervision_hours_given_equal_the_hours_needed(tmp_path, solve):
    """Supervisors with spare capacity (10 WTE x 1 h) and trainees needing 2 h each for one
    place (intake_max 1): 2 hours given, not 10, and s loses 2/37.5 WTE."""
    ds = write_dataset(
        tmp_path / "ds",
        professions=[profession("t", supervision_hours_per_trainee=2),
                     profession("s", supervisor_hours_per_wte=1)],
        workforce=workforce(("t", 0), ("s", 10)), demand=demand(("t", 2021, 10)),
        supervision=[{"trainee_profession": "t", "supervisor_profession": "s"}],
        capacity=[{"profession": "t", "region": "r1", "year": 2021, "placement_capacity": "",
                   "intake_min": "", "intake_max": 1}],
        budget=[{"year": 2021, "budget_gbp": 1e9}])
    s = solve(ds)
    assert s.table("supervision")["hours_per_week"].sum() == approx(2)
    assert s.row("workforce", profession="s")["supervision_given_wte"] == approx(2 / 37.5)


def test_a_sustain_stage_changes_the_plan_not_the_target(tmp_path, solve):
    """Target 2021, horizon 2022, so 2022 is a sustain year. 1-year April course, attrition
    0.5, demand 10 both years, budget 2021 GBP 5,000 (2022 unlimited).
      Stage 1: x21 = 5, target gap 5 (the sustain year cannot change it).
      Stage 2: S2022 = 0.5 x 5 + x22 = 10 -> x22 = 7.5, sustain gap 0.
    Without sustain years (``sustain_years: []``) the cost stage buys nothing in 2022."""
    tables = dict(professions=[profession("p", attrition_rate=0.5)], workforce=workforce(("p", 0)),
                  demand=demand(("p", 2021, 10), ("p", 2022, 10)),
                  budget=[{"year": 2021, "budget_gbp": 5000}])
    s = solve(write_dataset(tmp_path / "a", settings={"horizon_end": 2022}, **tables))
    assert s.summary["sustain_years"] == [2022]
    assert s.summary["weighted_shortfall"] == approx(5)
    assert s.summary["sustain_shortfall"] == approx(0)
    assert s.intake("p", "r1", 2022) == approx(7.5)
    assert s.summary["total_cost_gbp"] == approx(12_500)
    assert s.shadow("budget", year=2021) == approx(1000)  # stage 1's price
    none = solve(write_dataset(tmp_path / "b", settings={"horizon_end": 2022, "sustain_years": []}, **tables))
    assert none.summary["weighted_shortfall"] == approx(5)
    assert none.summary["sustain_shortfall"] is None
    assert none.intake("p", "r1", 2022) == approx(0)
    gap = none.row("workforce", year=2022)
    assert gap["shortfall_wte"] == approx(7.5) and not gap["sustain"]


def test_max_decline_holds_up_a_commission(tmp_path, solve):
    """p's base-year intake (pipeline 2020) is 10 and it may fall by at most 20% a year:
    X2021 >= 8, X2022 >= 6.4, though p has no demand. q (demand 5 in 2021) shares the 2021
    budget of GBP 9,000: 8 places go to p, 1 to q; objective 4. One trainee less of p's floor
    in 2021 frees GBP 1,000 for a q place: 1 WTE (the 2022 floor has no price). GBP 1m more
    in 2021: 1,000 WTE."""
    ds = write_dataset(
        tmp_path / "ds", settings={"horizon_end": 2022},
        professions=[profession("p", max_decline=0.2), profession("q")],
        workforce=workforce(("p", 0), ("q", 0)), demand=demand(("q", 2021, 5)),
        pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 10}],
        budget=[{"year": 2021, "budget_gbp": 9000}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(8)
    assert s.intake("p", "r1", 2022) == approx(6.4)
    assert s.intake("q", "r1", 2021) == approx(1)
    assert s.summary["weighted_shortfall"] == approx(4)
    assert s.shadow("decline", "p", None, 2021) == approx(1)
    assert s.shadow("decline", "p", None, 2022) == approx(0)
    assert s.shadow("budget", year=2021) == approx(1000)


@pytest.mark.parametrize("start_month, in_year, after", [(4, 4000, 8000), (9, 4000 * 7 / 12, 4000 * 29 / 12)])
def test_the_cost_committed_after_the_horizon(tmp_path, solve, start_month, in_year, after):
    """A 3-year course with a minimum intake of 4 in 2021, the horizon's only year: every
    trainee-year of the cohort costs GBP 1,000, 12,000 in all. An April cohort trains all of
    2021 (4,000) and two more years after it (8,000); a September one 7/12 of 2021 and
    1 + 1 + 5/12 years after it."""
    ds = write_dataset(
        tmp_path / "ds",
        professions=[profession("p", duration_years=3, start_month=start_month)],
        workforce=workforce(("p", 0)), demand=demand(("p", 2021, 0)),
        capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": "",
                   "intake_min": 4, "intake_max": ""}])
    s = solve(ds)
    assert s.intake("p", "r1", 2021) == approx(4)
    assert s.summary["total_cost_gbp"] == approx(in_year)
    assert s.summary["committed_cost_after_horizon_gbp"] == approx(after)
    assert s.summary["total_cost_gbp"] + s.summary["committed_cost_after_horizon_gbp"] == approx(12_000)

"""Why the gap stays open: the Shapley split of the target-year shortfall, on models small enough
to work out by hand."""

from __future__ import annotations

import pytest

from optimiser import pipeline
from optimiser.loader import load_dataset
from optimiser.reports import text
from optimiser.reports.folder import load_result
from optimiser.whatif.why import (COMPONENTS, FAMILY_ORDER, WhyError, compute_for_results, compute_split,
                                   families_present, load_split, shapley_weight)
from tests.helpers import profession, write_dataset

#: The cost stage keeps the shortfall within 1e-6 relative plus 1e-6 absolute of its optimum.
TOL = 1e-4


def two_limits(tmp_path, **extra):
    """One one-year course (completion, joining 1; no attrition; GBP 1,000 a trainee year), no stock,
    demand 10 WTE in 2021. Placements allow 5 trainees, the budget GBP 8,000 (8 trainees).

    v({}) = 0, v({placements}) = 5, v({budget}) = 2, v({placements, budget}) = 5, so the
    Shapley shares are placements (5 + 3)/2 = 4 and budget (2 + 0)/2 = 1.
    """
    tables = dict(
        professions=[profession("p")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10}],
        budget=[{"year": 2021, "budget_gbp": 8000}],
        capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": 5,
                   "intake_min": "", "intake_max": ""}],
    )
    tables.update(extra)
    return write_dataset(tmp_path / "ds", **{k: v for k, v in tables.items() if v is not None})


def test_shapley_split_of_two_limits_by_hand(tmp_path):
    split = compute_split(load_dataset(two_limits(tmp_path)))
    totals = split.totals()
    assert split.families_present == ("budget", "placements")
    assert split.total_wte == pytest.approx(5, abs=TOL)
    assert totals["training_time"] == pytest.approx(0, abs=1e-6)
    assert totals["placements"] == pytest.approx(4, abs=TOL)
    assert totals["budget"] == pytest.approx(1, abs=TOL)
    assert totals["supervision"] == totals["intake_limits"] == totals["growth"] == 0.0
    # Lifting one family alone: placements closes 5 - 2 = 3, the budget nothing.
    alone = split.alone_totals()
    assert alone["placements"] == pytest.approx(3, abs=TOL) and alone["budget"] == pytest.approx(0, abs=1e-6)
    # With no new places the whole 10 WTE stays open: the plan closes 5.
    assert split.no_new_places_wte == pytest.approx(10, abs=TOL)
    # Two families present: 2^2 coalitions plus the no-new-places solve.
    assert split.solves == 5 and len(split.coalitions) == 4


def test_training_time_is_what_no_commissioning_can_close(tmp_path):
    """A two-year course with no trainee service: nothing commissioned from 2021 qualifies by 2021/22,
    so the whole gap is training time, whatever the budget."""
    ds = two_limits(tmp_path, professions=[profession("p", duration_years=2)])
    split = compute_split(load_dataset(ds))
    totals = split.totals()
    assert split.total_wte == pytest.approx(10, abs=TOL)
    assert totals["training_time"] == pytest.approx(10, abs=TOL)
    assert totals["budget"] == pytest.approx(0, abs=1e-6) and totals["placements"] == pytest.approx(0, abs=1e-6)
    sentences = text.why_sentences(split, load_result_labels(ds))
    assert "10.0 WTE cannot be closed by any commissioning: training takes too long" in sentences[0]


def load_result_labels(ds):
    from optimiser.reports.folder import Labels

    return Labels.from_dataset(load_dataset(ds))


def test_split_adds_up_per_profession_and_region(tmp_path):
    """Two professions sharing one budget: every cell, profession and region split adds up."""
    ds = write_dataset(
        tmp_path / "ds",
        regions=[{"region": "r1", "name": "One", "cost_multiplier": 1}, {"region": "r2", "name": "Two",
                                                                          "cost_multiplier": 1.5}],
        professions=[profession("a", weight=2), profession("b", duration_years=2, trainee_service_wte=0.5,
                                                           max_growth=0.5)],
        workforce=[{"profession": p, "region": r, "stock_wte": 3} for p in "ab" for r in ("r1", "r2")],
        demand=[{"profession": p, "region": r, "year": y, "demand_wte": 12}
                for p in "ab" for r in ("r1", "r2") for y in (2021, 2022)],
        pipeline=[{"profession": "b", "region": r, "start_year": 2020, "trainees": 4} for r in ("r1", "r2")],
        budget=[{"year": 2021, "budget_gbp": 15000}, {"year": 2022, "budget_gbp": 20000}],
        capacity=[{"profession": "a", "region": "r2", "year": y, "placement_capacity": 3, "intake_min": 1,
                   "intake_max": ""} for y in (2021, 2022)],
        settings={"target_year": 2022},
    )
    dataset = load_dataset(ds)
    split = compute_split(dataset)
    cells = split.cells
    parts = cells[list(COMPONENTS)].sum(axis=1)
    assert (parts - cells["total_wte"]).abs().max() < 1e-6
    for key in ("profession", "region"):
        by = split.by(key)
        assert (by[list(COMPONENTS)].sum(axis=1) - by["total_wte"]).abs().max() < 1e-6
    # The plan being explained is the plan the run writes.
    out = tmp_path / "out"
    outcome = pipeline.run(dataset, out)
    assert split.total_wte == pytest.approx(outcome.summary.total_shortfall_wte, abs=1e-6)
    target = outcome.results.workforce[outcome.results.workforce["year"] == 2022]
    ours = cells.groupby("profession")["total_wte"].sum()
    theirs = target.groupby("profession")["shortfall_wte"].sum()
    for p in ours.index:
        assert ours[p] == pytest.approx(theirs[p], abs=1e-6)


def test_shapley_weights_sum_to_one():
    for n in range(1, 6):
        from math import comb

        assert sum(comb(n - 1, k) * shapley_weight(k, n) for k in range(n)) == pytest.approx(1.0)


def test_absent_families_are_skipped_and_cost_nothing(tmp_path):
    ds = load_dataset(two_limits(tmp_path, capacity=None))
    assert families_present(ds) == ("budget",)
    split = compute_split(ds)
    assert split.solves == 3
    assert split.totals()["placements"] == 0.0 and split.totals()["budget"] == pytest.approx(2, abs=TOL)
    assert set(FAMILY_ORDER) == {"budget", "supervision", "placements", "intake_limits", "growth"}


def test_saved_split_round_trips(tmp_path):
    ds = two_limits(tmp_path)
    out = tmp_path / "out"
    outcome = pipeline.run(ds, out)
    split = compute_for_results(load_dataset(ds), outcome.summary, outcome.results.workforce)
    split.save(out)
    assert (out / "why.csv").exists() and (out / "why.json").exists()
    again = load_split(out)
    assert again.totals() == pytest.approx(split.totals())
    assert again.total_wte == pytest.approx(split.total_wte)
    assert again.alone_totals() == pytest.approx(split.alone_totals())
    assert load_result(out).why is not None
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_no_split_without_a_plan(tmp_path):
    ds = two_limits(tmp_path, pipeline=[{"profession": "p", "region": "r1", "start_year": 2020, "trainees": 0}],
                    capacity=[{"profession": "p", "region": "r1", "year": 2021, "placement_capacity": 5,
                               "intake_min": 9, "intake_max": ""}])
    outcome = pipeline.run(ds, None)
    assert outcome.summary.status == "infeasible"
    with pytest.raises(WhyError, match="no plan"):
        compute_for_results(load_dataset(ds), outcome.summary)
    with pytest.raises(WhyError, match="infeasible"):
        compute_split(load_dataset(ds))


def test_a_changed_dataset_is_refused(tmp_path):
    ds = two_limits(tmp_path)
    outcome = pipeline.run(ds, None)
    (ds / "budget.csv").write_text("year,budget_gbp\n2021,3000\n")
    with pytest.raises(WhyError, match="changed since the run"):
        compute_for_results(load_dataset(ds), outcome.summary)


def test_a_time_limited_result_is_refused_before_any_solve(tmp_path, monkeypatch):
    ds = two_limits(tmp_path)
    summary = pipeline.run(ds, None).summary.model_copy(update={"status": "time_limit"})
    from optimiser.whatif import why

    monkeypatch.setattr(why, "compute_split", lambda *a, **k: pytest.fail("solved a time-limited result"))
    with pytest.raises(WhyError, match="time limit: its plan is not proven optimal"):
        compute_for_results(load_dataset(ds), summary)

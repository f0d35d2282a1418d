"""Shared fixtures: solve a dataset through the real pipeline (real CBC) and check the result
with the independent checker in ``tests/reference``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from optimiser import pipeline
from tests.helpers import profession, write_dataset
try:
    from tests.reference.checker import check_results
except ImportError:  # TEMPORARY while the reference is written
    check_results = None


class Solved:
    """A solved dataset on disk: its summary and tables, already independently checked."""

    def __init__(self, dataset: Path, out: Path, outcome):
        self.dataset, self.out, self.outcome = dataset, out, outcome
        self.summary = json.loads((out / "summary.json").read_text())
        self.status = self.summary["status"]

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.out / f"{name}.csv")

    def intake(self, profession: str, region: str, year: int) -> float:
        """The intake over every route of ``profession``."""
        plan = self.table("plan")
        rows = plan[(plan.profession == profession) & (plan.region == region) & (plan.year == year)]
        assert len(rows), f"no plan row for {profession}/{region}/{year}"
        return float(rows["intake"].sum())

    def row(self, name: str, **keys) -> pd.Series:
        """The one row of table ``name`` with the given key values."""
        table = self.table(name)
        for column, value in keys.items():
            table = table[table[column] == value]
        assert len(table) == 1, f"expected one {name} row for {keys}, found {len(table)}"
        return table.iloc[0]

    def shadow(self, family: str, profession=None, region=None, year=None) -> float:
        c = self.table("constraints")
        mask = c.family == family
        for column, value in (("profession", profession), ("region", region), ("year", year)):
            mask &= c[column].isna() if value is None else (c[column] == value)
        rows = c[mask]
        assert len(rows) == 1, f"expected one {family} row, found {len(rows)}"
        return float(rows["shadow_price"].iloc[0])


def _agrees_with_highs(dataset: Path, solved: Solved, options: dict) -> None:
    """Every test model is solved by HiGHS too: same status, the same optimum of each stage
    (target shortfall, sustain shortfall, whole cost: the cost of the decision years and after)."""
    other = pipeline.run(dataset, None, **{**options, "solver": "highs"}).summary
    assert other.status == solved.status
    if solved.status == "optimal":
        ours = solved.summary
        for key in ("weighted_shortfall", "sustain_shortfall"):
            if ours[key] is None:
                assert getattr(other, key) is None, key
            else:
                assert getattr(other, key) == pytest.approx(ours[key], rel=1e-6, abs=1e-4), key
        whole = ours["total_cost_gbp"] + ours["committed_cost_after_horizon_gbp"]
        assert other.total_cost_gbp + other.committed_cost_after_horizon_gbp == pytest.approx(whole, rel=1e-6, abs=1e-4)


@pytest.fixture
def dataset(tmp_path):
    """A small dataset on disk (one two-year course, one region, two years) for command tests."""
    return write_dataset(
        tmp_path / "ds", settings={"target_year": 2022},
        professions=[profession("p", duration_years=2, trainee_service_wte=0.3, attrition_rate=0.1)],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 50}],
        demand=[{"profession": "p", "region": "r1", "year": 2022, "demand_wte": 80}],
        budget=[{"year": 2021, "budget_gbp": 20_000}, {"year": 2022, "budget_gbp": 30_000}])


@pytest.fixture
def solve(tmp_path):
    """``solve(dataset_dir, **options)`` -> Solved; every plan is run through the checker."""
    counter = iter(range(10_000))

    def _solve(dataset: Path, **options) -> Solved:
        out = tmp_path / f"out{next(counter)}"
        outcome = pipeline.run(dataset, out, **options)
        solved = Solved(dataset, out, outcome)
        if solved.summary["has_plan"] and check_results is not None:
            problems = check_results(dataset, out)
            assert problems == [], "independent checker: " + "; ".join(problems)
        if options.get("solver", "cbc") == "cbc":
            _agrees_with_highs(dataset, solved, options)
        return solved

    return _solve

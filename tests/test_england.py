"""The default dataset: it loads, solves optimal (CBC and HiGHS agree), passes the
independent checker, agrees with the seed's national figures, and documents every column."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.inputs import TABLES
from optimiser.loader import load_dataset

ENGLAND = Path(__file__).resolve().parents[1] / "inputs" / "england"


@pytest.fixture(scope="module")
def england():
    return load_dataset(ENGLAND)


def test_shape_follows_the_seed(england):
    assert england.settings.base_year == 2020 and england.settings.target_year == 2023
    assert len(england.regions) == 7
    assert {p.profession for p in england.professions} == {
        "clinical_psychologist", "counselling_psychologist", "forensic_psychologist", "health_psychologist",
        "child_adolescent_psychotherapist", "adult_psychotherapist", "cbt_therapist", "counsellor",
        "family_systemic_psychotherapist", "pwp", "cwp", "emhp", "mhwp"}
    durations = {p.profession: p.duration_years for p in england.professions}
    assert set(durations.values()) <= {1, 2, 3, 4}
    assert durations["family_systemic_psychotherapist"] == 4  # seed 5.1.9: four-year Masters
    assert durations["emhp"] == durations["mhwp"] == 1  # seed 5.1.7, 5.1.13: one-year programmes
    # seed 6.1: "each year around 30 per cent of PWPs leave their posts. While most leave to progress
    # onto High Intensity training": attrition (other leavers) plus the draw of High Intensity trainees,
    # counted once (test_england_dataset.py checks the split against SOURCES.md)
    pwp = england.profession["pwp"]
    draw = dict(england.sources_of["cbt_therapist"])["pwp"]
    assert 0 < pwp.attrition_rate < 0.30 and draw > 0


def test_national_totals_agree_with_the_seed(england):
    stock = sum(england.stock_wte.values())
    assert stock == pytest.approx(20_100, rel=0.01)  # seed 3: about 20,100 WTE in March 2021
    demand = sum(v for (p, r, t), v in england.demand_wte.items() if t == 2023)
    assert demand == pytest.approx(16_000 + 10_640, rel=0.001)  # 2019 baseline + growth (seed 4, Table 2)
    emhp = sum(v for (p, r, t), v in england.demand_wte.items() if t == 2023 and p == "emhp")
    assert emhp == pytest.approx(2_500)  # seed 5.1.7 and Table 2


def test_sources_document_every_table_and_profession():
    sources = (ENGLAND / "SOURCES.md").read_text(encoding="utf-8")
    for name, spec in TABLES.items():
        if (ENGLAND / f"{name}.csv").exists():
            assert name in sources, name
            for column in spec.columns:
                assert column in sources, f"{name}.{column} is not documented in SOURCES.md"
    for line in (ENGLAND / "professions.csv").read_text().splitlines()[1:]:
        assert line.split(",")[0] in sources
    assert "ASSUMPTION" in sources and "SEED" in sources


#: A commission that falls by more than this share in one year and rises by more than it in the
#: next (or the reverse) is stop-go: no HEI can run a programme that way.
STOP_GO_SHARE = 0.10


def stop_go(series: list[float], share: float = STOP_GO_SHARE) -> str | None:
    """Why a national intake series is stop-go (``None`` when it is not): a stop (a positive
    intake falling to zero) followed by a restart, or a change of more than ``share`` reversed
    by one of more than ``share`` the next year."""
    for i in range(1, len(series) - 1):
        before, now, after = series[i - 1], series[i], series[i + 1]
        if before > 0 and now <= 0 < after:
            return f"stops in year {i} and restarts"
        if before > 0 and now > 0:
            first, second = now / before - 1, after / now - 1
            if min(abs(first), abs(second)) > share + 1e-6 and first * second < 0:
                return f"{first:+.0%} then {second:+.0%} in years {i} and {i + 1}"
    return None


def test_stop_go_is_recognised():
    assert stop_go([300, 114, 0, 0]) is None  # a stop, but no restart: a wind-down
    assert stop_go([99, 0, 187]) == "stops in year 1 and restarts"
    assert stop_go([858, 686, 888]) is not None  # -20% then +29%
    assert stop_go([935, 935, 935, 1067, 1067]) is None
    assert stop_go([810, 737, 832, 749]) is None  # within 10% a year: a commission adjusted, not stopped


def test_default_dataset_solves_optimal_with_no_stop_go_intake(solve):
    result = solve(ENGLAND)  # the fixture also runs the independent checker and HiGHS
    assert result.status == "optimal"
    assert result.summary["total_shortfall_wte"] > 0  # long pipelines cannot close the gap by 2023/24
    assert result.summary["qualified_shortfall_wte"] >= result.summary["total_shortfall_wte"]
    assert result.summary["sustain_years"] == [2024, 2025, 2026, 2027]
    assert result.summary["committed_cost_after_horizon_gbp"] > 0
    assert result.summary["binding_limits"], "some limit must bind"
    intake = result.table("plan").groupby(["profession", "year"])["intake"].sum()
    for profession in intake.index.get_level_values(0).unique():
        series = list(intake[profession].sort_index())
        assert stop_go(series) is None, f"{profession}: {stop_go(series)} ({[round(v) for v in series]})"
    # doctoral and four-year programmes are never cut (max_decline 0: HEE's sustained expansion)
    for profession in ("clinical_psychologist", "child_adolescent_psychotherapist", "family_systemic_psychotherapist"):
        series = list(intake[profession].sort_index())
        assert all(b >= a * (1 - 1e-6) for a, b in zip(series, series[1:])), (profession, series)

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
    assert england.profession["pwp"].attrition_rate == 0.30  # seed 6.1: around 30% leave each year


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


def test_default_dataset_solves_optimal(solve):
    result = solve(ENGLAND)  # the fixture also runs the independent checker and HiGHS
    assert result.status == "optimal"
    assert result.summary["total_shortfall_wte"] > 0  # long pipelines cannot close the gap by 2023/24
    assert result.summary["binding_limits"], "some limit must bind"

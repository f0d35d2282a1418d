"""Properties that must hold on every dataset, checked on 100 generated datasets (seeded, so
a failure names a reproducible seed: `python -m tests.reference.generate OUT --seed N`)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from optimiser import pipeline
from tests.reference.checker import check_results
from tests.reference.generate import generate_dataset

SEEDS = range(1000, 1100)
TOL = 1e-6


def scale_column(folder: Path, table: str, column: str, factor: float) -> None:
    path = folder / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        columns = list(reader.fieldnames or [])
    for row in rows:
        if row.get(column, "").strip():
            row[column] = repr(float(row[column]) * factor)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def objective(folder: Path, **options) -> float:
    """Stage 1's optimum (the final plan may give back 1e-6 of it to the later stages)."""
    outcome = pipeline.run(folder, None, **options)
    assert outcome.summary.status == "optimal", outcome.summary.message
    return outcome.solution.objectives["shortfall"]


def no_worse(relaxed: float, base: float) -> bool:
    return relaxed <= base + TOL * max(1.0, abs(base)) + TOL


@pytest.mark.parametrize("seed", SEEDS)
def test_properties(tmp_path, seed):
    ds = generate_dataset(tmp_path / "ds", seed)
    first = pipeline.run(ds, tmp_path / "a")
    assert first.summary.status == "optimal"
    base = first.solution.objectives["shortfall"]
    # every optimal plan passes the independent constraint checker
    assert check_results(ds, tmp_path / "a") == []
    # rerunning gives the same plan
    pipeline.run(ds, tmp_path / "b")
    assert (tmp_path / "a" / "plan.csv").read_text() == (tmp_path / "b" / "plan.csv").read_text()
    # CBC and HiGHS agree on the optimum
    assert objective(ds, solver="highs") == pytest.approx(base, rel=1e-6, abs=1e-6)
    # more budget never raises the optimal weighted shortfall
    scale_column(ds, "budget", "budget_gbp", 1.25)
    assert no_worse(objective(ds), base)
    scale_column(ds, "budget", "budget_gbp", 1 / 1.25)
    # more supervision hours never raise it
    scale_column(ds, "professions", "supervisor_hours_per_wte", 1.25)
    assert no_worse(objective(ds), base)


@pytest.mark.parametrize("seed", range(3000, 3012))
def test_a_lever_never_raises_the_optimal_shortfall(tmp_path, seed):
    """Generated datasets with routes, retention or recruitment: taking every lever table away
    never lowers stage 1's optimum (a lever is an option, never an obligation)."""
    ds = generate_dataset(tmp_path / "ds", seed)
    tables = [name for name in ("routes", "retention", "recruitment") if (ds / f"{name}.csv").exists()]
    if not tables:
        pytest.skip(f"seed {seed} drew no levers")
    with_levers = objective(ds)
    for name in tables:
        (ds / f"{name}.csv").unlink()
    assert no_worse(with_levers, objective(ds))


@pytest.mark.parametrize("seed", range(2000, 2012))
def test_integer_optimum_never_below_lp(tmp_path, seed):
    ds = generate_dataset(tmp_path / "ds", seed, integer=True, n_professions=3, n_regions=2)
    integer = objective(ds)
    relaxed = objective(ds, integer=False)
    assert integer >= relaxed - TOL * max(1.0, relaxed)

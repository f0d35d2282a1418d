"""Shared fixtures: solve a dataset through the real pipeline (real CBC) and check the result
with the independent checker in ``tests/reference``.

Every solve with a plan in a test process, whoever asks for it (a fixture, a command run
through Click's runner, a batch case solved in process), is checked: ``_check_every_solve``
wraps ``pipeline.solve_and_write`` for the whole session and runs the checker on the files
it made, against the dataset it solved (written to disk when it was made in memory). There
is no switch to turn it off, and a checker that cannot be imported fails every test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from optimiser import output, pipeline
from tests.helpers import profession, write_dataset, write_dataset_object
from tests.reference.checker import check_results

#: How many solves the session checked (a test asserts the hook is live).
CHECKED = {"solves": 0}


def _dataset_on_disk(dataset, scratch: Path, integer: bool) -> Path:
    """The folder or workbook ``dataset`` was read from when it is exactly what was solved,
    else a copy of what was (``integer``: whole places, which ``--integer`` may have set)."""
    from optimiser.loader import load_dataset

    if dataset.settings.integer_places != integer:
        settings = dataset.settings.model_copy(update={"integer_places": integer})
        return write_dataset_object(dataset.model_copy(update={"settings": settings}), scratch / "dataset")
    source = Path(dataset.source) if dataset.source else None
    if source is not None and source.exists():
        try:
            if load_dataset(source) == dataset:
                return source
        except Exception:  # noqa: BLE001 - edited since, or not a dataset: write what was solved
            pass
    return write_dataset_object(dataset, scratch / "dataset")


def _check_outcome(model, outcome) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="checker-") as tmp:
        scratch = Path(tmp)
        if outcome.out_dir is not None:
            results = outcome.out_dir
        else:
            files = outcome.files or output.render(pipeline.result_files(
                outcome.summary, outcome.results, outcome.solution, None))
            results = scratch / "results"
            results.mkdir()
            for name, content in files.items():
                if name != pipeline.MPS_FILE:
                    (results / name).write_bytes(content)
        problems = check_results(_dataset_on_disk(model.dataset, scratch, model.integer), results)
    CHECKED["solves"] += 1
    assert problems == [], "independent checker: " + "; ".join(problems)


@pytest.fixture(autouse=True, scope="session")
def _check_every_solve():
    original = pipeline.solve_and_write

    def checked(model, out_dir, **options):
        outcome = original(model, out_dir, **options)
        if outcome.summary.has_plan:
            _check_outcome(model, outcome)
        return outcome

    pipeline.solve_and_write = checked
    yield
    pipeline.solve_and_write = original


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
        before = CHECKED["solves"]
        outcome = pipeline.run(dataset, out, **options)
        solved = Solved(dataset, out, outcome)
        assert CHECKED["solves"] == before + solved.summary["has_plan"]  # checked by ``_check_every_solve``
        if options.get("solver", "cbc") == "cbc":
            _agrees_with_highs(dataset, solved, options)
        return solved

    return _solve


#: The layer of each test module: ``pytest -m unit`` (no solver: readers, validation, layout),
#: ``-m model`` (hand-worked models, properties, in-place re-solves: small real solves),
#: ``-m reference`` (agreement with the independent reference on generated datasets),
#: ``-m e2e`` (commands, batches, reports in Chromium, the England dataset). Every module
#: has exactly one layer (a test holds it), so ``-m "unit or model"`` is the fast subset.
LAYERS = {
    "unit": ("test_architecture", "test_inputs", "test_fuzz_readers", "test_scenarios"),
    "model": ("test_hand_models", "test_hand_models_v2", "test_hand_models_levers", "test_infeasible",
              "test_properties", "test_reuse", "test_fast_paths"),
    "reference": ("test_reference_agreement", "test_reference_selftest"),
    "e2e": ("test_cli", "test_batch", "test_england", "test_whole_places", "test_england_dataset", "test_frontier", "test_faults",
            "test_hostile_inputs", "test_output_safety", "test_reports_batch", "test_reports_cli",
            "test_reports_england", "test_reports_files", "test_reports_why", "test_reports_shape",
            "test_dataset_workbook", "test_compare", "test_shapecli", "test_app", "test_app_browser"),
}
LAYER_OF = {module: layer for layer, modules in LAYERS.items() for module in modules}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = Path(str(item.fspath)).stem
        layer = LAYER_OF.get(module)
        if layer is None:
            raise pytest.UsageError(f"{module}.py has no test layer: add it to LAYERS in tests/conftest.py")
        item.add_marker(getattr(pytest.mark, layer))

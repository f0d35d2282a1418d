"""Read a results folder (``optimiser run``) or a batch folder (``comparison.csv`` + ``scenarios/<name>/``).

Key columns are read as text exactly as written (a profession called ``NA``,
``1`` or ``=SUM(A1)`` stays that string); blank cells are missing values.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from models.results import Summary
from optimiser import batch as batch_files
from optimiser.errors import InputError, Problem
from optimiser.whatif.frontier import FRONTIER_CSV, FRONTIER_PNG

TEXT_COLUMNS = ("profession", "region", "family", "trainee_profession", "supervisor_profession", "year_label",
                "scenario", "name", "sense", "shadow_unit", "unit", "description", "status", "message", "reason",
                "results")
RESULT_TABLES = ("plan", "workforce", "supervision", "constraints", "conflicts", "budget_frontier", "levers")
COMPARISON = batch_files.COMPARISON + ".csv"
SCENARIOS = batch_files.SCENARIOS_DIR
#: The only status whose figures are ranked: a time-limited plan is feasible but not proven best.
RANKED_STATUS = "optimal"
#: The status of a comparison row whose results folder is missing or from an earlier run.
OUT_OF_DATE = "out_of_date"
#: Comparison statuses of cases with no result of this run, and what they mean.
NOT_RUN = {batch_files.FAILED: "the run failed", batch_files.PENDING: "not run yet"}


def read_table(path: Path) -> pd.DataFrame:
    """A CSV written by the optimiser, with key columns kept as text; ``InputError`` naming the
    file when it cannot be read (a dangling link, a folder, damaged text)."""
    from optimiser.tablefiles import MAX_CSV_BYTES, file_problem

    problem = file_problem(path, str(path), MAX_CSV_BYTES)
    if problem is not None:
        raise InputError([problem])
    try:
        header = pd.read_csv(path, nrows=0).columns
        dtype = {c: str for c in header if c in TEXT_COLUMNS}
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError([Problem(str(path), None, None, None, f"cannot be read as a results table ({reason}); "
                                  "was it edited? run the command that wrote it again")]) from None


@dataclass
class Labels:
    """Display names of professions and regions (from the dataset when it can be read, else the keys)."""

    profession: dict[str, str] = field(default_factory=dict)
    region: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)

    def p(self, key) -> str:
        return self.profession.get(key, str(key))

    def r(self, key) -> str:
        return self.region.get(key, str(key))

    @classmethod
    def from_dataset(cls, dataset) -> Labels:
        return cls({p.profession: p.name or p.profession for p in dataset.professions},
                   {r.region: r.name or r.region for r in dataset.regions},
                   {p.profession: p.weight for p in dataset.professions})


def find_dataset(path: str | Path | None, results: str | Path | None = None) -> Path | None:
    """Where the dataset ``path`` (as ``summary.json`` names it) is from here.

    ``summary.json`` keeps the path as it was given to ``optimiser run``, so a
    relative path is tried from the current folder, then from the results
    folder and each folder above it (the usual case: run from the project root).
    """
    if not path:
        return None
    candidate = Path(path)
    if candidate.exists() or candidate.is_absolute():
        return candidate if candidate.exists() else None
    if results is not None:
        for parent in list(Path(results).resolve().parents)[:6]:
            if (parent / candidate).exists():
                return parent / candidate
    return None


def try_load_dataset(path: str | Path | None, results: str | Path | None = None):
    """The dataset at ``path`` (see ``find_dataset``), or ``None`` when it is absent or does not load."""
    found = find_dataset(path, results)
    if found is None:
        return None
    try:
        from optimiser.loader import load_dataset

        return load_dataset(found)
    except Exception:  # noqa: BLE001 - names are a nicety; the report works on keys alone
        return None


@dataclass
class ResultFolder:
    """One results folder: its summary, its tables (``None`` when absent) and the saved ``why``."""

    path: Path
    summary: Summary
    tables: dict[str, pd.DataFrame | None]
    labels: Labels = field(default_factory=Labels)
    why: object | None = None  # optimiser.whatif.why.ShortfallSplit

    @property
    def name(self) -> str:
        return self.summary.scenario or self.path.name

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    @property
    def plan(self) -> pd.DataFrame | None:
        return self.tables.get("plan")

    @property
    def workforce(self) -> pd.DataFrame | None:
        return self.tables.get("workforce")

    @property
    def supervision(self) -> pd.DataFrame | None:
        return self.tables.get("supervision")

    @property
    def constraints(self) -> pd.DataFrame | None:
        return self.tables.get("constraints")

    @property
    def conflicts(self) -> pd.DataFrame | None:
        table = self.tables.get("conflicts")
        if table is None and self.summary.conflicts:
            table = pd.DataFrame(self.summary.conflicts)
        return table

    def target_workforce(self) -> pd.DataFrame:
        wf = self.workforce
        if wf is None or wf.empty:
            return pd.DataFrame(columns=["profession", "region", "demand_wte", "supply_wte", "shortfall_wte"])
        return wf[wf["year"] == self.summary.target_year]

    def shortfall_units(self) -> str:
        """How a shadow price reads: ``WTE`` when every open gap has weight 1 in the target year alone."""
        s = self.summary
        unweighted = list(s.assessed_years) == [s.target_year]
        wf = self.workforce
        if unweighted and wf is not None and not wf.empty and "weighted_shortfall" in wf:
            open_gaps = wf[(wf["assessed"] == True) & (wf["shortfall_wte"].fillna(0) > 1e-9)]  # noqa: E712
            ratio = open_gaps["weighted_shortfall"] / open_gaps["shortfall_wte"]
            unweighted = bool(((ratio - 1).abs() < 1e-6).all())
        return "WTE" if unweighted else "weighted WTE"


@dataclass
class BatchFolder:
    """A batch: ``comparison.csv``, one results folder per scenario, and the frontier when drawn."""

    path: Path
    comparison: pd.DataFrame
    scenarios: dict[str, ResultFolder]
    frontier: pd.DataFrame | None = None
    frontier_png: Path | None = None
    labels: Labels = field(default_factory=Labels)
    missing: dict[str, dict] = field(default_factory=dict)  # comparison rows without a current result

    @property
    def name(self) -> str:
        return self.path.name

    def ranking(self) -> pd.DataFrame:
        """One row per scenario: status, shortfall, cost, the ranks by shortfall and by cost, and a note.

        Only optimal results are ranked. A plan stopped at its time limit keeps its
        figures (from its ``summary.json``) and its status, without a rank. A
        scenario of ``comparison.csv`` with no current result (failed, not run yet,
        or its folder holds an earlier run's result) keeps the comparison's status,
        has no figures and no rank, and says why in ``note``.
        """
        rows = []
        for name, result in self.scenarios.items():
            s = result.summary
            rows.append({"scenario": name, "status": s.status, "total_shortfall_wte": s.total_shortfall_wte,
                         "weighted_shortfall": s.weighted_shortfall, "total_cost_gbp": s.total_cost_gbp,
                         "target_year": s.target_year, "overrides": len(s.overrides),
                         "note": None if s.status == RANKED_STATUS else s.message})
        for name, record in self.missing.items():
            status = _text(record.get("status"))
            if status in NOT_RUN:
                rows.append({"scenario": name, "status": status,
                             "note": _text(record.get("reason")) or NOT_RUN[status]})
            else:
                rows.append({"scenario": name, "status": OUT_OF_DATE,
                             "note": "no current result: its folder is missing or holds an earlier run's result"})
        columns = ["scenario", "status", "total_shortfall_wte", "weighted_shortfall", "total_cost_gbp",
                   "target_year", "overrides", "note"]
        table = pd.DataFrame(rows, columns=columns)
        for column in ("total_shortfall_wte", "weighted_shortfall", "total_cost_gbp"):
            table[column] = pd.to_numeric(table[column], errors="coerce")
        ranked = table["status"] == RANKED_STATUS
        table["rank_by_shortfall"] = table["total_shortfall_wte"].where(ranked).rank(method="min")
        table["rank_by_cost"] = table["total_cost_gbp"].where(ranked).rank(method="min")
        table = table[[*columns[:-1], "rank_by_shortfall", "rank_by_cost", "note"]]
        return table.sort_values(["rank_by_shortfall", "rank_by_cost", "scenario"], na_position="last",
                                 kind="stable").reset_index(drop=True)


def _not_a_result(path: Path) -> InputError:
    return InputError([Problem(str(path), None, None, None,
                               "is not a results folder (no summary.json) nor a batch folder (no comparison.csv); "
                               "run 'optimiser run' first")])


def load_result(path: str | Path, *, dataset=None, labels: Labels | None = None) -> ResultFolder:
    """Read a results folder. ``dataset`` (a path or a loaded Dataset) supplies display names."""
    from optimiser.whatif.why import load_split

    path = Path(path)
    summary_path = path / "summary.json"
    if not summary_path.exists():
        raise _not_a_result(path)
    try:
        summary = Summary.model_validate(json.loads(summary_path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        fields = ", ".join(dict.fromkeys(".".join(map(str, e["loc"])) or "(the whole file)" for e in exc.errors()))
        raise InputError([Problem(str(summary_path), None, None, None,
                                  f"is not a summary the optimiser wrote (check: {fields[:200]})")]) from None
    except (ValueError, OSError, RecursionError) as exc:
        raise InputError([Problem(str(summary_path), None, None, None, f"cannot be read: {exc}")]) from None
    tables = {}
    for name in RESULT_TABLES:
        table_path = path / f"{name}.csv"
        tables[name] = read_table(table_path) if os.path.lexists(table_path) else None
    if labels is None:
        ds = dataset if dataset is not None and not isinstance(dataset, (str, Path)) else \
            try_load_dataset(dataset or summary.dataset, path)
        labels = Labels.from_dataset(ds) if ds is not None else Labels()
    return ResultFolder(path, summary, tables, labels, load_split(path))


def load_batch(path: str | Path, *, dataset=None) -> BatchFolder:
    """Read a batch folder: the scenarios of ``comparison.csv``, in its order.

    A scenario's results folder is read only when it holds that case's current
    result (``current_folders``); every other row (failed, not run yet, or whose
    folder holds an earlier run's result) goes to ``missing``. Folders under
    ``scenarios/`` that ``comparison.csv`` does not list (cases no longer in the
    scenario file) are not read.
    """
    path = Path(path)
    comparison = read_table(path / COMPARISON)
    current = current_folders(path, comparison)
    scenarios: dict[str, ResultFolder] = {}
    missing: dict[str, dict] = {}
    labels = None
    from optimiser.console import progress

    records = comparison.to_dict(orient="records")
    for record in progress(records, total=len(records), desc="Reading the scenarios", unit="scenario"):
        name = _text(record.get("scenario"))
        if name is None:
            continue
        if name not in current:
            missing[name] = record
            continue
        result = load_result(current[name], dataset=dataset, labels=labels)
        if result.labels.profession:
            labels = result.labels
        scenarios[name] = result
    frontier = read_table(path / FRONTIER_CSV) if (path / FRONTIER_CSV).exists() else None
    png = path / FRONTIER_PNG if (path / FRONTIER_PNG).exists() else None
    return BatchFolder(path, comparison, scenarios, frontier, png, labels or Labels(), missing)


def current_folders(path: Path, comparison: pd.DataFrame) -> dict[str, Path]:
    """``{scenario: results folder}`` for the rows of ``comparison`` whose folder holds the current result.

    Each row's ``results`` folder (default ``scenarios/<scenario>``) must lie inside
    the batch folder (else ``InputError``). A row counts when its status is not
    ``failed`` or ``pending`` and, in a folder ``optimiser batch`` wrote (with
    ``batch.json``), its folder is complete for the case's fingerprint there
    (``optimiser.batch.current_cases``). A comparison put together without
    ``batch.json`` cannot say which run a folder is from: its folder counts when
    its ``summary.json`` has the row's status and shortfall.
    """
    root = path.resolve()
    batch_json = (path / batch_files.BATCH_FILE).exists()
    fresh = batch_files.current_cases(path) if batch_json else {}
    found: dict[str, Path] = {}
    for line, record in enumerate(comparison.to_dict(orient="records"), start=2):
        name = _text(record.get("scenario"))
        if name is None:
            continue
        where = _text(record.get("results")) or f"{SCENARIOS}/{name}"
        folder = (path / where).resolve()
        if not folder.is_relative_to(root):
            raise InputError([Problem(str(path / COMPARISON), line, "results", where,
                                      "is outside the batch folder; a scenario's results must be in it")])
        status = _text(record.get("status"))
        if status in NOT_RUN:
            continue
        if batch_json:
            current = name in fresh and fresh[name].resolve() == folder
        else:
            current = _agrees(folder, status, record.get("total_shortfall_wte"))
        if current:
            found[name] = folder
    return found


def _agrees(folder: Path, status: str | None, shortfall) -> bool:
    """``folder``'s summary.json has ``status`` and ``shortfall`` (each when given)."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(summary, dict) or (status is not None and summary.get("status") != status):
        return False
    if shortfall is None or (isinstance(shortfall, float) and math.isnan(shortfall)):
        return True
    theirs = summary.get("total_shortfall_wte")
    return theirs is not None and math.isclose(float(theirs), float(shortfall), rel_tol=1e-6, abs_tol=1e-6)


def _text(value) -> str | None:
    """A cell as text; ``None`` when blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "":
        return None
    return str(value)


def load(path: str | Path, *, dataset=None) -> ResultFolder | BatchFolder:
    """A results folder or a batch folder, whichever ``path`` is."""
    path = Path(path)
    if (path / "summary.json").exists():
        return load_result(path, dataset=dataset)
    if (path / COMPARISON).exists():
        return load_batch(path, dataset=dataset)
    raise _not_a_result(path)

"""Differences between two results folders: ``optimiser compare RESULT BASELINE``.

What a what-if changes against its baseline, each figure as ``result - baseline``:

- the summary figures (``models.results.SUMMARY_FIGURES``): target-year shortfall
  counting trainees and of qualified staff, the weighted objectives of the target
  and sustain years, the cost of trainees and what is committed after the horizon;
- the target-year shortfall by profession and region (both bases);
- the places (intake) by profession and year;
- the limits that started or stopped binding (``constraints.csv``);
- the overrides each side was solved with (``summary.json``).

``compare`` reads only; ``write`` puts the tables into a folder whole or not at all
(``optimiser.output.write_folder``), never one of the folders compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from models.results import SUMMARY_FIGURES, Summary
from optimiser.errors import InputError, Problem
from optimiser.safety import COMPARE_CSV, COMPARE_FORMAT_PREFIX, COMPARE_MARKER, LIMITS_CSV, PLACES_CSV, SHORTFALL_CSV

#: A difference smaller than this (in WTE or places) is the solver's rounding, not a change: the
#: lists of changed rows (terminal, ``compare.json``) leave it out; the CSVs keep every row.
CHANGE_TOLERANCE = 0.05
#: The same for money (GBP).
CHANGE_TOLERANCE_GBP = 0.5
#: How many changed rows the terminal text lists per table (the CSVs hold them all).
SHOWN_ROWS = 8
COMPARE_FORMAT = COMPARE_FORMAT_PREFIX + "1"
FIGURE_UNITS = {"weighted_shortfall": "weighted WTE", "sustain_shortfall": "weighted WTE",
                "total_shortfall_wte": "WTE", "qualified_shortfall_wte": "WTE", "total_cost_gbp": "GBP",
                "committed_cost_after_horizon_gbp": "GBP"}
LIMIT_KEYS = ["family", "profession", "region", "year", "year_label", "item"]
STARTED, STOPPED = "started binding", "stopped binding"


@dataclass
class Side:
    """One results folder as compared: its summary and the tables a comparison reads."""

    path: Path
    summary: Summary
    workforce: pd.DataFrame | None
    plan: pd.DataFrame | None
    constraints: pd.DataFrame | None

    @property
    def overrides(self) -> list[str]:
        return [str(o.get("override") or o.get("target")) for o in self.summary.overrides]

    def describe(self) -> dict[str, Any]:
        s = self.summary
        return {"path": str(self.path), "status": s.status, "scenario": s.scenario, "dataset": s.dataset,
                "target_year": s.target_year, "overrides": self.overrides,
                "optimiser_version": s.optimiser_version, "solver_version": s.solver_version}


@dataclass
class Comparison:
    result: Side
    baseline: Side
    figures: pd.DataFrame
    shortfall: pd.DataFrame
    places: pd.DataFrame
    limits: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    def change(self, figure: str) -> float | None:
        """``result - baseline`` of one summary figure (``None`` when a side has no plan)."""
        row = self.figures[self.figures["figure"] == figure]
        return _number(row["change"].iloc[0]) if not row.empty else None

    def as_dict(self) -> dict[str, Any]:
        """What ``compare.json`` (and ``--json``) holds."""
        return {
            "format": COMPARE_FORMAT,
            "result": self.result.describe(),
            "baseline": self.baseline.describe(),
            "figures": {r["figure"]: {"unit": r["unit"], "result": _number(r["result"]),
                                      "baseline": _number(r["baseline"]), "change": _number(r["change"])}
                        for r in self.figures.to_dict(orient="records")},
            "shortfall_changes": _records(changed(self.shortfall, "change_wte", "qualified_change_wte")),
            "places_changes": _records(changed(self.places, "change")),
            "limits_started_binding": _records(self.limits[self.limits["change"] == STARTED]),
            "limits_stopped_binding": _records(self.limits[self.limits["change"] == STOPPED]),
            "warnings": list(self.warnings),
        }

    def files(self) -> dict[str, bytes]:
        from optimiser.output import json_bytes, pandas_csv_bytes

        return {COMPARE_MARKER: json_bytes(self.as_dict()), COMPARE_CSV: pandas_csv_bytes(self.figures),
                SHORTFALL_CSV: pandas_csv_bytes(self.shortfall), PLACES_CSV: pandas_csv_bytes(self.places),
                LIMITS_CSV: pandas_csv_bytes(self.limits)}


# ------------------------------------------------------------------ reading


def load_side(path: str | Path) -> Side:
    """A results folder written by ``optimiser run``; ``InputError`` naming what is wrong."""
    from optimiser.reports.folder import Labels, load_result

    path = Path(path)
    if not path.is_dir():
        raise InputError([Problem(str(path), None, None, None,
                                  "is not a folder; give a results folder written by 'optimiser run'")])
    folder = load_result(path, labels=Labels())
    tables = {name: folder.table(name) for name in ("workforce", "plan", "constraints")}
    if folder.summary.has_plan:
        for name, table in tables.items():
            if table is None:
                raise InputError([Problem(str(path / f"{name}.csv"), None, None, None,
                                          "is missing, but summary.json says the result has a plan; "
                                          "run 'optimiser run' again")])
            missing = [c for c in _needed_columns(name) if c not in table.columns]
            if missing:
                raise InputError([Problem(str(path / f"{name}.csv"), 1, missing[0], None,
                                          "is not a column of this table; was it edited? run 'optimiser run' again")])
    return Side(path, folder.summary, **tables)


def _needed_columns(table: str) -> list[str]:
    return {"workforce": ["profession", "region", "year", "shortfall_wte", "qualified_shortfall_wte"],
            "plan": ["profession", "year", "year_label", "intake"],
            "constraints": [*LIMIT_KEYS, "binding", "limit", "shadow_price"]}[table]


# ---------------------------------------------------------------- comparing


def compare(result: str | Path, baseline: str | Path) -> Comparison:
    """What ``result`` changes against ``baseline`` (two results folders)."""
    new, old = load_side(result), load_side(baseline)
    warnings = []
    if new.summary.target_year != old.summary.target_year:
        warnings.append(f"the target years differ (result {new.summary.target_year}, baseline "
                        f"{old.summary.target_year}): each side's shortfall is its own target year's")
    for side, name in ((new, "result"), (old, "baseline")):
        if not side.summary.has_plan:
            warnings.append(f"the {name} has no plan (status {side.summary.status}): its figures are blank")
    return Comparison(new, old, figure_table(new.summary, old.summary), shortfall_table(new, old),
                      places_table(new, old), limits_table(new, old), warnings)


def figure_table(new: Summary, old: Summary) -> pd.DataFrame:
    rows = []
    for figure in SUMMARY_FIGURES:
        a, b = getattr(new, figure), getattr(old, figure)
        rows.append({"figure": figure, "unit": FIGURE_UNITS[figure], "result": a, "baseline": b,
                     "change": None if a is None or b is None else a - b})
    return pd.DataFrame(rows, columns=["figure", "unit", "result", "baseline", "change"]).astype(
        {"result": "float64", "baseline": "float64", "change": "float64"})


def _target_rows(side: Side) -> pd.DataFrame:
    columns = ["profession", "region", "shortfall_wte", "qualified_shortfall_wte"]
    if side.workforce is None:
        return pd.DataFrame(columns=columns)
    w = side.workforce
    return w.loc[w["year"] == side.summary.target_year, columns]


def shortfall_table(new: Side, old: Side) -> pd.DataFrame:
    """The target-year shortfall by profession and region on both bases, and its change."""
    keys = ["profession", "region"]
    merged = _target_rows(new).merge(_target_rows(old), on=keys, how="outer", suffixes=("_result", "_baseline"))
    table = pd.DataFrame({
        "profession": merged["profession"], "region": merged["region"],
        "result_shortfall_wte": merged["shortfall_wte_result"],
        "baseline_shortfall_wte": merged["shortfall_wte_baseline"],
        "change_wte": merged["shortfall_wte_result"] - merged["shortfall_wte_baseline"],
        "result_qualified_shortfall_wte": merged["qualified_shortfall_wte_result"],
        "baseline_qualified_shortfall_wte": merged["qualified_shortfall_wte_baseline"],
        "qualified_change_wte": merged["qualified_shortfall_wte_result"]
        - merged["qualified_shortfall_wte_baseline"],
    })
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


def _intake(side: Side) -> pd.DataFrame:
    if side.plan is None:
        return pd.DataFrame(columns=["profession", "year", "year_label", "intake"])
    return side.plan.groupby(["profession", "year", "year_label"], as_index=False)["intake"].sum()


def places_table(new: Side, old: Side) -> pd.DataFrame:
    """Places (intake, summed over routes and regions) by profession and year; a side without the
    row commissions none there."""
    keys = ["profession", "year", "year_label"]
    merged = _intake(new).merge(_intake(old), on=keys, how="outer", suffixes=("_result", "_baseline"))
    a = merged["intake_result"].astype("float64")
    b = merged["intake_baseline"].astype("float64")
    if new.plan is not None and old.plan is not None:  # a row only one plan has: none commissioned there
        a, b = a.fillna(0.0), b.fillna(0.0)
    table = pd.DataFrame({"profession": merged["profession"], "year": merged["year"],
                          "year_label": merged["year_label"], "result_places": a, "baseline_places": b,
                          "change": a - b})
    return table.sort_values(["profession", "year"], kind="stable").reset_index(drop=True)


def _binding(side: Side) -> pd.DataFrame:
    columns = [*LIMIT_KEYS, "shadow_price"]
    if side.constraints is None:
        return pd.DataFrame(columns=columns)
    c = side.constraints
    binding = c["binding"].astype(str).str.lower().eq("true") & c["limit"].astype(str).str.lower().eq("true")
    rows = c.loc[binding, columns].copy()
    rows["item"] = rows["item"].astype(object).where(rows["item"].notna(), "")
    for key in ("profession", "region"):
        rows[key] = rows[key].astype(object).where(rows[key].notna(), "")
    return rows


def limits_table(new: Side, old: Side) -> pd.DataFrame:
    """The limits binding on one side only: ``started binding`` (in the result only) or
    ``stopped binding`` (in the baseline only), with each side's shadow price."""
    merged = _binding(new).merge(_binding(old), on=LIMIT_KEYS, how="outer", suffixes=("_result", "_baseline"),
                                 indicator=True)
    both_planned = new.constraints is not None and old.constraints is not None
    merged = merged[(merged["_merge"] != "both") & both_planned]  # without a plan, nothing binds or stops
    change = merged["_merge"].map({"left_only": STARTED, "right_only": STOPPED}).astype(object)
    table = pd.DataFrame({**{k: merged[k] for k in LIMIT_KEYS}, "change": change,
                          "result_shadow_price": merged["shadow_price_result"],
                          "baseline_shadow_price": merged["shadow_price_baseline"]})
    for key in ("profession", "region", "item"):
        table[key] = table[key].where(table[key] != "", None)
    price = pd.concat([table["result_shadow_price"].abs(), table["baseline_shadow_price"].abs()], axis=1).max(axis=1)
    table = table.assign(_price=price.fillna(0.0))
    table = table.sort_values(["change", "_price", "family", "profession", "region", "year"], kind="stable",
                              ascending=[True, False, True, True, True, True], na_position="first")
    return table.drop(columns="_price").reset_index(drop=True)


def changed(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The rows of ``table`` where any of ``columns`` changed by more than ``CHANGE_TOLERANCE``."""
    if table.empty:
        return table
    mask = pd.Series(False, index=table.index)
    for column in columns:
        mask = mask | (table[column].abs() > CHANGE_TOLERANCE)
    return table[mask]


# ------------------------------------------------------------------ writing


def write(comparison: Comparison, out: str | Path) -> Path:
    """Write the comparison's files into ``out``, whole or not at all; ``out`` may not be, hold
    or lie inside either folder compared (``optimiser.safety``)."""
    from optimiser.output import write_folder

    return write_folder(out, comparison.files(), inputs=(comparison.result.path, comparison.baseline.path))


def check_out(out: str | Path, result: str | Path, baseline: str | Path) -> None:
    """Refuse ``out`` before any work: one of the folders compared, or a folder not ours to replace."""
    from optimiser.output import check_target

    check_target(Path(out), (result, baseline))


# ---------------------------------------------------------------- JSON help


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for record in table.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else
                        v.item() if hasattr(v, "item") else v) for k, v in record.items()})
    return out

"""The comparison table: one row per case (status, figures, top binding limits, swept values,
overrides, changes against the base case), written as ``comparison.csv`` and ``comparison.xlsx``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.results import SUMMARY_FIGURES
from optimiser.batch.case import COMPARISON, FAILED, PENDING, SCENARIOS_DIR
from optimiser.batch.progress import BatchReport
from optimiser.batch.store import is_complete, read_summary

BINDING_SHOWN = 3


def comparison_table(out: Path, cases, fps: dict[str, str], report: BatchReport | None = None):
    """One row per case, in file order, from each complete result's summary.json."""
    import pandas as pd

    rows = []
    for case in cases:
        folder = out / SCENARIOS_DIR / case.name
        row: dict[str, Any] = {"scenario": case.name, "scenario_group": case.scenario}
        failed_now = report is not None and report.statuses.get(case.name) == FAILED
        summary = read_summary(folder) if not failed_now and is_complete(folder, fps[case.name]) else None
        if summary is not None:
            status = summary.get("status")
            row.update(status=status, reason=None if status == "optimal" else summary.get("message"),
                       **{key: summary.get(key) for key in SUMMARY_FIGURES})
            limits = summary.get("binding_limits") or []
        else:
            status = report.statuses.get(case.name, PENDING) if report else PENDING
            if status not in (FAILED, PENDING):
                status = FAILED
            row.update(status=status, reason=(report.messages.get(case.name) if report else None)
                       or ("not run yet (interrupted); run the same command again" if status == PENDING else None),
                       **dict.fromkeys(SUMMARY_FIGURES))
            limits = []
        for i in range(BINDING_SHOWN):
            limit = limits[i] if i < len(limits) else None
            row[f"binding_{i + 1}"] = _limit_text(limit) if limit else None
            row[f"binding_{i + 1}_shadow_price"] = limit.get("shadow_price") if limit else None
        row["overrides"] = "; ".join(o.text for o in case.overrides)
        row["results"] = f"{SCENARIOS_DIR}/{case.name}" if summary is not None else None
        rows.append(row)
    table = with_sweep_columns(pd.DataFrame(rows), cases)
    base = base_case(cases)
    index = next((i for i, case in enumerate(cases) if base is not None and case.name == base.name), None)
    from optimiser.deltas import with_changes

    table = with_changes(table, index, BASE_LABEL)
    table.insert(table.columns.get_loc(f"{SUMMARY_FIGURES[-1]}_change_vs_{BASE_LABEL}") + 1, "base_scenario",
                 base.name if base is not None else None)
    return table


#: The suffix of the comparison's change columns: against the case solved from the base as given.
BASE_LABEL = "base"


def base_case(cases):
    """The case with no overrides of its own (a scenario like ``baseline: {}``; only the command
    line's ``--set``, which every case has): the base the comparison's changes are against."""
    return next((case for case in cases if all(o.layer == "command line" for o in case.overrides)), None)


def with_sweep_columns(table, cases):
    """``table`` with one column per swept value (``Override.sweep_column``, e.g.
    ``budget.budget_gbp (scale)``) after ``scenario_group``, holding each case's value (blank for a
    case that does not sweep it), so a pivot needs no parsing of scenario names."""
    columns: dict[str, list] = {}
    for row, case in enumerate(cases):
        for position in case.swept:
            override = case.overrides[position]
            values = columns.setdefault(override.sweep_column, [None] * len(cases))
            values[row] = override.value
    for offset, (name, values) in enumerate(columns.items()):
        if name in table.columns:  # a swept target named like a standard column: keep both apart
            name = f"sweep: {name}"
        table.insert(table.columns.get_loc("scenario_group") + 1 + offset, name, values)
    return table


def _limit_text(limit: dict) -> str:
    parts = [limit.get("family"), limit.get("profession"), limit.get("region"), limit.get("year_label")]
    return " ".join(str(p) for p in parts if p)


def write_comparison(out: Path, cases, fps: dict[str, str], report: BatchReport | None = None):
    """``comparison.csv`` and ``comparison.xlsx``, each replaced in one rename."""
    from optimiser.output import atomic_write

    table = comparison_table(out, cases, fps, report)
    atomic_write(out / (COMPARISON + ".csv"), table.to_csv(index=False, float_format="%.10g").encode("utf-8"))
    atomic_write(out / (COMPARISON + ".xlsx"), _xlsx_bytes(table))
    return table


def _xlsx_bytes(table) -> bytes:
    import io

    import pandas as pd

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="comparison", index=False)
        sheet = writer.sheets["comparison"]
        sheet.freeze_panes = "B2"
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text: '=...', '+...', '-...', '@...' never become formulas
        for column in sheet.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column[:50])
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    return buffer.getvalue()

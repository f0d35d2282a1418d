"""The Excel workbook of a results folder or a batch folder, for commissioners to read and forward.

Every sheet is one Excel table (filter buttons, banded rows) under a frozen
header row, with number formats (WTE to one decimal, GBP with thousands
separators, shares as percentages) and column widths that fit. Text longer
than its column wraps, in a row tall enough to show it. Every sheet prints
on A4 landscape, one page wide, its header row on every page
(``optimiser.sheetlayout``). Numbers are written as numbers; text is always
written as text, never as a formula, even when it begins with ``=``, ``+``,
``-`` or ``@``.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pandas as pd

from optimiser import sheetlayout
from optimiser.output import atomic_write
from optimiser.reports import charts, text
from optimiser.reports.folder import BatchFolder, ResultFolder, load
from optimiser.reports.levers import lever_name, lever_value
from optimiser.years import format_year

WTE = "#,##0.0"
GBP = '"£"#,##0'
SHARE = "0.0%"
PRICE = "#,##0.0000"
PLAIN = "#,##0.00"
COUNT = "#,##0"
YEAR = "0"

#: Number format and header of each column the workbook may show.
COLUMNS: dict[str, tuple[str | None, str]] = {
    "scenario": (None, "Scenario"), "profession": (None, "Profession"), "profession_name": (None, "Profession name"),
    "region": (None, "Region"), "region_name": (None, "Region name"), "year": (YEAR, "Year"),
    "year_label": (None, "Financial year"), "intake": (WTE, "Intake (places)"),
    "route": (None, "Route"), "in_training": (WTE, "Trainee-years in training"),
    "on_placement": (WTE, "On placement"), "in_training_end": (WTE, "In training at year end"),
    "completions": (WTE, "Completions"), "cost_gbp": (GBP, "Cost (GBP)"), "stock_wte": (WTE, "Stock (WTE)"),
    "trainee_service_wte": (WTE, "Trainee service (WTE)"), "supply_wte": (WTE, "Supply (WTE)"),
    "service_basis": (None, "Service basis"), "counted_service_wte": (WTE, "Trainee service counted (WTE)"),
    "supervision_given_wte": (WTE, "Supervision given (WTE)"),
    "qualified_supply_wte": (WTE, "Qualified supply (WTE)"),
    "qualified_shortfall_wte": (WTE, "Shortfall of qualified staff (WTE)"), "sustain": (None, "Sustain year"),
    "sustain_shortfall": (WTE, "Sustain-years weighted shortfall"),
    "committed_cost_after_horizon_gbp": (GBP, "Committed after the horizon (GBP)"),
    "demand_wte": (WTE, "Demand (WTE)"), "shortfall_wte": (WTE, "Shortfall (WTE)"), "assessed": (None, "Assessed"),
    "weighted_shortfall": (WTE, "Weighted shortfall"), "unmet": (SHARE, "Demand unmet"),
    "family": (None, "Family"), "family_name": (None, "Limit"), "sense": (None, "Sense"), "lhs": (PLAIN, "Used (LHS)"),
    "rhs": (PLAIN, "Limit (RHS)"), "slack": (PLAIN, "Slack"), "binding": (None, "Binding"),
    "shadow_price": (PRICE, "Shadow price"), "shadow_unit": (None, "Shadow price unit"),
    "sentence": (None, "What one more unit is worth"), "amount": (PLAIN, "Amount"), "unit": (None, "Unit"),
    "description": (None, "Description"), "trainee_profession": (None, "Trainee profession"),
    "supervisor_profession": (None, "Supervisor profession"), "hours_per_week": (WTE, "Hours a week"),
    "spend_gbp": (GBP, "Spend (GBP)"), "committed_gbp": (GBP, "Committed (GBP)"),
    "new_places_gbp": (GBP, "New places (GBP)"), "budget_gbp": (GBP, "Budget (GBP)"), "used": (SHARE, "Used"),
    "used_hours": (WTE, "Hours a week used"), "capacity_hours": (WTE, "Hours a week available"),
    "total_wte": (WTE, "Shortfall (WTE)"), "total_shortfall_wte": (WTE, "Target-year shortfall (WTE)"),
    "total_cost_gbp": (GBP, "Cost of trainees (GBP)"), "status": (None, "Status"),
    "rank_by_shortfall": (COUNT, "Rank by shortfall"), "rank_by_cost": (COUNT, "Rank by cost"),
    "overrides": (COUNT, "Overrides"), "target_year": (YEAR, "Target year"), "setting": (None, "Setting"),
    "value": (None, "Value"), "item": (None, "Item"), "note": (None, "Note"), "closes_alone_wte": (WTE, "Closes if lifted alone (WTE)"),
    "component": (None, "Reason"), "no_new_places_wte": (WTE, "Shortfall with no new places (WTE)"),
    "plan_wte": (WTE, "Shortfall with the plan (WTE)"), "closed_wte": (WTE, "Closed by the plan (WTE)"),
}

MAX_WIDTH, MIN_WIDTH = sheetlayout.MAX_WIDTH_CHARS, sheetlayout.MIN_WIDTH_CHARS
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


# ------------------------------------------------------------------- cells


def _value(value):
    """A cell value: numbers as numbers, text as text, blanks as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    return _ILLEGAL.sub("", str(value))


def set_cell(cell, value, number_format: str | None = None) -> None:
    """Set ``cell``; text stays text (``data_type = "s"``), so ``=SUM(A1)`` is never a formula."""
    value = _value(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    elif number_format and isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.number_format = number_format


def _display_width(value, number_format: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, (int, float)):
        if number_format in (WTE, GBP, COUNT):
            return len(f"{value:,.1f}") + (2 if number_format == GBP else 0)
        if number_format == SHARE:
            return 7
        if number_format == YEAR:
            return 5
        return len(f"{value:,.4f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _table_name(book, title: str) -> str:
    base = "t_" + re.sub(r"[^A-Za-z0-9_]", "_", title)
    name, n = base, 2
    existing = {t for ws in book.worksheets for t in ws.tables}
    while name in existing:
        name, n = f"{base}{n}", n + 1
    return name


def write_sheet(book, title: str, frame: pd.DataFrame, *, formats: dict[str, str] | None = None,
                headers: dict[str, str] | None = None, widths: dict[str, int] | None = None):
    """One sheet holding ``frame`` as an Excel table under a frozen header row."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    sheet = book.create_sheet(title[:31])
    if len(frame.columns) == 0:
        frame = pd.DataFrame({"note": []})
    columns = list(frame.columns)
    formats = formats or {}
    headers = headers or {}
    names: list[str] = []
    for column in columns:
        label = headers.get(column) or COLUMNS.get(column, (None, None))[1] or str(column)
        while label in names:
            label += " "
        names.append(label)
    for j, label in enumerate(names, start=1):
        cell = sheet.cell(row=1, column=j)
        set_cell(cell, label)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=False, vertical="center")
    column_formats = [formats.get(c, COLUMNS.get(c, (None,))[0]) for c in columns]
    width = [len(n) + 4 for n in names]
    records = frame.itertuples(index=False, name=None)
    rows = 0
    for i, record in enumerate(records, start=2):
        rows += 1
        for j, value in enumerate(record, start=1):
            cell = sheet.cell(row=i, column=j)
            set_cell(cell, value, column_formats[j - 1])
            width[j - 1] = max(width[j - 1], _display_width(cell.value, column_formats[j - 1]) + 2)
    if rows == 0:  # an Excel table needs a data row
        set_cell(sheet.cell(row=2, column=1), "(none)")
        rows = 1
    final = []
    for j, column in enumerate(columns, start=1):
        wanted = (widths or {}).get(column, width[j - 1])
        final.append(max(MIN_WIDTH, min(MAX_WIDTH, wanted)) if column not in (widths or {}) else wanted)
        sheet.column_dimensions[get_column_letter(j)].width = final[-1]
    _wrap_long_text(sheet, final, rows)
    ref = f"A1:{get_column_letter(max(len(columns), 1))}{rows + 1}"
    table = Table(displayName=_table_name(book, title), ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True, showColumnStripes=False,
                                          showFirstColumn=False, showLastColumn=False)
    sheet.add_table(table)
    sheet.freeze_panes = "A2"
    sheetlayout.print_setup(sheet)
    return sheet


def _wrap_long_text(sheet, widths: list[float], rows: int) -> None:
    """Wrap every text cell wider than its column, and make its row tall enough to show all of it."""
    from openpyxl.styles import Alignment

    wrap = Alignment(wrap_text=True, vertical="top")
    for i in range(2, rows + 2):
        height = 0.0
        for j, width in enumerate(widths, start=1):
            cell = sheet.cell(row=i, column=j)
            if isinstance(cell.value, str) and (len(cell.value) > width - 1 or "\n" in cell.value):
                cell.alignment = wrap
                height = max(height, sheetlayout.wrapped_height(cell.value, width))
        if height:
            sheet.row_dimensions[i].height = height


def _with_names(frame: pd.DataFrame, labels) -> pd.DataFrame:
    """Insert display-name columns after ``profession`` and ``region`` when names differ from keys."""
    frame = frame.copy()
    for key, name_of, column in (("profession", labels.p, "profession_name"), ("region", labels.r, "region_name")):
        if key in frame and any(name_of(k) != k for k in frame[key].dropna().unique()):
            frame.insert(frame.columns.get_loc(key) + 1, column, frame[key].map(lambda k: None if pd.isna(k) else name_of(k)))
    return frame


def _summary_frame(result: ResultFolder) -> pd.DataFrame:
    s = result.summary
    target = result.target_workforce()
    rows: list[tuple[str, object, str | None, str]] = [
        ("Status", s.status.replace("_", " "), None, s.message),
        ("Dataset", s.dataset, None, ""),
        ("Scenario", text.what_if_name(s) or text.AS_GIVEN, None,
         f"{len(s.overrides)} override(s), listed on the Overrides sheet" if s.overrides else ""),
        ("Target year", format_year(s.target_year), None, ""),
    ]
    if s.has_plan:
        plan = result.plan
        places = float(plan["intake"].sum()) if plan is not None and not plan.empty else 0.0
        demand = float(target["demand_wte"].fillna(0).sum())
        rows += [
            (f"Shortfall in {format_year(s.target_year)} (WTE)", s.total_shortfall_wte, WTE,
             "demand minus supply, summed over professions and regions; trainees count where demand is for posts"),
            (f"Shortfall of qualified staff in {format_year(s.target_year)} (WTE)", s.qualified_shortfall_wte, WTE,
             "the same with no trainee counted"),
            ("Weighted shortfall (objective)", s.weighted_shortfall, WTE, "weights by profession and assessed year"),
            (f"Demand in {format_year(s.target_year)} (WTE)", demand, WTE, ""),
            ("Demand unmet", (s.total_shortfall_wte / demand) if demand else None, SHARE, ""),
            ("Places to commission", places, WTE,
             f"{format_year(s.decision_years[0])} to {format_year(s.decision_years[-1])}"),
            ("Cost of trainees (GBP)", s.total_cost_gbp, GBP, "every trainee in training in the decision years"),
            ("Committed after the horizon (GBP)", s.committed_cost_after_horizon_gbp, GBP,
             f"what cohorts started by {format_year(s.decision_years[-1])} cost after it"),
        ]
        if s.sustain_years:
            rows.append(("Sustain-years weighted shortfall", s.sustain_shortfall, WTE,
                         f"{format_year(s.sustain_years[0])} to {format_year(s.sustain_years[-1])}, "
                         "minimised second"))
        if result.why is not None:
            rows.append(("Shortfall with no new places (WTE)", result.why.no_new_places_wte, WTE,
                         "pipeline only: what the plan closes is the difference"))
    else:
        rows.append(("Limits to relax", len(s.conflicts), COUNT, "see the Conflicts sheet"))
    rows += [("Solver", s.solver, None, f"{s.solve_seconds:.2f} s")]
    for i, line in enumerate(text.headline(result), start=1):
        rows.append((f"In words ({i})", line, None, ""))
    if s.has_plan:
        units = result.shortfall_units()
        for i, line in enumerate(text.marginal_sentences(result.constraints, result.labels, s.target_year, units,
                                                         limit=6), start=1):
            rows.append((f"Marginal value ({i})", line, None, ""))
    if result.why is not None:
        for i, line in enumerate(text.why_sentences(result.why, result.labels), start=1):
            rows.append((f"Why ({i})", line, None, ""))
    for i, line in enumerate(text.conflict_sentences(result), start=1):
        rows.append((f"Conflict ({i})", line, None, ""))
    for i, warning in enumerate(s.warnings, start=1):
        rows.append((f"Warning ({i})", warning, None, ""))
    for i, item in enumerate(s.overrides, start=1):
        rows.append((f"Override ({i})", text.override_text(item), None, "applied to the dataset for this run"))
    return pd.DataFrame(rows, columns=["item", "value", "_format", "note"])


def _write_summary(book, result: ResultFolder) -> None:
    frame = _summary_frame(result)
    sheet = write_sheet(book, "Summary", frame[["item", "value", "note"]], widths={"value": 60, "note": 50})
    from openpyxl.styles import Alignment

    for i, fmt in enumerate(frame["_format"], start=2):
        cell = sheet.cell(row=i, column=2)
        if fmt and isinstance(cell.value, (int, float)):
            cell.number_format = fmt
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=isinstance(cell.value, str))


def _settings_frame(summary) -> pd.DataFrame:
    s = summary
    rows = [
        ("dataset", s.dataset), ("scenario", text.what_if_name(s) or ""), ("base_year", s.base_year),
        ("target_year", s.target_year), ("decision_years", ", ".join(map(str, s.decision_years))),
        ("assessed_years", ", ".join(map(str, s.assessed_years))), ("integer_places", s.integer_places),
        ("solver", s.solver), ("solve_seconds", s.solve_seconds), ("build_seconds", s.build_seconds),
        ("shadow_prices_from", s.shadow_prices_from or ""), ("status", s.status), ("message", s.message),
        ("overrides", len(s.overrides)),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])


def _overrides_frame(summary, scenario: str | None = None) -> pd.DataFrame:
    rows = text.override_rows(summary)
    if scenario is not None:
        rows = [{"scenario": scenario, **{k: v for k, v in row.items() if k != "scenario"}} for row in rows]
    frame = pd.DataFrame(rows)
    first = [c for c in ("scenario", *text.OVERRIDE_COLUMNS) if c in frame]
    return frame[first + [c for c in frame.columns if c not in first]] if not frame.empty else frame


def _limits_frame(result: ResultFolder) -> pd.DataFrame:
    cons = result.constraints
    if cons is None or cons.empty:
        return pd.DataFrame(columns=["family", "profession", "region", "year"])
    limits = cons[cons["limit"].astype(bool)].copy()
    order = limits["shadow_price"].abs().fillna(0)
    limits = limits.assign(_b=~limits["binding"].astype(bool), _o=-order).sort_values(["_b", "_o"], kind="stable")
    labels, target, units = result.labels, result.summary.target_year, result.shortfall_units()
    limits.insert(1, "family_name", limits["family"].map(lambda f: text.FAMILY_NAMES.get(f, f)))
    limits["sentence"] = [text.marginal_sentence(r, labels, target, units) or ""
                          for r in limits.to_dict(orient="records")]
    keep = ["family", "family_name", "profession", "region", "year", "year_label", "sense", "lhs", "rhs", "slack",
            "binding", "shadow_price", "shadow_unit", "sentence"]
    return _with_names(limits[keep], labels)


def _why_frames(result: ResultFolder) -> list[tuple[str, pd.DataFrame, dict]]:
    from optimiser.whatif.why import COMPONENT_LABELS, COMPONENTS, FAMILY_ORDER

    split = result.why
    headers = {c: f"{COMPONENT_LABELS[c]} (WTE)" for c in COMPONENTS}
    formats = {c: WTE for c in COMPONENTS}
    by_p = split.by("profession")
    national = pd.DataFrame([
        {"component": COMPONENT_LABELS[c], "total_wte": split.totals()[c],
         "closes_alone_wte": None if c not in FAMILY_ORDER else split.alone_totals()[c]}
        for c in COMPONENTS] + [{"component": "Total", "total_wte": split.total_wte, "closes_alone_wte": None}])
    cells = split.cells.merge(split.no_new_places[["profession", "region", "no_new_places_wte"]],
                              on=["profession", "region"], how="left")
    cells["closed_wte"] = cells["no_new_places_wte"] - cells["total_wte"]
    return [
        ("Why", national, {"headers": {"total_wte": "Share of the shortfall (WTE)"}}),
        ("Why by profession", _with_names(by_p, result.labels), {"headers": headers, "formats": formats}),
        ("Why by cell", _with_names(cells, result.labels), {"headers": headers, "formats": formats}),
    ]


def write_result_book(book, result: ResultFolder) -> None:
    s, labels = result.summary, result.labels
    _write_summary(book, result)
    if s.has_plan:
        write_sheet(book, "Plan", _with_names(result.plan, labels))
        wf = result.workforce
        write_sheet(book, "Workforce", _with_names(wf, labels))
        target = result.target_workforce()[["profession", "region", "year_label", "service_basis", "demand_wte",
                                             "supply_wte", "shortfall_wte", "qualified_shortfall_wte"]].copy()
        target["unmet"] = (target["shortfall_wte"] / target["demand_wte"]).where(target["demand_wte"] > 0)
        target = target.sort_values("shortfall_wte", ascending=False, kind="stable")
        write_sheet(book, "Shortfall", _with_names(target, labels))
        levers = result.table("levers")
        if levers is not None:
            value = lever_value(levers, result.constraints, result.workforce, s.target_year)
            value.insert(3, "lever", [lever_name(row, labels.p) for row in value.to_dict(orient="records")])
            write_sheet(book, "Levers", value, headers={
                "amount_wte": "Used (WTE or trainees)", "cost_gbp": "Cost (GBP)",
                "in_post_target_wte": f"In post by {format_year(s.target_year)} (WTE)", "gbp_per_wte": "GBP per WTE",
                "next_gbp_per_wte": f"GBP per next WTE of the {format_year(s.target_year)} gap", "cap_shadow_price": "Cap shadow price (WTE per unit)"},
                widths={"lever": 50})
            write_sheet(book, "Levers by year", _with_names(levers, labels))
        frontier = result.table("budget_frontier")
        if frontier is not None:
            write_sheet(book, "Budget frontier", frontier, headers={"scale": "Budget scale",
                                                                     "budget_gbp": "Budget, all years (GBP)"})
        if result.why is not None:
            for title, frame, options in _why_frames(result):
                write_sheet(book, title, frame, **options)
        write_sheet(book, "Limits", _limits_frame(result), widths={"sentence": 90, "shadow_unit": 50})
        budget = charts.budget_table(result.plan, result.constraints)
        write_sheet(book, "Budget", budget, headers={"shadow_price": "WTE per GBP 1m more"})
        regional = charts.regional_budget_table(result.plan, result.constraints)
        if not regional.empty:
            write_sheet(book, "Regional budget", _with_names(regional, labels),
                        headers={"shadow_price": "WTE per GBP 1m more"})
        sup = charts.supervision_table(result.supervision, result.constraints)
        write_sheet(book, "Supervision use", _with_names(sup, labels))
        if result.supervision is not None:
            write_sheet(book, "Supervision", result.supervision)
    conflicts = result.conflicts
    if conflicts is not None and not conflicts.empty:
        conflicts = conflicts.copy()
        conflicts.insert(1, "family_name", conflicts["family"].map(lambda f: text.FAMILY_NAMES.get(f, f)))
        write_sheet(book, "Conflicts", _with_names(conflicts, labels), widths={"description": 90})
    write_sheet(book, "Settings", _settings_frame(s), widths={"value": 50})
    overrides = _overrides_frame(s)
    write_sheet(book, "Overrides", overrides if not overrides.empty else pd.DataFrame({"override": []}))


def write_batch_book(book, batch: BatchFolder) -> None:
    ranking = batch.ranking()
    write_sheet(book, "Ranking", ranking)
    write_sheet(book, "Comparison", batch.comparison)
    shortfall, plan, settings, overrides = [], [], [], []
    for name, result in batch.scenarios.items():
        tgt = result.target_workforce()
        if not tgt.empty:
            shortfall.append(tgt[["profession", "region", "year_label", "demand_wte", "supply_wte",
                                  "shortfall_wte"]].assign(scenario=name))
        if result.plan is not None:
            plan.append(result.plan.assign(scenario=name))
        frame = _settings_frame(result.summary).set_index("setting")["value"].to_dict()
        settings.append({"scenario": name, **frame})
        o = _overrides_frame(result.summary, name)
        if not o.empty:
            overrides.append(o)
    if shortfall:
        frame = pd.concat(shortfall, ignore_index=True)
        write_sheet(book, "Shortfall", _with_names(frame[["scenario", *frame.columns[:-1]]], batch.labels))
        by = frame.pivot_table(index="profession", columns="scenario", values="shortfall_wte", aggfunc="sum",
                               sort=False).reset_index()
        write_sheet(book, "Shortfall by profession", _with_names(by, batch.labels),
                    formats={c: WTE for c in by.columns if c != "profession"},
                    headers={c: str(c) for c in by.columns if c != "profession"})
    if plan:
        frame = pd.concat(plan, ignore_index=True)
        write_sheet(book, "Plan", _with_names(frame[["scenario", *frame.columns[:-1]]], batch.labels))
    if batch.frontier is not None:
        write_sheet(book, "Frontier", batch.frontier)
    write_sheet(book, "Settings", pd.DataFrame(settings))
    write_sheet(book, "Overrides", pd.concat(overrides, ignore_index=True) if overrides
                else pd.DataFrame({"scenario": [], "override": []}))


def build_workbook(folder):
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    if isinstance(folder, BatchFolder):
        write_batch_book(book, folder)
    else:
        write_result_book(book, folder)
    return book


def write_workbook(folder, out_file: str | Path) -> Path:
    """Write the workbook of ``folder`` (a path, ``ResultFolder`` or ``BatchFolder``) to ``out_file`` (.xlsx)."""
    from optimiser.errors import InputError, Problem

    out = Path(out_file).resolve()
    if out.suffix.lower() != ".xlsx":
        raise InputError([Problem(str(out_file), None, None, None, "the workbook name must end in .xlsx")])
    if isinstance(folder, (str, Path)):
        folder = load(folder)
    book = build_workbook(folder)
    buffer = io.BytesIO()
    book.save(buffer)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(out, buffer.getvalue())

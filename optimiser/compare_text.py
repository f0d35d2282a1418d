"""The terminal text of ``optimiser compare``: what the result changes against its baseline."""

from __future__ import annotations

import math

import pandas as pd

from optimiser.compare import CHANGE_TOLERANCE, CHANGE_TOLERANCE_GBP, SHOWN_ROWS, STARTED, STOPPED, Comparison, Side, changed
from optimiser.words import money
from optimiser.years import format_year

#: A shadow price above this says the limit costs shortfall.
PRICE_FLOOR = 1e-6
FIGURE_LABELS = {
    "total_shortfall_wte": "{target} shortfall, counting trainees (WTE)",
    "qualified_shortfall_wte": "{target} shortfall, qualified staff (WTE)",
    "weighted_shortfall": "{target} weighted objective",
    "sustain_shortfall": "Sustain years, weighted shortfall",
    "total_cost_gbp": "Cost of trainees {years}",
    "committed_cost_after_horizon_gbp": "Committed after {last}",
}
#: The order the figures are shown in.
SHOWN_FIGURES = ("total_shortfall_wte", "qualified_shortfall_wte", "weighted_shortfall", "sustain_shortfall",
                 "total_cost_gbp", "committed_cost_after_horizon_gbp")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _amount(value, unit: str, signed: bool = False) -> str:
    if _missing(value):
        return "n/a"
    if signed and abs(value) < (CHANGE_TOLERANCE_GBP if unit == "GBP" else CHANGE_TOLERANCE):
        return "no change"
    sign = "+" if signed and value > 0 else ""
    if unit == "GBP":
        return ("-" if value < 0 else sign) + money(abs(value))
    return f"{sign}{value:,.1f}"


def _side(side: Side, name: str) -> str:
    what = f"scenario {side.summary.scenario}, " if side.summary.scenario else ""
    overrides = "; ".join(side.overrides) if side.overrides else "the dataset as given"
    status = "" if side.summary.status == "optimal" else f" [{side.summary.status.upper().replace('_', ' ')}]"
    return f"{name:<10}{side.path} ({what}{overrides}){status}"


def _rows(table: pd.DataFrame, top: int, line) -> list[str]:
    lines = [f"  - {line(row)}" for row in table.head(top).to_dict(orient="records")]
    if len(table) > top:
        lines.append(f"  ... and {len(table) - top} more")
    return lines


def comparison_text(c: Comparison, top: int = SHOWN_ROWS) -> str:
    s = c.baseline.summary
    target = format_year(c.result.summary.target_year)
    years = f"{format_year(s.decision_years[0])}..{format_year(s.decision_years[-1])}" if s.decision_years else ""
    last = format_year(s.decision_years[-1]) if s.decision_years else "the horizon"
    lines = [_side(c.result, "Result:"), _side(c.baseline, "Baseline:")]
    labels = {f: FIGURE_LABELS[f].format(target=target, years=years, last=last) for f in SHOWN_FIGURES}
    width = max(len(v) for v in labels.values())
    lines.append(f"{'':<{width}}  {'result':>16}  {'baseline':>16}  {'change':>16}")
    by_figure = {r["figure"]: r for r in c.figures.to_dict(orient="records")}
    for figure in SHOWN_FIGURES:
        row = by_figure[figure]
        lines.append(f"{labels[figure]:<{width}}  {_amount(row['result'], row['unit']):>16}  "
                     f"{_amount(row['baseline'], row['unit']):>16}  {_amount(row['change'], row['unit'], True):>16}")
    shortfall = changed(c.shortfall, "change_wte", "qualified_change_wte")
    if not c.shortfall.empty and not shortfall.empty:
        by_profession = changed(shortfall.groupby("profession", as_index=False)[
            ["change_wte", "qualified_change_wte"]].sum(), "change_wte", "qualified_change_wte")
        by_profession = by_profession.reindex(by_profession["change_wte"].abs().sort_values(
            ascending=False, kind="stable").index)
        lines.append(f"{target} shortfall change by profession (WTE, counting trainees / qualified staff):")
        lines += _rows(by_profession, top, lambda r: f"{r['profession']}: {_amount(r['change_wte'], 'WTE', True)}"
                                                     f" / {_amount(r['qualified_change_wte'], 'WTE', True)}")
        lines.append(f"{target} shortfall change by profession and region (WTE, counting trainees):")
        ordered = shortfall.reindex(shortfall["change_wte"].abs().sort_values(ascending=False, kind="stable").index)
        lines += _rows(ordered, top, lambda r: f"{r['profession']} {r['region']}: "
                                               f"{_amount(r['change_wte'], 'WTE', True)}")
    elif c.result.summary.has_plan and c.baseline.summary.has_plan:
        lines.append(f"{target} shortfall by profession and region: no change")
    places = changed(c.places, "change")
    if not places.empty:
        lines.append("Places (intake) change by profession and year:")
        lines += _rows(places, top, lambda r: f"{r['profession']} {r['year_label']}: "
                                              f"{_amount(r['change'], 'places', True)} ({r['baseline_places']:,.1f}"
                                              f" -> {r['result_places']:,.1f})")
    elif c.result.summary.has_plan and c.baseline.summary.has_plan:
        lines.append("Places (intake) by profession and year: no change")
    for change in (STARTED, STOPPED):
        limits = c.limits[c.limits["change"] == change]
        if not limits.empty:
            priced = int((limits[["result_shadow_price", "baseline_shadow_price"]].abs().max(axis=1)
                          > PRICE_FLOOR).sum())
            lines.append(f"Limits that {change} ({len(limits)}, {priced} with a shadow price; "
                         "highest price first):")
            lines += _rows(limits, top, _limit)
    if c.result.summary.has_plan and c.baseline.summary.has_plan and c.limits.empty:
        lines.append("Binding limits: the same on both sides")
    lines += [f"Warning: {w}" for w in c.warnings]
    return "\n".join(lines)


def _limit(row: dict) -> str:
    parts = [row.get("family"), row.get("profession"), row.get("region"), row.get("item"), row.get("year_label")]
    text = " ".join(str(p) for p in parts if not _missing(p) and p != "")
    price = row["result_shadow_price"] if row["change"] == STARTED else row["baseline_shadow_price"]
    return text + ("" if _missing(price) or abs(price) <= PRICE_FLOOR else f" (shadow price {price:,.4g})")

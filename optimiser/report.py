"""The short terminal summary of a result (from a ``Summary`` and, when there is a plan, the tables)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from models.results import Summary
from optimiser.words import money
from optimiser.years import format_year

#: Gaps below this are rounding, not gaps worth a line.
SHOWN_GAP_WTE = 0.05


def render(summary: Summary, workforce: pd.DataFrame | None = None, plan: pd.DataFrame | None = None,
           top: int = 5, levers: pd.DataFrame | None = None, constraints: pd.DataFrame | None = None) -> str:
    """The summary; with ``levers`` (and ``constraints``, for their caps' prices) the cheapest levers too."""
    lines = []
    solver = f"{summary.solver.upper()}, {summary.solve_seconds:.2f} s"
    scenario = f" [scenario {summary.scenario}]" if summary.scenario else ""
    if summary.status == "optimal":
        lines.append(f"Status: OPTIMAL ({solver}){scenario}")
    else:
        lines.append(f"Status: {summary.status.upper().replace('_', ' ')} ({solver}){scenario}: {summary.message}")
        if summary.has_plan:
            lines.append("  The plan below is feasible but NOT proven optimal.")
    if summary.mip_gaps:
        lines.append("Whole places: proven within " + ", ".join(
            f"{gap:.2%} ({stage} stage, bound {summary.mip_bounds.get(stage, float('nan')):,.1f})"
            for stage, gap in summary.mip_gaps.items()) + " of the optimum")
    target = format_year(summary.target_year)
    made_by = made_by_text(summary)
    if made_by:
        lines.append(made_by)
    if summary.overrides:
        lines.append("What-if overrides: " + "; ".join(override_text(o) for o in summary.overrides))
    if summary.has_plan:
        years = f"{format_year(summary.decision_years[0])}..{format_year(summary.decision_years[-1])}"
        lines.append(f"{target} shortfall: {summary.total_shortfall_wte:,.1f} WTE counting trainees in posts, "
                     f"{_figure(summary.qualified_shortfall_wte)} WTE of qualified staff "
                     f"(weighted objective {summary.weighted_shortfall:,.1f})")
        if summary.sustain_years:
            span = f"{format_year(summary.sustain_years[0])}..{format_year(summary.sustain_years[-1])}"
            lines.append(f"Sustain years {span}: weighted shortfall {_figure(summary.sustain_shortfall)}")
        lines.append(f"Cost of trainees {years}: {money(summary.total_cost_gbp)}; committed after "
                     f"{format_year(summary.decision_years[-1])}: {_money(summary.committed_cost_after_horizon_gbp)}")
    if plan is not None and not plan.empty:
        intake = plan.groupby("year")["intake"].sum()
        lines.append("Places to commission: " + ", ".join(f"{format_year(y)} {v:,.1f}" for y, v in intake.items()))
    if workforce is not None and not workforce.empty:
        tgt = workforce[workforce["year"] == summary.target_year]
        gaps = tgt.groupby("profession")["shortfall_wte"].sum().sort_values(ascending=False)
        gaps = gaps[gaps > SHOWN_GAP_WTE]
        if not gaps.empty:
            lines.append(f"Largest {target} gaps (WTE): " + ", ".join(
                f"{p} {value:,.1f}" for p, value in gaps.head(top).items()))
    if summary.binding_limits:
        lines.append("Binding limits (weighted shortfall removed per unit):")
        for limit in summary.binding_limits[:top]:
            who = " ".join(str(x) for x in (limit.get("profession"), limit.get("region")) if x)
            price = limit.get("shadow_price")
            price_text = "n/a" if price is None else f"{price:,.4g}"
            unit = limit["shadow_unit"].split(" per ", 1)[-1]
            lines.append(f"  - {limit['family']} {who + ' ' if who else ''}{limit['year_label']}: "
                         f"{price_text} WTE per {unit}")
    if levers is not None and not levers.empty and summary.has_plan:
        from optimiser.reports.levers import lever_value, sentences

        target_label = format_year(summary.target_year)
        lines.append(f"Cheapest levers (GBP per next WTE of the {target_label} gap closed):")
        value = lever_value(levers, constraints, workforce, summary.target_year)
        lines += [f"  - {line}" for line in sentences(value, str, target_label, top=3)]
    for conflict in summary.conflicts[:10]:
        lines.append(f"  conflict: {conflict['description']}")
    for warning in summary.warnings:
        lines.append(f"Warning: {warning}")
    return "\n".join(lines)


def made_by_text(summary: Summary) -> str | None:
    """``Made by optimiser 0.1.0, PuLP 3.3.2, CBC 2.10.3`` (what ``summary.json`` records)."""
    parts = [f"optimiser {summary.optimiser_version}" if summary.optimiser_version else None,
             f"PuLP {summary.pulp_version}" if summary.pulp_version else None, summary.solver_version]
    parts = [p for p in parts if p]
    return "Made by " + ", ".join(parts) if parts else None


def override_text(record: dict) -> str:
    """One override of ``summary.json`` as written on the command line (with where it came from)."""
    text = str(record.get("override") or record.get("target") or record)
    source = record.get("source")
    return f"{text} ({source})" if source and source != "command line" else text


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def _money(value: float | None) -> str:
    return "n/a" if value is None else money(value)


def render_folder(folder: str | Path) -> str:
    """Summarise a results folder written by ``optimiser run`` or ``optimiser solve``."""
    folder = Path(folder)
    summary = Summary.model_validate(json.loads((folder / "summary.json").read_text(encoding="utf-8")))
    workforce = pd.read_csv(folder / "workforce.csv") if (folder / "workforce.csv").exists() else None
    plan = pd.read_csv(folder / "plan.csv") if (folder / "plan.csv").exists() else None
    levers = pd.read_csv(folder / "levers.csv") if (folder / "levers.csv").exists() else None
    constraints = pd.read_csv(folder / "constraints.csv") if levers is not None else None
    return render(summary, workforce, plan, levers=levers, constraints=constraints)

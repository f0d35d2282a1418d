"""The HTML report: one self-contained page (charts embedded as PNG data URIs), readable offline.

``render_result`` / ``render_batch`` return the page as text; ``write_html``
writes either kind of folder's page atomically. Sections carry stable ids
(``SECTION_IDS``) so tests and links can find them.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path

import pandas as pd

from optimiser.reports import charts, text
from optimiser.output import atomic_write
from optimiser.reports.folder import BatchFolder, ResultFolder, load
from optimiser.years import format_year

#: Section ids of a report on a results folder with a plan, in page order.
SECTION_IDS = ("headline", "budget-frontier", "plan", "levers", "shortfall", "supply-demand", "budget",
               "supervision", "limits", "why", "settings")
#: ... on an infeasible (or otherwise plan-less) result.
NO_PLAN_SECTION_IDS = ("headline", "conflicts", "settings")
#: ... on a batch folder.
BATCH_SECTION_IDS = ("overview", "scenarios", "ranking", "frontier", "comparison")

#: Binding limits listed on the page (the workbook's Limits sheet has every limit).
LIMITS_SHOWN = 15

SECTION_TITLES = {
    "headline": "Headline", "budget-frontier": "The shortfall against the budget", "plan": "What to buy",
    "levers": "Levers beyond training places", "shortfall": "What stays open", "supply-demand":
    "Supply against demand", "budget": "Budget use", "supervision": "Supervision use", "limits":
    "Binding limits and what more is worth", "why": "Why the gap stays open", "conflicts":
    "What would make a plan possible", "settings": "Settings and overrides", "overview": "Overview",
    "scenarios": "Scenarios side by side", "ranking": "Ranked by shortfall and by cost", "frontier":
    "Cost–shortfall frontier", "comparison": "Comparison table",
}


# ------------------------------------------------------------------ filters


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def f_wte(value) -> str:
    return "–" if _missing(value) else text.wte(float(value))


def f_gbp(value) -> str:
    return "–" if _missing(value) else text.gbp(float(value))


def f_pct(value, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{float(value):.{digits}%}"


def f_num(value, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def f_price(value) -> str:
    if _missing(value):
        return "–"
    return text.price_text(float(value))


def f_year(value) -> str:
    return "–" if _missing(value) else format_year(int(value))


def f_cell(value, column: str = "") -> str:
    """A cell of a table whose columns are not known in advance (comparison.csv, frontier.csv)."""
    if _missing(value):
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text_value = str(value)
        return text_value if len(text_value) <= 140 else text_value[:137] + "..."
    name = str(column).lower()
    if "per_" in name or "price" in name or "scale" in name:
        return f"{value:,.4g}"
    if "gbp" in name or "cost" in name or "budget" in name:
        return f_gbp(value)
    if "wte" in name or "shortfall" in name:
        return f_wte(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.1f}"


def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(Path(__file__).with_name("templates"))),
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(wte=f_wte, gbp=f_gbp, pct=f_pct, num=f_num, price=f_price, year=f_year, cell=f_cell)
    return env


# ------------------------------------------------------------------ context


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _settings_rows(summary) -> list[tuple[str, str]]:
    s = summary
    rows = [
        ("Dataset", s.dataset), ("Scenario", text.what_if_name(s) or text.AS_GIVEN),
        ("Status", s.status.replace("_", " ")), ("Base year", format_year(s.base_year)),
        ("Target year", format_year(s.target_year)),
        ("Decision years", ", ".join(format_year(y) for y in s.decision_years)),
        ("Assessed years", ", ".join(format_year(y) for y in s.assessed_years)),
        ("Whole training places", "yes (MILP)" if s.integer_places else "no (LP)"),
        ("Solver", f"{s.solver} ({s.solve_seconds:.2f} s solving, {s.build_seconds:.2f} s building)"),
        ("Shadow prices from", s.shadow_prices_from or "–"),
    ]
    return rows


def _override_rows(summary) -> list[dict]:
    return [{k: ("" if v is None else v) for k, v in row.items()} for row in text.override_rows(summary)]


def result_context(result: ResultFolder, *, charts_on: bool = True) -> dict:
    """Everything the single-result template shows, as plain values: the page's frame, then each section."""
    s = result.summary
    ctx: dict = {
        "title": f"Training commission plan: {text.plan_name(s, result.path.name)}",
        "what_if": f"scenario {s.scenario}" if s.scenario else text.what_if_name(s),
        "summary": s, "target": format_year(s.target_year), "status": s.status.replace("_", " "),
        "generated": _dt.datetime.now().strftime("%d %B %Y, %H:%M"),
        "headline": text.headline(result), "warnings": list(s.warnings), "has_plan": s.has_plan, "images": {},
        "sections": SECTION_IDS if s.has_plan else NO_PLAN_SECTION_IDS, "titles": SECTION_TITLES,
    }
    ctx.update(_settings_section(s))
    if not s.has_plan:
        ctx.update(_conflicts_section(result))
        return ctx
    plan = result.plan
    budget = charts.budget_table(plan, result.constraints) if plan is not None and not plan.empty else pd.DataFrame()
    supervision = charts.supervision_table(result.supervision, result.constraints)
    ctx["cards"] = _headline_cards(result, ctx["target"])
    ctx.update(_plan_section(result))
    ctx.update(_shortfall_section(result))
    ctx.update(_budget_section(result, budget))
    ctx.update(_supervision_section(result, supervision))
    ctx.update(_limits_section(result))
    ctx["why"] = _why_section(result)
    ctx["budget_frontier"] = _frontier_section(result, ctx["target"])
    ctx["levers"] = _levers_section(result, ctx["target"])
    if charts_on:
        ctx["images"] = _result_images(result, ctx["target"], budget, supervision)
    return ctx


def _frontier_section(result: ResultFolder, target: str) -> dict | None:
    from optimiser.reports.budget_frontier import FRONTIER_TABLE, sentences

    table = result.table(FRONTIER_TABLE)
    if table is None or table.empty:
        return None
    return {"rows": _records(table), "sentences": sentences(table, target)}


def _levers_section(result: ResultFolder, target: str) -> dict | None:
    from optimiser.reports.levers import LEVERS_TABLE, lever_name, lever_value, sentences

    value = lever_value(result.table(LEVERS_TABLE), result.constraints, result.workforce, result.summary.target_year)
    if value.empty:
        return None
    rows = [{**row, "lever": lever_name(row, result.labels.p)} for row in value.to_dict(orient="records")]
    return {"rows": rows, "sentences": sentences(value, result.labels.p, target, top=5)}


def _settings_section(summary) -> dict:
    overrides = _override_rows(summary)
    present = list(dict.fromkeys(k for row in overrides for k in row))
    columns = [c for c in text.OVERRIDE_COLUMNS if c in present] + \
        [c for c in present if c not in text.OVERRIDE_COLUMNS and c != "scenario"]
    return {"settings": _settings_rows(summary), "overrides": overrides, "override_columns": columns}


def _conflicts_section(result: ResultFolder) -> dict:
    """An infeasible result: the smallest relaxations, and the headline cards that say so."""
    s, labels = result.summary, result.labels
    records = _records(result.conflicts)
    for row in records:
        row["profession"] = labels.p(row["profession"]) if row.get("profession") else ""
        row["region"] = labels.r(row["region"]) if row.get("region") else ""
        row["family_name"] = text.FAMILY_NAMES.get(row["family"], row["family"])
        row["amount_text"] = text.amount(row.get("amount"), row.get("unit"))
    cards = [("Status", s.status.replace("_", " ").upper(), "no plan"),
             ("Limits to relax", f"{len(records)}", "smallest relaxations that make a plan possible")]
    return {"conflicts": records, "conflict_sentences": text.conflict_sentences(result), "cards": cards}


def _headline_cards(result: ResultFolder, target: str) -> list[tuple[str, str, str]]:
    s, plan = result.summary, result.plan
    tgt = result.target_workforce()
    demand = float(tgt["demand_wte"].fillna(0).sum())
    supply = float(tgt["supply_wte"].fillna(0).sum())
    places = float(plan["intake"].sum()) if plan is not None and not plan.empty else 0.0
    cards = [
        (f"{target} shortfall", f"{text.wte(s.total_shortfall_wte)} WTE",
         (f"{s.total_shortfall_wte / demand:.1%} of demand unmet, " if demand else "")
         + "counting trainees who fill posts"),
        (f"{target} shortfall, qualified staff", f"{text.wte(s.qualified_shortfall_wte)} WTE",
         "counting no trainee"),
        ("Places to commission", f"{places:,.0f}",
         f"{format_year(s.decision_years[0])} to {format_year(s.decision_years[-1])}"),
        ("Cost of trainees", text.gbp(s.total_cost_gbp), "all years, including trainees already in training"),
        ("Committed after the horizon", text.gbp(s.committed_cost_after_horizon_gbp),
         f"training after {format_year(s.decision_years[-1])} of cohorts already started"),
        (f"{target} supply", f"{supply:,.0f} WTE", f"against demand of {demand:,.0f} WTE"),
    ]
    if result.why is not None:
        closes = result.why.no_new_places_wte - result.why.total_wte
        cards.insert(1, ("The plan closes", f"{text.wte(closes)} WTE",
                         f"of a {text.wte(result.why.no_new_places_wte)} WTE gap with no new places"))
    return cards


def _plan_section(result: ResultFolder) -> dict:
    """What to buy: places by profession and intake year, and their cost."""
    plan, labels = result.plan, result.labels
    intake = plan.pivot_table(index="profession", columns="year", values="intake", aggfunc="sum", sort=False)
    cost = plan.groupby("profession", sort=False)["cost_gbp"].sum()
    rows = [{"name": labels.p(p), "places": [intake.loc[p, y] for y in intake.columns],
             "total": float(intake.loc[p].sum()), "cost": float(cost.get(p, 0.0))} for p in intake.index]
    totals = {"places": [float(intake[y].sum()) for y in intake.columns], "total": float(intake.to_numpy().sum()),
              "cost": float(cost.sum())}
    return {"plan_years": [format_year(int(y)) for y in intake.columns], "plan_rows": rows, "plan_totals": totals}


def _shortfall_section(result: ResultFolder) -> dict:
    """What stays open: the target year's demand, supply and shortfall by profession and by region."""
    target = result.target_workforce()

    def gap_rows(key: str, name) -> list[dict]:
        by = target.groupby(key, sort=False)[["demand_wte", "supply_wte", "shortfall_wte"]].sum()
        by = by.sort_values("shortfall_wte", ascending=False)
        return [{"name": name(k), "demand": r.demand_wte, "supply": r.supply_wte, "shortfall": r.shortfall_wte,
                 "unmet": (r.shortfall_wte / r.demand_wte) if r.demand_wte else None} for k, r in by.iterrows()]

    return {"by_profession": gap_rows("profession", result.labels.p), "by_region": gap_rows("region", result.labels.r)}


def _budget_section(result: ResultFolder, budget: pd.DataFrame) -> dict:
    regional = charts.regional_budget_table(result.plan, result.constraints)
    return {"budget_rows": _records(budget),
            "regional_budget_rows": [{**row, "name": result.labels.r(row["region"])} for row in _records(regional)]}


def _supervision_section(result: ResultFolder, supervision: pd.DataFrame) -> dict:
    rows = [{**row, "name": result.labels.r(row["region"])} for row in _records(supervision)]
    years = [format_year(int(y)) for y in sorted(supervision["year"].unique())] if not supervision.empty else []
    return {"supervision_rows": rows, "supervision_years": years}


def _limits_section(result: ResultFolder) -> dict:
    """Binding limits with their shadow prices, and what one more unit of each is worth."""
    s, labels, cons = result.summary, result.labels, result.constraints
    units = result.shortfall_units()
    binding = text.binding_limits(cons)
    rows = [{"limit": text.limit_description(row, labels), "slack": row["slack"], "price": row["shadow_price"],
             "unit": str(row["shadow_unit"]).split(" per ", 1)[-1],
             "sentence": text.marginal_sentence(row, labels, s.target_year, units) or ""}
            for row in _records(binding.head(LIMITS_SHOWN))]
    return {"units": units, "limit_count": len(binding), "limit_rows": rows,
            "limit_families": text.binding_by_family(binding),
            "marginal": text.marginal_sentences(cons, labels, s.target_year, units, limit=8)}


def _why_section(result: ResultFolder) -> dict | None:
    """The split of the shortfall into training time and each family of limits, when computed."""
    split, labels = result.why, result.labels
    if split is None:
        return None
    from optimiser.whatif.why import COMPONENT_LABELS, COMPONENTS, FAMILY_ORDER

    totals = split.totals()
    alone = split.alone_totals()
    return {
        "sentences": text.why_sentences(split, labels),
        "components": [COMPONENT_LABELS[c] for c in COMPONENTS],
        "rows": [{"name": labels.p(r["profession"]), "parts": [r[c] for c in COMPONENTS], "total": r["total_wte"]}
                 for r in split.by("profession").to_dict(orient="records")
                 if abs(r["total_wte"]) > 1e-9 or any(abs(r[c]) >= 0.05 for c in COMPONENTS)],
        "region_rows": [{"name": labels.r(r["region"]), "parts": [r[c] for c in COMPONENTS], "total": r["total_wte"]}
                        for r in split.by("region").to_dict(orient="records")],
        "totals": [totals[c] for c in COMPONENTS], "total": split.total_wte,
        "alone": [{"name": COMPONENT_LABELS[f], "closes": alone[f], "share": totals[f]} for f in FAMILY_ORDER],
        "method": split.method, "solves": split.solves, "seconds": split.seconds,
        "warnings": split.warnings, "no_new_places": split.no_new_places_wte,
    }


def _result_images(result: ResultFolder, target: str, budget: pd.DataFrame, supervision: pd.DataFrame) -> dict:
    labels, split, tgt = result.labels, result.why, result.target_workforce()
    return {
        "intake": charts.intake_chart(result.plan, labels.p),
        "shortfall_profession": charts.shortfall_bars(tgt, "profession", labels.p,
                                                      f"{target} shortfall by profession (WTE)"),
        "shortfall_region": charts.shortfall_bars(tgt, "region", labels.r, f"{target} shortfall by region (WTE)"),
        "supply_demand": charts.supply_demand_grid(result.workforce, labels.p, result.summary.target_year),
        "budget": charts.budget_chart(budget),
        "budget_frontier": charts.budget_frontier_chart(result.table("budget_frontier"), target),
        "supervision": charts.supervision_chart(supervision, labels.r),
        "why": charts.why_bars(split, labels.p, f"Why {target} shortfall stays open, by profession")
        if split is not None else None,
        "why_region": charts.why_bars(split, labels.r, "... and by region", key="region")
        if split is not None else None,
    }


def frontier_caption(frontier: pd.DataFrame | None) -> str:
    """The frontier figure's caption, for the kind of frontier ``frontier.csv`` holds."""
    columns = set(frontier.columns) if frontier is not None else set()
    if "supervision_hours_per_week" in columns:
        return "The smallest shortfall at each level of the region's supervision capacity"
    if "budget_gbp" in columns:
        return "The smallest shortfall each level of budget can buy"
    return "The smallest shortfall at each point of the frontier"


def batch_context(batch: BatchFolder, *, charts_on: bool = True) -> dict:
    ranking = batch.ranking()
    rows = _records(ranking)
    ranked = [r for r in rows if r["rank_by_shortfall"] is not None]
    by_cost = sorted(ranked, key=lambda r: (r["rank_by_cost"], r["scenario"]))
    scenarios = []
    for name, result in batch.scenarios.items():
        s = result.summary
        tgt = result.target_workforce()
        gaps = tgt.groupby("profession")["shortfall_wte"].sum().sort_values(ascending=False) if not tgt.empty \
            else pd.Series(dtype=float)
        scenarios.append({
            "name": name, "status": s.status.replace("_", " "), "has_plan": s.has_plan,
            "shortfall": s.total_shortfall_wte, "cost": s.total_cost_gbp,
            "overrides": [text.override_text(o) for o in s.overrides],
            "gaps": [(batch.labels.p(p), v) for p, v in gaps.head(3).items() if v > 0.05],
            "conflicts": text.conflict_sentences(result)[:3],
        })
    comparison = batch.comparison
    ctx = {
        "title": f"Scenario comparison: {batch.name}", "generated": _dt.datetime.now().strftime("%d %B %Y, %H:%M"),
        "path": str(batch.path), "ranking": ranked, "by_cost": by_cost, "scenarios": scenarios,
        "not_ranked": [{**r, "status": text.status_text(r["status"])} for r in rows if r["rank_by_shortfall"] is None],
        "comparison_columns": list(comparison.columns), "comparison_rows": _records(comparison),
        "sections": BATCH_SECTION_IDS, "titles": SECTION_TITLES, "images": {},
        "has_frontier": batch.frontier_png is not None or batch.frontier is not None,
        "frontier_caption": frontier_caption(batch.frontier),
        "frontier_rows": _records(batch.frontier) if batch.frontier is not None else [],
        "frontier_columns": list(batch.frontier.columns) if batch.frontier is not None else [],
    }
    ctx.update(_large_batch(ranking, ranked, by_cost, scenarios, charts_on))
    ctx["cards"] = [("Scenarios", f"{len(rows)}", f"{len(ranked)} optimal, ranked")]
    if ranked:
        best = min(ranked, key=lambda r: (r["rank_by_shortfall"], r["rank_by_cost"], r["scenario"]))
        cheap = min(ranked, key=lambda r: (r["rank_by_cost"], r["rank_by_shortfall"], r["scenario"]))
        ctx["cards"] += [("Smallest shortfall", f"{text.wte(best['total_shortfall_wte'])} WTE", best["scenario"]),
                         ("Lowest cost", text.gbp(cheap["total_cost_gbp"]), cheap["scenario"])]
    if charts_on:
        frontier = charts.png_file_uri(batch.frontier_png) if batch.frontier_png is not None else None
        ctx["images"] = {"scenarios": ctx.pop("large_chart") if ctx["large"] else charts.scenario_chart(ranking),
                         "frontier": frontier}
    return ctx


def _large_batch(ranking: pd.DataFrame, ranked: list[dict], by_cost: list[dict], scenarios: list[dict],
                 charts_on: bool) -> dict:
    """A batch of more than ``sweep.CASES_DRAWN_MAX`` scenarios: its spread, its ends and one picture of it,
    and the first rows of each ranking (the workbook lists every scenario)."""
    from optimiser.reports import sweep

    if len(ranking) <= sweep.CASES_DRAWN_MAX:
        return {"large": False, "ranked_count": len(ranked)}
    by_name = {s["name"]: s for s in scenarios}
    best, worst = sweep.extremes(ranking)
    found = sweep.sweep_of(list(ranking["scenario"]))
    heat = charts.sweep_chart(ranking, found) if charts_on and found is not None else None
    ctx = {
        "large": True, "ranked_count": len(ranked), "ranking": ranked[:sweep.RANKED_SHOWN],
        "by_cost": by_cost[:sweep.RANKED_SHOWN], "stats": sweep.statistics(ranking),
        "quantiles": [name for name, _ in sweep.QUANTILES], "status_counts": sweep.status_counts(ranking),
        "best": [by_name[r["scenario"]] for r in best if r["scenario"] in by_name],
        "worst": [by_name[r["scenario"]] for r in worst if r["scenario"] in by_name],
        "sweep_labels": list(found.labels) if found is not None else [],
        "large_caption": ("Target-year shortfall over the sweep" + (" (and cost)" if found and len(found.labels) < 3
                                                                      else "")) if heat else
        "Cost against shortfall of every scenario, and how the shortfall is spread",
    }
    if charts_on:
        ctx["large_chart"] = heat or charts.batch_scatter(ranking)
    return ctx


# ------------------------------------------------------------------ render


def render_result(result: ResultFolder) -> str:
    return _env().get_template("report.html.j2").render(**result_context(result))


def render_batch(batch: BatchFolder) -> str:
    return _env().get_template("batch.html.j2").render(**batch_context(batch))


def render(folder: ResultFolder | BatchFolder) -> str:
    return render_batch(folder) if isinstance(folder, BatchFolder) else render_result(folder)


def write_html(folder, out_file: str | Path) -> Path:
    """Write the HTML report of ``folder`` (a path, ``ResultFolder`` or ``BatchFolder``) to ``out_file``."""
    if isinstance(folder, (str, Path)):
        folder = load(folder)
    out = Path(out_file).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(out, render(folder).encode("utf-8"))

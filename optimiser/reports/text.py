"""The sentences reports say: headline figures, marginal values of limits, conflicts, the split.

Shadow prices (``constraints.csv`` ``shadow_price``) are in weighted-shortfall
units: WTE of shortfall times the profession's weight and the year's weight,
summed over the assessed years. When every open gap has weight 1 and only the
target year is assessed (the default), that is WTE of target-year shortfall and
the sentences say so; otherwise they say "weighted WTE". They are marginal
values: they hold for small changes, and fall as the limit is relaxed further.
"""

from __future__ import annotations

import math

import pandas as pd

from optimiser.diagnose import money
from optimiser.years import format_year

FAMILY_NAMES = {
    "budget": "National budget", "regional_budget": "Regional budget",
    "supervision_capacity": "Supervision capacity", "supervision_need": "Supervision (no permitted supervisor)",
    "placements": "Placements", "intake_min": "Minimum intake", "intake_max": "Maximum intake",
    "growth": "Growth limit", "stock_floor": "Staff drawn into training",
}

#: A shadow price below this says nothing worth a sentence.
PRICE_FLOOR = 1e-6


def wte(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = 0.0 if abs(value) < 0.05 else value
    return f"{value:,.1f}"


def gbp(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return money(value)


def number(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and value != ""


def marginal_sentence(row: dict, labels, target_year: int, units: str = "WTE") -> str | None:
    """One sentence for a binding limit's shadow price, or ``None`` when it has none worth saying."""
    price = row.get("shadow_price")
    if not _present(price) or abs(float(price)) < PRICE_FLOOR:
        return None
    price = float(price)
    family = row["family"]
    year = format_year(int(row["year"]))
    p = labels.p(row["profession"]) if _present(row.get("profession")) else None
    r = labels.r(row["region"]) if _present(row.get("region")) else None
    where = f" in {r}" if r else ""
    closes = f"{_price(price)} {units} of the {format_year(target_year)} shortfall"
    if family == "budget":
        return f"GBP 1m more national budget in {year} closes {closes}."
    if family == "regional_budget":
        return f"GBP 1m more for {r} in {year} closes {closes}."
    if family == "supervision_capacity":
        return f"One more supervision hour a week from {p}{where} in {year} is worth {closes}."
    if family == "supervision_need":
        return (f"Each supervision hour a week that {p} trainees{where} in {year} could do without "
                f"is worth {closes}.")
    if family == "placements":
        return f"One more {p} placement{where} in {year} is worth {closes}."
    if family == "intake_min":
        return f"Lowering the {p} minimum intake{where} in {year} by one place is worth {closes}."
    if family == "intake_max":
        return f"Raising the {p} maximum intake{where} in {year} by one place is worth {closes}."
    if family == "growth":
        return f"Letting {p} national intake in {year} grow by one more trainee is worth {closes}."
    if family == "stock_floor":
        return None
    return f"Relaxing {FAMILY_NAMES.get(family, family)}{where} in {year} by one unit is worth {closes}."


def _price(value: float) -> str:
    if abs(value) >= 10:
        return f"{value:,.1f}"
    if abs(value) >= 0.1:
        return f"{value:,.2f}"
    return f"{value:.2g}"


def marginal_sentences(constraints: pd.DataFrame | None, labels, target_year: int, units: str = "WTE",
                       limit: int = 10) -> list[str]:
    """Sentences for the binding limits with the largest shadow prices (one per distinct statement)."""
    if constraints is None or constraints.empty:
        return []
    rows = binding_limits(constraints)
    out: list[str] = []
    for row in rows.to_dict(orient="records"):
        sentence = marginal_sentence(row, labels, target_year, units)
        if sentence and sentence not in out:
            out.append(sentence)
        if len(out) >= limit:
            break
    return out


def binding_limits(constraints: pd.DataFrame | None) -> pd.DataFrame:
    """Binding limits, largest shadow price first (the stock floor is a definition, not a limit to buy)."""
    if constraints is None or constraints.empty:
        return pd.DataFrame(columns=["family", "profession", "region", "year", "year_label", "slack",
                                     "shadow_price", "shadow_unit"])
    rows = constraints[constraints["binding"].astype(bool) & constraints["limit"].astype(bool)
                       & (constraints["family"] != "stock_floor")]
    order = rows["shadow_price"].abs().fillna(0)
    return rows.assign(_o=order).sort_values(["_o", "year"], ascending=[False, True], kind="stable").drop(
        columns="_o").reset_index(drop=True)


def limit_description(row: dict, labels) -> str:
    """``Placements, Clinical psychologists, London, 2022/23`` for a constraints row."""
    parts = [FAMILY_NAMES.get(row["family"], row["family"])]
    if _present(row.get("profession")):
        parts.append(labels.p(row["profession"]))
    if _present(row.get("region")):
        parts.append(labels.r(row["region"]))
    parts.append(format_year(int(row["year"])))
    return ", ".join(parts)


def headline(result) -> list[str]:
    """The opening sentences of a report on one results folder."""
    s = result.summary
    target = format_year(s.target_year)
    if not s.has_plan:
        lines = [f"There is no plan: the solve ended {s.status.replace('_', ' ')}."]
        if s.conflicts:
            lines.append(f"{len(s.conflicts)} limit(s) must be relaxed for any plan to be possible; "
                         "the smallest relaxations are listed below.")
        else:
            lines.append(s.message)
        return lines
    lines = []
    tgt = result.target_workforce()
    demand = float(tgt["demand_wte"].fillna(0).sum()) if not tgt.empty else 0.0
    plan = result.plan
    if plan is not None and not plan.empty:
        places = float(plan["intake"].sum())
        lines.append(f"Commission {places:,.0f} training places over "
                     f"{format_year(s.decision_years[0])} to {format_year(s.decision_years[-1])}, "
                     f"at a cost of {money(s.total_cost_gbp)} for all trainees in training.")
    split = result.why
    if split is not None:
        closes = split.no_new_places_wte - split.total_wte
        lines.append(f"Without new places the {target} gap would be {wte(split.no_new_places_wte)} WTE; "
                     f"the plan closes {wte(closes)} WTE of it.")
    share = (1 - s.total_shortfall_wte / demand) if demand else None
    met = f" ({share:.1%} of demand met)" if share is not None else ""
    lines.append(f"{wte(s.total_shortfall_wte)} WTE stays open in {target}{met}.")
    if s.status != "optimal":
        lines.append("The solve stopped at its time limit: the plan is feasible but not proven optimal.")
    return lines


def why_sentences(split, labels, top: int = 5) -> list[str]:
    """What the split says, in words: the national split, then the largest gaps by profession."""
    from optimiser.reports.why import COMPONENT_LABELS, FAMILY_ORDER, LEAD_TIME

    target = format_year(split.target_year)
    totals = split.totals()
    lines = []
    lead = totals[LEAD_TIME]
    if split.total_wte < 0.05:
        return [f"No shortfall stays open in {target}: there is nothing to explain."]
    if abs(lead) < 0.05:
        lines.append(f"None of the {wte(split.total_wte)} WTE open in {target} is out of reach for lack of time: "
                     "with every limit lifted, commissioning could close all of it.")
    else:
        lines.append(f"Of the {wte(split.total_wte)} WTE open in {target}, {wte(lead)} WTE cannot be closed by "
                     "any commissioning: training takes too long.")
    parts = sorted(((totals[f], f) for f in FAMILY_ORDER if abs(totals[f]) >= 0.05), reverse=True)
    if parts:
        lines.append("The limits account for the rest: " + "; ".join(
            f"{COMPONENT_LABELS[f].lower()} {wte(v)} WTE" for v, f in parts) + ".")
    alone = split.alone_totals()
    best = max(FAMILY_ORDER, key=lambda f: alone[f])
    if alone[best] >= 0.05:
        lines.append(f"Lifting one family alone closes most if it is {COMPONENT_LABELS[best].lower()}: "
                     f"{wte(alone[best])} WTE.")
    by = split.by("profession")
    for row in by.head(top).to_dict(orient="records"):
        if row["total_wte"] < 0.05:
            continue
        reasons = sorted(((row[c], c) for c in (LEAD_TIME, *FAMILY_ORDER) if row[c] >= 0.05), reverse=True)
        text = ", ".join(f"{COMPONENT_LABELS[c].lower()} {wte(v)}" for v, c in reasons[:3])
        lines.append(f"{labels.p(row['profession'])}: {wte(row['total_wte'])} WTE open ({text}).")
    return lines


def conflict_sentences(result, labels=None) -> list[str]:
    """The smallest relaxations that would make an infeasible plan possible, one sentence each."""
    conflicts = result.summary.conflicts
    out = []
    for c in conflicts:
        text = c.get("description") or f"{c['family']} {c.get('profession') or ''} {c.get('region') or ''}"
        out.append(text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."))
    return out

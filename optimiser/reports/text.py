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

from optimiser.families import FAMILIES
from optimiser.registry import Words
from optimiser.words import money
from optimiser.years import format_year

#: How reports name each limit family (``Family.title``, declared in ``optimiser.families``).
FAMILY_NAMES = {name: spec.title for name, spec in FAMILIES.items() if spec.limit}

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


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def marginal_sentence(row: dict, labels, target_year: int, units: str = "WTE",
                      regions: list[str] | None = None) -> str | None:
    """One sentence for a binding limit's shadow price, or ``None`` when it has none worth saying.

    ``regions`` (keys) names several regions whose limits have the same price, for one sentence on all.
    """
    price = row.get("shadow_price")
    if not _present(price) or abs(float(price)) < PRICE_FLOOR:
        return None
    price = float(price)
    family = row["family"]
    year = format_year(int(row["year"]))
    p = labels.p(row["profession"]) if _present(row.get("profession")) else None
    tail = ""
    if regions and len(regions) > 1:
        r, where = None, ""
        tail = f", in each of {_join([labels.r(x) for x in regions])}"
    else:
        r = labels.r(row["region"]) if _present(row.get("region")) else None
        where = f" in {r}" if r else ""
    closes = f"{price_text(price)} {units} of the {format_year(target_year)} shortfall{tail}"
    spec = FAMILIES.get(family)
    if spec is not None and spec.marginal is not None:
        return spec.marginal(Words(year, p, r, where, row.get("item"), closes=closes))
    return f"Relaxing {FAMILY_NAMES.get(family, family)}{where} in {year} by one unit is worth {closes}."


def price_text(value: float) -> str:
    """A shadow price as the sentences show it: one decimal from 10, two from 0.1, else two figures."""
    if abs(value) >= 10:
        return f"{value:,.1f}"
    if abs(value) >= 0.1:
        return f"{value:,.2f}"
    return f"{value:.2g}"


def marginal_sentences(constraints: pd.DataFrame | None, labels, target_year: int, units: str = "WTE",
                       limit: int = 10, per_family: int = 2) -> list[str]:
    """Sentences for the binding limits worth most, largest first.

    Limits of one family, profession and year with the same price (to 3
    significant figures) in several regions make one sentence. Each family with
    a priced binding limit gets its best sentence before any family gets a
    second, so a report names budget, supervision, placements... not ten
    variations of one limit.
    """
    rows = binding_limits(constraints)
    if rows.empty:
        return []
    # A trainee group's need has the price of its supervisors' capacity: say it once, as capacity.
    rows = rows[(rows["shadow_price"].abs() >= PRICE_FLOOR) & (rows["family"] != "supervision_need")]
    groups: dict[tuple, dict] = {}
    for row in rows.to_dict(orient="records"):
        price = float(row["shadow_price"])
        key = (row["family"], row.get("profession") if _present(row.get("profession")) else None,
               row.get("item") if _present(row.get("item")) else None, int(row["year"]), float(f"{price:.3g}"))
        group = groups.setdefault(key, {"row": row, "regions": []})
        if _present(row.get("region")):
            group["regions"].append(row["region"])
    ranked = sorted(groups.values(), key=lambda g: -abs(float(g["row"]["shadow_price"])))
    chosen: list[dict] = []
    for round_ in range(per_family):
        seen: dict[str, int] = {}
        for group in ranked:
            family = group["row"]["family"]
            taken = sum(1 for g in chosen if g["row"]["family"] == family)
            if group in chosen or taken > round_ or seen.get(family):
                continue
            chosen.append(group)
            seen[family] = 1
    chosen = sorted(chosen[:limit], key=lambda g: -abs(float(g["row"]["shadow_price"])))
    out: list[str] = []
    for group in chosen:
        sentence = marginal_sentence(group["row"], labels, target_year, units, group["regions"])
        if sentence and sentence not in out:
            out.append(sentence)
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


def amount(value, unit: str | None) -> str:
    """A conflict's amount in its unit: ``GBP 2.10m``, ``30.0 hours a week``."""
    if not _present(value):
        return "n/a"
    if unit == "GBP":
        return money(float(value))
    return f"{float(value):,.1f} {unit or ''}".strip()


def binding_by_family(binding: pd.DataFrame) -> list[dict]:
    """Per limit family: how many limits bind and the largest shadow price, largest first."""
    if binding is None or binding.empty:
        return []
    out = []
    for family, rows in binding.groupby("family", sort=False):
        prices = rows["shadow_price"].abs().fillna(0)
        top = rows.loc[prices.idxmax()]
        out.append({"family": family, "name": FAMILY_NAMES.get(family, family), "count": len(rows),
                    "priced": int((prices >= PRICE_FLOOR).sum()), "max_price": float(prices.max()),
                    "unit": str(top["shadow_unit"]).split(" per ", 1)[-1]})
    return sorted(out, key=lambda r: -r["max_price"])


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
            n = len(s.conflicts)
            lines.append(f"{n} limit{'s' if n != 1 else ''} must be relaxed for any plan to be possible; "
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
    lines.append(f"{wte(s.total_shortfall_wte)} WTE stays open in {target}{met}, counting the trainees "
                 "who fill posts in professions whose demand is for posts.")
    if s.qualified_shortfall_wte is not None:
        lines.append(f"Counting qualified staff only, {wte(s.qualified_shortfall_wte)} WTE stays open: "
                     f"{wte(s.qualified_shortfall_wte - s.total_shortfall_wte)} WTE of the {target} answer "
                     "depends on counting trainees.")
    if s.committed_cost_after_horizon_gbp:
        lines.append(f"Cohorts started by {format_year(s.decision_years[-1])} commit a further "
                     f"{money(s.committed_cost_after_horizon_gbp)} of training after it.")
    if s.status != "optimal":
        lines.append("The solve stopped at its time limit: the plan is feasible but not proven optimal.")
    return lines


def why_sentences(split, labels, top: int = 5) -> list[str]:
    """What the split says, in words: the national split, then the largest gaps by profession."""
    from optimiser.whatif.why import COMPONENT_LABELS, FAMILY_ORDER, LEAD_TIME

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
        lead_in = "The limits account for all of it: " if abs(lead) < 0.05 else "The limits account for the rest: "
        lines.append(lead_in + "; ".join(
            f"{COMPONENT_LABELS[f].lower()} {wte(v)} WTE" for v, f in parts) + ".")
    alone = split.alone_totals()
    best = max(FAMILY_ORDER, key=lambda f: alone[f])
    if alone[best] >= 0.05:
        lines.append(f"Of the families of limits lifted alone, {COMPONENT_LABELS[best].lower()} would close the most: "
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


OVERRIDE_COLUMNS = ("override", "source", "target", "op", "value", "values_changed", "changes")


def _change_text(change) -> str:
    if isinstance(change, dict):
        where = change.get("key") or change.get("row")
        return f"{where}: {change.get('from')} -> {change.get('to')}"
    return str(change)


def override_rows(summary, shown_changes: int = 5) -> list[dict]:
    """The overrides of ``summary.json`` as flat rows (scalar values; the changes as one text)."""
    rows = []
    for item in summary.overrides:
        if not isinstance(item, dict):
            rows.append({"override": str(item)})
            continue
        row = {}
        for key, value in item.items():
            if key == "changes" and isinstance(value, list):
                text = "; ".join(_change_text(c) for c in value[:shown_changes])
                if len(value) > shown_changes:
                    text += f"; and {len(value) - shown_changes} more"
                row[key] = text
            elif isinstance(value, (dict, list)):
                row[key] = ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) \
                    else ", ".join(map(str, value))
            else:
                row[key] = value
        rows.append(row)
    return rows


def override_text(item) -> str:
    """One override in a few words: its own text when it has one."""
    if isinstance(item, dict):
        if item.get("override"):
            return str(item["override"])
        return ", ".join(f"{k}={v}" for k, v in item.items() if v not in (None, "") and not isinstance(v, (list, dict)))
    return str(item)


#: Overrides a what-if's name spells out; the rest are counted.
NAMED_OVERRIDES = 3
#: What a result with neither a scenario nor an override is, where a scenario would be named.
AS_GIVEN = "none (the dataset as given)"


def what_if_name(summary) -> str | None:
    """What a what-if is called: its scenario's name, or ``what-if: <its overrides>`` when it was made
    with ``--set`` only; ``None`` for the dataset as given."""
    if summary.scenario:
        return str(summary.scenario)
    if not summary.overrides:
        return None
    named = [override_text(o) for o in summary.overrides[:NAMED_OVERRIDES]]
    more = len(summary.overrides) - len(named)
    return "what-if: " + "; ".join(named) + (f"; and {more} more" if more > 0 else "")


def plan_name(summary, fallback: str = "") -> str:
    """A result's name for a title: the dataset's folder or file name, and the what-if when it is one."""
    from pathlib import Path

    dataset = Path(str(summary.dataset)).name if summary.dataset else fallback
    name = what_if_name(summary)
    if name is None:
        return dataset or fallback
    return f"{name} ({dataset})" if dataset else name


def status_text(status) -> str:
    """A status as words: ``time_limit`` -> ``time limit``."""
    return str(status).replace("_", " ")


def unranked_sentence(row: dict) -> str:
    """A scenario a batch ranking leaves out (a row of ``BatchFolder.ranking``), with its status and why."""
    line = f"{row['scenario']}: {status_text(row['status'])}"
    if _present(row.get("total_shortfall_wte")):
        return (line + f" (a plan not proven optimal: {wte(row['total_shortfall_wte'])} WTE open, "
                f"{gbp(row.get('total_cost_gbp'))})")
    return line + (f" ({row['note']})" if _present(row.get("note")) else "")

"""What each lever is worth: routes, retention tranches and recruitment, from ``levers.csv``.

Per lever (a route of a profession, a retention tranche, a profession's recruitment), over
regions and years: what the plan uses, what that costs, the WTE it puts in post by the end
of the target year and GBP per WTE of those (the cost of what arrives by then over them), the price of the next WTE of the target-year gap it
would close (``unit_gbp_per_wte`` of the cheapest region and year that still arrive in
time, among the regions where its profession has a target-year gap; none where it has no
gap to close), whether the plan uses the lever or not, and the largest shadow price of its
cap (weighted target shortfall closed by one more unit of it). Ranked by that price: the
cheapest way to close the next WTE of the gap first.
"""

from __future__ import annotations

import pandas as pd

LEVERS_TABLE = "levers"
#: A target-year gap smaller than this is a solver's rounding, not a gap a lever can close.
OPEN_GAP_WTE = 0.05
#: The constraint family of each kind of lever's cap.
CAP_FAMILY = {"route": "route_share", "retention": "retention_cap", "recruitment": "recruitment_cap"}
VALUE_COLUMNS = ["kind", "profession", "name", "amount_wte", "cost_gbp", "in_post_target_wte", "gbp_per_wte",
                 "next_gbp_per_wte", "cap_shadow_price"]


def lever_value(levers: pd.DataFrame | None, constraints: pd.DataFrame | None,
                workforce: pd.DataFrame | None = None, target_year: int | None = None) -> pd.DataFrame:
    """One row per lever, the cheapest next WTE of the target-year gap first (levers that close
    none, arriving too late or where no gap is open, last). Without ``workforce`` every region counts."""
    if levers is None or levers.empty:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    keys = ["kind", "profession", "name"]
    levers = levers.copy()
    if workforce is not None and target_year is not None:
        target = workforce[workforce["year"] == target_year]
        open_gap = {(p, r) for p, r, gap in zip(target["profession"], target["region"], target["shortfall_wte"])
                    if pd.notna(gap) and gap > OPEN_GAP_WTE}
        closes = [(p, r) in open_gap for p, r in zip(levers["profession"], levers["region"])]
        levers["unit_gbp_per_wte"] = levers["unit_gbp_per_wte"].where(closes)
    # GBP per WTE in post by the target year counts only what arrives by then
    levers["arriving_cost_gbp"] = levers["cost_gbp"].where(levers["in_post_target_wte"] > 1e-9, 0.0)
    table = levers.groupby(keys, sort=False).agg(
        amount_wte=("amount_wte", "sum"), cost_gbp=("cost_gbp", "sum"), arriving=("arriving_cost_gbp", "sum"),
        in_post_target_wte=("in_post_target_wte", "sum"), next_gbp_per_wte=("unit_gbp_per_wte", "min"),
    ).reset_index()
    table["gbp_per_wte"] = (table["arriving"] / table["in_post_target_wte"]).where(table["in_post_target_wte"] > 1e-9)
    table["cap_shadow_price"] = [_cap_price(constraints, row) for row in table.to_dict(orient="records")]
    table = table.assign(_used=-table["amount_wte"]).sort_values(
        ["next_gbp_per_wte", "_used"], na_position="last", kind="stable").drop(columns="_used").reset_index(drop=True)
    return table[VALUE_COLUMNS]


def _cap_price(constraints: pd.DataFrame | None, lever: dict) -> float | None:
    if constraints is None or constraints.empty or "item" not in constraints:
        return None
    rows = constraints[(constraints["family"] == CAP_FAMILY[lever["kind"]])
                       & (constraints["profession"] == lever["profession"])]
    if lever["kind"] != "recruitment":
        rows = rows[rows["item"] == lever["name"]]
    prices = pd.to_numeric(rows["shadow_price"], errors="coerce").dropna()
    return float(prices.max()) if not prices.empty else None


def lever_name(row: dict, names) -> str:
    who = names(row["profession"])
    if row["kind"] == "route":
        return f"{who}: route {row['name']}"
    if row["kind"] == "retention":
        return f"{who}: retention, {row['name']}"
    return f"{who}: recruitment"


def sentences(value: pd.DataFrame, names, target_label: str, top: int | None = None) -> list[str]:
    """The ranking in words: each lever's next WTE, what the plan uses and whether its cap binds."""
    out = []
    for row in value.head(top).to_dict(orient="records") if top else value.to_dict(orient="records"):
        name = lever_name(row, names)
        if pd.isna(row["next_gbp_per_wte"]):
            used = (f"; the plan uses {row['amount_wte']:,.1f} WTE of it (for later years or other needs)"
                    if row["amount_wte"] > 1e-6 else "")
            out.append(f"{name}: closes none of the {target_label} gap (none open where it works, or it "
                       f"arrives later){used}.")
            continue
        line = f"{name}: the next WTE of the {target_label} gap it closes costs GBP {row['next_gbp_per_wte']:,.0f}"
        if row["amount_wte"] > 1e-6:
            line += (f"; the plan uses {row['amount_wte']:,.1f} WTE of it for GBP {row['cost_gbp'] / 1e6:,.2f}m, "
                     f"{row['in_post_target_wte']:,.1f} WTE in post by {target_label}")
        else:
            line += "; the plan does not use it"
        price = row["cap_shadow_price"]
        if price is not None and not pd.isna(price) and price > 1e-6:
            line += f"; its cap binds: one more unit of it closes {price:,.2f} WTE of the {target_label} gap"
        out.append(line + ".")
    return out

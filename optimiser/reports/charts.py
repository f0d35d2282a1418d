"""Charts for the HTML report, drawn with matplotlib's Agg backend and returned as PNG data URIs.

Every function takes the tables of a results folder (and ``Labels`` for names)
and returns ``"data:image/png;base64,..."`` or ``None`` when there is nothing to
draw, so the page embeds the picture and needs no other file.
"""

from __future__ import annotations

import base64
import io
import math
from contextlib import contextmanager

import pandas as pd

from optimiser.years import format_year

BLUE, DARK, GREY, LIGHT = "#005EB8", "#003087", "#768692", "#E8EDEE"
RED, GREEN, ORANGE = "#D5281B", "#007F3B", "#ED8B00"
COMPONENT_COLOURS = {
    "training_time": "#425563", "budget": "#005EB8", "supervision": "#ED8B00",
    "placements": "#00A499", "intake_limits": "#7C2855", "growth": "#FFB81C",
}
YEAR_COLOURS = ["#9BC3E6", "#41B6E6", "#005EB8", "#003087", "#231F20", "#768692"]
DPI = 144


@contextmanager
def _style():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    rc = {
        "font.family": "DejaVu Sans", "font.size": 9.5, "axes.titlesize": 11, "axes.titleweight": "bold",
        "axes.titlelocation": "left", "axes.spines.top": False, "axes.spines.right": False,
        "axes.edgecolor": "#AEB7BD", "axes.labelcolor": "#212B32", "xtick.color": "#425563",
        "ytick.color": "#425563", "axes.grid": True, "grid.color": "#E8EDEE", "grid.linewidth": 0.8,
        "axes.axisbelow": True, "legend.frameon": False, "figure.facecolor": "white",
        "svg.fonttype": "none",
    }
    with plt.rc_context(rc):
        yield plt


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def png_file_uri(path) -> str:
    """An existing PNG file (for example the batch's ``frontier.png``) as a data URI."""
    with open(path, "rb") as handle:
        return "data:image/png;base64," + base64.b64encode(handle.read()).decode("ascii")


def _wrap(text: str, width: int = 28) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width, break_long_words=False)) or str(text)


def _thousands(ax, axis: str = "x") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


# ------------------------------------------------------------------- shortfall


def shortfall_bars(target: pd.DataFrame, key: str, names, title: str) -> str | None:
    """Target-year shortfall by ``key`` (profession or region): bars, with the share of demand unmet."""
    if target is None or target.empty:
        return None
    by = target.groupby(key)[["demand_wte", "shortfall_wte"]].sum()
    by = by.sort_values("shortfall_wte", ascending=True)
    if by["shortfall_wte"].max() > 0.05:
        by = by[by["shortfall_wte"] > 0.05]  # the tables list the rest
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(5.6, 0.3 * len(by) + 1.0))
        labels = [_wrap(names(k), 26) for k in by.index]
        bars = ax.barh(labels, by["shortfall_wte"], color=RED, height=0.62)
        top = max(float(by["shortfall_wte"].max()), 1.0)
        for bar, (_, row) in zip(bars, by.iterrows()):
            share = row.shortfall_wte / row.demand_wte if row.demand_wte else 0.0
            text = f"{row.shortfall_wte:,.1f}" + (f" ({share:.0%})" if row.shortfall_wte > 0.05 else "")
            ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, text,
                    va="center", fontsize=8.5, color="#212B32")
        ax.set_xlim(0, top * 1.3)
        ax.set_xlabel("WTE short of demand (share of demand unmet)")
        ax.grid(axis="y", visible=False)
        _thousands(ax)
        ax.set_title(title)
        return _png(fig)


def why_bars(split, names, title: str, key: str = "profession") -> str | None:
    """The shortfall by ``key``, stacked by its reasons (training time and each limit family)."""
    from optimiser.whatif.why import COMPONENT_LABELS, COMPONENTS

    if split is None:
        return None
    by = split.by(key)
    by = by[by["total_wte"] > 0.05].sort_values("total_wte", ascending=True)
    if by.empty:
        return None
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(8.4, 0.36 * len(by) + 1.5))
        labels = [_wrap(names(k), 34) for k in by[key]]
        left_pos = [0.0] * len(by)
        left_neg = [0.0] * len(by)
        for component in COMPONENTS:
            values = by[component].tolist()
            if all(abs(v) < 0.05 for v in values):
                continue
            starts = [lp if v >= 0 else ln for v, lp, ln in zip(values, left_pos, left_neg)]
            ax.barh(labels, values, left=starts, color=COMPONENT_COLOURS[component], height=0.62,
                    label=COMPONENT_LABELS[component], edgecolor="white", linewidth=0.6)
            left_pos = [lp + max(v, 0) for v, lp in zip(values, left_pos)]
            left_neg = [ln + min(v, 0) for v, ln in zip(values, left_neg)]
        for y, total in enumerate(by["total_wte"]):
            ax.text(left_pos[y] + max(left_pos) * 0.01, y, f"{total:,.1f}", va="center", fontsize=8.5,
                    fontweight="bold", color="#212B32")
        ax.axvline(0, color="#425563", linewidth=0.8)
        ax.set_xlim(min(min(left_neg) * 1.1, 0), max(left_pos) * 1.12 + 1)
        ax.set_xlabel("WTE of the target-year shortfall")
        ax.grid(axis="y", visible=False)
        _thousands(ax)
        ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.1 - 0.35 / max(len(by), 1)), ncol=6, fontsize=8.5,
                  handlelength=1.2, columnspacing=1.2)
        ax.set_title(title)
        return _png(fig)


# ------------------------------------------------------------ supply/demand


def supply_demand_grid(workforce: pd.DataFrame, names, target_year: int, base: dict | None = None) -> str | None:
    """One small panel per profession: national supply and demand over the decision years."""
    if workforce is None or workforce.empty:
        return None
    national = workforce.groupby(["profession", "year"], sort=False)[["supply_wte", "demand_wte", "shortfall_wte"]] \
        .sum(min_count=1).reset_index()
    professions = list(dict.fromkeys(workforce["profession"]))
    cols = 4
    rows = math.ceil(len(professions) / cols)
    with _style() as plt:
        fig, axes = plt.subplots(rows, cols, figsize=(11, 2.25 * rows + 0.4), squeeze=False)
        for index, profession in enumerate(professions):
            ax = axes[index // cols][index % cols]
            data = national[national["profession"] == profession].sort_values("year")
            years = data["year"].tolist()
            ax.plot(years, data["supply_wte"], color=BLUE, marker="o", markersize=3.5, linewidth=2, label="Supply")
            demand = data.dropna(subset=["demand_wte"])
            ax.plot(demand["year"], demand["demand_wte"], color=DARK, linestyle="--", marker="s", markersize=3,
                    linewidth=1.4, label="Demand")
            merged = data.dropna(subset=["demand_wte"])
            ax.fill_between(merged["year"], merged["supply_wte"], merged["demand_wte"],
                            where=merged["demand_wte"] > merged["supply_wte"], color=RED, alpha=0.18,
                            interpolate=True, label="Shortfall")
            if target_year in years:
                ax.axvline(target_year, color=GREY, linewidth=0.8, linestyle=":")
            short = data.loc[data["year"] == target_year, "shortfall_wte"].sum()
            ax.set_title(_wrap(names(profession), 30), fontsize=9, fontweight="bold")
            ax.text(0.02, 0.04, f"{format_year(target_year)} gap {short:,.0f} WTE", transform=ax.transAxes,
                    fontsize=7.5, color=RED if short > 0.5 else GREEN)
            ax.set_xticks(years)
            ax.set_xticklabels([format_year(y) for y in years], fontsize=7.5)
            ax.tick_params(axis="y", labelsize=7.5)
            _thousands(ax, "y")
            ax.margins(x=0.08, y=0.2)
        for index in range(len(professions), rows * cols):
            axes[index // cols][index % cols].axis("off")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=3, bbox_to_anchor=(0.5, 1.0 + 0.02 / rows))
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.05 / rows))
        return _png(fig)


# ---------------------------------------------------------------- budget


def budget_table(plan: pd.DataFrame, constraints: pd.DataFrame | None) -> pd.DataFrame:
    """Per decision year: spend (all trainees), of which already committed, the budget and its use.

    From ``constraints.csv``: the budget row's ``lhs`` is the cost of places the
    plan chooses (the committed pipeline cost is on the right-hand side), so
    committed = spend - lhs and budget = spend + slack.
    """
    spend = plan.groupby("year")["cost_gbp"].sum()
    rows = []
    budget = None
    if constraints is not None and not constraints.empty:
        budget = constraints[constraints["family"] == "budget"].set_index("year")
    for year, total in spend.items():
        row = {"year": int(year), "year_label": format_year(int(year)), "spend_gbp": float(total),
               "committed_gbp": None, "new_places_gbp": None, "budget_gbp": None, "used": None,
               "shadow_price": None}
        if budget is not None and year in budget.index:
            b = budget.loc[year]
            row["new_places_gbp"] = float(b["lhs"])
            row["committed_gbp"] = float(total) - float(b["lhs"])
            row["budget_gbp"] = float(total) + float(b["slack"])
            row["used"] = row["spend_gbp"] / row["budget_gbp"] if row["budget_gbp"] else None
            row["shadow_price"] = None if pd.isna(b["shadow_price"]) else float(b["shadow_price"])
        rows.append(row)
    return pd.DataFrame(rows)


def regional_budget_table(plan: pd.DataFrame, constraints: pd.DataFrame | None) -> pd.DataFrame:
    """Per region and year with a regional cap: spend, the cap and its use (as ``budget_table``)."""
    columns = ["region", "year", "year_label", "spend_gbp", "budget_gbp", "used", "shadow_price"]
    if constraints is None or constraints.empty or plan is None or plan.empty:
        return pd.DataFrame(columns=columns)
    caps = constraints[constraints["family"] == "regional_budget"]
    spend = plan.groupby(["region", "year"])["cost_gbp"].sum()
    rows = []
    for row in caps.to_dict(orient="records"):
        total = float(spend.get((row["region"], row["year"]), 0.0))
        budget = total + float(row["slack"])
        rows.append({"region": row["region"], "year": int(row["year"]), "year_label": format_year(int(row["year"])),
                     "spend_gbp": total, "budget_gbp": budget, "used": total / budget if budget else None,
                     "shadow_price": None if pd.isna(row["shadow_price"]) else float(row["shadow_price"])})
    return pd.DataFrame(rows, columns=columns)


def budget_chart(table: pd.DataFrame) -> str | None:
    if table is None or table.empty:
        return None
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(7.2, 3.4))
        labels = table["year_label"].tolist()
        committed = table["committed_gbp"].fillna(0) / 1e6
        new = (table["new_places_gbp"].fillna(table["spend_gbp"]) / 1e6)
        ax.bar(labels, committed, color=GREY, width=0.55, label="Committed (trainees already in training)")
        ax.bar(labels, new, bottom=committed, color=BLUE, width=0.55, label="Places this plan commissions")
        for i, row in enumerate(table.to_dict(orient="records")):
            if row["budget_gbp"] is not None and not pd.isna(row["budget_gbp"]):
                b = row["budget_gbp"] / 1e6
                ax.hlines(b, i - 0.38, i + 0.38, color=RED, linewidth=2.2,
                          label="Budget" if i == 0 else None)
                ax.text(i, b * 1.02, f"{row['used']:.0%} used", ha="center", va="bottom", fontsize=8.5)
            else:
                ax.text(i, row["spend_gbp"] / 1e6 * 1.02, "no national budget", ha="center", va="bottom", fontsize=8)
        ax.set_ylabel("GBP million")
        top = max(float((table["budget_gbp"].fillna(0) / 1e6).max()), float((table["spend_gbp"] / 1e6).max()))
        ax.set_ylim(0, top * 1.18 + 1e-9)
        ax.grid(axis="x", visible=False)
        _thousands(ax, "y")
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8.5)
        ax.set_title("Training budget by year")
        return _png(fig)


def budget_frontier_chart(table: pd.DataFrame | None, target: str) -> str | None:
    """The shortfall against the budget: the target-year gap counting trainees and of qualified
    staff, and the sustain years' weighted gap, at each budget scale that has a plan."""
    if table is None or table.empty:
        return None
    ok = table[table["status"] == "optimal"].sort_values("budget_gbp")
    if ok.empty:
        return None
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(7.2, 3.4))
        x = ok["budget_gbp"] / 1e6
        ax.plot(x, ok["total_shortfall_wte"], "o-", color=RED, label=f"{target} gap, trainees in posts counted")
        ax.plot(x, ok["qualified_shortfall_wte"], "o--", color=ORANGE, label=f"{target} gap, qualified staff only")
        if ok["sustain_shortfall"].notna().any():
            ax.plot(x, ok["sustain_shortfall"], "s:", color=DARK, label="Sustain years, weighted")
        base = ok[ok["scale"] == 1]
        if not base.empty:
            ax.axvline(float(base["budget_gbp"].iloc[0]) / 1e6, color=GREY, linewidth=1, linestyle="-")
        ax.set_xlabel("Budget over all decision years (GBP million)")
        ax.set_ylabel("WTE")
        ax.set_ylim(bottom=0)
        _thousands(ax, "x")
        _thousands(ax, "y")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8.5)
        ax.set_title("Shortfall against the budget (grey line: the dataset's budget)")
        return _png(fig)


# ------------------------------------------------------------ supervision


def supervision_table(supervision: pd.DataFrame | None, constraints: pd.DataFrame | None) -> pd.DataFrame:
    """Hours a week used and available per region and year.

    Used = the allocations of ``supervision.csv``; available = used + the slack
    of each supervisor profession's capacity row in ``constraints.csv``.
    """
    columns = ["region", "year", "used_hours", "capacity_hours", "used"]
    if constraints is None or constraints.empty:
        return pd.DataFrame(columns=columns)
    cap = constraints[constraints["family"] == "supervision_capacity"][["profession", "region", "year", "slack"]]
    if cap.empty:
        return pd.DataFrame(columns=columns)
    used = pd.DataFrame(columns=["profession", "region", "year", "hours"])
    if supervision is not None and not supervision.empty:
        used = supervision.groupby(["supervisor_profession", "region", "year"])["hours_per_week"].sum() \
            .reset_index().rename(columns={"supervisor_profession": "profession", "hours_per_week": "hours"})
    merged = cap.merge(used, on=["profession", "region", "year"], how="left")
    merged["hours"] = merged["hours"].fillna(0.0)
    merged["capacity"] = merged["hours"] + merged["slack"].clip(lower=0)
    by = merged.groupby(["region", "year"], sort=False)[["hours", "capacity"]].sum().reset_index()
    by = by.rename(columns={"hours": "used_hours", "capacity": "capacity_hours"})
    by["used"] = by["used_hours"] / by["capacity_hours"].where(by["capacity_hours"] > 0)
    return by[columns]


def supervision_chart(table: pd.DataFrame, names) -> str | None:
    """Heat map of supervision use (share of available hours) by region and year."""
    if table is None or table.empty:
        return None
    import numpy as np

    regions = list(dict.fromkeys(table["region"]))
    years = sorted(table["year"].unique())
    grid = np.full((len(regions), len(years)), np.nan)
    text = [["" for _ in years] for _ in regions]
    for row in table.to_dict(orient="records"):
        i, j = regions.index(row["region"]), years.index(row["year"])
        grid[i, j] = row["used"] if row["used"] is not None and not pd.isna(row["used"]) else np.nan
        text[i][j] = (f"{row['used']:.0%}\n" if not pd.isna(row["used"]) else "") + \
            f"{row['used_hours']:,.0f} of {row['capacity_hours']:,.0f} h"
    with _style() as plt:
        from matplotlib.colors import LinearSegmentedColormap

        cmap = LinearSegmentedColormap.from_list("use", ["#F0F4F5", "#9BC3E6", "#005EB8", "#003087"])
        fig, ax = plt.subplots(figsize=(1.9 * len(years) + 2.6, 0.5 * len(regions) + 1.2))
        image = ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, aspect="auto")
        ax.grid(False)
        ax.set_xticks(range(len(years)))
        ax.set_xticklabels([format_year(y) for y in years])
        ax.set_yticks(range(len(regions)))
        ax.set_yticklabels([names(r) for r in regions])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        for i in range(len(regions)):
            for j in range(len(years)):
                value = grid[i, j]
                ax.text(j, i, text[i][j], ha="center", va="center", fontsize=7.8,
                        color="white" if not np.isnan(value) and value > 0.55 else "#212B32")
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, format=lambda v, _: f"{v:.0%}")
        bar.outline.set_visible(False)
        ax.set_title("Supervision hours a week used, of those available")
        return _png(fig)


# ------------------------------------------------------------------- plan


def intake_chart(plan: pd.DataFrame | None, names) -> str | None:
    """Places to commission by profession, one bar per year."""
    if plan is None or plan.empty:
        return None
    import numpy as np

    by = plan.groupby(["profession", "year"])["intake"].sum().unstack("year").fillna(0)
    by = by.loc[by.sum(axis=1).sort_values(ascending=True).index]
    years = list(by.columns)
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(8.4, 0.42 * len(by) + 1.4))
        height = 0.8 / max(len(years), 1)
        y = np.arange(len(by))
        for k, year in enumerate(years):
            ax.barh(y - (k - (len(years) - 1) / 2) * height, by[year], height=height * 0.95,
                    color=YEAR_COLOURS[k % len(YEAR_COLOURS)] if len(years) <= 4 else None,
                    label=format_year(int(year)))
        ax.set_yticks(y)
        ax.set_yticklabels([_wrap(names(p), 34) for p in by.index])
        ax.set_xlabel("Training places commissioned (intake)")
        ax.grid(axis="y", visible=False)
        _thousands(ax)
        ax.legend(loc="lower right", title="Intake year", fontsize=8.5, title_fontsize=8.5)
        ax.set_title("Places to commission, by profession and year")
        return _png(fig)


# ------------------------------------------------------------------- batch


def scenario_chart(ranking: pd.DataFrame) -> str | None:
    """Scenarios with a plan side by side: target-year shortfall and total cost; a plan that is not
    optimal (stopped at its time limit) is labelled with its status."""
    data = ranking.dropna(subset=["total_shortfall_wte"])
    if data.empty:
        return None
    data = data.sort_values("total_shortfall_wte", ascending=True)
    with _style() as plt:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.42 * len(data) + 1.4), sharey=True)
        labels = [_wrap(s if status == "optimal" else f"{s} ({str(status).replace('_', ' ')})", 30)
                  for s, status in zip(data["scenario"], data["status"])]
        left.barh(labels, data["total_shortfall_wte"], color=RED, height=0.6)
        right.barh(labels, data["total_cost_gbp"] / 1e6, color=BLUE, height=0.6)
        for ax, column, fmt in ((left, "total_shortfall_wte", "{:,.1f}"), (right, "total_cost_gbp", "GBP {:,.1f}m")):
            values = data[column] / (1e6 if column == "total_cost_gbp" else 1)
            top = max(float(values.max()), 1e-9)
            for i, v in enumerate(values):
                ax.text(v + top * 0.01, i, fmt.format(v), va="center", fontsize=8.5)
            ax.set_xlim(0, top * 1.25)
            ax.grid(axis="y", visible=False)
            _thousands(ax)
        left.set_title("Target-year shortfall (WTE)")
        right.set_title("Cost of trainees (GBP million)")
        fig.tight_layout()
        return _png(fig)


# ------------------------------------------------------------------- large batches

#: Size (inches) of one heat-map panel, and of the scatter of a batch that is not a sweep.
PANEL_INCHES = (5.2, 3.8)
SCATTER_INCHES = (11, 4.2)
#: Cells a heat map labels with their value (more would be unreadable).
MAX_ANNOTATED_CELLS = 120


def sweep_chart(ranking: pd.DataFrame, sweep) -> str | None:
    """A large sweep on one picture: the target-year shortfall over its first two swept columns
    (one small heat map per value of the columns beyond them), the cost beside it when it is two columns."""
    import numpy as np

    from optimiser.reports.sweep import MAX_PANELS

    data = ranking.dropna(subset=["total_shortfall_wte"])
    if data.empty or sweep is None:
        return None
    labels = list(sweep.labels)
    if len(labels) == 1:
        labels = labels + [None]
    row_label, col_label, rest = labels[0], labels[1], labels[2:]
    rows = sweep.values[row_label]
    cols = sweep.values[col_label] if col_label else [""]
    panels: list[tuple[str, dict]] = []
    combos = sorted({tuple(sweep.cases[n][r] for r in rest) for n in data["scenario"]})
    if len(combos) > MAX_PANELS:
        return None
    for combo in combos:
        panels.append((", ".join(f"{r}={v}" for r, v in zip(rest, combo)), dict(zip(rest, combo))))
    measures = [("total_shortfall_wte", "Target-year shortfall (WTE)", "Reds", 1.0)]
    if not rest:
        measures.append(("total_cost_gbp", "Cost of trainees (GBP million)", "Blues", 1e6))
    figures = [(p, m) for p in panels for m in measures]
    columns = min(2, len(figures))
    lines = -(-len(figures) // columns)
    with _style() as plt:
        fig, axes = plt.subplots(lines, columns, figsize=(PANEL_INCHES[0] * columns, PANEL_INCHES[1] * lines),
                                 squeeze=False)
        for ax in axes.flat[len(figures):]:
            ax.set_visible(False)
        for ax, ((title, fixed), (column, name, cmap, unit)) in zip(axes.flat, figures):
            grid = np.full((len(rows), len(cols)), np.nan)
            for record in data.to_dict(orient="records"):
                coords = sweep.cases[record["scenario"]]
                if any(coords[k] != v for k, v in fixed.items()):
                    continue
                i = rows.index(coords[row_label])
                j = cols.index(coords[col_label]) if col_label else 0
                grid[i, j] = record[column] / unit
            image = ax.imshow(grid, cmap=cmap, aspect="auto", origin="lower")
            ax.grid(False)
            ax.set_yticks(range(len(rows)), rows, fontsize=7.5)
            ax.set_xticks(range(len(cols)), cols, fontsize=7.5, rotation=90 if len(cols) > 8 else 0)
            ax.set_ylabel(row_label)
            if col_label:
                ax.set_xlabel(col_label)
            ax.set_title(name + (f"\n{title}" if title else ""), fontsize=10)
            fig.colorbar(image, ax=ax, shrink=0.85)
            if grid.size <= MAX_ANNOTATED_CELLS:
                top = np.nanmax(grid) if np.isfinite(grid).any() else 0
                for (i, j), v in np.ndenumerate(grid):
                    if np.isfinite(v):
                        ax.text(j, i, f"{v:,.0f}" if top >= 100 else f"{v:.3g}", ha="center", va="center", fontsize=6.5,
                                color="white" if v > top * 0.6 else "#212B32")
        fig.tight_layout()
        return _png(fig)


def batch_scatter(ranking: pd.DataFrame) -> str | None:
    """A large batch that is not a sweep: cost against shortfall, one dot per scenario, and the spread."""
    data = ranking.dropna(subset=["total_shortfall_wte", "total_cost_gbp"])
    if data.empty:
        return None
    with _style() as plt:
        fig, (left, right) = plt.subplots(1, 2, figsize=SCATTER_INCHES)
        left.scatter(data["total_shortfall_wte"], data["total_cost_gbp"] / 1e6, s=14, color=BLUE, alpha=0.7)
        left.set_xlabel("Target-year shortfall (WTE)")
        left.set_ylabel("Cost of trainees (GBP million)")
        left.set_title("Each scenario: cost against shortfall")
        _thousands(left)
        right.hist(data["total_shortfall_wte"], bins=min(30, max(5, len(data) // 5)), color=RED)
        right.set_xlabel("Target-year shortfall (WTE)")
        right.set_ylabel("Scenarios")
        right.set_title("How the shortfall is spread")
        _thousands(right)
        fig.tight_layout()
        return _png(fig)

"""``optimiser frontier``: the shortfall against budget (or a region's supervision) over a range.

Each point is a case of a batch (``optimiser.batch``), so a frontier runs on all
cores or on a Dask cluster, resumes after an interruption, and keeps a results
folder per point (``OUT/scenarios/<point>/``) beside ``comparison.csv``. The
frontier itself is ``OUT/frontier.csv`` and ``OUT/frontier.png``.

Budget (``--kind budget``, the default): every budget row (national and
regional caps; only year Y with ``--year``; only region R's caps with
``--region``) is scaled by each factor from ``--from`` to ``--to``. The
x-axis, ``budget_gbp``, is the scaled national budget summed over the scaled
years (the region's caps with ``--region``). ``marginal_value_per_gbp_1m`` is
the weighted shortfall removed by GBP 1m more, added in the sweep's
direction (in proportion to the scaled budgets): the sum over the scaled
budget limits of shadow price x budget, divided by the x-axis total. With one
year it is that year's budget shadow price (``constraints.csv``). The
shortfall is convex and non-increasing in the budget, so the slope between two
points lies between their marginal values.

Supervision (``--kind supervision --region R``): the hours a week a qualified
WTE gives in region R (``supervisor_hours_per_wte``, of every supervising
profession or of ``--profession``) are scaled by each factor, in that region
only (a model-level override: see ``optimiser.scenarios``). The x-axis is the
region's supervision capacity in the first decision year (hours a week:
hours per WTE x base-year stock); ``marginal_value_per_hour`` is the
capacity-weighted mean shadow price of the region's supervision capacity
limits (weighted shortfall removed per extra supervision hour a week, spread
as the sweep spreads it; the plain mean where the capacity is zero),
``max_shadow_price`` the largest of them.
"""

from __future__ import annotations

import io
import math
import sys
from pathlib import Path
from typing import Any

import click

FRONTIER_CSV = "frontier.csv"
FRONTIER_PNG = "frontier.png"


def frontier_cases(base, kind: str, scales: list[float], *, year=None, region=None, profession=None, cli=()):
    """One case per scale factor: the command line's --set first, then the scaling (its own layer)."""
    from optimiser.errors import InputError, Problem
    from optimiser.scenarios import Case, OverrideSpec, resolve

    def usage(option: str, message: str) -> InputError:
        return InputError([Problem("command line", None, option, None, message)])

    where: dict[str, Any] = {}
    if year is not None:
        where["year"] = year
    if region is not None:
        where["region"] = region
    if kind == "budget":
        target = "budget.budget_gbp"
        if profession is not None:
            raise usage("--profession", "applies to --kind supervision only")
    else:
        if region is None:
            raise usage("--region", "--kind supervision needs --region REGION")
        target = "professions.supervisor_hours_per_wte"
        if profession is not None:
            where["profession"] = profession
    cases = []
    for scale in scales:
        spec = OverrideSpec.model_validate({"target": target, "where": where, "scale": scale})
        (override,) = resolve(spec, base, layer="frontier", file="frontier")
        cases.append(Case(f"{kind}-x{scale:g}", f"{kind} frontier", None, tuple(cli) + (override,)))
    return cases


def scales_between(start: float, stop: float, steps: int) -> list[float]:
    if steps == 1:
        return [float(f"{start:.12g}")]
    return [float(f"{start + (stop - start) * i / (steps - 1):.12g}") for i in range(steps)]


def frontier_table(out: Path, cases, base, kind: str, *, year=None, region=None, profession=None):
    """The frontier from each point's results folder (summary.json, constraints.csv, supervision.csv)."""
    import json

    import pandas as pd

    from optimiser.years import format_year

    rows = []
    for case in cases:
        folder = out / "scenarios" / case.name
        scale = case.overrides[-1].value
        summary = {}
        if (folder / "summary.json").exists():
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        row: dict[str, Any] = {"point": case.name, "scale": scale, "status": summary.get("status", "failed")}
        constraints = (pd.read_csv(folder / "constraints.csv")
                       if summary.get("has_plan") and (folder / "constraints.csv").exists() else None)
        if kind == "budget":
            row.update(_budget_point(base, case, constraints, year=year, region=region))
        else:
            supervision = (pd.read_csv(folder / "supervision.csv")
                           if constraints is not None and (folder / "supervision.csv").exists() else None)
            row.update(_supervision_point(base, case, constraints, supervision, region=region, profession=profession))
        row.update(weighted_shortfall=summary.get("weighted_shortfall"),
                   total_shortfall_wte=summary.get("total_shortfall_wte"),
                   total_cost_gbp=summary.get("total_cost_gbp"))
        if kind == "budget" and constraints is not None:
            national = constraints[(constraints.family == "budget")]
            for _, c in national.sort_values("year").iterrows():
                row[f"shadow_price_{format_year(int(c.year))}"] = c.shadow_price
        row["reason"] = None if row["status"] == "optimal" else summary.get("message")
        rows.append(row)
    table = pd.DataFrame(rows)
    first = ["point", "scale", "budget_gbp" if kind == "budget" else "supervision_hours_per_week", "status",
             "weighted_shortfall", "total_shortfall_wte", "total_cost_gbp"]
    return table[first + [c for c in table.columns if c not in first]]


def _dataset_of(base, case):
    """The case's validated dataset (for figures the results do not carry: budgets, stock)."""
    from optimiser.loader import validate_raw
    from optimiser.scenarios import apply_overrides

    applied = apply_overrides(base, case.overrides)
    return validate_raw(applied.raw), applied


def _budget_point(base, case, constraints, *, year, region) -> dict[str, Any]:
    dataset, _ = _dataset_of(base, case)
    selected = [b for b in dataset.budget
                if (year is None or b.year == year) and (b.region == region if region else True)]
    axis_rows = [b for b in selected if (b.region == region if region else b.region is None)]
    total = sum(b.budget_gbp for b in axis_rows)
    marginal = None
    if constraints is not None and total > 0:
        value = 0.0
        for b in selected:
            family = "budget" if b.region is None else "regional_budget"
            match = constraints[(constraints.family == family) & (constraints.year == b.year)
                                & ((constraints.region == b.region) if b.region else constraints.region.isna())]
            if len(match):
                value += float(match.shadow_price.iloc[0] or 0.0) * b.budget_gbp
        marginal = value / total
    return {"budget_gbp": total, "marginal_value_per_gbp_1m": marginal}


def _supervision_point(base, case, constraints, supervision, *, region, profession) -> dict[str, Any]:
    dataset, applied = _dataset_of(base, case)
    first = dataset.settings.decision_years[0]
    needed = {p.profession for p in dataset.professions if p.supervision_hours_per_trainee > 0}
    supervisors = {row.supervisor_profession for row in dataset.supervision if row.trainee_profession in needed}
    if profession is not None:
        supervisors &= {profession}
    hours = applied.supervisor_hours
    first_year = sum(hours.get((q, region, first), dataset.profession[q].supervisor_hours_per_wte)
                     * dataset.stock_wte.get((q, region), 0.0) for q in supervisors)
    out: dict[str, Any] = {"supervision_hours_per_week": first_year, "marginal_value_per_hour": None,
                           "max_shadow_price": None}
    if constraints is None:
        return out
    rows = constraints[(constraints.family == "supervision_capacity") & (constraints.region == region)
                       & constraints.profession.isin(sorted(supervisors))]
    used = {}
    if supervision is not None and not supervision.empty:
        given = supervision[supervision.region == region].groupby(["supervisor_profession", "year"])["hours_per_week"].sum()
        used = {k: float(v) for k, v in given.items()}
    weighted, capacity = 0.0, 0.0
    for _, c in rows.iterrows():
        cap = float(c.slack) + used.get((c.profession, int(c.year)), 0.0)
        weighted += float(c.shadow_price or 0.0) * cap
        capacity += cap
    prices = [float(v or 0.0) for v in rows.shadow_price]
    out["marginal_value_per_hour"] = (weighted / capacity if capacity > 0
                                      else sum(prices) / len(prices) if prices else None)
    out["max_shadow_price"] = float(rows.shadow_price.max()) if len(rows) else None
    return out


def write_chart(table, path: Path, kind: str, title: str) -> None:
    """Shortfall and marginal value against the swept quantity, as a PNG (Agg backend)."""
    import matplotlib

    from optimiser.output import atomic_write

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_column = "budget_gbp" if kind == "budget" else "supervision_hours_per_week"
    marginal = "marginal_value_per_gbp_1m" if kind == "budget" else "marginal_value_per_hour"
    ok = table[table.weighted_shortfall.notna()]
    scale = 1e6 if kind == "budget" else 1.0
    xlabel = "Budget (GBP m)" if kind == "budget" else "Supervision capacity, first year (hours a week)"
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    top.plot(ok[x_column] / scale, ok.weighted_shortfall, "o-", label="weighted shortfall")
    top.plot(ok[x_column] / scale, ok.total_shortfall_wte, "s--", alpha=0.7, label="target-year shortfall (WTE)")
    bad = table[table.weighted_shortfall.isna()]
    for i, (_, row) in enumerate(bad.iterrows()):
        top.axvline(row[x_column] / scale, color="red", alpha=0.3, label="no plan (infeasible)" if i == 0 else None)
    top.set_ylabel("Shortfall (WTE)")
    top.set_title(title)
    top.legend()
    top.grid(alpha=0.3)
    bottom.plot(ok[x_column] / scale, ok[marginal], "o", color="tab:green", label="at each point (shadow price)")
    bottom.plot(ok[x_column] / scale, ok[marginal], drawstyle="steps-mid", color="tab:green", alpha=0.4)
    bottom.legend()
    bottom.set_ylabel("WTE removed per GBP 1m" if kind == "budget" else "WTE removed per hour a week")
    bottom.set_xlabel(xlabel)
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=110)
    finally:
        plt.close(fig)
    atomic_write(path, buffer.getvalue())


def run_frontier(dataset, out, *, kind="budget", start=0.5, stop=1.5, steps=11, year=None, region=None,
                 profession=None, sets=(), options=None, workers=None, scheduler=None, rerun=False, quiet=False):
    """Solve every point (as a batch) and write ``frontier.csv`` and ``frontier.png``."""
    from optimiser.batch import SolveOptions, run_batch
    from optimiser.output import atomic_write
    from optimiser.scenarios import cli_overrides, prepare_base
    from optimiser.years import parse_year

    year = parse_year(year) if year is not None else None
    base = prepare_base(dataset)
    cli = cli_overrides(list(sets), base)
    cases = frontier_cases(base, kind, scales_between(start, stop, steps), year=year, region=region,
                           profession=profession, cli=cli)
    report = run_batch(cases, base, out, options or SolveOptions(), workers=workers, scheduler=scheduler,
                       rerun=rerun, quiet=quiet)
    out = Path(out).resolve()
    table = frontier_table(out, cases, base, kind, year=year, region=region, profession=profession)
    atomic_write(out / FRONTIER_CSV, table.to_csv(index=False, float_format="%.10g").encode("utf-8"))
    what = "budget" if kind == "budget" else f"supervision in {region}" + (f" ({profession})" if profession else "")
    write_chart(table, out / FRONTIER_PNG, kind, f"Shortfall against {what}"
                + (f", {year}" if year is not None else ""))
    return report, table


def _text(table, kind: str) -> str:
    x_column = "budget_gbp" if kind == "budget" else "supervision_hours_per_week"
    marginal = "marginal_value_per_gbp_1m" if kind == "budget" else "marginal_value_per_hour"
    unit = "per GBP 1m" if kind == "budget" else "per hour a week"
    lines = []
    for _, row in table.iterrows():
        x = f"GBP {row[x_column] / 1e6:,.1f}m" if kind == "budget" else f"{row[x_column]:,.1f} h/week"
        if row.weighted_shortfall is not None and not _nan(row.weighted_shortfall):
            value = "" if _nan(row[marginal]) else f", marginal value {row[marginal]:,.3g} WTE {unit}"
            lines.append(f"  x{row.scale:<5g} {x}: shortfall {row.weighted_shortfall:,.1f}{value}")
        else:
            lines.append(f"  x{row.scale:<5g} {x}: {str(row.status).upper()}: {row.reason or ''}")
    return "\n".join(lines)


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def register(main) -> None:
    from optimiser.cli import debug_option, guarded, integer_option, solver_option, time_option

    @main.command()
    @click.argument("dataset", type=click.Path(path_type=Path))
    @click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path),
                  help="Folder for frontier.csv, frontier.png and each point's results.")
    @click.option("--kind", type=click.Choice(["budget", "supervision"]), default="budget", show_default=True,
                  help="Scale the budgets, or one region's supervisor hours per WTE.")
    @click.option("--from", "start", type=click.FloatRange(min=0), default=0.5, show_default=True,
                  help="First scale factor.")
    @click.option("--to", "stop", type=click.FloatRange(min=0), default=1.5, show_default=True,
                  help="Last scale factor.")
    @click.option("--steps", type=click.IntRange(min=1, max=10_000), default=11, show_default=True,
                  help="Number of points, evenly spaced.")
    @click.option("--year", default=None, help="Scale only this year (2022 or 2022/23).")
    @click.option("--region", default=None, help="Supervision: the region (required). Budget: that region's caps.")
    @click.option("--profession", default=None, help="Supervision: only this supervising profession.")
    @click.option("--set", "sets", multiple=True, metavar="OVERRIDE", help="What-if applied to every point first.")
    @click.option("--workers", type=click.IntRange(min=1), default=None, help="Local worker processes.")
    @click.option("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786.")
    @click.option("--rerun", is_flag=True, help="Solve every point again.")
    @solver_option
    @time_option
    @integer_option
    @click.option("--quiet", is_flag=True, help="No progress bar.")
    @debug_option
    @guarded
    def frontier(dataset, out_dir, kind, start, stop, steps, year, region, profession, sets, workers, scheduler,
                 rerun, solver, time_limit, integer, quiet, debug):
        """Shortfall of DATASET against its budget (or a region's supervision) over a range of scales."""
        from optimiser.batch import SolveOptions

        report, table = run_frontier(dataset, out_dir, kind=kind, start=start, stop=stop, steps=steps, year=year,
                                     region=region, profession=profession, sets=sets,
                                     options=SolveOptions(solver, time_limit, integer), workers=workers,
                                     scheduler=scheduler, rerun=rerun, quiet=quiet)
        click.echo(_text(table, kind))
        out = Path(out_dir).resolve()
        click.echo(f"Frontier: {out / FRONTIER_CSV} and {out / FRONTIER_PNG}")
        code = report.exit_code
        sys.exit(130 if code == 130 else 0 if code == 3 else code)  # infeasible points are part of the answer

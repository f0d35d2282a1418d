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
only and in every year (rows of the ``supervisor_hours`` table, which has no
year: see ``optimiser.scenarios``). The x-axis is the region's supervision
capacity in the first decision year, or in year Y with ``--year`` (hours a
week: hours per WTE x the stock at the start of the year,
the base year's or the plan's); ``marginal_value_per_hour`` is the
capacity-weighted mean shadow price of the region's supervision capacity
limits (of year Y only, with ``--year``; weighted shortfall removed per extra
supervision hour a week, spread as the sweep spreads it; the plain mean where
the capacity is zero), ``max_shadow_price`` the largest of them.

Figures come only from each point's complete, current results folder
(``batch.current_cases``): its summary.json, constraints.csv, supervision.csv
and the axis figures ``run_case`` records in its scenario.json.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from models.results import SUMMARY_FIGURES
from optimiser.deltas import with_changes
from optimiser.years import format_year

FRONTIER_CSV = "frontier.csv"
FRONTIER_PNG = "frontier.png"


def frontier_cases(base, kind: str, scales: list[float], *, year=None, region=None, profession=None, cli=()):
    """One case per scale factor: the command line's --set first, then the scaling (its own layer).

    Equal factors are solved once; points are named ``{kind}-x{factor}`` with as many digits as
    keep the names distinct. The first point's overrides are applied to the base now, so an
    option that selects nothing (``--region`` of a dataset without regional caps) is refused
    before anything is solved, with a message naming the options.
    """
    from optimiser.errors import InputError, Problem
    from optimiser.scenarios import Case, OverrideSpec, apply_overrides, resolve

    def usage(option: str, message: str) -> InputError:
        return InputError([Problem("command line", None, option, None, message)])

    where: dict[str, Any] = {}
    if year is not None and kind == "budget":  # supervisor hours have no year: --year picks the axis
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
    scales = list(dict.fromkeys(float(s) for s in scales))
    label = "command line (frontier " + " ".join(
        [f"--kind {kind}"] + [f"--{option} {value}" for option, value in
                              (("year", year if year is None else format_year(year)), ("region", region),
                               ("profession", profession)) if value is not None]) + ")"
    cases = []
    for scale, name in zip(scales, point_names(kind, scales)):
        spec = OverrideSpec.model_validate({"target": target, "where": where, "scale": scale})
        (override,) = resolve(spec, base, layer="frontier", file=label)
        cases.append(Case(name, f"{kind} frontier", None, tuple(cli) + (override,), (len(cli),)))
    if cases:
        apply_overrides(base, cases[0].overrides)
    return cases


def point_names(kind: str, scales: list[float]) -> list[str]:
    """``budget-x0.5``...: the factor with the fewest digits (at least 6) that tell every point apart."""
    for digits in range(6, 18):
        names = [f"{kind}-x{s:.{digits}g}" for s in scales]
        if len(set(names)) == len(names):
            return names
    return [f"{kind}-x{s!r}" for s in scales]


def scales_between(start: float, stop: float, steps: int) -> list[float]:
    """``steps`` factors evenly spaced from ``start`` to ``stop`` (``scenarios.evenly_spaced``)."""
    from optimiser.scenarios import evenly_spaced

    return evenly_spaced(start, stop, steps)


def frontier_table(out: Path, cases, kind: str, *, year=None, region=None, profession=None, report=None):
    """The frontier from each point's complete, current results folder (``batch.current_cases``):
    summary.json, constraints.csv, supervision.csv, and the figures scenario.json records.

    A point without a current result (failed, or not solved yet) has its status from
    ``report`` (else ``failed``) and no figures.
    """
    import pandas as pd

    from optimiser.batch import FAILED, SCENARIO_FILE, current_cases, read_summary

    current = current_cases(out)
    rows = []
    for case in cases:
        folder = current.get(case.name)
        summary = (read_summary(folder) if folder is not None else None) or {}
        figures = _read_json(folder / SCENARIO_FILE).get("figures") or {} if folder is not None else {}
        status = summary.get("status") or (report.statuses.get(case.name, FAILED) if report else FAILED)
        row: dict[str, Any] = {"point": case.name, "scale": case.overrides[-1].value, "status": status}
        constraints = _read_csv(folder / "constraints.csv") if folder is not None and summary.get("has_plan") else None
        if kind == "budget":
            row.update(_budget_point(figures, constraints, year=year, region=region))
        else:
            supervision = _read_csv(folder / "supervision.csv") if constraints is not None else None
            row.update(_supervision_point(figures, constraints, supervision, year=year, region=region,
                                          profession=profession))
        row.update({key: summary.get(key) for key in SUMMARY_FIGURES})
        if kind == "budget" and constraints is not None:
            national = constraints[(constraints.family == "budget")]
            for _, c in national.sort_values("year").iterrows():
                row[f"shadow_price_{format_year(int(c.year))}"] = c.shadow_price
        row["reason"] = None if status == "optimal" else (
            summary.get("message") if summary else report.messages.get(case.name) if report else None)
        rows.append(row)
    table = pd.DataFrame(rows)
    first = ["point", "scale", "budget_gbp" if kind == "budget" else "supervision_hours_per_week", "status",
             *SUMMARY_FIGURES]
    numeric = first[4:] + [first[2]] + [c for c in table.columns if c.startswith(("marginal_", "max_", "shadow_"))]
    for column in numeric:
        table[column] = pd.to_numeric(table[column], errors="coerce") if column in table.columns else float("nan")
    table = table[first + [c for c in table.columns if c not in first]]
    return with_changes(table, unit_point(table["scale"]) if not table.empty else None, UNIT_LABEL)


#: The suffix of a frontier's change columns: against the point at x1 (the dataset's own figures).
UNIT_LABEL = "x1"


def unit_point(scales):
    """The label of the row whose scale is 1 (``None`` when the range has no such point)."""
    hits = scales.index[(scales - 1.0).abs() < 1e-12]
    return hits[0] if len(hits) else None


def _read_json(path: Path) -> dict:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_csv(path: Path):
    """A results table, or ``None`` when it is missing or cannot be read."""
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError):
        return None


def _budget_point(figures: dict, constraints, *, year, region) -> dict[str, Any]:
    budget = figures.get("budget")
    if budget is None:
        return {"budget_gbp": None, "marginal_value_per_gbp_1m": None}
    selected = [(y, r, gbp) for y, r, gbp in budget
                if (year is None or y == year) and (r == region if region else True)]
    axis_rows = [b for b in selected if (b[1] == region if region else b[1] is None)]
    total = sum(gbp for _, _, gbp in axis_rows)
    marginal = None
    if constraints is not None and total > 0:
        value = 0.0
        for y, r, gbp in selected:
            family = "budget" if r is None else "regional_budget"
            match = constraints[(constraints.family == family) & (constraints.year == y)
                                & ((constraints.region == r) if r else constraints.region.isna())]
            if len(match):
                value += float(match.shadow_price.iloc[0] or 0.0) * gbp
        marginal = value / total
    return {"budget_gbp": total, "marginal_value_per_gbp_1m": marginal}


def _supervision_point(figures: dict, constraints, supervision, *, year, region, profession) -> dict[str, Any]:
    """The region's capacity in ``year`` (default: the first decision year) and, from the
    supervision capacity limits of that region (of ``year`` only, when given), the
    capacity-weighted mean and the largest shadow price."""
    rows = [c for c in figures.get("supervision_capacity") or []
            if c[1] == region and (profession is None or c[0] == profession)]
    supervisors = sorted({c[0] for c in rows})
    shown = year if year is not None else min((c[2] for c in rows), default=None)
    capacities = [c[4] for c in rows if c[2] == shown]
    axis = None if "supervision_capacity" not in figures or None in capacities else float(sum(capacities))
    out: dict[str, Any] = {"supervision_hours_per_week": axis, "marginal_value_per_hour": None,
                           "max_shadow_price": None}
    if constraints is None:
        return out
    limits = constraints[(constraints.family == "supervision_capacity") & (constraints.region == region)
                         & constraints.profession.isin(supervisors)]
    if year is not None:
        limits = limits[limits.year == year]
    used = {}
    if supervision is not None and not supervision.empty:
        given = supervision[supervision.region == region].groupby(["supervisor_profession", "year"])["hours_per_week"].sum()
        used = {k: float(v) for k, v in given.items()}
    weighted, capacity = 0.0, 0.0
    for _, c in limits.iterrows():
        cap = float(c.slack) + used.get((c.profession, int(c.year)), 0.0)
        weighted += float(c.shadow_price or 0.0) * cap
        capacity += cap
    prices = [float(v or 0.0) for v in limits.shadow_price]
    out["marginal_value_per_hour"] = (weighted / capacity if capacity > 0
                                      else sum(prices) / len(prices) if prices else None)
    out["max_shadow_price"] = float(limits.shadow_price.max()) if len(limits) else None
    return out


def write_chart(table, path: Path, kind: str, title: str, year: int | None = None) -> None:
    """Shortfall and marginal value against the swept quantity, as a PNG (Agg backend)."""
    import matplotlib

    from optimiser.output import atomic_write

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_column = "budget_gbp" if kind == "budget" else "supervision_hours_per_week"
    marginal = "marginal_value_per_gbp_1m" if kind == "budget" else "marginal_value_per_hour"
    ok = table[table.weighted_shortfall.notna()]
    scale = 1e6 if kind == "budget" else 1.0
    xlabel = "Budget (GBP m)" if kind == "budget" else (
        f"Supervision capacity, {format_year(year) if year is not None else 'first year'} (hours a week)")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    top.plot(ok[x_column] / scale, ok.weighted_shortfall, "o-", label="weighted shortfall")
    top.plot(ok[x_column] / scale, ok.total_shortfall_wte, "s--", alpha=0.7, label="target-year shortfall (WTE)")
    bad = table[table.weighted_shortfall.isna() & table[x_column].notna()]
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
    from optimiser.batch import (SolveOptions, batch_lock, check_case_folders, check_out, prepare_out,
                                 require_packages, run_batch)
    from optimiser.errors import InputError, Problem
    from optimiser.output import atomic_write
    from optimiser.scenarios import cli_overrides, prepare_base
    from optimiser.years import parse_year

    if year is not None:
        try:
            year = parse_year(year)
        except ValueError as exc:
            raise InputError([Problem("command line", None, "--year", str(year), str(exc))]) from None
    require_packages(scheduler, "matplotlib")  # a missing package stops it before OUT is touched
    check_out(Path(out), (dataset,))
    base = prepare_base(dataset)
    cli = cli_overrides(list(sets), base)
    cases = frontier_cases(base, kind, scales_between(start, stop, steps), year=year, region=region,
                           profession=profession, cli=cli)
    check_out(Path(out), (base.source,))
    check_case_folders(Path(out).resolve(), cases)
    out = prepare_out(out, (base.source,))
    with batch_lock(out):  # the points and the frontier files: one run at a time
        report = run_batch(cases, base, out, options or SolveOptions(), workers=workers, scheduler=scheduler,
                           rerun=rerun, quiet=quiet)
        table = frontier_table(out, cases, kind, year=year, region=region, profession=profession, report=report)
        atomic_write(out / FRONTIER_CSV, table.to_csv(index=False, float_format="%.10g").encode("utf-8"))
        what = "budget" if kind == "budget" else f"supervision in {region}" + (f" ({profession})" if profession else "")
        write_chart(table, out / FRONTIER_PNG, kind, f"Shortfall against {what}"
                    + (f", {format_year(year)}" if year is not None else ""), year=year)
    return report, table

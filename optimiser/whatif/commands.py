"""``optimiser frontier`` (Click registration: only ``optimiser.cli`` imports this); the frontier
itself is ``optimiser.whatif.frontier``."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from optimiser.whatif.frontier import FRONTIER_CSV, FRONTIER_PNG, run_frontier


def _text(table, kind: str) -> str:
    x_column = "budget_gbp" if kind == "budget" else "supervision_hours_per_week"
    marginal = "marginal_value_per_gbp_1m" if kind == "budget" else "marginal_value_per_hour"
    unit = "per GBP 1m" if kind == "budget" else "per hour a week"
    lines = []
    for _, row in table.iterrows():
        x = ("?" if _nan(row[x_column]) else f"GBP {row[x_column] / 1e6:,.1f}m" if kind == "budget"
             else f"{row[x_column]:,.1f} h/week")
        if row.weighted_shortfall is not None and not _nan(row.weighted_shortfall):
            value = "" if _nan(row[marginal]) else f", marginal value {row[marginal]:,.3g} WTE {unit}"
            lines.append(f"  x{row.scale:<5g} {x}: shortfall {row.weighted_shortfall:,.1f}{value}")
        else:
            lines.append(f"  x{row.scale:<5g} {x}: {str(row.status).upper()}: {row.reason or ''}")
    return "\n".join(lines)


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def register(main) -> None:
    from optimiser.batch.commands import run_options

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
    @click.option("--year", default=None, help="Budgets: scale only this year (2022 or 2022/23). Supervision: the year whose capacity is the x-axis.")
    @click.option("--region", default=None, help="Supervision: the region (required). Budget: that region's caps.")
    @click.option("--profession", default=None, help="Supervision: only this supervising profession.")
    @click.option("--set", "sets", multiple=True, metavar="OVERRIDE", help="What-if applied to every point first.")
    @run_options
    def frontier(dataset, out_dir, kind, start, stop, steps, year, region, profession, sets, workers, scheduler,
                 rerun, solver, time_limit, integer, quiet, verbose, debug):
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

"""``optimiser batch`` and the options it shares with ``optimiser frontier`` (Click registration:
only ``optimiser.cli`` and other commands modules import this)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from optimiser.batch.case import SolveOptions, load_cases
from optimiser.batch.driver import run_batch


def run_options(command: Callable) -> Callable:
    """The options ``optimiser batch`` and ``optimiser frontier`` share (how and where cases are solved),
    then ``--debug`` and the CLI's error handling (``cliopts.guarded``)."""
    from optimiser.cliopts import debug_option, guarded, integer_option, solver_option, time_option, verbose_option

    for decorator in reversed((
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Local worker processes (default: all cores)."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786."),
        click.option("--rerun", is_flag=True, help="Solve every case again, even those with complete results."),
        solver_option, time_option, integer_option,
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
        verbose_option, debug_option, guarded,
    )):
        command = decorator(command)
    return command


def register(main) -> None:
    @main.command()
    @click.argument("scenarios", type=click.Path(path_type=Path))
    @click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path),
                  help="Batch folder: scenarios/<name>/, comparison.csv/.xlsx, batch_log.jsonl.")
    @click.option("--base", "base", type=click.Path(path_type=Path), default=None,
                  help="Base dataset (default: the scenario file's 'base:').")
    @click.option("--data-root", "data_roots", multiple=True, type=click.Path(path_type=Path),
                  help="Another folder the file's 'base:' may point into (default: only the file's folder).")
    @click.option("--set", "sets", multiple=True, metavar="OVERRIDE",
                  help="Override applied to every scenario, after its own (e.g. 'budget.budget_gbp=*0.9').")
    @run_options
    def batch(scenarios, out_dir, base, data_roots, sets, workers, scheduler, rerun, solver, time_limit,
              integer, quiet, verbose, debug):
        """Solve every scenario of the SCENARIOS file (sweeps expanded); resumable.

        Exit status: 0 all optimal; 3 some infeasible; 4 some not optimal (time
        limit...); 1 some failed; 2 the scenario file or base dataset is invalid;
        130 interrupted (run the same command again to finish).
        """
        loaded, prepared, cases = load_cases(scenarios, base=base, data_roots=data_roots, sets=sets)
        options = SolveOptions(solver, time_limit, integer)
        report = run_batch(cases, prepared, out_dir, options, workers=workers, scheduler=scheduler,
                           rerun=rerun, quiet=quiet, scenario_file=str(scenarios))
        click.echo(report.text())
        sys.exit(report.exit_code)

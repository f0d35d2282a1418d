"""The ``optimiser`` command: run, build, solve, report, validate, workbook.

Exit status: 0 optimal; 2 bad input (file, row and column named); 3
infeasible; 4 not optimal (time limit, not solved, unbounded, solver error);
1 the output could not be written or an unexpected error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from optimiser.cliopts import (EXIT_INFEASIBLE, EXIT_INPUT, EXIT_NOT_OPTIMAL, EXIT_OTHER,  # noqa: F401
                               OPTIONAL_EXTRAS, debug_option, guarded, integer_option, json_option, quiet_option,
                               solver_option, status_exit, time_option, verbose_option, whatif_options)

_status_exit = status_exit  # the name other code used


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="psych-commission-optimiser")
def main() -> None:
    """Training commission optimiser for the psychological professions.

    The model (version 2: inputs, course timing, supply, limits, the three objective
    stages, every reported figure) is written out in docs/model.md.
    """


def _tables(outcome) -> tuple:
    """``render``'s arguments for a run's outcome: the summary and, with a plan, its tables."""
    results = outcome.results
    if results is None:
        return (outcome.summary,)
    return outcome.summary, results.workforce, results.plan, 5, results.levers, results.constraints


@main.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Results folder (written whole or not at all).")
@solver_option
@time_option
@integer_option
@whatif_options
@quiet_option
@verbose_option
@json_option
@debug_option
@guarded
def run(dataset, out_dir, solver, time_limit, integer, sets, scenario_file, scenario_name, quiet, verbose, as_json,
        debug):
    """Load DATASET (CSV folder or .xlsx), solve it, write results into OUT.

    With --scenario/--name and --set, DATASET is the base: the scenario's overrides
    apply first, then each --set in order.
    """
    from optimiser import console, pipeline
    from optimiser.batch import is_whatif, run_whatif
    from optimiser.documents import run_document
    from optimiser.report import render

    if console.show_progress():
        console.note(f"Solving {dataset}" + (" with whole places (a MILP: it may take up to the time limit)"
                                             if integer else "") + "...")
    with console.stage("run (load, build, solve, write)"):
        if is_whatif(sets, scenario_file, scenario_name):
            outcome = run_whatif(dataset, out_dir, sets=sets, scenario_file=scenario_file, name=scenario_name,
                                 solver=solver, time_limit_seconds=time_limit, integer=integer)
        else:
            outcome = pipeline.run(dataset, out_dir, solver=solver, time_limit_seconds=time_limit, integer=integer)
    s = outcome.summary
    console.detail(f"[build] {s.build_seconds:.2f} s; [solve] {s.solve_seconds:.2f} s with "
                   f"{s.solver_version or s.solver} (PuLP {s.pulp_version}); the solver's own files and log are "
                   "kept in a temporary folder only while it runs")
    if as_json:
        console.emit(run_document(outcome))
    else:
        text = render(*_tables(outcome))
        click.echo(text.splitlines()[0] if quiet else text)
        click.echo(f"Results written to {outcome.out_dir}")
    sys.exit(status_exit(s.status))


@main.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("-o", "--out", "model_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for model.json and the stage-1 MPS file.")
@integer_option
@debug_option
@guarded
def build(dataset, model_dir, integer, debug):
    """Validate DATASET and write the built model (model.json, shortfall_stage.mps)."""
    from optimiser import pipeline

    model = pipeline.build(dataset, model_dir, integer=integer)
    click.echo(f"Built {len(model.problem.variables())} variables and {len(model.registry)} constraints "
               f"in {model.build_seconds:.2f} s; written to {Path(model_dir).resolve()}")


@main.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Results folder (written whole or not at all).")
@solver_option
@time_option
@debug_option
@guarded
def solve(model_dir, out_dir, solver, time_limit, debug):
    """Solve a model written by 'optimiser build' and write results into OUT."""
    from optimiser import pipeline
    from optimiser.modelio import load_model
    from optimiser.report import render

    model = load_model(model_dir)
    mps_path = Path(model_dir) / pipeline.MPS_FILE
    mps = mps_path.read_bytes() if mps_path.exists() else None
    outcome = pipeline.solve_and_write(model, out_dir, mps=mps, solver=solver, time_limit_seconds=time_limit,
                                       inputs=(model_dir,))
    click.echo(render(*_tables(outcome)))
    click.echo(f"Results written to {outcome.out_dir}")
    sys.exit(status_exit(outcome.summary.status))


@main.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--xlsx", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the Excel workbook (summary, plan, workforce, shortfall, limits, settings) here.")
@click.option("--html", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the self-contained HTML report (with charts) here.")
@click.option("--why", is_flag=True, help="Split the target-year shortfall into training time and each family "
              "of limits (re-solves the dataset; saved as why.json in the folder). For a what-if result, give "
              "its --set/--scenario/--name again.")
@click.option("--frontier", is_flag=True, help="Re-solve with every budget scaled from x0.85 to x1.5: the "
              "shortfall against the budget (saved as budget_frontier.csv in the folder).")
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="The dataset for --why and --frontier (default: the one summary.json names).")
@click.option("--all", "all_outputs", is_flag=True,
              help="Write report.xlsx and report.html into the folder, with the split and the budget "
                   "frontier when they can be computed.")
@whatif_options
@quiet_option
@verbose_option
@json_option
@debug_option
@guarded
def report(results_dir, xlsx, html, why, frontier, dataset, all_outputs, sets, scenario_file, scenario_name, quiet,
           verbose, as_json, debug):
    """Print the summary of a results (or batch) folder; write the workbook and HTML report when asked."""
    from optimiser.reports.commands import report_command

    report_command(results_dir, xlsx=xlsx, html=html, why=why, frontier=frontier, dataset=dataset,
                   all_outputs=all_outputs, sets=sets, scenario_file=scenario_file, scenario_name=scenario_name,
                   as_json=as_json, quiet=quiet)


@main.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@quiet_option
@verbose_option
@json_option
@debug_option
@guarded
def validate(dataset, quiet, verbose, as_json, debug):
    """Check DATASET and report every problem, without solving."""
    from optimiser import console
    from optimiser.documents import validate_document
    from optimiser.loader import load_dataset
    from optimiser.validate import completeness_warnings

    with console.stage("load and validate"):
        ds = load_dataset(dataset)
    warnings = completeness_warnings(ds)
    if as_json:
        console.emit(validate_document(dataset, ds, warnings))
        return
    click.echo(f"{dataset}: valid ({len(ds.professions)} professions, {len(ds.regions)} regions, "
               f"decision years {ds.settings.decision_years[0]}..{ds.settings.decision_years[-1]})")
    if not quiet:
        for warning in warnings:
            click.echo(f"Warning: {warning}")


@main.command()
@click.argument("result", type=click.Path(path_type=Path))
@click.argument("baseline", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Also write compare.csv, compare_shortfall.csv, compare_places.csv, compare_limits.csv and "
                   "compare.json into this folder (written whole or not at all; not one of the folders compared).")
@click.option("--top", type=click.IntRange(min=1), default=8, show_default=True,
              help="Changed rows listed per table in the terminal (the files hold them all).")
@quiet_option
@verbose_option
@json_option
@debug_option
@guarded
def compare(result, baseline, out_dir, top, quiet, verbose, as_json, debug):
    """What RESULT changes against BASELINE (two folders written by 'optimiser run'): shortfall, places,
    cost, the limits that started or stopped binding, and each side's overrides (RESULT - BASELINE)."""
    from optimiser import compare as comparing
    from optimiser import console
    from optimiser.compare_text import comparison_text
    from optimiser.documents import compare_document

    if out_dir is not None:
        comparing.check_out(out_dir, result, baseline)  # before any work
    with console.stage("read and compare"):
        comparison = comparing.compare(result, baseline)
    written = comparing.write(comparison, out_dir) if out_dir is not None else None
    if as_json:
        console.emit(compare_document(comparison, written))
        return
    text = comparison_text(comparison, top=top)
    click.echo("\n".join(text.splitlines()[:2]) if quiet else text)
    if written is not None:
        click.echo(f"Comparison written to {out_dir}")


@main.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_file", required=True, type=click.Path(path_type=Path),
              help="The .xlsx workbook to write (one sheet per table, plus settings).")
@debug_option
@guarded
def workbook(dataset, out_file, debug):
    """Write DATASET (a CSV folder) as one .xlsx workbook that 'optimiser run' also reads."""
    from optimiser.workbook import dataset_to_workbook

    path = dataset_to_workbook(dataset, out_file)
    click.echo(f"Workbook written to {path}")


#: Modules that add commands: each has ``register(main)``; keep their imports lazy
#: (inside the commands) so ``optimiser run`` starts fast.
EXTENSIONS: tuple[str, ...] = ("optimiser.batch.commands", "optimiser.whatif.commands",
                                 "optimiser.reports.commands", "optimiser.app.command")


def _register_extensions() -> None:
    import importlib

    for name in EXTENSIONS:
        importlib.import_module(name).register(main)


_register_extensions()

if __name__ == "__main__":
    main()

"""Command-line side of the reports: ``optimiser report`` options and the ``optimiser explain`` command.

``optimiser.cli`` keeps the ``report`` command and calls ``report_command``;
``explain`` is registered through ``optimiser.cli.EXTENSIONS``, with the options
and error handling of ``optimiser.cliopts``. Imports stay inside functions so
``optimiser run`` does not load pandas' friends for nothing. Nothing a report
writes may be, or lie inside, a file or dataset it reads (``optimiser.safety``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

REPORT_XLSX, REPORT_HTML = "report.xlsx", "report.html"


def _problem(path, message: str):
    from optimiser.errors import InputError, Problem

    return InputError([Problem(str(path), None, None, None, message)])


def terminal_text(folder, top: int = 5) -> str:
    """The terminal summary: the core summary, then what more is worth and why the gap stays open."""
    from optimiser.reports import text
    from optimiser.reports.budget_frontier import FRONTIER_TABLE
    from optimiser.reports.budget_frontier import sentences as budget_sentences
    from optimiser.reports.folder import BatchFolder
    from optimiser.reports.levers import LEVERS_TABLE, lever_value
    from optimiser.reports.levers import sentences as lever_sentences
    from optimiser.years import format_year

    if isinstance(folder, BatchFolder):
        return batch_text(folder)
    from optimiser.report import render

    lines = [render(folder.summary, folder.workforce, folder.plan, top=top)]
    s = folder.summary
    if s.has_plan:
        sentences = text.marginal_sentences(folder.constraints, folder.labels, s.target_year,
                                            folder.shortfall_units(), limit=top)
        if sentences:
            lines.append("What more is worth (marginal, for small changes):")
            lines += [f"  - {line}" for line in sentences]
    levers = folder.table(LEVERS_TABLE)
    if levers is not None and s.has_plan:
        lines.append(f"Levers, the cheapest next WTE of the {format_year(s.target_year)} gap first:")
        value = lever_value(levers, folder.constraints, folder.workforce, s.target_year)
        lines += [f"  - {line}" for line in lever_sentences(value, folder.labels.p, format_year(s.target_year), top)]
    frontier = folder.table(FRONTIER_TABLE)
    if frontier is not None:
        lines.append("Budget frontier (every budget row scaled; re-solved):")
        lines += [f"  - {line}" for line in budget_sentences(frontier, format_year(s.target_year))]
    if folder.why is not None:
        lines.append(f"Why the {format_year(folder.why.target_year)} gap stays open:")
        lines += [f"  - {line}" for line in text.why_sentences(folder.why, folder.labels, top=top)]
        lines += [f"  Warning: {w}" for w in folder.why.warnings]
    return "\n".join(lines)


def batch_text(batch) -> str:
    """A batch folder in the terminal: optimal results ranked by shortfall and by cost, then the rest."""
    from optimiser.reports import text

    ranking = batch.ranking()
    ranked = ranking.dropna(subset=["rank_by_shortfall"])
    lines = [f"Batch {batch.path}: {len(ranking)} scenario(s), {len(ranked)} optimal (ranked)"]
    if not ranked.empty:
        width = max(len(str(s)) for s in ranked["scenario"])
        lines.append("Ranked by shortfall (optimal results only; target year, WTE):")
        for row in ranked.sort_values(["rank_by_shortfall", "scenario"]).to_dict(orient="records"):
            lines.append(f"  {int(row['rank_by_shortfall']):>3}. {str(row['scenario']):<{width}}  "
                         f"{text.wte(row['total_shortfall_wte']):>10} WTE  {text.gbp(row['total_cost_gbp'])}")
        lines.append("Ranked by cost:")
        for row in ranked.sort_values(["rank_by_cost", "scenario"]).to_dict(orient="records"):
            lines.append(f"  {int(row['rank_by_cost']):>3}. {str(row['scenario']):<{width}}  "
                         f"{text.gbp(row['total_cost_gbp']):>14}  {text.wte(row['total_shortfall_wte'])} WTE")
    others = ranking[ranking["rank_by_shortfall"].isna()]
    if not others.empty:
        lines.append("Not ranked:")
        lines += [f"  {text.unranked_sentence(row)}" for row in others.to_dict(orient="records")]
    if batch.frontier is not None or batch.frontier_png is not None:
        from optimiser.reports.folder import FRONTIER_CSV, FRONTIER_PNG

        lines.append("Frontier: " + ", ".join(name for name in (FRONTIER_CSV, FRONTIER_PNG)
                                            if (batch.path / name).exists()))
    return "\n".join(lines)


def add_why(folder, dataset=None, *, solver=None, time_limit=None, required: bool = True) -> str | None:
    """Compute the shortfall split of ``folder`` and save it there; return a note when it cannot be done.

    ``dataset`` is a loaded dataset, or its path (default: the one ``summary.json``
    names). With ``required`` a reason it cannot be done is an error; otherwise it
    is returned as a note.
    """
    from optimiser.output import OutputError
    from optimiser.reports.folder import Labels
    from optimiser.whatif.why import WhyError, cannot_split, compute_for_results

    s = folder.summary

    def fail(message: str) -> str:
        if required:
            raise _problem(folder.path, message)
        return message

    reason = cannot_split(s)
    if reason:
        return fail(f"no shortfall split: {reason}"
                    + ("" if s.has_plan else " (the report lists the limits to relax instead)"))
    ds, reason = result_dataset(folder, dataset, "give its --set/--scenario/--name again (as to "
                                                 "'optimiser run') to split it")
    if ds is None:
        return fail(f"no shortfall split: {reason}")
    from optimiser import console

    options = {"solver": solver, "time_limit_seconds": time_limit}
    console.note("Splitting the shortfall: one solve per combination of limit families in force...")
    try:
        with console.Counter("Splitting the shortfall") as counter:
            split = compute_for_results(ds, s, folder.workforce, progress=counter,
                                        **{k: v for k, v in options.items() if v is not None})
    except WhyError as exc:
        return fail(f"no shortfall split: {exc}")
    folder.why = split
    if not folder.labels.profession:
        folder.labels = Labels.from_dataset(ds)
    try:
        split.save(folder.path)
    except OutputError as exc:
        click.echo(f"warning: the split was not saved in the results folder: {exc}", err=True)
    return None


def result_dataset(folder, dataset, instead: str):
    """The dataset ``folder`` was solved from, to solve again: ``(dataset, None)``, or ``(None,
    reason)`` when it cannot be had (a what-if's overrides are not in it: ``instead`` says what to do)."""
    from optimiser.reports.folder import try_load_dataset

    if dataset is not None and not isinstance(dataset, (str, Path)):
        return dataset, None  # loaded by the caller, with the result's overrides applied when it has any
    if folder.summary.overrides:
        return None, f"this result comes from a scenario with overrides; {instead}"
    source = dataset or folder.summary.dataset
    ds = try_load_dataset(source, folder.path)
    if ds is None:
        return None, f"the dataset '{source}' cannot be read from here; give it with --dataset"
    return ds, None


def add_budget_frontier(folder, dataset=None, *, required: bool = True) -> str | None:
    """Compute and save the budget frontier of ``folder`` (``reports.budget_frontier``); return a
    note when it cannot be done (an error with ``required``)."""
    from optimiser.output import OutputError
    from optimiser.reports.budget_frontier import FrontierError, add_frontier

    def fail(message: str) -> str:
        if required:
            raise _problem(folder.path, message)
        return message

    if not folder.summary.has_plan:
        return fail("no budget frontier: the result has no plan")
    ds, reason = result_dataset(folder, dataset, "draw its frontier with 'optimiser frontier' and the same overrides")
    if ds is None:
        return fail(f"no budget frontier: {reason}")
    try:
        add_frontier(folder, ds)
    except FrontierError as exc:
        return fail(f"no budget frontier: {exc}")
    except OutputError as exc:
        click.echo(f"warning: the budget frontier was not saved in the results folder: {exc}", err=True)
    return None


def read_files(folder) -> list[Path]:
    """The files a report reads from ``folder`` (and its dataset): never written over by it."""
    from optimiser.safety import BATCH_ENTRIES, RESULT_FILES

    names = (RESULT_FILES | BATCH_ENTRIES) - {REPORT_XLSX, REPORT_HTML, "why.json", "why.csv"}
    files = [folder.path / name for name in sorted(names)]
    source = getattr(getattr(folder, "summary", None), "dataset", None)
    return files + ([Path(source)] if source else [])


def require_packages(html: Path | None) -> None:
    """Import what the HTML page needs now (``ModuleNotFoundError`` names it), so a missing
    package stops the command before the split is computed or anything is written."""
    import importlib

    if html is not None:
        for name in ("jinja2", "matplotlib"):
            importlib.import_module(name)


def write_outputs(folder, xlsx: Path | None, html: Path | None, inputs=()) -> list[str]:
    """Write the workbook and HTML page asked for, after checking neither is nor lies
    inside a file or dataset being read."""
    from optimiser.safety import check_clear_of_inputs

    inputs = [*read_files(folder), *inputs]
    for target in (xlsx, html):
        if target is not None:
            check_clear_of_inputs(target, inputs)
    require_packages(html)
    from optimiser import console

    lines = []
    if xlsx is not None:
        from optimiser.reports.workbook import write_workbook

        if console.show_progress():
            console.note(f"Writing the workbook {xlsx}...")
        with console.stage("workbook"):
            lines.append(f"Workbook written to {write_workbook(folder, xlsx)}")
    if html is not None:
        from optimiser.reports.html import write_html

        if console.show_progress():
            console.note(f"Writing the HTML report {html} (charts)...")
        with console.stage("HTML report"):
            lines.append(f"HTML report written to {write_html(folder, html)}")
    return lines


def show(folder, *, note: str | None = None, xlsx: Path | None = None, html: Path | None = None,
         all_outputs: bool = False, written: Path | None = None, inputs=()) -> None:
    """Print the summary of ``folder`` (and ``note``); write the workbook and HTML page asked for.

    ``all_outputs`` writes ``report.xlsx`` and ``report.html`` into the folder unless
    ``xlsx`` / ``html`` name other files; ``written`` is a results folder just written.
    """
    xlsx, html = _targets(folder, xlsx, html, all_outputs)
    click.echo(terminal_text(folder))
    if note:
        click.echo(f"Note: {note}")
    if written is not None:
        click.echo(f"Results written to {written}")
    for line in write_outputs(folder, xlsx, html, inputs):
        click.echo(line)


def whatif_dataset(folder, dataset: Path | None, sets=(), scenario_file=None, scenario_name=None):
    """The dataset a what-if result was solved from: its base (``--dataset``, else the one
    summary.json names) with the ``--set``/``--scenario``/``--name`` given again, checked to
    make exactly the overrides and changes the result records (``InputError`` if not)."""
    from optimiser.batch import prepare_whatif
    from optimiser.console import jsonable
    from optimiser.reports.folder import find_dataset

    source = dataset or find_dataset(folder.summary.dataset, folder.path)
    if source is None:
        raise _problem(folder.path, f"the dataset '{folder.summary.dataset}' cannot be read from here; "
                                    "give it with --dataset")
    whatif = prepare_whatif(source, sets=sets, scenario_file=scenario_file, name=scenario_name)
    ds, applied = whatif.dataset()
    given, recorded = jsonable(applied.records), jsonable(folder.summary.overrides)
    if given != recorded or whatif.name != folder.summary.scenario:
        wanted = "; ".join(str(o.get("override")) for o in folder.summary.overrides) or "none"
        got = "; ".join(str(o.get("override")) for o in applied.records) or "none"
        raise _problem(folder.path, f"the overrides given ({got}) do not make this result's ({wanted}"
                                    + (f", scenario {folder.summary.scenario}" if folder.summary.scenario else "")
                                    + "), or the base dataset has changed since; give the same --set/--scenario/"
                                      "--name as to 'optimiser run'")
    return ds


def report_command(results_dir: Path, *, xlsx: Path | None = None, html: Path | None = None, why: bool = False,
                   frontier: bool = False, dataset: Path | None = None, all_outputs: bool = False,
                   sets=(), scenario_file=None, scenario_name=None, as_json: bool = False,
                   quiet: bool = False) -> None:
    """``optimiser report``: print the summary; write the workbook and HTML page when asked.

    ``sets``/``scenario_file``/``scenario_name``: a what-if result's overrides, given again
    for ``--why``/``--frontier`` (``whatif_dataset``)."""
    from optimiser.batch import is_whatif
    from optimiser.reports.budget_frontier import FRONTIER_TABLE
    from optimiser.reports.folder import BatchFolder, load

    from optimiser import console

    with console.stage("read the folder"):
        folder = load(results_dir, dataset=dataset)
    whatif = is_whatif(sets, scenario_file, scenario_name)
    if whatif and isinstance(folder, BatchFolder):
        raise _problem(results_dir, "--set/--scenario/--name are about one what-if result: give a scenario's "
                                    "folder (scenarios/<name>)")
    from optimiser.safety import check_clear_of_inputs

    for target in (xlsx, html):  # checked before the (slow) split and frontier, too
        if target is not None:
            check_clear_of_inputs(target, [*read_files(folder), *([dataset] if dataset else [])])
    require_packages(html or (folder.path / REPORT_HTML if all_outputs else None))
    source = dataset or getattr(getattr(folder, "summary", None), "dataset", None)
    if (why or frontier or all_outputs) and source:  # why.json, budget_frontier.csv, reports go into the folder
        check_clear_of_inputs(folder.path, (source, scenario_file))
    notes = []
    loaded = None
    if whatif and (why or frontier or all_outputs) and folder.summary.has_plan:
        loaded = whatif_dataset(folder, dataset, sets, scenario_file, scenario_name)
    if isinstance(folder, BatchFolder):
        if why or frontier:
            raise _problem(results_dir, f"--{'why' if why else 'frontier'} is about one result: give a "
                                        "scenario's folder (scenarios/<name>)")
    else:
        plan = folder.summary.has_plan
        if why or (all_outputs and folder.why is None and plan):
            notes.append(add_why(folder, loaded or dataset, required=why))
        if frontier or (all_outputs and folder.table(FRONTIER_TABLE) is None and plan):
            notes.append(add_budget_frontier(folder, loaded or dataset, required=frontier))
    note = "; ".join(n for n in notes if n) or None
    inputs = [p for p in (dataset, scenario_file) if p]
    if as_json:
        from optimiser.console import emit
        from optimiser.documents import report_document

        emit(report_document(folder, [note] if note else [],
                             write_outputs(folder, *_targets(folder, xlsx, html, all_outputs), inputs)))
        return
    if quiet:
        click.echo(terminal_text(folder).splitlines()[0])
        for line in write_outputs(folder, *_targets(folder, xlsx, html, all_outputs), inputs):
            click.echo(line)
        return
    show(folder, note=note, xlsx=xlsx, html=html, all_outputs=all_outputs, inputs=inputs)


def _targets(folder, xlsx: Path | None, html: Path | None, all_outputs: bool) -> tuple[Path | None, Path | None]:
    """The workbook and page to write: with ``all_outputs``, the folder's own unless named."""
    if all_outputs:
        return xlsx or folder.path / REPORT_XLSX, html or folder.path / REPORT_HTML
    return xlsx, html


# ------------------------------------------------------------------ explain


def register(main: click.Group) -> None:
    from optimiser.cliopts import (debug_option, guarded, integer_option, json_option, quiet_option, solver_option,
                                   status_exit, time_option, verbose_option, whatif_options)

    @main.command()
    @click.argument("dataset", type=click.Path(path_type=Path))
    @click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path),
                  help="Results folder (written whole), plus why.json and why.csv.")
    @solver_option
    @time_option
    @integer_option
    @whatif_options
    @click.option("--xlsx", type=click.Path(path_type=Path, dir_okay=False), default=None,
                  help="Also write the Excel workbook here.")
    @click.option("--html", type=click.Path(path_type=Path, dir_okay=False), default=None,
                  help="Also write the HTML report here.")
    @click.option("--all", "all_outputs", is_flag=True,
                  help=f"Write {REPORT_XLSX} and {REPORT_HTML} into the results folder.")
    @quiet_option
    @verbose_option
    @json_option
    @debug_option
    @guarded
    def explain(dataset, out_dir, solver, time_limit, integer, sets, scenario_file, scenario_name, xlsx, html,
                all_outputs, quiet, verbose, as_json, debug):
        """Solve DATASET, then split its target-year shortfall into training time and each family of limits.

        Each family's share is its Shapley value over the 2^5 combinations of
        limit families in force (see docs/reports.md); the parts add up to the
        shortfall exactly. With --scenario/--name and --set (as 'optimiser run'
        takes them), the what-if over DATASET is solved and split.
        """
        from optimiser import console
        from optimiser.batch import is_whatif, prepare_whatif
        from optimiser.documents import run_document
        from optimiser.output import check_target
        from optimiser.reports.folder import Labels, load_result
        from optimiser.safety import check_clear_of_inputs

        require_packages(html or (Path(out_dir) / REPORT_HTML if all_outputs else None))
        check_target(Path(out_dir), (dataset, scenario_file))  # before any work
        options = {"solver": solver, "time_limit_seconds": time_limit, "integer": integer}
        with console.stage("load and build"):
            if is_whatif(sets, scenario_file, scenario_name):
                whatif = prepare_whatif(dataset, sets=sets, scenario_file=scenario_file, name=scenario_name)
                ds, applied = whatif.dataset()
                options.update(scenario=whatif.name, overrides=applied.records, inputs=whatif.inputs)
            else:
                from optimiser.loader import load_dataset

                ds = load_dataset(dataset)
        inputs = (ds.source, *options.get("inputs", ()))
        for target in (xlsx, html):
            if target is not None:
                check_clear_of_inputs(target, inputs)
        from optimiser import pipeline

        with console.stage("solve and write"):
            outcome = pipeline.run(ds, out_dir, **options)
        folder = load_result(outcome.out_dir, labels=Labels.from_dataset(ds))
        with console.stage("split the shortfall"):
            note = add_why(folder, ds, time_limit=time_limit, required=False) if folder.summary.has_plan else None
        if as_json:
            from optimiser.console import emit

            written = write_outputs(folder, *_targets(folder, xlsx, html, all_outputs), inputs)
            emit({**run_document(outcome), "why": folder.why.to_json() if folder.why is not None else None,
                  "notes": [note] if note else [], "written": written})
        elif quiet:
            click.echo(terminal_text(folder).splitlines()[0])
            for line in write_outputs(folder, *_targets(folder, xlsx, html, all_outputs), inputs):
                click.echo(line)
        else:
            show(folder, note=note, xlsx=xlsx, html=html, all_outputs=all_outputs, written=outcome.out_dir,
                 inputs=inputs)
        sys.exit(status_exit(outcome.summary.status))

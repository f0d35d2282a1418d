"""What every command shares: exit statuses, the options for solving, and ``guarded`` (every
expected failure as a message and an exit status, never a traceback).

Other modules that add commands (``optimiser.batch.commands``, ``optimiser.whatif.commands``,
``optimiser.reports.commands``) take these from here, not from ``optimiser.cli``.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import asdict
from pathlib import Path

import click

from optimiser.bounds import SETTINGS_BOUNDS
from optimiser.console import configure, emit, json_stdout
from optimiser.errors import InputError, OutputError, SolverError

EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NOT_OPTIMAL, EXIT_OTHER = 2, 3, 4, 1

#: Optional packages and the extra that installs them (setup.cfg).
OPTIONAL_EXTRAS = {"jinja2": "reports", "matplotlib": "reports", "highspy": "highs",
                   "distributed": "batch", "dask": "batch", "tqdm": "batch"}


def status_exit(status: str) -> int:
    return {"optimal": 0, "infeasible": EXIT_INFEASIBLE}.get(status, EXIT_NOT_OPTIMAL)


def guarded(func):
    """Turn every expected failure into a clear message and an exit status, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        as_json = bool(kwargs.get("as_json"))
        configure(quiet=bool(kwargs.get("quiet")), verbose=bool(kwargs.get("verbose")), as_json=as_json)
        with json_stdout(as_json):
            return _guarded_call(func, as_json, args, kwargs)

    return wrapper


def _fail(as_json: bool, code: int, message: str, problems=()) -> None:
    """Print the failure on stderr (and, with ``--json``, as the JSON document on stdout); exit."""
    click.echo(message, err=True)
    if as_json:
        emit({"ok": False, "exit_code": code, "error": message.splitlines()[0],
              "problems": [asdict(p) for p in problems]})
    sys.exit(code)


def _guarded_call(func, as_json: bool, args, kwargs):
    try:
        return func(*args, **kwargs)
    except InputError as exc:
        _fail(as_json, EXIT_INPUT, f"error: the input has {len(exc.problems)} problem(s):\n{exc.render()}",
              exc.problems)
    except SolverError as exc:
        _fail(as_json, EXIT_NOT_OPTIMAL, f"error: {exc}")
    except OutputError as exc:
        _fail(as_json, EXIT_OTHER, f"error: {exc}")
    except OSError as exc:  # e.g. a full disk while the solver writes its scratch files
        where = f" {exc.filename}" if exc.filename else ""
        _fail(as_json, EXIT_OTHER, f"error: could not write{where}: {exc.strerror or exc}")
    except ModuleNotFoundError as exc:
        extra = OPTIONAL_EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            _fail(as_json, EXIT_OTHER, f"internal error: {exc} (rerun with --debug for details)")
        _fail(as_json, EXIT_OTHER, f"error: this needs the optional package '{exc.name}': "
                                   f"pip install 'psych-commission-optimiser[{extra}]' (or '.[{extra}]' from the "
                                   "project folder)")
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written for the unfinished run", err=True)
        sys.exit(130)
    except click.exceptions.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence for users
        if "--debug" in sys.argv:
            raise
        _fail(as_json, EXIT_OTHER, f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)")


solver_option = click.option("--solver", type=click.Choice(["cbc", "highs"]), default=None,
                             help="Solver (default: settings.yaml, else cbc).")
time_option = click.option("--time-limit", "time_limit",
                           type=click.FloatRange(min=0, min_open=True, max=SETTINGS_BOUNDS["time_limit_seconds"].high),
                           default=None, help="Seconds per solve (default: settings.yaml, else 60; at most a week).")
integer_option = click.option("--integer/--continuous", "integer", default=None,
                              help="Whole training places (MILP) or not (default: settings.yaml).")
debug_option = click.option("--debug", is_flag=True, hidden=True)



quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print only the status line (and errors).")
verbose_option = click.option("-v", "--verbose", is_flag=True,
                              help="Also print each stage's time and progress (on stderr).")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON document on stdout and nothing else there (exit status unchanged).")


def whatif_options(command):
    """``--set``, ``--scenario`` and ``--name``: a what-if over DATASET, as ``optimiser run`` takes them."""
    for decorator in reversed((
        click.option("--set", "sets", multiple=True, metavar="OVERRIDE",
                     help="What-if override, e.g. 'budget.budget_gbp[year=2022]=*0.9' (repeatable; "
                          "docs/scenarios.md)."),
        click.option("--scenario", "scenario_file", type=click.Path(path_type=Path), default=None,
                     help="Scenario file (YAML) whose scenario --name is applied over DATASET."),
        click.option("--name", "scenario_name", default=None, help="The scenario of --scenario to run."),
    )):
        command = decorator(command)
    return command

"""What every command shares: exit statuses, the options for solving, and ``guarded`` (every
expected failure as a message and an exit status, never a traceback).

Other modules that add commands (``optimiser.batch``, ``optimiser.frontier``,
``optimiser.reports.commands``) take these from here, not from ``optimiser.cli``.
"""

from __future__ import annotations

import functools
import sys

import click

from optimiser.bounds import SETTINGS_BOUNDS
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
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            click.echo(f"error: the input has {len(exc.problems)} problem(s):", err=True)
            click.echo(exc.render(), err=True)
            sys.exit(EXIT_INPUT)
        except SolverError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_NOT_OPTIMAL)
        except OutputError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_OTHER)
        except OSError as exc:  # e.g. a full disk while the solver writes its scratch files
            where = f" {exc.filename}" if exc.filename else ""
            click.echo(f"error: could not write{where}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_OTHER)
        except ModuleNotFoundError as exc:
            extra = OPTIONAL_EXTRAS.get((exc.name or "").split(".")[0])
            if extra is None:
                click.echo(f"internal error: {exc} (rerun with --debug for details)", err=True)
                sys.exit(EXIT_OTHER)
            click.echo(f"error: this needs the optional package '{exc.name}': "
                       f"pip install 'psych-commission-optimiser[{extra}]' (or '.[{extra}]' from the project folder)",
                       err=True)
            sys.exit(EXIT_OTHER)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was written for the unfinished run", err=True)
            sys.exit(130)
        except click.exceptions.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            if "--debug" in sys.argv:
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True)
            sys.exit(EXIT_OTHER)

    return wrapper


solver_option = click.option("--solver", type=click.Choice(["cbc", "highs"]), default=None,
                             help="Solver (default: settings.yaml, else cbc).")
time_option = click.option("--time-limit", "time_limit",
                           type=click.FloatRange(min=0, min_open=True, max=SETTINGS_BOUNDS["time_limit_seconds"].high),
                           default=None, help="Seconds per solve (default: settings.yaml, else 60; at most a week).")
integer_option = click.option("--integer/--continuous", "integer", default=None,
                              help="Whole training places (MILP) or not (default: settings.yaml).")
debug_option = click.option("--debug", is_flag=True, hidden=True)



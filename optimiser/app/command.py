"""``optimiser app [DATASET]``: serve the what-if page on this machine (or a team server).

Registered through ``optimiser.cli.EXTENSIONS``; Shiny and uvicorn are imported only
when the command runs (the ``app`` extra), so the core install does not need them.
"""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_DATASET = Path("inputs/england")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Messages the page must never lose to a missing package: (module, extra).
NEEDED = (("shiny", "app"), ("uvicorn", "app"), ("jinja2", "reports"), ("matplotlib", "reports"))


def _require() -> None:
    import importlib

    from optimiser.cliopts import OPTIONAL_EXTRAS

    for name, extra in NEEDED:
        OPTIONAL_EXTRAS.setdefault(name, extra)
        importlib.import_module(name)  # ModuleNotFoundError: cliopts.guarded names the extra


def serve(dataset: Path, host: str, port: int, *, solver=None, time_limit=None, echo=click.echo) -> None:
    """Read DATASET, then serve the page until interrupted (prints the address first)."""
    _require()
    import uvicorn

    from optimiser.app.engine import Engine
    from optimiser.app.page import make_app

    engine = Engine.for_dataset(dataset, solver=solver, time_limit_seconds=time_limit)
    engine.dataset  # noqa: B018 - validated before the page is served
    app = make_app(engine)
    sock = _listen(host, port)
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=bound, log_level="warning", lifespan="off"))
    shown = f"[{host}]" if ":" in host else host
    echo(f"Serving the what-if page for {dataset} on http://{shown}:{bound}/ (Ctrl-C to stop)")
    server.run(sockets=[sock])


def _listen(host: str, port: int):
    """A listening socket on ``host``:``port`` (port 0: a free one), so the address printed is the real one."""
    import socket

    from optimiser.errors import OutputError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OutputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen()
    return sock


def register(main: click.Group) -> None:
    from optimiser.cliopts import debug_option, guarded, solver_option, time_option

    @main.command()
    @click.argument("dataset", type=click.Path(path_type=Path), default=DEFAULT_DATASET)
    @click.option("--host", default=DEFAULT_HOST, show_default=True,
                  help="Address to listen on (0.0.0.0 for a team server).")
    @click.option("--port", type=click.IntRange(min=0, max=65535), default=DEFAULT_PORT, show_default=True,
                  help="Port to listen on.")
    @solver_option
    @time_option
    @debug_option
    @guarded
    def app(dataset, host, port, solver, time_limit, debug):
        """Serve the what-if page for DATASET (default inputs/england): move a budget, see the plan change.

        The page solves with HiGHS when it is installed (in this process, its model kept
        between what-ifs), so its figures are those of `optimiser run --solver highs`;
        --solver cbc for CBC's."""
        serve(dataset, host, port, solver=solver, time_limit=time_limit)

"""How a command talks: quiet, verbose or JSON, and progress for long steps.

A command sets the mode once (``configure``, done by ``cliopts.guarded`` from the
``-q``/``-v``/``--json`` options); library code asks ``progress`` for a bar and
``detail`` for a verbose line. Progress and details go to stderr only, never to
stdout: with ``--json`` stdout holds one JSON document and nothing else.
Progress shows when stderr is a terminal, or with ``-v``; never with ``-q``.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Mode:
    quiet: bool = False
    verbose: bool = False
    as_json: bool = False
    #: Where ``emit`` writes: the real stdout while ``json_stdout`` sends the rest to stderr.
    stdout: Any = None


MODE = Mode()


def configure(*, quiet: bool = False, verbose: bool = False, as_json: bool = False) -> Mode:
    MODE.quiet, MODE.verbose, MODE.as_json = bool(quiet), bool(verbose) and not quiet, bool(as_json)
    return MODE


def show_progress() -> bool:
    if MODE.quiet:
        return False
    if MODE.verbose:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress(items: Iterable[T], *, total: int | None = None, desc: str, unit: str = "solve") -> Iterator[T]:
    """``items``, with a progress bar on stderr when ``show_progress``; plain otherwise."""
    if not show_progress():
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional: count on stderr instead
        count = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
        for i, item in enumerate(items, start=1):
            print(f"{desc}: {i}" + (f"/{count}" if count else ""), file=sys.stderr, flush=True)
            yield item
        return
    with tqdm(items, total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False) as bar:
        yield from bar


def detail(text: str) -> None:
    """A line for ``-v`` (on stderr)."""
    if MODE.verbose:
        print(text, file=sys.stderr, flush=True)


def note(text: str) -> None:
    """A line on stderr unless ``-q``."""
    if not MODE.quiet:
        print(text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time a stage; ``-v`` prints how long it took."""
    started = time.perf_counter()
    try:
        yield
    finally:
        detail(f"[{name}] {time.perf_counter() - started:.2f} s")


@contextlib.contextmanager
def json_stdout(as_json: bool) -> Iterator[Any]:
    """With ``as_json``, anything printed meanwhile goes to stderr, keeping stdout for the one
    JSON document (``emit``); yields the real stdout."""
    real = sys.stdout
    MODE.stdout = real
    try:
        if not as_json:
            yield real
            return
        with contextlib.redirect_stdout(sys.stderr):
            yield real
    finally:
        MODE.stdout = None


def emit(document: dict[str, Any], stream=None) -> None:
    """Print ``document`` as JSON (one document, then a newline)."""
    stream = stream or MODE.stdout or sys.stdout
    stream.write(json.dumps(jsonable(document), indent=2, allow_nan=False) + "\n")
    stream.flush()


def jsonable(value):
    """``value`` with numpy numbers as plain ones, paths as text and NaN as ``null``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return jsonable(_plain(value))


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "__fspath__"):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class Counter:
    """A ``progress(done, total)`` callback (as ``whatif.why.compute_split`` takes) that draws a
    bar on stderr when ``show_progress``; use it as a context manager so the bar is closed."""

    def __init__(self, desc: str, unit: str = "solve"):
        self.desc, self.unit, self.bar = desc, unit, None

    def __call__(self, done: int, total: int) -> None:
        if not show_progress():
            return
        if self.bar is None:
            try:
                from tqdm import tqdm
            except ImportError:
                print(f"{self.desc}: {done}/{total}", file=sys.stderr, flush=True)
                return
            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, dynamic_ncols=True,
                            leave=False)
        self.bar.n = done
        self.bar.refresh()

    def __enter__(self) -> Counter:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

"""One dataset and one kept model per browser session: what-ifs solved as ``--set`` overrides.

``Engine.solve(texts)`` does exactly what ``optimiser run DATASET --set TEXT ...`` does
(``scenarios.cli_overrides`` to resolve and check each text, then
``batch.solve_overrides`` to apply, validate, build or re-solve in place, and solve),
so a page's figures and recorded overrides are the command line's. The model is kept
in the engine's ``reuse.SolveCache`` and changed in place when a what-if changes only
numbers. One solve at a time per engine (a lock): a session's model is never shared.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from optimiser.batch import SolveOptions, solve_overrides
from optimiser.reuse import SolveCache
from optimiser.scenarios import Base, Override, OverrideSpec, cli_overrides, prepare_base, resolve

#: The page's solver unless ``--solver`` says otherwise: HiGHS runs in this process and keeps
#: its model between what-ifs (``solver.KeptHighs``), about four times faster than CBC on
#: England; its figures are ``optimiser run --solver highs``'s. CBC when highspy is missing.
PAGE_SOLVER = "highs"


def page_solver(asked: str | None) -> str | None:
    """``asked`` if given, else ``PAGE_SOLVER`` when it is installed, else the dataset's own."""
    if asked is not None:
        return asked
    from optimiser.solver import available_solvers

    return PAGE_SOLVER if available_solvers().get(PAGE_SOLVER) else None


#: The layer of overrides a ranking adds on top of a what-if (a layer of its own, so it may
#: change a value the what-if changes too: applied after it, as a scenario's --set would be).
RANKING_LAYER = "ranking"


@dataclass
class Solved:
    """A solved what-if: the override texts asked for, the run's outcome and how long it took."""

    texts: tuple[str, ...]
    outcome: object  # pipeline.RunOutcome
    dataset: object  # models.inputs.Dataset, after the overrides
    wall_seconds: float
    how: str  # reuse.IN_PLACE or reuse.BUILT

    @property
    def summary(self):
        return self.outcome.summary

    @property
    def results(self):
        return self.outcome.results


@dataclass
class Engine:
    """A session's solver: the base dataset, the kept model, a scratch folder for the solver."""

    base: Base
    options: SolveOptions = field(default_factory=SolveOptions)
    cache: SolveCache = field(default_factory=SolveCache)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tmp: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="optimiser-app-"), repr=False)
    _dataset: object = field(default=None, repr=False)

    @classmethod
    def for_dataset(cls, source: str | Path, **options) -> Engine:
        """Read and validate ``source`` (a CSV folder or .xlsx); ``InputError`` names each problem.
        The solver is ``page_solver(options["solver"])``."""
        options["solver"] = page_solver(options.get("solver"))
        return cls(prepare_base(source), SolveOptions(**options))

    def overrides(self, texts: list[str] | tuple[str, ...]) -> list[Override]:
        """Resolve and check ``texts`` as ``--set`` overrides; ``InputError`` as the command line gives."""
        return cli_overrides(list(texts), self.base)

    @property
    def dataset(self):
        """The base dataset, validated (for the page's forms: names, years, budgets)."""
        if self._dataset is None:
            from optimiser.loader import validate_raw

            self._dataset = validate_raw(self.base.raw)
        return self._dataset

    def solve(self, texts: list[str] | tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> Solved:
        """Apply ``texts`` (then ``extra``, as a layer of their own) to the base and solve;
        ``InputError`` for a value the dataset refuses."""
        overrides = self.overrides(texts)
        for text in extra:
            overrides += resolve(OverrideSpec.model_validate(text), self.base, layer=RANKING_LAYER)
        with self._lock:
            started = time.perf_counter()
            outcome, _ = solve_overrides(self.base, overrides, None, name=None, options=self.options,
                                         tmp_root=self._tmp, cache=self.cache)
            seconds = time.perf_counter() - started
            dataset = self.cache.model.dataset if self.cache.model is not None else None
            return Solved(tuple(texts), outcome, dataset, seconds, self.cache.last)

    def close(self) -> None:
        """Remove the solver's scratch folder (the session has ended)."""
        shutil.rmtree(self._tmp, ignore_errors=True)

"""Which region's supervision is the bottleneck: per region, the target-year shortfall a
``SUPERVISION_STEP_PERCENT`` rise in every supervising profession's hours there removes,
each by a re-solve of the current what-if (not a shadow price)."""

from __future__ import annotations

from collections.abc import Callable

from optimiser.app import changes

SUPERVISION_STEP_PERCENT = 10.0


def by_resolve(engine, texts: tuple[str, ...], current_shortfall_wte: float, *,
               step_percent: float = SUPERVISION_STEP_PERCENT,
               progress: Callable[[int, int], None] | None = None,
               stopped: Callable[[], bool] | None = None) -> list[tuple[str, float]]:
    """``[(region key, WTE removed)]``, largest first; stops early (partial list) when ``stopped()``."""
    regions = sorted(engine.base.regions)
    out = []
    for i, region in enumerate(regions):
        if stopped is not None and stopped():
            break
        if progress is not None:
            progress(i, len(regions))
        solved = engine.solve(texts, extra=(changes.supervisor_hours(region, changes.ALL, step_percent),))
        after = solved.summary.total_shortfall_wte
        out.append((region, current_shortfall_wte - after if after is not None else float("nan")))
    if progress is not None:
        progress(len(out), len(regions))
    return sorted(out, key=lambda item: -item[1])

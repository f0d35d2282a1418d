"""The machine-readable ``summary.json`` of a solve."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal[
    "optimal", "infeasible", "unbounded", "time_limit", "time_limit_no_plan", "not_solved", "error"
]


class Summary(BaseModel):
    """What every consumer of a result (people, batch tables, tests) reads first.

    ``weighted_shortfall``, ``total_shortfall_wte`` and ``total_cost_gbp`` are
    ``None`` unless the status is ``optimal`` (or ``time_limit`` with a plan,
    flagged by ``has_plan``): a plan that is not a plan never carries figures.
    """

    model_config = ConfigDict(extra="forbid")

    status: Status
    message: str
    has_plan: bool
    weighted_shortfall: float | None
    total_shortfall_wte: float | None
    total_cost_gbp: float | None
    solver: str
    solve_seconds: float
    build_seconds: float
    base_year: int
    target_year: int
    decision_years: list[int]
    assessed_years: list[int]
    integer_places: bool
    shadow_prices_from: str | None
    dataset: str
    scenario: str | None = None
    overrides: list[dict[str, Any]] = []
    warnings: list[str] = []
    binding_limits: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []

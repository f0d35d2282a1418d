"""The machine-readable ``summary.json`` of a solve."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal[
    "optimal", "infeasible", "unbounded", "time_limit", "time_limit_no_plan", "not_solved", "error"
]


#: The figures of a result, in the order comparison and frontier tables show them.
SUMMARY_FIGURES = ("weighted_shortfall", "sustain_shortfall", "total_shortfall_wte", "qualified_shortfall_wte",
                   "total_cost_gbp", "committed_cost_after_horizon_gbp")


class Summary(BaseModel):
    """What every consumer of a result (people, batch tables, tests) reads first.

    The figures (``weighted_shortfall``, ``sustain_shortfall``, ``total_shortfall_wte``,
    ``qualified_shortfall_wte``, ``total_cost_gbp``, ``committed_cost_after_horizon_gbp``) are
    ``None`` unless the status is ``optimal`` (or ``time_limit`` with a plan,
    flagged by ``has_plan``): a plan that is not a plan never carries figures.
    """

    model_config = ConfigDict(extra="forbid")

    status: Status
    message: str
    has_plan: bool
    weighted_shortfall: float | None
    #: Stage 2's objective: the weighted shortfall of the sustain years (``None``: none).
    sustain_shortfall: float | None = None
    total_shortfall_wte: float | None
    #: The target year's shortfall with no trainee counted (every profession's qualified staff).
    qualified_shortfall_wte: float | None = None
    total_cost_gbp: float | None
    #: What cohorts started by the horizon's end cost after it; stage 3 minimises the sum
    #: of this and ``total_cost_gbp``.
    committed_cost_after_horizon_gbp: float | None = None
    solver: str
    solve_seconds: float
    build_seconds: float
    base_year: int
    target_year: int
    decision_years: list[int]
    assessed_years: list[int]
    sustain_years: list[int] = []
    integer_places: bool
    shadow_prices_from: str | None
    dataset: str
    scenario: str | None = None
    overrides: list[dict[str, Any]] = []
    warnings: list[str] = []
    binding_limits: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    #: What made the result (``optimiser.versions``); ``None`` in results written before they were recorded.
    optimiser_version: str | None = None
    pulp_version: str | None = None
    #: The solver and its version, e.g. ``CBC 2.10.3`` or ``HiGHS 1.16.0`` (``None``: it does not say).
    solver_version: str | None = None
    #: With whole places: each stage's proven relative gap (0.01 = 1 %) and best bound, by stage;
    #: a plan is optimal within ``mip_gap`` of the settings. Empty for an LP.
    mip_gaps: dict[str, float] = {}
    mip_bounds: dict[str, float] = {}

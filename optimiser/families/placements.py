"""Placements: trainees on placement within each placement capacity."""

from __future__ import annotations

from optimiser.model import CommissionModel
from optimiser.registry import LE, Family

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = "placements"
#: How the why-split names the limit group.
LIFT_TITLE = "Placements"
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("capacity", "placement_capacity"),
)
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = ()


FAMILIES = (
    Family("placements", "placement", title="Placements", conflict_unit="trainees",
           conflict=lambda w: (f"{w.profession} placements{w.where} in {w.year} are {w.amount:,.1f} short of the "
                               "trainees already in training"),
           marginal=lambda w: f"One more placement for {w.profession}{w.where} in {w.year} is worth {w.closes}."),
)


def define(m: CommissionModel) -> None:
    """``P[p,r,t] <= placement_capacity[p,r,t]`` where the capacity table gives one, with
    ``P = sum over k, and l = 0..d_k-1, of I[p,k,r,t-l]``: the trainees on placement in the
    academic year that starts in year t."""
    for (pk, rk, t), row in m.dataset.capacity_row.items():
        if row.placement_capacity is not None:
            m.add_constraint("placements", pk, rk, t, m.on_placement(pk, rk, t), LE, row.placement_capacity)

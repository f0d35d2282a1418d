"""Shortfall: the gap between demand and supply in the assessed and the sustain years (a
definition, not a limit)."""

from __future__ import annotations

from optimiser.model import CommissionModel
from optimiser.registry import GE, Family

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = None
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("demand", "demand_wte"),
)
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("professions", "trainee_service_wte"),
    ("trainee_service", "service_wte"),
)


FAMILIES = (Family("shortfall", "WTE of extra supply", limit=False, title="Shortfall"),)


def define(m: CommissionModel) -> None:
    """For each assessed and each sustain year t and every p, r::

        u[p,r,t] >= demand[p,r,t] - Y[p,r,t],   u >= 0
        Y[p,r,t] = S[p,r,t] + beta_p * T[p,r,t] - G[p,r,t]

    ``T = sum over k, l = 0..Q_k-1 of sigma[p,l+1] I[p,k,r,t-l]`` is the service of
    trainees by year of training, counted (beta = 1) only for ``posts`` professions;
    ``G = (1/W) sum over trainee professions of y[.,p,r,t]`` is the time p's staff give
    to supervision (0 unless ``supervision_time_counts``).
    """
    ds = m.dataset
    for (pk, rk, t), u in m.u.items():
        lin = m.supply(pk, rk, t)
        lin.add(u, 1.0)
        m.add_constraint("shortfall", pk, rk, t, lin, GE, ds.demand_wte.get((pk, rk, t), 0.0))

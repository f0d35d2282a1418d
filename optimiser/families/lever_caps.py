"""Lever caps: how much of the leavers retention can keep, and how many WTE recruitment can
sign a year."""

from __future__ import annotations

from optimiser.model import CommissionModel, Lin
from optimiser.registry import LE, Family, Words

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = None
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("workforce", "stock_wte"),
    ("recruitment", "max_wte_per_year"),
)
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("professions", "attrition_rate"),
    ("retention", "max_share_of_leavers"),
)


def _retention_conflict(w: Words) -> str:
    return f"{w.profession} retention{w.where} in {w.year} must keep {w.amount:,.1f} WTE more than its share of leavers"


def _retention_marginal(w: Words) -> str:
    return f"One more WTE of {w.profession} retention ({w.item}){w.where} in {w.year} would close {w.closes}."


def _recruitment_conflict(w: Words) -> str:
    return f"{w.profession} recruitment{w.where} in {w.year} must sign {w.amount:,.1f} WTE more than its cap"


def _recruitment_marginal(w: Words) -> str:
    return f"One more WTE of {w.profession} recruitment a year{w.where} in {w.year} would close {w.closes}."


FAMILIES = (
    Family("retention_cap", "WTE more of retention", title="Retention cap", conflict_unit="WTE",
           conflict=_retention_conflict, marginal=_retention_marginal),
    Family("recruitment_cap", "WTE more of recruitment a year", title="Recruitment cap", conflict_unit="WTE",
           conflict=_recruitment_conflict, marginal=_recruitment_marginal),
)


def define(m: CommissionModel) -> None:
    """The caps of the levers, for each decision year t::

        retention_cap:   rho_i[p,r,t] <= max_share_of_leavers_i * a_p * S[p,r,t-1]   (each tranche i)
        recruitment_cap: z[p,r,t] <= max_wte_per_year

    A tranche keeps at most its share of the year's leavers (a share of the stock at its start).
    """
    ds = m.dataset
    for (pk, rk, tranche, t), var in m.rho.items():
        row = ds.retention_rows[(pk, rk, tranche)]
        lin = Lin()
        lin.add(var, 1.0)
        m.stock_at(lin, pk, rk, t - 1, -row.max_share_of_leavers * ds.profession[pk].attrition_rate)
        m.add_constraint("retention_cap", pk, rk, t, lin, LE, 0.0, item=f"tranche {tranche}")
    for (pk, rk, t), var in m.z.items():
        cap = ds.recruitment_rows[(pk, rk)].max_wte_per_year
        if cap is not None:
            lin = Lin()
            lin.add(var, 1.0)
            m.add_constraint("recruitment_cap", pk, rk, t, lin, LE, cap)

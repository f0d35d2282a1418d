"""Stock floor: no pool can lend more staff than it has (a bound in the model, a relaxable row
in the elastic copy the infeasibility diagnosis solves)."""

from __future__ import annotations

from optimiser.model import CommissionModel, Lin
from optimiser.registry import GE, Family, Words

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = None
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = ()
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = ()


def _conflict(w: Words) -> str:
    return (f"{w.profession}{w.where} stock would fall {w.amount:,.1f} WTE below zero in {w.year} "
            "(recruitment into training drains it)")


FAMILIES = (Family("stock_floor", "WTE a pool may lend beyond its stock", title="Staff drawn into training",
                   conflict_unit="WTE", conflict=_conflict, marginal=lambda w: None),)


def define(m: CommissionModel) -> None:
    """``S[p,r,t] >= 0``: no pool can lend more staff than it has.

    A variable bound in the model; an explicit, relaxable row only in an elastic copy.
    """
    if not m.elastic:
        return
    for (pk, rk, t), var in m.stock.items():
        lin = Lin()
        lin.add(var, 1.0)
        m.add_constraint("stock_floor", pk, rk, t, lin, GE, 0.0)

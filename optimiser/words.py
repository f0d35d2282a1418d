"""Small formatting helpers every layer's sentences share."""

from __future__ import annotations

#: Sums from this size are written in millions.
MILLIONS_FROM_GBP = 100_000


def money(gbp: float) -> str:
    """``GBP 2.10m`` for large sums, ``GBP 2,000`` for small ones."""
    return f"GBP {gbp / 1e6:,.2f}m" if abs(gbp) >= MILLIONS_FROM_GBP else f"GBP {gbp:,.0f}"

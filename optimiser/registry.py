"""Our own index of the model's constraints, keyed by (family, profession, region, year).

PuLP may rewrite names when it writes a file, so results are never read back
by parsing names: every constraint is reached through this registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulp

LE, GE, EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ
SENSE_TEXT = {LE: "<=", GE: ">=", EQ: "="}


@dataclass(frozen=True)
class Family:
    """A constraint family: how its shadow price is shown to users.

    ``unit`` names what one unit of relaxation is; ``scale`` converts the
    solver's per-unit dual into that unit (GBP -> GBP 1m); ``limit`` marks the
    families a user can buy or negotiate more of (and that the elastic
    diagnosis may relax), as opposed to definitions such as stock balance.
    """

    name: str
    unit: str
    scale: float = 1.0
    limit: bool = True
    #: An equality a user relaxes downwards, as if it were ``>=`` (supervision need).
    relax_down: bool = False


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("budget", "GBP 1m of national budget", 1e6),
        Family("regional_budget", "GBP 1m of regional budget", 1e6),
        Family("supervision_capacity", "supervision hour a week"),
        Family("supervision_need", "supervision hour a week needed less per trainee group", relax_down=True),
        Family("placements", "placement"),
        Family("intake_min", "place of minimum intake"),
        Family("intake_max", "place of maximum intake"),
        Family("growth", "trainee of national intake"),
        Family("decline", "trainee less of national intake"),
        Family("route_share", "trainee more of the route's share of national intake"),
        Family("retention_cap", "WTE more of retention"),
        Family("recruitment_cap", "WTE more of recruitment a year"),
        Family("stock_floor", "WTE a pool may lend beyond its stock"),
        Family("stock_balance", "WTE of extra inflow", limit=False),
        Family("shortfall", "WTE of extra supply", limit=False),
    )
}


@dataclass(frozen=True)
class ConstraintKey:
    family: str
    profession: str | None
    region: str | None
    year: int
    #: Which of a profession's routes or retention tranches (``None`` for the others).
    item: str | None = None


@dataclass
class Entry:
    """One registered constraint: its key, its PuLP object and, when elastic, its violation variable."""

    key: ConstraintKey
    constraint: pulp.LpConstraint
    sense: int
    rhs: float
    violation: pulp.LpVariable | None = None

    @property
    def relax_sign(self) -> int:
        """+1 when relaxing means lowering the right-hand side (>=), -1 when raising it."""
        return relax_sign(self.sense, FAMILIES[self.key.family])


def relax_sign(sense: int, family: Family) -> int:
    """+1 when relaxing a row means lowering its right-hand side (``>=``, or an equality
    relaxed downwards), -1 when it means raising it."""
    return 1 if sense == GE or (sense == EQ and family.relax_down) else -1


class Registry:
    """Constraints by key, in the order they were added."""

    def __init__(self) -> None:
        self.entries: dict[ConstraintKey, Entry] = {}
        self.constant_violations: list[tuple[ConstraintKey, float]] = []

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries.values())

    def __getitem__(self, key: ConstraintKey) -> Entry:
        return self.entries[key]

    def get(self, family: str, profession: str | None, region: str | None, year: int,
            item: str | None = None) -> Entry | None:
        return self.entries.get(ConstraintKey(family, profession, region, year, item))

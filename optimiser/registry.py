"""Our own index of the model's constraints, keyed by (family, profession, region, year), and
what a constraint family is (``Family``; the families themselves are in ``optimiser.families``).

PuLP may rewrite names when it writes a file, so results are never read back
by parsing names: every constraint is reached through this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulp

LE, GE, EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ
SENSE_TEXT = {LE: "<=", GE: ">=", EQ: "="}


@dataclass(frozen=True)
class Words:
    """What a family's sentences are made of: a row's profession, region and year as the
    reader should see them, its route or tranche, and the figure the sentence is about."""

    year: str
    profession: str | None = None
    region: str | None = None
    #: `` in <region>`` (or, for one sentence on several regions, empty).
    where: str = ""
    item: str | None = None
    #: A conflict's amount, in the family's ``conflict_unit``.
    amount: float = 0.0
    #: A marginal value's tail: ``<price> WTE of the 2023/24 shortfall[, in each of ...]``.
    closes: str = ""


@dataclass(frozen=True)
class Family:
    """A constraint family: how its rows are relaxed, priced and put into words.

    Each family is declared, beside the rows it adds, in its module of
    ``optimiser.families``. ``unit`` names what one unit of relaxation is;
    ``scale`` converts the solver's per-unit dual into that unit (GBP -> GBP 1m);
    ``limit`` marks the families a user can buy or negotiate more of (and that the
    elastic diagnosis may relax), as opposed to definitions such as stock balance.
    """

    name: str
    unit: str
    scale: float = 1.0
    limit: bool = True
    #: An equality a user relaxes downwards, as if it were ``>=`` (supervision need).
    relax_down: bool = False
    #: How reports name the family (tables, headings).
    title: str = ""
    #: The unit of a conflict's amount (``conflicts.csv`` ``unit``).
    conflict_unit: str = ""
    #: The sentence for a conflict: what must give, and by how much (``Words.amount``).
    conflict: Callable[[Words], str] | None = None
    #: The sentence for a binding row's shadow price (``Words.closes``); ``None``: none said.
    marginal: Callable[[Words], str | None] | None = None


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
    #: The family's ``relax_down``: an equality relaxed downwards.
    relax_down: bool = False

    @property
    def relax_sign(self) -> int:
        """+1 when relaxing means lowering the right-hand side (>=), -1 when raising it."""
        return relax_sign(self.sense, self.relax_down)


def relax_sign(sense: int, relax_down: bool = False) -> int:
    """+1 when relaxing a row means lowering its right-hand side (``>=``, or an equality
    relaxed downwards), -1 when it means raising it."""
    return 1 if sense == GE or (sense == EQ and relax_down) else -1


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

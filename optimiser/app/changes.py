"""The page's what-ifs as ``--set`` override texts, one per value changed.

Each function turns one form of the page into the text a user would type after
``optimiser run DATASET --set``; ``WhatIf`` keeps a session's list, where a new change
of the same values replaces the earlier one (the command line would call two changes
of one value a clash). The engine resolves and checks every text, so a value the
dataset refuses is reported as the command line reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from optimiser.scenarios import Override

GBP_PER_M = 1_000_000
PERCENT = 100.0
#: The lever tables of a dataset and the override that switches each off (its cap set to zero).
LEVER_OFF = {
    "routes": "routes.max_share=0",
    "retention": "retention.max_share_of_leavers=0",
    "recruitment": "recruitment.max_wte_per_year=0",
}
LEVER_NAMES = {"routes": "other training routes", "retention": "retention schemes",
               "recruitment": "direct recruitment"}
ALL = ""  # a form's "every profession / every region" choice: no filter


def _number(value: float) -> str:
    return f"{float(value):.10g}"


def _where(**filters: str | int | None) -> str:
    given = [f"{key}={value}" for key, value in filters.items() if value not in (None, ALL)]
    return f"[{','.join(given)}]" if given else ""


def budget_gbp_m(year: int, gbp_m: float) -> str:
    """The national budget of ``year`` set to ``gbp_m`` million pounds."""
    return f"budget.budget_gbp[region=,year={year}]={_number(gbp_m * GBP_PER_M)}"


def budget_share(year: int, percent_of_given: float) -> str:
    """The national budget of ``year`` as a share of the dataset's (100 = as given)."""
    return f"budget.budget_gbp[region=,year={year}]=*{_number(percent_of_given / PERCENT)}"


def supervisor_hours(region: str, profession: str, percent_change: float) -> str:
    """A region's supervisor hours per WTE of one profession (or every one) changed by a percentage."""
    return (f"professions.supervisor_hours_per_wte{_where(profession=profession, region=region)}"
            f"=*{_number(1 + percent_change / PERCENT)}")


def attrition(profession: str, percent_a_year: float) -> str:
    """A profession's attrition rate set (retention is 100 % less attrition)."""
    return f"professions.attrition_rate[profession={profession}]={_number(percent_a_year / PERCENT)}"


def placements(profession: str, region: str, percent_change: float) -> str:
    """Placement capacity of a profession and region (each may be every one) changed by a percentage."""
    return (f"capacity.placement_capacity{_where(profession=profession, region=region)}"
            f"=*{_number(1 + percent_change / PERCENT)}")


def target_year(year: int) -> str:
    return f"settings.target_year={year}"


def lever_off(table: str) -> str:
    return LEVER_OFF[table]


def levers_in(base) -> list[str]:
    """The lever tables a base dataset has rows in (the levers its page can switch off)."""
    return [t for t in LEVER_OFF if base.raw.tables.get(t) is not None and base.raw.tables[t].rows]


def _what(override: Override) -> tuple:
    """The values an override changes (its target and filters), not how it changes them."""
    return override.target, override.where


@dataclass
class WhatIf:
    """A session's overrides, in the order given; a change of the same values replaces the earlier one."""

    texts: tuple[str, ...] = ()
    keys: tuple[tuple, ...] = field(default=(), repr=False)

    def with_change(self, text: str, override: Override) -> WhatIf:
        key = _what(override)
        kept = [(t, k) for t, k in zip(self.texts, self.keys) if k != key]
        kept.append((text, key))
        return WhatIf(tuple(t for t, _ in kept), tuple(k for _, k in kept))

    def without(self, key: tuple) -> WhatIf:
        kept = [(t, k) for t, k in zip(self.texts, self.keys) if k != key]
        return WhatIf(tuple(t for t, _ in kept), tuple(k for _, k in kept))

    def without_last(self) -> WhatIf:
        return WhatIf(self.texts[:-1], self.keys[:-1])

    def levers_off(self, tables: set[str], resolve) -> WhatIf:
        """The levers of ``tables`` off, the others as the dataset gives them (``resolve``: text -> Override)."""
        out = self
        for table, text in LEVER_OFF.items():
            key = _what(resolve(text))
            out = out.with_change(text, resolve(text)) if table in tables else out.without(key)
        return out

"""Cross-table checks: unknown keys, duplicates, years outside the model, shares above 1."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from models.inputs import TABLES, Settings
from optimiser.bounds import weight_range_problems
from optimiser.errors import Problem
from optimiser.years import format_year

#: Column -> which key set it must belong to.
_PROFESSION_COLUMNS = ("profession", "trainee_profession", "source_profession", "supervisor_profession")
SHARE_TOLERANCE = 1e-9


def cross_check(
    settings: Settings,
    rows: dict[str, list[BaseModel]],
    numbers: dict[str, list[int]],
    labels: dict[str, str],
    settings_label: str = "settings.yaml",
    settings_rows: dict[str, int] | None = None,
) -> list[Problem]:
    """Every check that needs more than one row or table; returns the problems found."""
    problems: list[Problem] = []
    problems += _duplicates(rows, numbers, labels)
    professions = {p.profession for p in rows["professions"]}
    regions = {r.region for r in rows["regions"]}
    decision = set(settings.decision_years)
    first, last = settings.base_year + 1, settings.last_year
    span = f"a decision year ({format_year(first)}..{format_year(last)})"
    for name, table_rows in rows.items():
        if name in ("professions", "regions"):
            continue
        label = labels.get(name, f"{name}.csv")
        # only the columns this table has (a missing attribute costs a raised exception per row)
        fields = TABLES[name].row.model_fields
        profession_columns = [c for c in _PROFESSION_COLUMNS if c in fields]
        for row, number in zip(table_rows, numbers[name]):
            for column in profession_columns:
                value = getattr(row, column)
                if value is not None and value not in professions:
                    problems.append(Problem(label, number, column, value,
                                            "unknown profession; not in professions"))
            region = row.region if "region" in fields else None
            if region is not None and region not in regions:
                problems.append(Problem(label, number, "region", region, "unknown region; not in regions"))
            year = row.year if "year" in fields else None
            if year is not None and year not in decision:
                problems.append(Problem(label, number, "year", format_year(year), f"expected {span}"))
            start = row.start_year if "start_year" in fields else None
            if start is not None and start > settings.base_year:
                problems.append(Problem(label, number, "start_year", format_year(start),
                                        f"pipeline cohorts must start in or before the base year "
                                        f"{format_year(settings.base_year)}; later intakes are decisions"))
    problems += _shares(rows, numbers, labels)
    problems += weight_range_problems(settings, rows["professions"], numbers["professions"],
                                      labels.get("professions", "professions.csv"), settings_label,
                                      settings_rows or {})
    return problems


def _duplicates(rows, numbers, labels) -> list[Problem]:
    problems = []
    for name, spec in TABLES.items():
        first_row: dict[tuple, int] = {}
        for row, number in zip(rows[name], numbers[name]):
            key = tuple(getattr(row, k) for k in spec.key)
            if key in first_row:
                shown = ", ".join(str(k) for k in key if k is not None)
                problems.append(Problem(labels.get(name, f"{name}.csv"), number, ", ".join(spec.key), shown,
                                        f"duplicate key; the same key is on row {first_row[key]}"))
            else:
                first_row[key] = number
    return problems


def _shares(rows, numbers, labels) -> list[Problem]:
    totals: dict[str, float] = defaultdict(float)
    problems = []
    for row, number in zip(rows["recruitment_sources"], numbers["recruitment_sources"]):
        totals[row.trainee_profession] += row.share
        if totals[row.trainee_profession] > 1 + SHARE_TOLERANCE:
            problems.append(Problem(labels.get("recruitment_sources", "recruitment_sources.csv"), number,
                                    "share", f"{row.share:g}",
                                    f"shares for trainee profession '{row.trainee_profession}' "
                                    f"sum to {totals[row.trainee_profession]:g}; they must sum to <= 1"))
    return problems


#: An assessed demand above this many WTE, and this many times its pair's stock, is probably a typo.
DEMAND_OUTLIER_WTE = 1_000
DEMAND_OUTLIER_RATIO = 100


def completeness_warnings(dataset) -> list[str]:
    """Rows an analyst probably meant to give: missing stock and missing assessed demand; and
    assessed demand far above its stock (a typo loosens every other gap: the cost stage keeps
    the weighted shortfall within 1e-6 of its optimum relative to the total)."""
    warnings = _demand_outliers(dataset)
    missing_stock = [
        f"{p.profession}/{r.region}"
        for p in dataset.professions
        for r in dataset.regions
        if (p.profession, r.region) not in dataset.stock_wte
    ]
    if missing_stock:
        warnings.append(f"workforce has no row for {len(missing_stock)} profession/region pair(s), "
                        f"taken as 0 WTE: {', '.join(missing_stock[:5])}"
                        + (" ..." if len(missing_stock) > 5 else ""))
    for year in (*dataset.settings.assessed, *dataset.settings.sustain):
        missing = [
            f"{p.profession}/{r.region}"
            for p in dataset.professions
            for r in dataset.regions
            if (p.profession, r.region, year) not in dataset.demand_wte
        ]
        if missing:
            warnings.append(f"demand has no {format_year(year)} row for {len(missing)} profession/region "
                            f"pair(s), taken as 0 WTE: {', '.join(missing[:5])}"
                            + (" ..." if len(missing) > 5 else ""))
    return warnings


def _demand_outliers(dataset) -> list[str]:
    assessed = set(dataset.settings.assessed)
    outliers = [
        f"{d.profession}/{d.region} {format_year(d.year)}: {d.demand_wte:,.0f} WTE against a stock of "
        f"{dataset.stock_wte.get((d.profession, d.region), 0.0):,.0f}"
        for d in dataset.demand
        if d.year in assessed and d.demand_wte > DEMAND_OUTLIER_WTE
        and d.demand_wte > DEMAND_OUTLIER_RATIO * dataset.stock_wte.get((d.profession, d.region), 0.0)
    ]
    if not outliers:
        return []
    return [f"demand is over {DEMAND_OUTLIER_RATIO} times the stock for {len(outliers)} row(s), a typo? "
            f"({'; '.join(outliers[:3])}{' ...' if len(outliers) > 3 else ''}); one very large gap also "
            "loosens the others, as the cost stage keeps the weighted shortfall within 1e-6 of its "
            "optimum relative to the total"]

"""Row models for every input table of MODEL.md, the settings, and the validated dataset.

Each row model parses the text of one CSV row or workbook row; a blank cell
arrives as ``None``. Field validation (types, ranges, finiteness) lives here;
cross-table checks (unknown keys, duplicates, shares summing above 1) live in
``optimiser.validate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from optimiser.years import parse_year

SOLVERS = ("cbc", "highs")


def _year(value: Any) -> int:
    return parse_year(value)


def _finite(value: Any) -> Any:
    """Reject NaN and infinity with a message users understand."""
    if value is None:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value  # let pydantic report the type error
    if not math.isfinite(number):
        raise ValueError("expected a finite number, not NaN or infinity")
    return value


def _whole(value: Any) -> Any:
    """Accept ``3`` and ``3.0`` (Excel stores numbers as floats) as whole numbers."""
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        number = float(value)
        return int(number) if number.is_integer() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Year = Annotated[int, BeforeValidator(_year)]
Key = Annotated[str, Field(min_length=1, pattern=r"^\S(.*\S)?$")]
NonNegative = Annotated[float, BeforeValidator(_finite), Field(ge=0)]
Rate = Annotated[float, BeforeValidator(_finite), Field(ge=0, le=1)]
PositiveInt = Annotated[int, BeforeValidator(_whole), Field(ge=1)]
Month = Annotated[int, BeforeValidator(_whole), Field(ge=1, le=12)]

#: The month a financial year starts (1 April): a course starting then trains whole years.
APRIL = 4
MONTHS_PER_YEAR = 12
QUALIFIED, POSTS = "qualified", "posts"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Profession(_Row):
    profession: Key
    name: str
    duration_years: PositiveInt
    #: The month courses start (4 = April, 9 = September, 1 = January of the next calendar year).
    start_month: Month = APRIL
    completion_rate: Rate
    joining_rate: Rate
    attrition_rate: Rate
    cost_per_trainee_year_gbp: NonNegative
    supervision_hours_per_trainee: NonNegative
    supervisor_hours_per_wte: NonNegative
    #: Service of a trainee from the second training year on (``trainee_service`` rows replace it).
    trainee_service_wte: NonNegative
    #: ``qualified``: demand means qualified staff in post; ``posts``: trainees fill the posts.
    service_basis: Literal["qualified", "posts"] = QUALIFIED
    weight: NonNegative = 1.0
    max_growth: NonNegative | None = None
    max_decline: Rate | None = None

    @property
    def timing(self) -> Timing:
        return Timing(self.duration_years, self.start_month)

    @property
    def counts_trainees(self) -> bool:
        """beta_p: trainees count against demand (``posts`` basis)."""
        return self.service_basis == POSTS


@dataclass(frozen=True)
class Timing:
    """When a cohort trains, by ``l = t - s`` (its year t less its intake year s), MODEL.md:

    * ``phi(l)``: the share of year t it spends in training: ``f0`` for l = 0, 1 for
      1 <= l <= d-1, ``1 - f0`` for l = d, with ``f0 = (12 - ((m - 4) mod 12)) / 12``;
    * ``completion_lag`` Q: ``d - 1`` for an April start, else ``d`` (it completes during
      year s+Q and is in post at its end);
    * trainees still in training at the end of year t are the cohorts with 0 <= l <= Q-1,
      in training year ``l + 1``.
    """

    duration_years: int
    start_month: int = APRIL

    @property
    def first_year_share(self) -> float:
        return (MONTHS_PER_YEAR - (self.start_month - APRIL) % MONTHS_PER_YEAR) / MONTHS_PER_YEAR

    @property
    def completion_lag(self) -> int:
        return self.duration_years - 1 if self.start_month == APRIL else self.duration_years

    def phi(self, lag: int) -> float:
        d, f0 = self.duration_years, self.first_year_share
        if lag == 0:
            return f0
        if 1 <= lag <= d - 1:
            return 1.0
        if lag == d:
            return 1.0 - f0
        return 0.0

    @property
    def training_lags(self) -> tuple[tuple[int, float], ...]:
        """``(l, phi(l))`` for every l with a share of the year in training."""
        return tuple((lag, share) for lag in range(self.duration_years + 1) if (share := self.phi(lag)) > 0)


MAIN_ROUTE = "main"


@dataclass(frozen=True)
class Route:
    """A way into a profession: its own timing, rates, cost and supervision need.

    Every profession has the route ``main``, described by its ``professions`` row.
    """

    profession: str
    route: str
    timing: Timing
    completion_rate: float
    joining_rate: float
    cost_per_trainee_year_gbp: float
    supervision_hours_per_trainee: float

    source_profession: str | None = None
    #: theta: WTE of the source's stock each trainee draws (0 without a source).
    source_draw: float = 0.0
    max_share: float | None = None

    @classmethod
    def main(cls, p: Profession) -> Route:
        return cls(p.profession, MAIN_ROUTE, p.timing, p.completion_rate, p.joining_rate,
                   p.cost_per_trainee_year_gbp, p.supervision_hours_per_trainee)

    @classmethod
    def of(cls, p: Profession, row: RouteRow) -> Route:
        """A ``routes`` row, its blank columns taken from the profession's."""
        def given(value, default):
            return default if value is None else value

        timing = Timing(given(row.duration_years, p.duration_years), given(row.start_month, p.start_month))
        return cls(p.profession, row.route, timing, given(row.completion_rate, p.completion_rate),
                   given(row.joining_rate, p.joining_rate),
                   given(row.cost_per_trainee_year_gbp, p.cost_per_trainee_year_gbp),
                   given(row.supervision_hours_per_trainee, p.supervision_hours_per_trainee),
                   row.source_profession, row.draw, row.max_share)


class Region(_Row):
    region: Key
    name: str
    cost_multiplier: NonNegative = 1.0


class WorkforceRow(_Row):
    profession: Key
    region: Key
    stock_wte: NonNegative


class DemandRow(_Row):
    profession: Key
    region: Key
    year: Year
    demand_wte: NonNegative


class PipelineRow(_Row):
    profession: Key
    region: Key
    start_year: Year
    trainees: NonNegative


class CapacityRow(_Row):
    profession: Key
    region: Key
    year: Year
    placement_capacity: NonNegative | None = None
    intake_min: NonNegative | None = None
    intake_max: NonNegative | None = None

    @model_validator(mode="after")
    def _min_below_max(self) -> CapacityRow:
        if self.intake_min is not None and self.intake_max is not None:
            if self.intake_min > self.intake_max:
                raise ValueError(
                    f"intake_min {self.intake_min:g} is above intake_max {self.intake_max:g}"
                )
        return self


class SupervisionRow(_Row):
    trainee_profession: Key
    supervisor_profession: Key


class RouteRow(_Row):
    """Another route into a profession; a blank column takes the profession's value."""

    profession: Key
    route: Key
    duration_years: PositiveInt | None = None
    start_month: Month | None = None
    completion_rate: Rate | None = None
    joining_rate: Rate | None = None
    cost_per_trainee_year_gbp: NonNegative | None = None
    supervision_hours_per_trainee: NonNegative | None = None
    #: The profession whose qualified stock each trainee is drawn from, and how much of a WTE.
    source_profession: Key | None = None
    source_draw: Rate | None = None
    #: The largest share of the profession's national intake this route may take.
    max_share: Rate | None = None

    @model_validator(mode="after")
    def _route_rules(self) -> RouteRow:
        if self.route == MAIN_ROUTE:
            raise ValueError(f"a route may not be named '{MAIN_ROUTE}': that is the professions row itself")
        if self.source_profession is not None and self.source_profession == self.profession:
            raise ValueError(f"route '{self.route}' of {self.profession} draws from its own profession")
        if self.source_draw is not None and self.source_profession is None:
            raise ValueError("source_draw is given without a source_profession")
        return self

    @property
    def draw(self) -> float:
        """theta: WTE drawn from the source's stock per trainee (default 1 with a source)."""
        if self.source_profession is None:
            return 0.0
        return 1.0 if self.source_draw is None else self.source_draw


class RetentionRow(_Row):
    """A tranche of leavers kept at a cost; a blank region applies to each region on its own."""

    profession: Key
    region: Key | None = None
    tranche: PositiveInt = 1
    max_share_of_leavers: Rate
    cost_per_wte_year_gbp: NonNegative
    first_year: Year | None = None


class RecruitmentRow(_Row):
    """Qualified staff signed in a year, in post L years later; a blank region applies to each region."""

    profession: Key
    region: Key | None = None
    lead_time_years: Annotated[int, BeforeValidator(_whole), Field(ge=0)] = 0
    cost_per_wte_gbp: NonNegative
    max_wte_per_year: NonNegative | None = None
    first_year_attrition: Rate = 0.0


class SupervisorHoursRow(_Row):
    profession: Key
    region: Key
    supervisor_hours_per_wte: NonNegative


class TraineeServiceRow(_Row):
    profession: Key
    training_year: PositiveInt
    service_wte: NonNegative


class RecruitmentSourceRow(_Row):
    trainee_profession: Key
    source_profession: Key
    share: Rate


class BudgetRow(_Row):
    year: Year
    region: Key | None = None
    budget_gbp: NonNegative


class InflowRow(_Row):
    profession: Key
    region: Key
    year: Year
    inflow_wte: float

    _check_finite = field_validator("inflow_wte", mode="before")(lambda cls, v: _finite(v))


@dataclass(frozen=True)
class TableSpec:
    """How one table is read: its file stem, row model, key columns and whether required."""

    name: str
    row: type[_Row]
    key: tuple[str, ...]
    required: bool

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.row.model_fields)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.row.model_fields.items() if f.is_required())


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("professions", Profession, ("profession",), True),
        TableSpec("regions", Region, ("region",), True),
        TableSpec("workforce", WorkforceRow, ("profession", "region"), True),
        TableSpec("demand", DemandRow, ("profession", "region", "year"), True),
        TableSpec("pipeline", PipelineRow, ("profession", "region", "start_year"), False),
        TableSpec("capacity", CapacityRow, ("profession", "region", "year"), False),
        TableSpec(
            "supervision", SupervisionRow, ("trainee_profession", "supervisor_profession"), False
        ),
        TableSpec(
            "recruitment_sources",
            RecruitmentSourceRow,
            ("trainee_profession", "source_profession"),
            False,
        ),
        TableSpec("budget", BudgetRow, ("year", "region"), True),
        TableSpec("inflows", InflowRow, ("profession", "region", "year"), False),
        TableSpec("supervisor_hours", SupervisorHoursRow, ("profession", "region"), False),
        TableSpec("trainee_service", TraineeServiceRow, ("profession", "training_year"), False),
        TableSpec("routes", RouteRow, ("profession", "route"), False),
        TableSpec("retention", RetentionRow, ("profession", "region", "tranche"), False),
        TableSpec("recruitment", RecruitmentRow, ("profession", "region"), False),
    )
}


#: The default relative gap of a whole-places plan (``Settings.mip_gap``).
MIP_GAP_DEFAULT = 0.03


class Settings(BaseModel):
    """``settings.yaml``: the years, the objective's weights, supervision time and the solver."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_year: Year
    target_year: Year
    horizon_end: Year | None = None
    assessed_years: tuple[Year, ...] | None = None
    #: Years after the target whose shortfall a second stage minimises (default: the decision
    #: years after the last assessed year; ``[]`` for none).
    sustain_years: tuple[Year, ...] | None = None
    year_weights: dict[Year, NonNegative] = Field(default_factory=dict)
    #: W: the hours a week of one WTE, to turn supervision hours into WTE of service.
    contracted_hours_per_week: Annotated[float, BeforeValidator(_finite), Field(gt=0)] = 37.5
    #: Whether supervising takes time from the supervisors' own service.
    supervision_time_counts: bool = True
    integer_places: bool = False
    solver: Literal["cbc", "highs"] = "cbc"
    time_limit_seconds: Annotated[float, Field(gt=0)] = 60.0
    #: With ``integer_places``: a stage's plan is optimal when proven within this relative gap
    #: of the optimum (0 to 0.5). The default, 3%, is the smallest of 0.1, 0.5, 1, 2 and 3% at
    #: which HiGHS proves every stage of England in seconds (docs/model.md, "Integer places").
    mip_gap: Annotated[float, Field(ge=0, le=0.5)] = MIP_GAP_DEFAULT

    @model_validator(mode="after")
    def _years_consistent(self) -> Settings:
        if self.target_year <= self.base_year:
            raise ValueError(
                f"target_year {self.target_year} must be after base_year {self.base_year}"
            )
        if self.horizon_end is not None and self.horizon_end < self.target_year:
            raise ValueError(
                f"horizon_end {self.horizon_end} must be at least target_year {self.target_year}"
            )
        if self.assessed_years is not None and not self.assessed_years:
            raise ValueError("assessed_years may not be empty")
        decision = set(range(self.base_year + 1, self.last_year + 1))
        span = f"({self.base_year + 1}..{self.last_year})"
        for year in self.assessed:
            if year not in decision:
                raise ValueError(f"assessed year {year} is not a decision year {span}")
        for year in self.sustain_years or ():
            if year not in decision:
                raise ValueError(f"sustain year {year} is not a decision year {span}")
            if year in self.assessed:
                raise ValueError(f"sustain year {year} is also an assessed year; a year is one or the other")
        counted = set(self.assessed) | set(self.sustain)
        for year in self.year_weights:
            if year not in counted:
                raise ValueError(f"year_weights names {year}, which is neither an assessed nor a sustain year")
        return self

    @property
    def last_year(self) -> int:
        """H, the last decision year (``horizon_end``, default ``target_year``)."""
        return self.horizon_end if self.horizon_end is not None else self.target_year

    @property
    def decision_years(self) -> tuple[int, ...]:
        return tuple(range(self.base_year + 1, self.last_year + 1))

    @property
    def assessed(self) -> tuple[int, ...]:
        return tuple(self.assessed_years) if self.assessed_years else (self.target_year,)

    @property
    def sustain(self) -> tuple[int, ...]:
        """The sustain years: as given, else the decision years after the last assessed one."""
        if self.sustain_years is not None:
            return tuple(sorted(self.sustain_years))
        last = max(self.assessed)
        return tuple(t for t in self.decision_years if t > last)

    def year_weight(self, year: int) -> float:
        return self.year_weights.get(year, 1.0)


def _grouped(pairs) -> dict:
    """``(key, value)`` pairs -> ``{key: (values in order)}``."""
    out: dict = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return {k: tuple(v) for k, v in out.items()}


class Dataset(BaseModel):
    """A validated dataset: settings plus the rows of every table (absent table = no rows)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    settings: Settings
    professions: tuple[Profession, ...]
    regions: tuple[Region, ...]
    workforce: tuple[WorkforceRow, ...]
    demand: tuple[DemandRow, ...]
    pipeline: tuple[PipelineRow, ...] = ()
    capacity: tuple[CapacityRow, ...] = ()
    supervision: tuple[SupervisionRow, ...] = ()
    recruitment_sources: tuple[RecruitmentSourceRow, ...] = ()
    budget: tuple[BudgetRow, ...]
    inflows: tuple[InflowRow, ...] = ()
    supervisor_hours: tuple[SupervisorHoursRow, ...] = ()
    trainee_service: tuple[TraineeServiceRow, ...] = ()
    routes: tuple[RouteRow, ...] = ()
    retention: tuple[RetentionRow, ...] = ()
    recruitment: tuple[RecruitmentRow, ...] = ()

    # Look-ups used by the model builder and the reports.
    @cached_property
    def profession(self) -> dict[str, Profession]:
        return {p.profession: p for p in self.professions}

    @cached_property
    def region(self) -> dict[str, Region]:
        return {r.region: r for r in self.regions}

    @cached_property
    def stock_wte(self) -> dict[tuple[str, str], float]:
        return {(w.profession, w.region): w.stock_wte for w in self.workforce}

    @cached_property
    def demand_wte(self) -> dict[tuple[str, str, int], float]:
        return {(d.profession, d.region, d.year): d.demand_wte for d in self.demand}

    @cached_property
    def pipeline_trainees(self) -> dict[tuple[str, str, int], float]:
        return {(p.profession, p.region, p.start_year): p.trainees for p in self.pipeline}

    @cached_property
    def capacity_row(self) -> dict[tuple[str, str, int], CapacityRow]:
        return {(c.profession, c.region, c.year): c for c in self.capacity}

    @cached_property
    def supervisors_of(self) -> dict[str, tuple[str, ...]]:
        """trainee profession -> the professions that may supervise it."""
        return _grouped((row.trainee_profession, row.supervisor_profession) for row in self.supervision)

    @cached_property
    def supervised_by(self) -> dict[str, tuple[str, ...]]:
        """supervisor profession -> the trainee professions it may supervise."""
        return _grouped((row.supervisor_profession, row.trainee_profession) for row in self.supervision)

    @cached_property
    def sources_of(self) -> dict[str, tuple[tuple[str, float], ...]]:
        """trainee profession -> ((source profession, share), ...)."""
        return _grouped((row.trainee_profession, (row.source_profession, row.share))
                        for row in self.recruitment_sources)

    @cached_property
    def national_budget_gbp(self) -> dict[int, float]:
        return {b.year: b.budget_gbp for b in self.budget if b.region is None}

    @cached_property
    def regional_budget_gbp(self) -> dict[tuple[str, int], float]:
        return {(b.region, b.year): b.budget_gbp for b in self.budget if b.region is not None}

    @cached_property
    def inflow_wte(self) -> dict[tuple[str, str, int], float]:
        return {(i.profession, i.region, i.year): i.inflow_wte for i in self.inflows}

    @cached_property
    def routes_of(self) -> dict[str, tuple[Route, ...]]:
        """profession -> its routes: ``main`` first, then its ``routes`` rows in file order."""
        out = {p.profession: [Route.main(p)] for p in self.professions}
        for row in self.routes:
            out[row.profession].append(Route.of(self.profession[row.profession], row))
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def drawn_by(self) -> dict[str, tuple[Route, ...]]:
        """source profession -> the routes (of other professions) that draw from its stock."""
        out: dict[str, list[Route]] = {}
        for routes in self.routes_of.values():
            for route in routes:
                if route.source_profession is not None:
                    out.setdefault(route.source_profession, []).append(route)
        return {k: tuple(v) for k, v in out.items()}

    def _by_region(self, rows, key) -> dict[tuple, object]:
        """Rows with a blank region apply to each region; a row naming a region replaces them there."""
        out: dict[tuple, object] = {}
        for row in rows:
            if row.region is None:
                for r in self.regions:
                    out.setdefault(key(row, r.region), row)
        for row in rows:
            if row.region is not None:
                out[key(row, row.region)] = row
        return out

    @cached_property
    def retention_rows(self) -> dict[tuple[str, str, int], RetentionRow]:
        """(profession, region, tranche) -> the retention row in force there."""
        found = self._by_region(self.retention, lambda row, r: (row.profession, r, row.tranche))
        return {k: found[k] for k in sorted(found)}

    @cached_property
    def recruitment_rows(self) -> dict[tuple[str, str], RecruitmentRow]:
        """(profession, region) -> the recruitment row in force there."""
        found = self._by_region(self.recruitment, lambda row, r: (row.profession, r))
        return {k: found[k] for k in sorted(found)}

    @cached_property
    def regional_supervisor_hours(self) -> dict[tuple[str, str], float]:
        return {(h.profession, h.region): h.supervisor_hours_per_wte for h in self.supervisor_hours}

    def supervisor_hours_per_wte(self, profession: str, region: str) -> float:
        """v[q,r]: the ``supervisor_hours`` row, else the profession's national value."""
        hours = self.regional_supervisor_hours.get((profession, region))
        return self.profession[profession].supervisor_hours_per_wte if hours is None else hours

    @cached_property
    def _service_rows(self) -> dict[tuple[str, int], float]:
        return {(s.profession, s.training_year): s.service_wte for s in self.trainee_service}

    def trainee_service_wte(self, profession: str, training_year: int) -> float:
        """sigma[p,n]: the ``trainee_service`` row, else 0 in the first training year and the
        profession's ``trainee_service_wte`` from the second on."""
        value = self._service_rows.get((profession, training_year))
        if value is not None:
            return value
        return 0.0 if training_year == 1 else self.profession[profession].trainee_service_wte

    def table_rows(self, name: str) -> tuple[BaseModel, ...]:
        return getattr(self, name)

"""Independent reference implementation of the LP in ``MODEL.md`` (version 2).

Written from the specification alone, without the optimiser package: it
reads a dataset folder with the ``csv`` and ``yaml`` modules (or, for the
workbook form, the sheets of an ``.xlsx`` with openpyxl), builds a sparse
matrix itself and solves it with HiGHS through SciPy. Every lever of MODEL.md
is modelled: routes, retention tranches and direct recruitment (see "Levers"
below; where MODEL.md is silent, notes/contract-levers.md).

Notation (b = base year, H = horizon end, T = decision years b+1..H; per
profession p: duration d, start month m, completion c, joining j, attrition a,
cost kappa, supervision need h, service sigma, basis beta):

* timing: ``o = (m - 4) mod 12`` months from 1 April to the start,
  ``f0 = (12 - o) / 12``; ``phi[0] = f0``, ``phi[l] = 1`` (1 <= l <= d-1),
  ``phi[d] = 1 - f0``, else 0; ``Q = d - 1`` when m = 4, else ``Q = d``;
* ``I[p,r,s]`` = ``x[p,r,s]`` for s in T, ``pipeline[p,r,s]`` for s <= b;
* ``N[p,r,t] = sum_{l=0..d} phi[l] I[p,r,t-l]`` (trainee-years in t: cost, supervision need);
* ``P[p,r,t] = sum_{l=0..d-1} I[p,r,t-l]`` (on placement in the academic year starting in t);
* ``E[p,r,t] = sum_{l=0..Q-1} I[p,r,t-l]`` (still in training at the end of t);
* ``C[p,r,t] = c * I[p,r,t-Q]``;
* ``sigma[p,n]`` = the trainee_service row (p, n), else 0 for n = 1 and
  ``trainee_service_wte`` for n >= 2; ``T[p,r,t] = sum_{l=0..Q-1} sigma[p,l+1] I[p,r,t-l]``;
* ``S[p,r,b] = stock``, ``S[p,r,t] = (1-a) S[p,r,t-1] + j C[p,r,t] + inflow[p,r,t]
  - sum_q share[q,p] I[q,r,t]``;
* ``G[q,r,t] = (1/W) sum_p y[p,q,r,t]`` when ``supervision_time_counts`` (else 0),
  W = ``contracted_hours_per_week``;
* ``Y = S + beta T - G`` with beta = 1 for ``posts`` and 0 for ``qualified``;
  qualified-basis supply ``S - G``; ``shortfall = max(0, demand - Y)``;
* ``v[q,r]`` = the supervisor_hours row (q, r), else the profession's
  ``supervisor_hours_per_wte``;
* committed cost after the horizon:
  ``sum_{p,r, s <= H, t > H} kappa m_r phi[t-s] I[p,r,s]``.

Levers. Each profession p has the route ``main`` (its professions row) and the
``routes`` rows of p (blank cells = the profession's value); every quantity above
is per route k with the route's own d_k, m_k, c_k, j_k, kappa_k, h_k and is summed
over routes (N, P, E, C, T, cost, need ``sum_k h_k N_k``, the intake limits on
``sum_k x``, growth/decline on ``X[p,t] = sum_{k,r} I``); the pipeline is the
main route's, other routes have no cohorts before b+1. The stock adds

``+ sum_i rho_i[p,r,t] + (1 - e) z[p,r,t-L] - sum_{routes k' of q with source p} theta_k' x[q,k',r,t]``

(recruitment_sources draws ``share[q,p] I[q,main,r,t]``, main route only).
Rows: ``route_share`` ``sum_r x[p,k,r,t] - mu X[p,t] <= 0``; ``retention_cap``
``rho_i[p,r,t] - share_i a_p S[p,r,t-1] <= 0`` for t >= first_year;
recruitment ``z[p,r,t] <= max_wte_per_year`` (a column bound) for t + L <= H.
Retention rows with a blank region apply to each region with its own cap; a
row naming a region replaces the blank row of the same profession and tranche
there (tranche blank = "1"; "2.0" is "2"); recruitment likewise per
profession. Lever costs ``c_i m_r rho_i`` and ``c m_r z`` count in year t in
the national and regional budgets, in stage 3 and in ``total_cost_gbp``; none
after the horizon. ``source_draw`` defaults to 1 with a source, must be <= 1,
and is ignored without a source.

Inputs: a missing workforce/demand/inflow row is 0, a missing optional table
has no rows, blank weight and cost_multiplier are 1, blank start_month is 4,
blank service_basis is ``qualified``, blank max_growth/max_decline,
placement_capacity and intake_max are "no limit", blank intake_min is 0, a
budget year without a row has no limit. Settings: ``horizon_end`` defaults to
``target_year``; ``assessed_years`` to ``[target_year]`` (an explicit empty
list is an error); ``sustain_years`` to the decision years after the last
assessed year (``[]`` for none); ``year_weights`` default 1 (keys that are
neither assessed nor sustain years weigh nothing and are ignored);
``contracted_hours_per_week`` 37.5; ``supervision_time_counts`` true. Rows for
years outside the decision years (demand, inflows, capacity, budget)
constrain nothing and are ignored; pipeline cohorts must start in or before
the base year.

Variable layout (deliberately unlike a "one variable per quantity" model):
S, N, P, E, C, T are *eliminated*; they are affine expressions in the columns
(:class:`Affine`). The LP columns are only ``x[p,k,r,t]`` (intake per route; bounded by
intake_min/intake_max when p has only the main route, else those limits are
rows on ``sum_k x``), ``rho[p,i,r,t] >= 0`` (retention tranche i),
``z[p,r,t] >= 0`` (recruits signed in t), ``y[p,q,r,t] >= 0`` (supervision hours, for allowed
pairs of trainee professions that need supervision; through G they enter the
supply) and ``u[p,r,t] >= 0`` (shortfall, for every assessed and sustain
year). Rows:

* stock:        ``-S[p,r,t] <= 0``
* budget:       ``sum_{p,k,r} kappa_k m_r N_k[p,r,t] + lever cost <= B[t]`` (and per region)
* need:         ``sum_q y[p,q,r,t] - sum_k h_k N_k[p,r,t] = 0``  (equality: hours given = hours needed)
* route_share, retention_cap, intake_min/intake_max (with routes): see Levers
* supervisor:   ``sum_p y[p,q,r,t] - v[q,r] S[q,r,t-1] <= 0``
* placement:    ``P[p,r,t] <= cap[p,r,t]``
* growth:       ``X[p,t] - (1+g) X[p,t-1] <= 0``, ``X[p,t] = sum_r I[p,r,t]``
* decline:      ``(1-delta) X[p,t-1] - X[p,t] <= 0``
* shortfall:    ``demand - Y - u <= 0``

Stage 1 minimises ``z1 = sum_{assessed t} yw_t w_p u``; stage 2 (only with
sustain years) adds ``z1 <= z1* + 1e-6 |z1*| + 1e-6`` and minimises
``z2 = sum_{sustain t} yw_t w_p u``; stage 3 adds the same kind of row for z2
and minimises the whole cost: ``sum_{t in T,p,k,r} kappa_k m_r N_k[p,r,t]``
(pipeline trainees included) plus the lever costs plus the committed cost after the horizon.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import yaml
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

STAGE_REL = 1e-6
#: The settings' default mip_gap (MODEL.md: whole places are optimal within 3% unless told).
MIP_GAP_DEFAULT = 0.03
STAGE_ABS = 1e-6
STAGE2_REL, STAGE2_ABS = STAGE_REL, STAGE_ABS  # version-1 names

# --------------------------------------------------------------------------
# years
# --------------------------------------------------------------------------

_LABEL = re.compile(r"^\s*(\d{4})\s*[/-]\s*(\d{2})\s*$")


def parse_year(value: Any) -> int:
    """``2023``, ``"2023"``, ``2023.0`` or ``"2023/24"`` -> ``2023``."""
    if isinstance(value, bool):
        raise ValueError(f"not a year: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    match = _LABEL.match(text)
    if match:
        first, second = int(match.group(1)), int(match.group(2))
        if (first + 1) % 100 != second:
            raise ValueError(f"not a financial year: {value!r}")
        return first
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"not a year: {value!r}") from None
    if not number.is_integer():
        raise ValueError(f"not a year: {value!r}")
    return int(number)


def year_label(year: int) -> str:
    """``2023`` -> ``"2023/24"``."""
    return f"{year}/{(year + 1) % 100:02d}"


# --------------------------------------------------------------------------
# dataset
# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# dataset
# --------------------------------------------------------------------------


def timing(duration: int, start_month: int) -> tuple[list[float], int]:
    """``(phi[0..d], Q)`` of a course of ``duration`` years starting in ``start_month``."""
    f0 = (12 - ((start_month - 4) % 12)) / 12
    phi = [f0] + [1.0] * (duration - 1) + [1.0 - f0]
    return phi, (duration - 1 if start_month == 4 else duration)


@dataclass(frozen=True)
class Profession:
    key: str
    name: str
    duration: int
    completion: float
    joining: float
    attrition: float
    cost: float
    supervision_hours: float
    supervisor_hours: float
    trainee_service: float
    weight: float
    max_growth: float | None
    start_month: int = 4
    service_basis: str = "qualified"
    max_decline: float | None = None

    @property
    def phi(self) -> list[float]:
        return timing(self.duration, self.start_month)[0]

    @property
    def lag(self) -> int:
        """Q: a cohort of year s completes in year s + Q."""
        return timing(self.duration, self.start_month)[1]

    @property
    def beta(self) -> float:
        return 1.0 if self.service_basis == "posts" else 0.0


@dataclass(frozen=True)
class Route:
    """A training route into a profession; ``main`` is the profession's own row of professions."""

    key: str
    profession: str
    duration: int
    start_month: int
    completion: float
    joining: float
    cost: float
    supervision_hours: float
    source: str | None = None
    draw: float = 0.0  # theta: WTE drawn from the source's stock per trainee taken
    max_share: float | None = None

    @property
    def phi(self) -> list[float]:
        return timing(self.duration, self.start_month)[0]

    @property
    def lag(self) -> int:
        return timing(self.duration, self.start_month)[1]


@dataclass(frozen=True)
class Tranche:
    """One retention row as it applies in one region."""

    max_share: float
    cost: float
    first_year: int | None


@dataclass(frozen=True)
class Recruitment:
    """One recruitment row as it applies in one region."""

    lead_time: int
    cost: float
    cap: float | None
    attrition: float


def main_route(prof: "Profession") -> Route:
    return Route("main", prof.key, prof.duration, prof.start_month, prof.completion, prof.joining, prof.cost,
                 prof.supervision_hours)


@dataclass
class Dataset:
    """Everything the model needs, with defaults applied (missing = 0 / no limit)."""

    professions: dict[str, Profession]
    regions: dict[str, float]  # region -> cost multiplier
    stock: dict[tuple[str, str], float]
    demand: dict[tuple[str, str, int], float]
    pipeline: dict[tuple[str, str, int], float]
    placement: dict[tuple[str, str, int], float]
    intake_min: dict[tuple[str, str, int], float]
    intake_max: dict[tuple[str, str, int], float]
    pairs: list[tuple[str, str]]  # (trainee, supervisor)
    shares: dict[tuple[str, str], float]  # (trainee, source) -> share
    budget: dict[int, float]
    regional_budget: dict[tuple[str, int], float]
    inflow: dict[tuple[str, str, int], float]
    base_year: int
    target_year: int
    horizon_end: int
    assessed_years: list[int]
    year_weights: dict[int, float] = field(default_factory=dict)
    integer_places: bool = False
    #: With integer places: the relative gap within which a plan counts as optimal (settings' mip_gap).
    mip_gap: float = MIP_GAP_DEFAULT
    time_limit_seconds: float | None = None
    sustain_years: list[int] = field(default_factory=list)
    supervisor_hours: dict[tuple[str, str], float] = field(default_factory=dict)  # (q, r) -> v
    trainee_service: dict[tuple[str, int], float] = field(default_factory=dict)  # (p, n) -> sigma
    contracted_hours_per_week: float = 37.5
    supervision_time_counts: bool = True
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)  # (p, k) -> Route, k != "main"
    retention: dict[tuple[str, str, str], Tranche] = field(default_factory=dict)  # (p, r, tranche)
    recruitment: dict[tuple[str, str], Recruitment] = field(default_factory=dict)  # (p, r)

    def routes_of(self, p: str) -> list[Route]:
        """Every route of p, ``main`` first."""
        return [main_route(self.professions[p])] + [k for (q, _), k in self.routes.items() if q == p]

    def route(self, p: str, k: str) -> Route:
        return main_route(self.professions[p]) if k == "main" else self.routes[p, k]

    def needs_supervision(self, p: str) -> bool:
        return any(k.supervision_hours > 0 for k in self.routes_of(p))

    def retention_years(self, p: str, r: str, i: str) -> list[int]:
        """Decision years with a retention variable of tranche i (t >= first_year)."""
        first = self.retention[p, r, i].first_year
        return [t for t in self.decision_years if first is None or t >= first]

    def recruitment_years(self, p: str, r: str) -> list[int]:
        """Decision years t with a recruitment variable (t + L <= H)."""
        lead = self.recruitment[p, r].lead_time
        return [t for t in self.decision_years if t + lead <= self.horizon_end]

    @property
    def decision_years(self) -> list[int]:
        return list(range(self.base_year + 1, self.horizon_end + 1))

    def year_weight(self, t: int) -> float:
        return self.year_weights.get(t, 1.0)

    def intake_const(self, p: str, r: str, s: int) -> float:
        """Pipeline intake for s <= b (0 when absent)."""
        return self.pipeline.get((p, r, s), 0.0)

    def sigma(self, p: str, n: int) -> float:
        """Service of one trainee of p in training year n (n >= 1), counted at a year end."""
        if (p, n) in self.trainee_service:
            return self.trainee_service[p, n]
        return 0.0 if n == 1 else self.professions[p].trainee_service

    def hours_per_wte(self, q: str, r: str) -> float:
        """v[q, r]: supervision hours a week one qualified WTE of q can give in region r."""
        return self.supervisor_hours.get((q, r), self.professions[q].supervisor_hours)

    def supervision_wte_per_hour(self) -> float:
        """1 / W when supervision time counts, else 0."""
        return 1.0 / self.contracted_hours_per_week if self.supervision_time_counts else 0.0


class DatasetError(ValueError):
    """An input the specification calls an error."""


def _blank(cell: Any) -> bool:
    return cell is None or str(cell).strip() == ""


def _cell(value: Any) -> str | None:
    """A workbook cell as the text a CSV would hold (3.0 -> "3")."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _raw_table(source, name: str):
    """(header, data rows) of a table, or None when it is absent.

    ``source`` is a folder (``name`` is a CSV file in it) or a workbook read as
    {sheet: rows} (the sheet is ``name`` without ``.csv``).
    """
    if isinstance(source, dict):
        rows = source.get(name.removesuffix(".csv"))
        if rows is None:
            return None
        rows = [[_cell(c) for c in row] for row in rows]
    else:
        path = source / name
        if not path.exists():
            return None
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    if not rows:
        return [], []
    return [(h or "").strip() for h in rows[0]], rows[1:]


def _read(source, name: str, required: list[str], optional: list[str] = (), *, must_exist: bool):
    """Rows of table ``name`` as (row number, {column: stripped text or None})."""
    table = _raw_table(source, name)
    if table is None:
        if must_exist:
            raise DatasetError(f"{name}: required table is missing")
        return []
    header, data = table
    missing = [c for c in required if c not in header]
    if missing:
        raise DatasetError(f"{name}: missing column(s) {', '.join(missing)}")
    rows = []
    for number, cells in enumerate(data, start=2):
        cells = list(cells) + [None] * (len(header) - len(cells))
        row = {h: (None if _blank(v) else str(v).strip()) for h, v in zip(header, cells) if h}
        if all(v is None for v in row.values()):
            continue
        for column in optional:
            row.setdefault(column, None)
        rows.append((number, row))
    return rows


def _settings(source) -> dict:
    """settings.yaml of a folder, or the key/value rows of a workbook's settings sheet."""
    if isinstance(source, dict):
        if "settings" not in source:
            raise DatasetError("settings: required sheet is missing")
        out = {}
        for row in source["settings"][1:]:
            if not row or row[0] is None:
                continue
            value = row[1] if len(row) > 1 else None
            if isinstance(value, str):
                try:
                    value = yaml.safe_load(value)
                except yaml.YAMLError:
                    pass
            out[str(row[0]).strip()] = value
        return out
    path = source / "settings.yaml"
    if not path.exists():
        raise DatasetError("settings.yaml: required file is missing")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _open(dataset: str | Path):
    """A dataset folder (Path) or an .xlsx workbook read into {sheet: rows}."""
    path = Path(dataset)
    if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl  # only needed for workbooks

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return {ws.title.strip(): [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
        finally:
            book.close()
    if not path.is_dir():
        raise DatasetError(f"{path}: not a dataset folder or .xlsx workbook")
    return path


def _num(name: str, number: int, row: dict, column: str, *, default: float | None = None,
         required: bool = True, rate: bool = False) -> float | None:
    cell = row.get(column)
    if cell is None:
        if default is not None or not required:
            return default
        raise DatasetError(f"{name} row {number}, column {column}: value is missing")
    try:
        value = float(cell)
    except ValueError:
        raise DatasetError(f"{name} row {number}, column {column}: not a number: {cell!r}") from None
    if not math.isfinite(value) or value < 0:
        raise DatasetError(f"{name} row {number}, column {column}: must be a finite number >= 0, got {cell!r}")
    if rate and value > 1:
        raise DatasetError(f"{name} row {number}, column {column}: rate must be in [0, 1], got {cell!r}")
    return value


def _year_cell(name: str, number: int, row: dict, column: str) -> int:
    try:
        return parse_year(row.get(column))
    except ValueError as exc:
        raise DatasetError(f"{name} row {number}, column {column}: {exc}") from None


def _key(name: str, number: int, row: dict, column: str, known) -> str:
    value = row.get(column)
    if value is None:
        raise DatasetError(f"{name} row {number}, column {column}: value is missing")
    if known is not None and value not in known:
        raise DatasetError(f"{name} row {number}, column {column}: unknown {column} {value!r}")
    return value


def _put(store: dict, key, value, name: str, number: int):
    if key in store:
        raise DatasetError(f"{name} row {number}: duplicate key {key}")
    store[key] = value


def load_dataset(dataset_dir: str | Path) -> Dataset:
    """Read and validate a dataset folder (or .xlsx workbook); defaults as in the module docstring."""
    folder = _open(dataset_dir)
    settings = _settings(folder)
    try:
        base = parse_year(settings["base_year"])
        target = parse_year(settings["target_year"])
        horizon = target if settings.get("horizon_end") is None else parse_year(settings["horizon_end"])
        given = settings.get("assessed_years")
        if given is not None and not isinstance(given, list):
            given = [given]
        if given == []:
            raise DatasetError("settings.yaml: assessed_years may not be empty")
        assessed = sorted({parse_year(y) for y in (given if given is not None else [target])})
        sustain_given = settings.get("sustain_years")
        if sustain_given is not None and not isinstance(sustain_given, list):
            sustain_given = [sustain_given]
        weights = {parse_year(k): float(v) for k, v in (settings.get("year_weights") or {}).items()}
    except KeyError as exc:
        raise DatasetError(f"settings.yaml: missing {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"settings.yaml: {exc}") from None
    if not base < target <= horizon:
        raise DatasetError("settings.yaml: need base_year < target_year <= horizon_end, "
                           f"got {base}, {target}, {horizon}")
    decision = set(range(base + 1, horizon + 1))
    for y in assessed:
        if y not in decision:
            raise DatasetError(f"settings.yaml: assessed year {y} is not a decision year")
    if sustain_given is None:
        sustain = [t for t in sorted(decision) if t > max(assessed)]
    else:
        try:
            sustain = sorted({parse_year(y) for y in sustain_given})
        except ValueError as exc:
            raise DatasetError(f"settings.yaml: sustain_years: {exc}") from None
        for y in sustain:
            if y not in decision:
                raise DatasetError(f"settings.yaml: sustain year {y} is not a decision year")
            if y in assessed:
                raise DatasetError(f"settings.yaml: sustain year {y} is also an assessed year")
    if any(not math.isfinite(w) or w < 0 for w in weights.values()):
        raise DatasetError("settings.yaml: year_weights must be finite and >= 0")

    def flag(key, default):
        value = settings.get(key, default)
        if value is None:
            return default
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            raise DatasetError(f"settings.yaml: {key} must be true or false, got {value!r}")
        return bool(value)

    integer = flag("integer_places", False)
    counts = flag("supervision_time_counts", True)
    hours = settings.get("contracted_hours_per_week")
    try:
        hours = 37.5 if hours is None else float(hours)
    except (TypeError, ValueError):
        raise DatasetError(f"settings.yaml: contracted_hours_per_week must be a number, got {hours!r}") from None
    if not math.isfinite(hours) or hours <= 0:
        raise DatasetError(f"settings.yaml: contracted_hours_per_week must be > 0, got {hours!r}")
    time_limit = settings.get("time_limit_seconds")
    mip_gap = settings.get("mip_gap")
    try:
        mip_gap = MIP_GAP_DEFAULT if mip_gap is None else float(mip_gap)
    except (TypeError, ValueError):
        raise DatasetError(f"settings.yaml: mip_gap must be a number, got {mip_gap!r}") from None
    if not 0 <= mip_gap <= 0.5:
        raise DatasetError(f"settings.yaml: mip_gap must be 0..0.5, got {mip_gap!r}")

    # professions
    name = "professions.csv"
    cols = ["profession", "name", "duration_years", "completion_rate", "joining_rate", "attrition_rate",
            "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "supervisor_hours_per_wte",
            "trainee_service_wte"]
    professions: dict[str, Profession] = {}
    optional = ["weight", "max_growth", "start_month", "service_basis", "max_decline"]
    for n, row in _read(folder, name, cols, optional, must_exist=True):
        key = _key(name, n, row, "profession", None)
        duration = _num(name, n, row, "duration_years")
        if not duration.is_integer() or duration < 1:
            raise DatasetError(f"{name} row {n}, column duration_years: must be an integer >= 1")
        month = _num(name, n, row, "start_month", default=4.0)
        if not month.is_integer() or not 1 <= month <= 12:
            raise DatasetError(f"{name} row {n}, column start_month: must be an integer 1..12, "
                               f"got {row.get('start_month')!r}")
        basis = (row.get("service_basis") or "qualified").strip().lower()
        if basis not in ("qualified", "posts"):
            raise DatasetError(f"{name} row {n}, column service_basis: must be 'qualified' or 'posts', "
                               f"got {row.get('service_basis')!r}")
        prof = Profession(
            key=key,
            name=row.get("name") or key,
            duration=int(duration),
            completion=_num(name, n, row, "completion_rate", rate=True),
            joining=_num(name, n, row, "joining_rate", rate=True),
            attrition=_num(name, n, row, "attrition_rate", rate=True),
            cost=_num(name, n, row, "cost_per_trainee_year_gbp"),
            supervision_hours=_num(name, n, row, "supervision_hours_per_trainee"),
            supervisor_hours=_num(name, n, row, "supervisor_hours_per_wte"),
            trainee_service=_num(name, n, row, "trainee_service_wte"),
            weight=_num(name, n, row, "weight", default=1.0),
            max_growth=_num(name, n, row, "max_growth", required=False),
            start_month=int(month),
            service_basis=basis,
            max_decline=_num(name, n, row, "max_decline", required=False, rate=True),
        )
        _put(professions, key, prof, name, n)

    name = "regions.csv"
    regions: dict[str, float] = {}
    for n, row in _read(folder, name, ["region", "name"], ["cost_multiplier"], must_exist=True):
        _put(regions, _key(name, n, row, "region", None), _num(name, n, row, "cost_multiplier", default=1.0), name, n)

    def pr(name, n, row, pcol="profession"):
        return _key(name, n, row, pcol, professions), _key(name, n, row, "region", regions)

    name = "workforce.csv"
    stock: dict = {}
    for n, row in _read(folder, name, ["profession", "region", "stock_wte"], must_exist=True):
        _put(stock, pr(name, n, row), _num(name, n, row, "stock_wte"), name, n)

    def yearly(name, column, *, must_exist=False, default=None, required=True):
        out: dict = {}
        for n, row in _read(folder, name, ["profession", "region", "year", column], must_exist=must_exist):
            key = (*pr(name, n, row), _year_cell(name, n, row, "year"))
            _put(out, key, _num(name, n, row, column, default=default, required=required), name, n)
        return out

    demand = yearly("demand.csv", "demand_wte", must_exist=True)
    inflow = yearly("inflows.csv", "inflow_wte")

    name = "pipeline.csv"
    pipeline: dict = {}
    for n, row in _read(folder, name, ["profession", "region", "start_year", "trainees"], must_exist=False):
        key = (*pr(name, n, row), _year_cell(name, n, row, "start_year"))
        if key[2] > base:
            raise DatasetError(f"{name} row {n}, column start_year: {key[2]} is after the base year {base}")
        _put(pipeline, key, _num(name, n, row, "trainees"), name, n)

    name = "capacity.csv"
    placement: dict = {}
    intake_min: dict = {}
    intake_max: dict = {}
    seen: set = set()
    for n, row in _read(folder, name, ["profession", "region", "year"],
                        ["placement_capacity", "intake_min", "intake_max"], must_exist=False):
        key = (*pr(name, n, row), _year_cell(name, n, row, "year"))
        if key in seen:
            raise DatasetError(f"{name} row {n}: duplicate key {key}")
        seen.add(key)
        for column, store in (("placement_capacity", placement), ("intake_min", intake_min),
                              ("intake_max", intake_max)):
            value = _num(name, n, row, column, required=False)
            if value is not None:
                store[key] = value
        if key in intake_min and key in intake_max and intake_min[key] > intake_max[key]:
            raise DatasetError(f"{name} row {n}: intake_min {intake_min[key]} > intake_max {intake_max[key]}")

    name = "supervision.csv"
    pairs: list = []
    for n, row in _read(folder, name, ["trainee_profession", "supervisor_profession"], must_exist=False):
        pair = (_key(name, n, row, "trainee_profession", professions),
                _key(name, n, row, "supervisor_profession", professions))
        if pair in pairs:
            raise DatasetError(f"{name} row {n}: duplicate key {pair}")
        pairs.append(pair)

    name = "recruitment_sources.csv"
    shares: dict = {}
    for n, row in _read(folder, name, ["trainee_profession", "source_profession", "share"], must_exist=False):
        key = (_key(name, n, row, "trainee_profession", professions),
               _key(name, n, row, "source_profession", professions))
        _put(shares, key, _num(name, n, row, "share", rate=True), name, n)
    for p in professions:
        total = sum(v for (q, _), v in shares.items() if q == p)
        if total > 1 + 1e-9:
            raise DatasetError(f"recruitment_sources.csv: shares of {p} sum to {total} > 1")

    name = "budget.csv"
    budget: dict = {}
    regional: dict = {}
    for n, row in _read(folder, name, ["year", "budget_gbp"], ["region"], must_exist=True):
        year = _year_cell(name, n, row, "year")
        value = _num(name, n, row, "budget_gbp", required=False)
        if row.get("region") is None:
            _put(budget, year, value, name, n)
        else:
            _put(regional, (_key(name, n, row, "region", regions), year), value, name, n)
    budget = {k: v for k, v in budget.items() if v is not None}
    regional = {k: v for k, v in regional.items() if v is not None}

    name = "supervisor_hours.csv"
    supervisor_hours: dict = {}
    for n, row in _read(folder, name, ["profession", "region", "supervisor_hours_per_wte"], must_exist=False):
        _put(supervisor_hours, pr(name, n, row), _num(name, n, row, "supervisor_hours_per_wte"), name, n)

    name = "trainee_service.csv"
    trainee_service: dict = {}
    for n, row in _read(folder, name, ["profession", "training_year", "service_wte"], must_exist=False):
        p = _key(name, n, row, "profession", professions)
        year_n = _num(name, n, row, "training_year")
        if not year_n.is_integer() or year_n < 1:
            raise DatasetError(f"{name} row {n}, column training_year: must be an integer >= 1, "
                               f"got {row.get('training_year')!r}")
        _put(trainee_service, (p, int(year_n)), _num(name, n, row, "service_wte"), name, n)

    routes = _load_routes(folder, professions)
    retention, recruitment = _load_levers(folder, professions, regions)

    return Dataset(
        routes=routes, retention=retention, recruitment=recruitment,
        professions=professions, regions=regions, stock=stock, demand=demand, pipeline=pipeline,
        placement=placement, intake_min=intake_min, intake_max=intake_max, pairs=pairs, shares=shares,
        budget=budget, regional_budget=regional, inflow=inflow, base_year=base, target_year=target,
        horizon_end=horizon, assessed_years=assessed, year_weights=weights,
        integer_places=integer, mip_gap=mip_gap, time_limit_seconds=time_limit, sustain_years=sustain,
        supervisor_hours=supervisor_hours, trainee_service=trainee_service,
        contracted_hours_per_week=hours, supervision_time_counts=counts,
    )


def _load_routes(folder, professions: dict) -> dict:
    """routes.csv: blank = the profession's value; source_draw default 1 with a source, <= 1."""
    name = "routes.csv"
    routes: dict = {}
    optional = ["duration_years", "start_month", "completion_rate", "joining_rate", "cost_per_trainee_year_gbp",
                "supervision_hours_per_trainee", "source_profession", "source_draw", "max_share"]
    for n, row in _read(folder, name, ["profession", "route"], optional, must_exist=False):
        p = _key(name, n, row, "profession", professions)
        k = _key(name, n, row, "route", None)
        if k.lower() == "main":
            raise DatasetError(f"{name} row {n}, column route: a route may not be named 'main'")
        prof = professions[p]
        duration = _num(name, n, row, "duration_years", default=float(prof.duration))
        if not duration.is_integer() or duration < 1:
            raise DatasetError(f"{name} row {n}, column duration_years: must be an integer >= 1")
        month = _num(name, n, row, "start_month", default=float(prof.start_month))
        if not month.is_integer() or not 1 <= month <= 12:
            raise DatasetError(f"{name} row {n}, column start_month: must be an integer 1..12")
        source = row.get("source_profession")
        if source is not None:
            source = _key(name, n, row, "source_profession", professions)
            if source == p:
                raise DatasetError(f"{name} row {n}, column source_profession: a route's source may not be "
                                   "its own profession")
        draw = _num(name, n, row, "source_draw", default=1.0 if source is not None else 0.0)
        if draw > 1:
            raise DatasetError(f"{name} row {n}, column source_draw: must be <= 1, got {row.get('source_draw')!r}")
        route = Route(
            key=k, profession=p, duration=int(duration), start_month=int(month),
            completion=_num(name, n, row, "completion_rate", default=prof.completion, rate=True),
            joining=_num(name, n, row, "joining_rate", default=prof.joining, rate=True),
            cost=_num(name, n, row, "cost_per_trainee_year_gbp", default=prof.cost),
            supervision_hours=_num(name, n, row, "supervision_hours_per_trainee", default=prof.supervision_hours),
            source=source, draw=draw if source is not None else 0.0,
            max_share=_num(name, n, row, "max_share", required=False, rate=True),
        )
        _put(routes, (p, k), route, name, n)
    return routes


def _tranche_label(text: str | None) -> str:
    """Blank -> "1"; "2.0" -> "2"; other text as given."""
    if text is None:
        return "1"
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def _load_levers(folder, professions: dict, regions: dict) -> tuple[dict, dict]:
    """retention.csv and recruitment.csv, blank-region rows applied to each region unless a row names it."""
    name = "retention.csv"
    given: dict = {}
    for n, row in _read(folder, name, ["profession", "max_share_of_leavers", "cost_per_wte_year_gbp"],
                        ["region", "tranche", "first_year"], must_exist=False):
        p = _key(name, n, row, "profession", professions)
        r = None if row.get("region") is None else _key(name, n, row, "region", regions)
        first = None if row.get("first_year") is None else _year_cell(name, n, row, "first_year")
        tranche = Tranche(_num(name, n, row, "max_share_of_leavers", rate=True),
                          _num(name, n, row, "cost_per_wte_year_gbp"), first)
        _put(given, (p, r, _tranche_label(row.get("tranche"))), tranche, name, n)
    retention: dict = {}
    for (p, r, i), tranche in given.items():
        for rr in ([r] if r is not None else regions):
            if r is None and (p, rr, i) in given:
                continue  # replaced by the row naming the region
            retention[p, rr, i] = tranche
    retention = dict(sorted(retention.items()))

    name = "recruitment.csv"
    given = {}
    for n, row in _read(folder, name, ["profession", "cost_per_wte_gbp"],
                        ["region", "lead_time_years", "max_wte_per_year", "first_year_attrition"], must_exist=False):
        p = _key(name, n, row, "profession", professions)
        r = None if row.get("region") is None else _key(name, n, row, "region", regions)
        lead = _num(name, n, row, "lead_time_years", default=0.0)
        if not lead.is_integer():
            raise DatasetError(f"{name} row {n}, column lead_time_years: must be an integer >= 0")
        rec = Recruitment(int(lead), _num(name, n, row, "cost_per_wte_gbp"),
                          _num(name, n, row, "max_wte_per_year", required=False),
                          _num(name, n, row, "first_year_attrition", default=0.0, rate=True))
        _put(given, (p, r), rec, name, n)
    recruitment: dict = {}
    for (p, r), rec in given.items():
        for rr in ([r] if r is not None else regions):
            if r is None and (p, rr) in given:
                continue
            recruitment[p, rr] = rec
    recruitment = dict(sorted(recruitment.items()))
    return retention, recruitment


# --------------------------------------------------------------------------
# affine expressions in the LP columns
# --------------------------------------------------------------------------


class Affine:
    """``const + sum_k terms[k] * v[k]`` over the LP columns (x, and y through G)."""

    __slots__ = ("const", "terms")

    def __init__(self, const: float = 0.0, terms: dict[int, float] | None = None):
        self.const = float(const)
        self.terms = dict(terms or {})

    def add(self, other: "Affine", scale: float = 1.0) -> "Affine":
        """In place: ``self += scale * other``."""
        self.const += scale * other.const
        for k, v in other.terms.items():
            self.terms[k] = self.terms.get(k, 0.0) + scale * v
        return self

    def scaled(self, scale: float) -> "Affine":
        return Affine(self.const * scale, {k: v * scale for k, v in self.terms.items()})

    def value(self, v: np.ndarray) -> float:
        return self.const + sum(c * v[k] for k, c in self.terms.items())


@dataclass
class Expressions:
    """I, N, P, E, C, T, S (S also at the base year), G, Y and costs as :class:`Affine`.

    Totals over routes are keyed (p, r, t); per-route figures (``IK``, ``NK``, ``PK``,
    ``EK``, ``CK``, ``costK``) are keyed (p, k, r, t). Columns: ``xindex`` (p, k, r, t)
    first, then ``yindex`` (p, q, r, t), ``rhoindex`` (p, tranche, r, t), ``zindex`` (p, r, t).
    """

    xindex: dict[tuple[str, str, str, int], int]
    yindex: dict[tuple[str, str, str, int], int]
    I: dict
    N: dict
    P: dict
    E: dict
    C: dict
    T: dict
    S: dict
    G: dict
    supply: dict  # Y = S + beta T - G
    qualified: dict  # S - G
    cost: dict  # (p, r, t) -> sum_k kappa_k * m_r * N_k (trainees only)
    committed: Affine  # cost after H of cohorts started by H
    IK: dict = field(default_factory=dict)
    NK: dict = field(default_factory=dict)
    PK: dict = field(default_factory=dict)
    EK: dict = field(default_factory=dict)
    CK: dict = field(default_factory=dict)
    costK: dict = field(default_factory=dict)
    need: dict = field(default_factory=dict)  # (p, r, t) -> sum_k h_k N_k
    rhoindex: dict = field(default_factory=dict)
    zindex: dict = field(default_factory=dict)
    lever_cost: dict = field(default_factory=dict)  # (p, r, t) -> retention + recruitment cost in t
    ncols: int = 0

    @property
    def M(self) -> dict:  # version-1 name of E
        return self.E


def build_expressions(ds: Dataset) -> Expressions:
    """Eliminate N, P, E, C, T, S, G: write each as an affine function of the columns."""
    T_ = ds.decision_years
    b, H = ds.base_year, ds.horizon_end
    xindex = {}
    for p in ds.professions:
        for k in ds.routes_of(p):
            for r in ds.regions:
                for t in T_:
                    xindex[p, k.key, r, t] = len(xindex)
    col = len(xindex)
    yindex = {}
    for (p, q) in ds.pairs:
        if ds.needs_supervision(p):
            for r in ds.regions:
                for t in T_:
                    yindex[p, q, r, t] = col
                    col += 1
    rhoindex = {}
    for (p, r, i) in ds.retention:
        for t in ds.retention_years(p, r, i):
            rhoindex[p, i, r, t] = col
            col += 1
    zindex = {}
    for (p, r) in ds.recruitment:
        for t in ds.recruitment_years(p, r):
            zindex[p, r, t] = col
            col += 1

    def intake(p, k, r, s) -> Affine:
        if s > b:
            return Affine(0.0, {xindex[p, k, r, s]: 1.0})
        return Affine(ds.intake_const(p, r, s) if k == "main" else 0.0)

    I, N, P, E, C, TS, S, G, Y, QY, cost = ({} for _ in range(11))
    IK, NK, PK, EK, CK, costK, need, lever_cost = ({} for _ in range(8))
    committed = Affine()
    longest = max(k.duration for p in ds.professions for k in ds.routes_of(p)) if ds.professions else 1
    for p, prof in ds.professions.items():
        for r in ds.regions:
            for s in range(b - longest - 1, H + 1):
                I[p, r, s] = Affine()
            for t in T_:
                for store in (N, P, E, TS, C, cost, need):
                    store[p, r, t] = Affine()
            for route in ds.routes_of(p):
                k, d, phi, lag = route.key, route.duration, route.phi, route.lag
                mult = route.cost * ds.regions[r]
                for s in range(b - longest - 1, H + 1):
                    IK[p, k, r, s] = intake(p, k, r, s)
                    I[p, r, s].add(IK[p, k, r, s])
                for t in T_:
                    NK[p, k, r, t] = Affine()
                    for l in range(0, d + 1):
                        NK[p, k, r, t].add(IK[p, k, r, t - l], phi[l])
                    PK[p, k, r, t] = Affine()
                    for l in range(0, d):
                        PK[p, k, r, t].add(IK[p, k, r, t - l])
                    EK[p, k, r, t] = Affine()
                    for l in range(0, lag):
                        EK[p, k, r, t].add(IK[p, k, r, t - l])
                        TS[p, r, t].add(IK[p, k, r, t - l], ds.sigma(p, l + 1))
                    CK[p, k, r, t] = IK[p, k, r, t - lag].scaled(route.completion)
                    costK[p, k, r, t] = NK[p, k, r, t].scaled(mult)
                    N[p, r, t].add(NK[p, k, r, t])
                    P[p, r, t].add(PK[p, k, r, t])
                    E[p, r, t].add(EK[p, k, r, t])
                    C[p, r, t].add(CK[p, k, r, t])
                    cost[p, r, t].add(costK[p, k, r, t])
                    need[p, r, t].add(NK[p, k, r, t], route.supervision_hours)
                for s in range(b - d - 1, H + 1):
                    for t in range(H + 1, s + d + 1):
                        committed.add(IK[p, k, r, s], mult * phi[t - s])
            for t in T_:
                lever_cost[p, r, t] = Affine()
    for (p, i, r, t), k in rhoindex.items():
        lever_cost[p, r, t].terms[k] = ds.retention[p, r, i].cost * ds.regions[r]
    for (p, r, t), k in zindex.items():
        lever_cost[p, r, t].terms[k] = ds.recruitment[p, r].cost * ds.regions[r]
    retained: dict = {}  # (p, r, t) -> rho columns of every tranche
    for (p, i, r, t), k in rhoindex.items():
        retained.setdefault((p, r, t), []).append(k)
    per_hour = ds.supervision_wte_per_hour()
    for r in ds.regions:
        for t in T_:
            for q in ds.professions:
                G[q, r, t] = Affine()
        for (p, q, rr, t), k in yindex.items():
            if rr == r and per_hour:
                G[q, r, t].terms[k] = G[q, r, t].terms.get(k, 0.0) + per_hour
        for p in ds.professions:
            S[p, r, b] = Affine(ds.stock.get((p, r), 0.0))
        for t in T_:
            for p, prof in ds.professions.items():
                s = S[p, r, t - 1].scaled(1.0 - prof.attrition)
                for route in ds.routes_of(p):
                    s.add(CK[p, route.key, r, t], route.joining)
                s.const += ds.inflow.get((p, r, t), 0.0)
                for (q, src), share in ds.shares.items():
                    if src == p and share:
                        s.add(IK[q, "main", r, t], -share)
                for (q, k), route in ds.routes.items():
                    if route.source == p and route.draw:
                        s.add(IK[q, k, r, t], -route.draw)
                for k in retained.get((p, r, t), ()):
                    s.terms[k] = s.terms.get(k, 0.0) + 1.0
                if (p, r) in ds.recruitment:
                    rec = ds.recruitment[p, r]
                    k = zindex.get((p, r, t - rec.lead_time))
                    if k is not None:
                        s.terms[k] = s.terms.get(k, 0.0) + (1.0 - rec.attrition)
                S[p, r, t] = s
                QY[p, r, t] = s.scaled(1.0).add(G[p, r, t], -1.0)
                Y[p, r, t] = QY[p, r, t].scaled(1.0).add(TS[p, r, t], prof.beta)
    return Expressions(xindex, yindex, I, N, P, E, C, TS, S, G, Y, QY, cost, committed,
                       IK, NK, PK, EK, CK, costK, need, rhoindex, zindex, lever_cost, col)


# --------------------------------------------------------------------------
# the LP
# --------------------------------------------------------------------------


@dataclass
class _Model:
    n: int
    rows: list  # (dict col -> coef, rhs, family, key, sense) with sense "<=" or "="
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray
    shortfall_obj: np.ndarray  # stage 1
    sustain_obj: np.ndarray  # stage 2 (zero without sustain years)
    cost_obj: np.ndarray  # stage 3: decision-year cost + committed cost (variable part)
    cost_const: float
    yindex: dict
    uindex: dict
    infeasible_const: list  # constant rows that are violated


def _build_model(ds: Dataset, ex: Expressions) -> _Model:
    T_ = ds.decision_years
    nx = len(ex.xindex)
    col = ex.ncols
    by_trainee: dict = {}  # (p, r, t) -> {col: 1}
    by_supervisor: dict = {}  # (q, r, t) -> {col: 1}
    for (p, q, r, t), k in ex.yindex.items():
        by_trainee.setdefault((p, r, t), {})[k] = 1.0
        by_supervisor.setdefault((q, r, t), {})[k] = 1.0
    uindex = {}
    for t in sorted(set(ds.assessed_years) | set(ds.sustain_years)):
        for p in ds.professions:
            for r in ds.regions:
                uindex[p, r, t] = col
                col += 1
    n = col
    lb = np.zeros(n)
    ub = np.full(n, np.inf)
    single = {p for p in ds.professions if len(ds.routes_of(p)) == 1}  # limits as bounds on x
    for (p, k, r, t), c in ex.xindex.items():
        if p in single:
            lb[c] = ds.intake_min.get((p, r, t), 0.0)
            ub[c] = ds.intake_max.get((p, r, t), np.inf)
    for (p, r, t), c in ex.zindex.items():
        cap = ds.recruitment[p, r].cap
        if cap is not None:
            ub[c] = cap
    integrality = np.zeros(n, dtype=int)
    if ds.integer_places:
        integrality[:nx] = 1

    rows: list = []
    bad: list = []

    def row(expr: Affine, rhs: float, family: str, key, extra: dict | None = None, sense: str = "<="):
        """``expr + extra . v  (<= or =)  rhs``."""
        terms = {k: v for k, v in expr.terms.items() if v != 0.0}
        for k, v in (extra or {}).items():
            terms[k] = terms.get(k, 0.0) + v
        terms = {k: v for k, v in terms.items() if v != 0.0}
        bound = rhs - expr.const
        if not terms:
            slack = 1e-9 * max(1.0, abs(rhs))
            if bound < -slack or (sense == "=" and bound > slack):
                bad.append((family, key, -bound))
            return
        rows.append((terms, bound, family, key, sense))

    for t in T_:
        for p in ds.professions:
            for r in ds.regions:
                row(ex.S[p, r, t].scaled(-1.0), 0.0, "stock", (p, r, t))
        if t in ds.budget:
            total = Affine()
            for key, c in ex.cost.items():
                if key[2] == t:
                    total.add(c).add(ex.lever_cost[key])
            row(total, ds.budget[t], "budget", t)
        for r in ds.regions:
            if (r, t) in ds.regional_budget:
                total = Affine()
                for (p, rr, tt), c in ex.cost.items():
                    if rr == r and tt == t:
                        total.add(c).add(ex.lever_cost[p, rr, tt])
                row(total, ds.regional_budget[r, t], "regional budget", (r, t))
            for p, prof in ds.professions.items():
                if ds.needs_supervision(p):
                    # sum_q y - sum_k h_k N_k = 0
                    y = by_trainee.get((p, r, t), {})
                    row(ex.need[p, r, t].scaled(-1.0), 0.0, "supervision need", (p, r, t), y, sense="=")
                if p not in single:
                    total = Affine()
                    for route in ds.routes_of(p):
                        total.add(ex.IK[p, route.key, r, t])
                    if (p, r, t) in ds.intake_min:
                        row(total.scaled(-1.0), -ds.intake_min[p, r, t], "intake_min", (p, r, t))
                    if (p, r, t) in ds.intake_max:
                        row(total, ds.intake_max[p, r, t], "intake_max", (p, r, t))
            for (p, rr, i), tranche in ds.retention.items():
                c = ex.rhoindex.get((p, i, r, t)) if rr == r else None
                if c is not None:
                    # rho_i - share_i a_p S[t-1] <= 0
                    cap = ex.S[p, r, t - 1].scaled(-tranche.max_share * ds.professions[p].attrition)
                    row(cap, 0.0, "retention_cap", (p, i, r, t), {c: 1.0})
            for q in ds.professions:
                y = by_supervisor.get((q, r, t))
                if y:
                    cap = ex.S[q, r, t - 1].scaled(-ds.hours_per_wte(q, r))
                    row(cap, 0.0, "supervisor capacity", (q, r, t), y)
            for p in ds.professions:
                if (p, r, t) in ds.placement:
                    row(ex.P[p, r, t], ds.placement[p, r, t], "placement", (p, r, t))
        for p, prof in ds.professions.items():
            if prof.max_growth is not None:
                total = Affine()
                for r in ds.regions:
                    total.add(ex.I[p, r, t]).add(ex.I[p, r, t - 1], -(1.0 + prof.max_growth))
                row(total, 0.0, "growth", (p, t))
            if prof.max_decline is not None:
                total = Affine()
                for r in ds.regions:
                    total.add(ex.I[p, r, t - 1], 1.0 - prof.max_decline).add(ex.I[p, r, t], -1.0)
                row(total, 0.0, "decline", (p, t))
        for (p, k), route in ds.routes.items():
            if route.max_share is not None:
                # sum_r x[p,k,r,t] - mu X[p,t] <= 0
                total = Affine()
                for r in ds.regions:
                    total.add(ex.IK[p, k, r, t]).add(ex.I[p, r, t], -route.max_share)
                row(total, 0.0, "route_share", (p, k, t))
    shortfall_obj = np.zeros(n)
    sustain_obj = np.zeros(n)
    for (p, r, t), k in uindex.items():
        # demand - Y - u <= 0
        row(ex.supply[p, r, t].scaled(-1.0), -ds.demand.get((p, r, t), 0.0), "shortfall", (p, r, t), {k: -1.0})
        weight = ds.year_weight(t) * ds.professions[p].weight
        if t in ds.assessed_years:
            shortfall_obj[k] = weight
        else:
            sustain_obj[k] = weight
    cost_obj = np.zeros(n)
    total = Affine()
    for c in ex.cost.values():
        total.add(c)
    for c in ex.lever_cost.values():
        total.add(c)
    total.add(ex.committed)
    for k, v in total.terms.items():
        cost_obj[k] += v
    return _Model(n, rows, lb, ub, integrality, shortfall_obj, sustain_obj, cost_obj, total.const,
                  ex.yindex, uindex, bad)


def _matrix(n: int, rows: list) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows scaled so the largest coefficient of each is 1 (same feasible set)."""
    data, indices, indptr, rhs = [], [], [0], []
    for terms, bound in rows:
        scale = max(abs(v) for v in terms.values())
        for k, v in terms.items():
            indices.append(k)
            data.append(v / scale)
        indptr.append(len(indices))
        rhs.append(bound / scale)
    A = sp.csr_matrix((data, indices, indptr), shape=(len(rhs), n))
    return A, np.array(rhs, dtype=float)


def _solve(model: _Model, objective: np.ndarray, extra_rows: list, time_limit: float | None):
    """Returns (status, v) with status one of optimal/infeasible/unbounded/time_limit/error.

    ``extra_rows`` are ``(terms, rhs)`` rows ``terms . v <= rhs`` (the earlier stages' optima).
    """
    ub_rows = [(r[0], r[1]) for r in model.rows if r[4] == "<="] + list(extra_rows)
    eq_rows = [(r[0], r[1]) for r in model.rows if r[4] == "="]
    A_ub, b_ub = _matrix(model.n, ub_rows)
    A_eq, b_eq = _matrix(model.n, eq_rows)
    if model.integrality.any():
        options = {"disp": False, "mip_rel_gap": 1e-9}
        if time_limit:
            options["time_limit"] = float(time_limit)
        constraints = []
        if A_ub.shape[0]:
            constraints.append(LinearConstraint(A_ub, -np.inf, b_ub))
        if A_eq.shape[0]:
            constraints.append(LinearConstraint(A_eq, b_eq, b_eq))
        res = milp(objective, constraints=constraints, integrality=model.integrality,
                   bounds=Bounds(model.lb, model.ub), options=options)
    else:
        options = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
        if time_limit:
            options["time_limit"] = float(time_limit)
        res = linprog(objective, A_ub=A_ub if A_ub.shape[0] else None, b_ub=b_ub if A_ub.shape[0] else None,
                      A_eq=A_eq if A_eq.shape[0] else None, b_eq=b_eq if A_eq.shape[0] else None,
                      bounds=np.column_stack([model.lb, model.ub]), method="highs", options=options)
    status = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    if status == "time_limit" and getattr(res, "x", None) is None:
        status = "not_solved"
    return status, (None if res.x is None else np.asarray(res.x, dtype=float))


def _keep(objective: np.ndarray, value: float) -> list:
    """The row ``objective . v <= value + rel |value| + abs`` that keeps a stage at its optimum."""
    terms = {k: float(c) for k, c in enumerate(objective) if c}
    return [(terms, value + STAGE_REL * abs(value) + STAGE_ABS)] if terms else []


def solve_reference(dataset_dir: str | Path, *, time_limit: float | None = None) -> dict:
    """Solve the lexicographic LP/MILP of MODEL.md (version 2) for a dataset folder or workbook.

    Returns a dict with ``status`` and, when a plan exists (figures recomputed at the final plan):

    * ``weighted_shortfall`` = sum_{assessed t,p,r} yw_t w_p max(0, demand - Y) (stage 1's optimum),
    * ``sustain_shortfall`` = the same over the sustain years (stage 2's optimum), None without them,
    * ``total_cost_gbp`` = sum_{t in T,p,k,r} kappa_k m_r N_k[p,r,t] (pipeline trainees included)
      plus the lever costs of the decision years,
    * ``committed_cost_after_horizon_gbp`` = sum_{p,k,r,s<=H,t>H} kappa_k m_r phi_k[t-s] I[p,k,r,s] (routes only)
      (stage 3's optimum is ``total_cost_gbp + committed_cost_after_horizon_gbp``),
    * ``total_shortfall_wte`` = sum_{p,r} max(0, demand - Y) in the target year,
    * ``qualified_shortfall_wte`` = sum_{p,r} max(0, demand - (S - G)) in the target year,
    * ``intake`` (also ``plan``) = {(p, r, t): x of the main route},
    * ``intake_by_route`` = {(p, k, r, t): x} (main included), ``route_intake`` the same without main,
    * ``retention`` = {(p, tranche, r, t): rho}, ``recruitment`` = {(p, r, t): z (signed in t)},
    * ``route_figures`` = {(p, k, r, t): {intake, in_training, on_placement, in_training_end,
      completions, cost}} (one plan.csv row each), ``lever_cost`` = {(p, r, t): retention + recruitment
      spend in t}, ``levers`` = the levers.csv rows (:func:`lever_rows`),
    * ``stage1_objective``, ``stage2_objective`` (None without sustain years), ``stage3_objective``,
      and per (p, r, t) dicts (totals over routes) ``in_training`` (N), ``on_placement`` (P),
      ``in_training_end`` (E), ``completions`` (C), ``cost`` (trainees only), ``stock`` (S), ``trainee_service`` (T), ``counted_service``
      (beta T), ``supervision_given`` (G), ``supply`` (Y), ``qualified_supply`` (S - G), ``demand``,
      ``shortfall``, ``qualified_shortfall``; ``supervision`` = {(p, q, r, t): y}.
    """
    ds = load_dataset(dataset_dir)
    ex = build_expressions(ds)
    model = _build_model(ds, ex)
    empty = {"status": "infeasible", "weighted_shortfall": None, "sustain_shortfall": None,
             "total_cost_gbp": None, "committed_cost_after_horizon_gbp": None, "total_shortfall_wte": None,
             "qualified_shortfall_wte": None, "intake": None, "plan": None, "stage1_objective": None,
             "stage2_objective": None, "stage3_objective": None}
    if model.infeasible_const:
        return {**empty, "conflicts": model.infeasible_const}
    status, v = _solve(model, model.shortfall_obj, [], time_limit)
    if status != "optimal":
        return {**empty, "status": status}
    z1 = float(model.shortfall_obj @ v)
    extra = _keep(model.shortfall_obj, z1)
    z2 = None
    if ds.sustain_years:
        status, v = _solve(model, model.sustain_obj, extra, time_limit)
        if status != "optimal":
            return {**empty, "status": f"stage 2 {status}", "stage1_objective": z1}
        z2 = float(model.sustain_obj @ v)
        extra = extra + _keep(model.sustain_obj, z2)
    status, v = _solve(model, model.cost_obj, extra, time_limit)
    if status != "optimal":
        return {**empty, "status": f"stage 3 {status}", "stage1_objective": z1, "stage2_objective": z2}
    z3 = float(model.cost_obj @ v) + model.cost_const
    return _report(ds, ex, model, v, z1, z2, z3)


def lever_rows(ds: Dataset, route_intake: dict, retention: dict, recruitment: dict) -> list[dict]:
    """The levers.csv rows (contract-levers.md) for the given amounts, in a fixed order.

    ``route_intake`` {(p, k, r, t): x} (non-main routes), ``retention`` {(p, tranche, r, t): rho},
    ``recruitment`` {(p, r, t): z}. cost_gbp: route kappa_k m_r (sum_l phi_k[l]) x, retention
    c m_r rho, recruitment c m_r z; in_post_target_wte (target year Y, attrition a): route
    j c x (1-a)^(Y - t - Q) when t + Q <= Y, retention rho (1-a)^(Y - t) when t <= Y, recruitment
    (1-e) z (1-a)^(Y - t - L) when t + L <= Y, else 0; gbp_per_wte = cost / in post (None at 0).
    """
    Y = ds.target_year
    out = []

    def add(kind, p, name, r, t, amount, cost, in_post):
        out.append({"kind": kind, "profession": p, "name": name, "region": r, "year": t,
                    "year_label": year_label(t), "amount_wte": amount, "cost_gbp": cost,
                    "in_post_target_wte": in_post, "gbp_per_wte": cost / in_post if in_post > 0 else None})

    for (p, k, r, t), x in route_intake.items():
        route = ds.routes[p, k]
        a = ds.professions[p].attrition
        done = t + route.lag
        in_post = route.joining * route.completion * x * (1 - a) ** (Y - done) if done <= Y else 0.0
        add("route", p, k, r, t, x, route.cost * ds.regions[r] * sum(route.phi) * x, in_post)
    for (p, i, r, t), rho in retention.items():
        a = ds.professions[p].attrition
        add("retention", p, f"tranche {i}", r, t, rho, ds.retention[p, r, i].cost * ds.regions[r] * rho,
            rho * (1 - a) ** (Y - t) if t <= Y else 0.0)
    for (p, r, t), z in recruitment.items():
        rec = ds.recruitment[p, r]
        a = ds.professions[p].attrition
        arrive = t + rec.lead_time
        add("recruitment", p, "recruitment", r, t, z, rec.cost * ds.regions[r] * z,
            (1 - rec.attrition) * z * (1 - a) ** (Y - arrive) if arrive <= Y else 0.0)
    return out


def _report(ds: Dataset, ex: Expressions, model: _Model, v: np.ndarray, z1: float, z2: float | None,
            z3: float) -> dict:
    v = v.copy()
    for key, k in ex.xindex.items():
        value = min(max(v[k], model.lb[k]), model.ub[k])
        v[k] = round(value) if ds.integer_places else value
    for k in list(ex.yindex.values()) + list(ex.rhoindex.values()) + list(ex.zindex.values()):
        v[k] = min(max(0.0, v[k]), model.ub[k])
    keys = list(ex.N)

    def values(store):
        return {k: float(store[k].value(v)) for k in keys}

    by_route = {key: float(v[k]) for key, k in ex.xindex.items()}
    out = {
        "status": "optimal",
        "stage1_objective": z1,
        "stage2_objective": z2,
        "stage3_objective": z3,
        "intake": {(p, r, t): x for (p, k, r, t), x in by_route.items() if k == "main"},
        "intake_by_route": by_route,
        "route_intake": {key: x for key, x in by_route.items() if key[1] != "main"},
        "retention": {key: float(v[k]) for key, k in ex.rhoindex.items()},
        "recruitment": {key: float(v[k]) for key, k in ex.zindex.items()},
        "route_figures": {key: {"intake": by_route[key], "in_training": float(ex.NK[key].value(v)),
                                "on_placement": float(ex.PK[key].value(v)),
                                "in_training_end": float(ex.EK[key].value(v)),
                                "completions": float(ex.CK[key].value(v)), "cost": float(ex.costK[key].value(v))}
                          for key in ex.xindex},
        "in_training": values(ex.N),
        "on_placement": values(ex.P),
        "in_training_end": values(ex.E),
        "completions": values(ex.C),
        "cost": values(ex.cost),
        "lever_cost": values(ex.lever_cost),
        "stock": values(ex.S),
        "trainee_service": values(ex.T),
        "supervision_given": values(ex.G),
        "supply": values(ex.supply),
        "qualified_supply": values(ex.qualified),
        "demand": {k: float(ds.demand.get(k, 0.0)) for k in keys},
        "supervision": {key: float(v[k]) for key, k in ex.yindex.items()},
    }
    out["plan"] = out["intake"]
    out["levers"] = lever_rows(ds, out["route_intake"], out["retention"], out["recruitment"])
    out["counted_service"] = {k: ds.professions[k[0]].beta * out["trainee_service"][k] for k in keys}
    out["shortfall"] = {k: max(0.0, out["demand"][k] - out["supply"][k]) for k in keys}
    out["qualified_shortfall"] = {k: max(0.0, out["demand"][k] - out["qualified_supply"][k]) for k in keys}

    def weighted(years):
        return float(sum(ds.year_weight(t) * ds.professions[p].weight * out["shortfall"][p, r, t]
                         for (p, r, t) in keys if t in years))

    out["weighted_shortfall"] = weighted(ds.assessed_years)
    out["sustain_shortfall"] = weighted(ds.sustain_years) if ds.sustain_years else None
    target = [(p, r, ds.target_year) for p in ds.professions for r in ds.regions]
    out["total_shortfall_wte"] = float(sum(out["shortfall"][k] for k in target))
    out["qualified_shortfall_wte"] = float(sum(out["qualified_shortfall"][k] for k in target))
    out["total_cost_gbp"] = float(sum(out["cost"].values()) + sum(out["lever_cost"].values()))
    out["committed_cost_after_horizon_gbp"] = float(ex.committed.value(v))
    return out


def write_shortfall_stage_mps(dataset_dir: str | Path, path: str | Path) -> Path:
    """Write stage 1 (minimise the weighted target shortfall) as an MPS file, through highspy.

    For self-tests of the checker's ``shortfall_stage.mps`` check; needs highspy.
    """
    import highspy

    ds = load_dataset(dataset_dir)
    model = _build_model(ds, build_expressions(ds))
    rows = [(r[0], -np.inf if r[4] == "<=" else r[1], r[1]) for r in model.rows]
    lp = highspy.HighsLp()
    lp.num_col_ = model.n
    lp.num_row_ = len(rows)
    inf = highspy.kHighsInf
    lp.col_cost_ = model.shortfall_obj
    lp.col_lower_ = model.lb
    lp.col_upper_ = np.where(np.isinf(model.ub), inf, model.ub)
    lp.row_lower_ = np.array([-inf if math.isinf(lo) else lo for _, lo, _ in rows])
    lp.row_upper_ = np.array([hi for _, _, hi in rows])
    starts, index, value = [0], [], []
    for terms, _, _ in rows:
        for k, v in sorted(terms.items()):
            index.append(k)
            value.append(v)
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=float)
    lp.a_matrix_.num_col_ = model.n
    lp.a_matrix_.num_row_ = len(rows)
    if ds.integer_places:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in model.integrality]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if h.passModel(lp) != highspy.HighsStatus.kOk:
        raise RuntimeError("highspy refused the stage-1 model")
    out = Path(path)
    h.writeModel(str(out))
    return out

"""Independent reference implementation of the LP in ``MODEL.md``.

Written from the specification alone, without the optimiser package: it
reads a dataset folder with the ``csv`` and ``yaml`` modules (or, for the
workbook form, the sheets of an ``.xlsx`` with openpyxl), builds a sparse
matrix itself and solves it with HiGHS through SciPy.

Notation (b = base year, H = horizon end, T = decision years b+1..H):

* ``I[p,r,s]`` = ``x[p,r,s]`` for s in T, ``pipeline[p,r,s]`` for s <= b;
* ``N[p,r,t] = sum_{s=t-d+1..t} I[p,r,s]`` (in training during t);
* ``M[p,r,t] = sum_{s=t-d+2..t} I[p,r,s]`` (still in training at the end of t);
* ``C[p,r,t] = c * I[p,r,t-d+1]``;
* ``S[p,r,b] = stock``, ``S[p,r,t] = (1-a) S[p,r,t-1] + j C[p,r,t] + inflow[p,r,t]
  - sum_q share[q,p] I[q,r,t]``;
* ``supply = S + tsw * M``; ``shortfall = max(0, demand - supply)``.

Inputs: a missing workforce/demand/inflow row is 0, a missing optional table
has no rows, blank weight and cost_multiplier are 1, blank max_growth,
placement_capacity and intake_max are "no limit", blank intake_min is 0, a
budget year without a row has no limit. Rows for years outside the decision
years (demand, inflows, capacity, budget) constrain nothing and are ignored;
pipeline cohorts must start in or before the base year.

Variable layout (deliberately unlike a "one variable per quantity" model):
S, N, M and C are *eliminated*; they are affine expressions in ``x``
(:class:`Affine`). The LP columns are only ``x[p,r,t]`` (intake, bounded by
intake_min/intake_max), ``y[p,q,r,t] >= 0`` (supervision hours, for allowed
pairs of trainee professions that need supervision) and ``u[p,r,t] >= 0``
(shortfall, for assessed years with positive demand). Every constraint is a
row ``A v <= b``:

* stock:        ``-S[p,r,t] <= 0``
* budget:       ``sum_{p,r} cost_p mult_r N[p,r,t] <= B[t]`` (and per region)
* need:         ``h_p N[p,r,t] - sum_q y[p,q,r,t] <= 0``
* supervisor:   ``sum_p y[p,q,r,t] - H_q S[q,r,t-1] <= 0``
* placement:    ``N[p,r,t] <= cap[p,r,t]``
* growth:       ``sum_r I[p,r,t] - (1+g) sum_r I[p,r,t-1] <= 0``
* shortfall:    ``demand - supply - u <= 0``

Stage 1 minimises ``z = sum yw_t w_p u``; stage 2 adds
``z <= z1 + 1e-6 |z1| + 1e-6`` and minimises the total cost
``sum_{t in T,p,r} cost_p mult_r N[p,r,t]`` (pipeline trainees included).
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

STAGE2_REL = 1e-6
STAGE2_ABS = 1e-6

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
    time_limit_seconds: float | None = None

    @property
    def decision_years(self) -> list[int]:
        return list(range(self.base_year + 1, self.horizon_end + 1))

    def year_weight(self, t: int) -> float:
        return self.year_weights.get(t, 1.0)

    def intake_const(self, p: str, r: str, s: int) -> float:
        """Pipeline intake for s <= b (0 when absent)."""
        return self.pipeline.get((p, r, s), 0.0)


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
        assessed = [parse_year(y) for y in (settings.get("assessed_years") or [target])]
        weights = {parse_year(k): float(v) for k, v in (settings.get("year_weights") or {}).items()}
    except KeyError as exc:
        raise DatasetError(f"settings.yaml: missing {exc.args[0]}") from None
    except ValueError as exc:
        raise DatasetError(f"settings.yaml: {exc}") from None
    if not base < target <= horizon:
        raise DatasetError("settings.yaml: need base_year < target_year <= horizon_end, "
                           f"got {base}, {target}, {horizon}")
    decision = set(range(base + 1, horizon + 1))
    for y in assessed:
        if y not in decision:
            raise DatasetError(f"settings.yaml: assessed year {y} is not a decision year")
    if any(w < 0 for w in weights.values()):
        raise DatasetError("settings.yaml: year_weights must be >= 0")
    integer = settings.get("integer_places", False)
    integer = integer.strip().lower() in ("true", "yes", "1") if isinstance(integer, str) else bool(integer)
    time_limit = settings.get("time_limit_seconds")

    # professions
    name = "professions.csv"
    cols = ["profession", "name", "duration_years", "completion_rate", "joining_rate", "attrition_rate",
            "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "supervisor_hours_per_wte",
            "trainee_service_wte"]
    professions: dict[str, Profession] = {}
    for n, row in _read(folder, name, cols, ["weight", "max_growth"], must_exist=True):
        key = _key(name, n, row, "profession", None)
        duration = _num(name, n, row, "duration_years")
        if not duration.is_integer() or duration < 1:
            raise DatasetError(f"{name} row {n}, column duration_years: must be an integer >= 1")
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

    return Dataset(
        professions=professions, regions=regions, stock=stock, demand=demand, pipeline=pipeline,
        placement=placement, intake_min=intake_min, intake_max=intake_max, pairs=pairs, shares=shares,
        budget=budget, regional_budget=regional, inflow=inflow, base_year=base, target_year=target,
        horizon_end=horizon, assessed_years=sorted(set(assessed)), year_weights=weights,
        integer_places=integer, time_limit_seconds=time_limit,
    )


# --------------------------------------------------------------------------
# affine expressions in x
# --------------------------------------------------------------------------


class Affine:
    """``const + sum_k terms[k] * x[k]`` over the intake columns."""

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

    def value(self, x: np.ndarray) -> float:
        return self.const + sum(v * x[k] for k, v in self.terms.items())


@dataclass
class Expressions:
    """I, N, M, C, S (S also at the base year) and supply as :class:`Affine`."""

    xindex: dict[tuple[str, str, int], int]
    I: dict
    N: dict
    M: dict
    C: dict
    S: dict
    supply: dict
    cost: dict  # (p, r, t) -> cost_p * mult_r * N


def build_expressions(ds: Dataset) -> Expressions:
    """Eliminate N, M, C, S: write each as an affine function of x."""
    T = ds.decision_years
    b = ds.base_year
    xindex = {(p, r, t): k for k, (p, r, t) in enumerate(
        (p, r, t) for p in ds.professions for r in ds.regions for t in T)}

    def intake(p, r, s) -> Affine:
        if s > b:
            return Affine(0.0, {xindex[p, r, s]: 1.0})
        return Affine(ds.intake_const(p, r, s))

    I, N, M, C, S, supply, cost = {}, {}, {}, {}, {}, {}, {}
    for p, prof in ds.professions.items():
        d = prof.duration
        for r in ds.regions:
            for s in range(b - d, ds.horizon_end + 1):
                I[p, r, s] = intake(p, r, s)
            for t in T:
                N[p, r, t] = Affine()
                for s in range(t - d + 1, t + 1):
                    N[p, r, t].add(I[p, r, s])
                M[p, r, t] = Affine()
                for s in range(t - d + 2, t + 1):
                    M[p, r, t].add(I[p, r, s])
                C[p, r, t] = I[p, r, t - d + 1].scaled(prof.completion)
                cost[p, r, t] = N[p, r, t].scaled(prof.cost * ds.regions[r])
    for r in ds.regions:
        for p, prof in ds.professions.items():
            S[p, r, b] = Affine(ds.stock.get((p, r), 0.0))
        for t in T:
            for p, prof in ds.professions.items():
                s = S[p, r, t - 1].scaled(1.0 - prof.attrition)
                s.add(C[p, r, t], prof.joining)
                s.const += ds.inflow.get((p, r, t), 0.0)
                for (q, src), share in ds.shares.items():
                    if src == p and share:
                        s.add(I[q, r, t], -share)
                S[p, r, t] = s
                supply[p, r, t] = s.scaled(1.0).add(M[p, r, t], prof.trainee_service)
    return Expressions(xindex, I, N, M, C, S, supply, cost)


# --------------------------------------------------------------------------
# the LP
# --------------------------------------------------------------------------


@dataclass
class _Model:
    n: int
    rows: list  # (dict col -> coef, ub, family, key)
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray
    shortfall_obj: np.ndarray
    cost_obj: np.ndarray
    cost_const: float
    yindex: dict
    uindex: dict
    infeasible_const: list  # constant rows that are violated


def _build_model(ds: Dataset, ex: Expressions) -> _Model:
    T = ds.decision_years
    nx = len(ex.xindex)
    col = nx
    # y: allowed pairs whose trainee profession needs supervision
    yindex = {}
    by_trainee: dict = {}  # (p, r, t) -> {col: -1}
    by_supervisor: dict = {}  # (q, r, t) -> {col: 1}
    for (p, q) in ds.pairs:
        if ds.professions[p].supervision_hours > 0:
            for r in ds.regions:
                for t in T:
                    yindex[p, q, r, t] = col
                    by_trainee.setdefault((p, r, t), {})[col] = -1.0
                    by_supervisor.setdefault((q, r, t), {})[col] = 1.0
                    col += 1
    uindex = {}
    for t in ds.assessed_years:
        for p in ds.professions:
            for r in ds.regions:
                if ds.demand.get((p, r, t), 0.0) > 0:
                    uindex[p, r, t] = col
                    col += 1
    n = col
    lb = np.zeros(n)
    ub = np.full(n, np.inf)
    for key, k in ex.xindex.items():
        lb[k] = ds.intake_min.get(key, 0.0)
        ub[k] = ds.intake_max.get(key, np.inf)
    integrality = np.zeros(n, dtype=int)
    if ds.integer_places:
        integrality[:nx] = 1

    rows: list = []
    bad: list = []

    def leq(expr: Affine, rhs: float, family: str, key, extra: dict | None = None):
        terms = {k: v for k, v in expr.terms.items() if v != 0.0}
        for k, v in (extra or {}).items():
            terms[k] = terms.get(k, 0.0) + v
        bound = rhs - expr.const
        if not terms:
            if bound < -1e-9 * max(1.0, abs(rhs)):
                bad.append((family, key, -bound))
            return
        rows.append((terms, bound, family, key))

    for t in T:
        for p in ds.professions:
            for r in ds.regions:
                leq(ex.S[p, r, t].scaled(-1.0), 0.0, "stock", (p, r, t))
        if t in ds.budget:
            total = Affine()
            for key, c in ex.cost.items():
                if key[2] == t:
                    total.add(c)
            leq(total, ds.budget[t], "budget", t)
        for r in ds.regions:
            if (r, t) in ds.regional_budget:
                total = Affine()
                for (p, rr, tt), c in ex.cost.items():
                    if rr == r and tt == t:
                        total.add(c)
                leq(total, ds.regional_budget[r, t], "regional budget", (r, t))
            for p, prof in ds.professions.items():
                if prof.supervision_hours > 0:
                    y = by_trainee.get((p, r, t), {})
                    leq(ex.N[p, r, t].scaled(prof.supervision_hours), 0.0, "supervision need", (p, r, t), y)
            for q in ds.professions:
                y = by_supervisor.get((q, r, t))
                if y:
                    cap = ex.S[q, r, t - 1].scaled(-ds.professions[q].supervisor_hours)
                    leq(cap, 0.0, "supervisor capacity", (q, r, t), y)
            for p in ds.professions:
                if (p, r, t) in ds.placement:
                    leq(ex.N[p, r, t], ds.placement[p, r, t], "placement", (p, r, t))
        for p, prof in ds.professions.items():
            if prof.max_growth is not None:
                total = Affine()
                for r in ds.regions:
                    total.add(ex.I[p, r, t]).add(ex.I[p, r, t - 1], -(1.0 + prof.max_growth))
                leq(total, 0.0, "growth", (p, t))
    shortfall_obj = np.zeros(n)
    for (p, r, t), k in uindex.items():
        # demand - supply - u <= 0
        leq(ex.supply[p, r, t].scaled(-1.0), -ds.demand[p, r, t], "shortfall", (p, r, t), {k: -1.0})
        shortfall_obj[k] = ds.year_weight(t) * ds.professions[p].weight
    cost_obj = np.zeros(n)
    cost_const = 0.0
    for c in ex.cost.values():
        cost_const += c.const
        for k, v in c.terms.items():
            cost_obj[k] += v
    return _Model(n, rows, lb, ub, integrality, shortfall_obj, cost_obj, cost_const, yindex, uindex, bad)


def _matrix(model: _Model, extra_rows: list) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows scaled so the largest coefficient of each is 1 (same feasible set)."""
    data, indices, indptr, rhs = [], [], [0], []
    for terms, bound in [(r[0], r[1]) for r in model.rows] + extra_rows:
        scale = max(abs(v) for v in terms.values())
        for k, v in terms.items():
            indices.append(k)
            data.append(v / scale)
        indptr.append(len(indices))
        rhs.append(bound / scale)
    A = sp.csr_matrix((data, indices, indptr), shape=(len(rhs), model.n))
    return A, np.array(rhs, dtype=float)


def _solve(model: _Model, objective: np.ndarray, extra_rows: list, time_limit: float | None):
    """Returns (status, v) with status one of optimal/infeasible/unbounded/time_limit/error."""
    A, b = _matrix(model, extra_rows)
    if model.integrality.any():
        options = {"disp": False, "mip_rel_gap": 1e-9}
        if time_limit:
            options["time_limit"] = float(time_limit)
        constraints = [LinearConstraint(A, -np.inf, b)] if A.shape[0] else []
        res = milp(objective, constraints=constraints, integrality=model.integrality,
                   bounds=Bounds(model.lb, model.ub), options=options)
    else:
        options = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
        if time_limit:
            options["time_limit"] = float(time_limit)
        res = linprog(objective, A_ub=A if A.shape[0] else None, b_ub=b if A.shape[0] else None,
                      bounds=np.column_stack([model.lb, model.ub]), method="highs", options=options)
    status = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    if status == "time_limit" and getattr(res, "x", None) is None:
        status = "not_solved"
    return status, (None if res.x is None else np.asarray(res.x, dtype=float))


def solve_reference(dataset_dir: str | Path, *, time_limit: float | None = None) -> dict:
    """Solve the lexicographic LP/MILP of MODEL.md for a dataset folder.

    Returns a dict with ``status`` and, when a plan exists:

    * ``weighted_shortfall`` = sum_{assessed t,p,r} yw_t w_p max(0, demand - supply) at the plan,
    * ``total_cost_gbp`` = stage-2 optimum, sum_{t in T,p,r} cost_p mult_r N[p,r,t],
    * ``total_shortfall_wte`` = sum_{p,r} max(0, demand - supply) in the target year,
    * ``intake`` = {(p, r, t): x},
    * ``stage1_objective`` (z1), and per (p, r, t) dicts ``in_training`` (N), ``in_training_end`` (M),
      ``completions`` (C), ``stock`` (S), ``supply``, ``demand``, ``shortfall``, ``cost`` and
      ``supervision`` = {(p, q, r, t): y}.
    """
    ds = load_dataset(dataset_dir)
    ex = build_expressions(ds)
    model = _build_model(ds, ex)
    empty = {"status": "infeasible", "weighted_shortfall": None, "total_cost_gbp": None,
             "total_shortfall_wte": None, "intake": None, "stage1_objective": None}
    if model.infeasible_const:
        return {**empty, "conflicts": model.infeasible_const}
    status, v = _solve(model, model.shortfall_obj, [], time_limit)
    if status != "optimal":
        return {**empty, "status": status}
    z1 = float(model.shortfall_obj @ v)
    terms = {k: float(c) for k, c in enumerate(model.shortfall_obj) if c}
    extra = [(terms, z1 + STAGE2_REL * abs(z1) + STAGE2_ABS)] if terms else []
    status, v = _solve(model, model.cost_obj, extra, time_limit)
    if status != "optimal":
        return {**empty, "status": f"stage 2 {status}", "stage1_objective": z1}
    return _report(ds, ex, model, v, z1)


def _report(ds: Dataset, ex: Expressions, model: _Model, v: np.ndarray, z1: float) -> dict:
    x = np.zeros(len(ex.xindex))
    for key, k in ex.xindex.items():
        value = min(max(v[k], model.lb[k]), model.ub[k])
        x[k] = round(value) if ds.integer_places else value
    keys = list(ex.N)
    out = {
        "status": "optimal",
        "stage1_objective": z1,
        "intake": {key: float(x[k]) for key, k in ex.xindex.items()},
        "in_training": {k: float(ex.N[k].value(x)) for k in keys},
        "in_training_end": {k: float(ex.M[k].value(x)) for k in keys},
        "completions": {k: float(ex.C[k].value(x)) for k in keys},
        "stock": {k: float(ex.S[k].value(x)) for k in keys},
        "supply": {k: float(ex.supply[k].value(x)) for k in keys},
        "demand": {k: float(ds.demand.get(k, 0.0)) for k in keys},
        "cost": {k: float(ex.cost[k].value(x)) for k in keys},
        "supervision": {key: max(0.0, float(v[k])) for key, k in model.yindex.items()},
    }
    out["shortfall"] = {k: max(0.0, out["demand"][k] - out["supply"][k]) for k in keys}
    out["weighted_shortfall"] = float(sum(
        ds.year_weight(t) * ds.professions[p].weight * out["shortfall"][p, r, t]
        for (p, r, t) in keys if t in ds.assessed_years))
    out["total_shortfall_wte"] = float(sum(out["shortfall"][p, r, ds.target_year]
                                           for p in ds.professions for r in ds.regions))
    out["total_cost_gbp"] = float(sum(out["cost"].values()))
    return out

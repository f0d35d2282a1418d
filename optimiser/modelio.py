"""Save a built model to ``model.json`` and load it back, for ``optimiser build`` / ``solve``.

The file holds the validated dataset, PuLP's own dictionary form of the
stage-1 problem, the stage-2 cost objective and our registry: which variable
and constraint name belongs to which (family, profession, region, year).
Names are ours (``x_12``, ``c_40``), written and read as they are.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulp

from models.inputs import TABLES, Dataset
from optimiser.build import KEEP_ROW, CommissionModel
from optimiser.errors import InputError, Problem
from optimiser.families import FAMILIES
from optimiser.registry import ConstraintKey, Entry
from optimiser.tablefiles import file_problem

FORMAT = "psych-commission-model/4"  # 4: PuLP 4, with the empty keep rows
#: A larger model.json is refused before it is read.
MAX_MODEL_BYTES = 2_000_000_000


def _expr(expr: pulp.LpAffineExpression) -> dict:
    return {"constant": expr.constant, "terms": [[v.name, c] for v, c in expr.items()]}


def model_to_dict(model: CommissionModel) -> dict:
    return {
        "format": FORMAT,
        "dataset": model.dataset.model_dump(mode="json"),
        "integer": model.integer,
        "build_seconds": model.build_seconds,
        "problem": model.problem.toDict(),
        "x": [[*k, v.name] for k, v in model.x.items()],
        "stock": [[*k, v.name] for k, v in model.stock.items()],
        "u": [[*k, v.name] for k, v in model.u.items()],
        "y": [[*k, v.name] for k, v in model.y.items()],
        "rho": [[*k, v.name] for k, v in model.rho.items()],
        "z": [[*k, v.name] for k, v in model.z.items()],
        "constraints": [[e.key.family, e.key.profession, e.key.region, e.key.year, e.key.item,
                         e.constraint.name, e.sense, e.rhs] for e in model.registry],
        "constant_violations": [[k.family, k.profession, k.region, k.year, k.item, gap]
                                for k, gap in model.registry.constant_violations],
        "shortfall_objective": _expr(model.shortfall_objective),
        "sustain_objective": None if model.sustain_objective is None else _expr(model.sustain_objective),
        "cost_objective": _expr(model.cost_objective),
        "committed_cost": {"constant": model.committed_cost.constant,
                           "terms": [[v.name, c] for v, c in model.committed_cost.terms.items()]},
    }


def model_json(model: CommissionModel) -> bytes:
    """``model.json``: the built model (``model_to_dict``)."""
    return json.dumps(model_to_dict(model)).encode("utf-8")


def load_model(path: str | Path) -> CommissionModel:
    """Rebuild a ``CommissionModel`` from ``model.json``; raises ``InputError`` if it is not one."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.json"
    found = file_problem(path, str(path), MAX_MODEL_BYTES) if path.exists() or path.is_symlink() else None
    if found is not None:
        raise InputError([found])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError([Problem(str(path), None, None, None, f"cannot be read as a built model: {exc}")])
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError([Problem(str(path), None, None, None,
                                  f"is not a model written by 'optimiser build' (format {FORMAT})")])
    try:
        return _rebuild(data, path)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InputError([Problem(str(path), None, None, None, "is damaged (was it edited?): "
                                  f"{type(exc).__name__}: {exc}; build the model again")]) from None


def _rebuild(data: dict, path: Path) -> CommissionModel:
    from optimiser.bounds import row_problems

    variables, problem = pulp.LpProblem.fromDict(data["problem"])
    dataset = Dataset.model_validate(data["dataset"])
    out_of_bounds = [p for name in TABLES for p in row_problems(
        f"{path} [dataset {name}]", dataset.table_rows(name), list(range(1, len(dataset.table_rows(name)) + 1)))]
    if out_of_bounds:
        raise InputError(out_of_bounds)
    model = CommissionModel(dataset, problem, integer=data["integer"], build_seconds=data["build_seconds"],
                            families=FAMILIES)
    model.x = {(p, k, r, t): variables[n] for p, k, r, t, n in data["x"]}
    model.stock = {(p, r, t): variables[n] for p, r, t, n in data["stock"]}
    model.u = {(p, r, t): variables[n] for p, r, t, n in data["u"]}
    model.y = {(p, q, r, t): variables[n] for p, q, r, t, n in data["y"]}
    model.rho = {(p, r, i, t): variables[n] for p, r, i, t, n in data["rho"]}
    model.z = {(p, r, t): variables[n] for p, r, t, n in data["z"]}
    for family, p, r, t, item, name, sense, rhs in data["constraints"]:
        key = ConstraintKey(family, p, r, t, item)
        model.registry.entries[key] = Entry(key, problem.get_constraint_by_name(name), sense, rhs,
                                            relax_down=FAMILIES[family].relax_down)
    model.registry.constant_violations = [(ConstraintKey(f, p, r, t, i), g)
                                          for f, p, r, t, i, g in data["constant_violations"]]
    for attr in ("shortfall_objective", "sustain_objective", "cost_objective"):
        expr = data[attr]
        if expr is not None:
            setattr(model, attr, pulp.LpAffineExpression.from_dict({variables[n]: c for n, c in expr["terms"]},
                                                                   expr["constant"]))
    for stage, name in KEEP_ROW.items():
        row = problem.get_constraint_by_name(name)
        if row is not None:
            model.keep_rows[stage] = row
    committed = data["committed_cost"]
    model.committed_cost.constant = committed["constant"]
    for n, c in committed["terms"]:
        model.committed_cost.add(variables[n], c)
    return model

"""Scenarios as cases to solve: a file's scenarios (and sweeps) expanded over the base, the
command line's ``--set`` overrides, and each case's fingerprint.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from models.inputs import Settings
from optimiser.errors import InputError, Problem
from optimiser.scenarios.overrides import FileProblem, MAX_CASES, Override, SETTINGS, pydantic_message, show_value, unique_problems
from optimiser.scenarios.schema import OverrideSpec, ScenarioSpec
from optimiser.scenarios.files import LoadedFile
from optimiser.scenarios.base import Base
from optimiser.scenarios.resolve import is_sweep, resolve
from optimiser.scenarios.apply import apply_overrides


@dataclass(frozen=True)
class Case:
    """One solve of a batch: a scenario, or one point of a scenario's sweep."""

    name: str
    scenario: str
    description: str | None
    overrides: tuple[Override, ...]
    #: The positions in ``overrides`` of the values swept (one per sweep of the scenario).
    swept: tuple[int, ...] = ()


def expand(loaded: LoadedFile, base: Base, cli: list[Override] | tuple[Override, ...] = (),
           only: str | None = None) -> list[Case]:
    """Every case of the file, in file order: sweeps expanded to the product of their values.

    Each scenario's overrides (and the command line's, last) are checked against
    the base now (unknown names, no matching row, clashes), so a batch refuses a
    broken file before solving anything.
    """
    problems: list[Problem] = []
    cases: list[Case] = []
    for name, scenario in loaded.spec.scenarios.items():
        if only is not None and name != only:
            continue
        try:
            cases += _expand_one(loaded, base, name, scenario, tuple(cli), room=MAX_CASES - len(cases))
        except InputError as exc:
            problems += exc.problems
    seen: dict[str, str] = {}
    for case in cases:
        lowered = case.name.lower()
        if lowered in seen:
            problems.append(FileProblem(loaded.label, loaded.line("scenarios", case.scenario), None, case.name,
                                    f"scenario '{case.scenario}': case name '{case.name}' is also produced by "
                                    f"scenario '{seen[lowered]}' (names are folder names, compared ignoring case)"))
        seen[lowered] = case.scenario
    if len(cases) > MAX_CASES:
        problems.append(Problem(loaded.label, None, None, None, f"expands to {len(cases)} cases; at most {MAX_CASES}"))
    if problems:
        raise InputError(unique_problems(problems))
    return cases


def _expand_one(loaded: LoadedFile, base: Base, name: str, scenario: ScenarioSpec,
                cli: tuple[Override, ...], room: int = MAX_CASES) -> list[Case]:
    """The cases of one scenario; ``InputError`` when there would be more than ``room`` (counted
    before any case is made)."""
    file = loaded.label
    groups: list[list[Override]] = []
    labels: list[str | None] = []
    sweeps: list[bool] = []
    problems: list[Problem] = []
    for key, value in scenario.settings.items():
        line = loaded.line("scenarios", name, "settings", key)
        spec = _setting_spec(key, value, file, line, name, problems)
        if spec is None:
            continue
        try:
            groups.append(resolve(spec, base, layer=name, file=file, line=line))
            labels.append(key)
            sweeps.append(is_sweep(spec))
        except InputError as exc:
            problems += exc.problems
    for i, spec in enumerate(scenario.overrides):
        line = (loaded.lines.get(("scenarios", name, "overrides", i))
                or loaded.line("scenarios", name, i))
        try:
            groups.append(resolve(spec, base, layer=name, file=file, line=line))
            labels.append(spec.label)
            sweeps.append(is_sweep(spec))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    count = math.prod(len(g) for g in groups)
    if count > room:
        raise InputError([FileProblem(file, loaded.line("scenarios", name), None, None,
                                      f"scenario '{name}' expands to {count:,} cases; at most {MAX_CASES:,} cases "
                                      "in all")])
    sweeping = [i for i, flag in enumerate(sweeps) if flag]
    names = _sweep_labels([groups[i][0] for i in sweeping], [labels[i] for i in sweeping], name, loaded)
    # Structure (names, matches, clashes) is the same for every point of a sweep: check the first.
    apply_overrides(base, tuple(g[0] for g in groups) + cli)
    cases = []
    for combo in itertools.product(*groups):
        parts = [f"{names[k]}={_value_label(combo[i])}" for k, i in enumerate(sweeping)]
        case = "--".join([name] + parts) if parts else name
        cases.append(Case(_folder_safe(case), name, scenario.description, tuple(combo) + cli, tuple(sweeping)))
    return cases


def _setting_spec(key: Any, value: Any, file: str, line: int | None, scenario: str,
                  problems: list[Problem]) -> OverrideSpec | None:
    """One entry of a scenario's ``settings:`` as an override (a located problem if it cannot be)."""
    def problem(message: str) -> None:
        problems.append(FileProblem(file, line, None, str(key), f"scenario '{scenario}': {message}"))

    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_]\w*", key):
        problem(f"unknown setting '{key}'; expected one of {', '.join(Settings.model_fields)}")
        return None
    try:
        return OverrideSpec.model_validate({"target": f"{SETTINGS}.{key}", "set": value})
    except ValidationError as exc:
        problem(f"settings.{key}: " + "; ".join(dict.fromkeys(pydantic_message(e) for e in exc.errors())))
        return None


def _sweep_labels(first: list[Override], given: list[str | None], scenario: str, loaded: LoadedFile) -> list[str]:
    labels = [g or ov.column for ov, g in zip(first, given)]
    counts = {lab: labels.count(lab) for lab in labels}
    out = []
    for ov, g, lab in zip(first, given, labels):
        if counts[lab] > 1 and g is None:
            lab = lab + "@" + "_".join(show_value(v) for _, vals in ov.where for v in vals)
        out.append(lab)
    if len(set(out)) != len(out):
        raise InputError([first[0].problem("two sweeps of this scenario would name their cases alike; "
                                           "give each a distinct 'label:'")])
    return out


def _value_label(ov: Override) -> str:
    if ov.op == "scale":
        return f"x{ov.value:g}"
    if ov.op == "add":
        return f"{ov.value:+g}"
    if isinstance(ov.value, float):
        return f"{ov.value:g}"
    return show_value(ov.value) if not isinstance(ov.value, (list, dict)) else json.dumps(ov.value)


def _folder_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+=@-]", "_", name)[:200]


def cli_overrides(texts: list[str] | tuple[str, ...], base: Base) -> list[Override]:
    """``--set`` options, in order (single values only; sweeps belong in a scenario file)."""
    out: list[Override] = []
    problems: list[Problem] = []
    for text in texts:
        try:
            spec = OverrideSpec.model_validate(text)
        except ValidationError as exc:
            problems.append(Problem("command line (--set)", None, None, text,
                                    "; ".join(pydantic_message(e) for e in exc.errors())))
            continue
        try:
            resolved = resolve(spec, base, layer="command line")
        except InputError as exc:
            problems += exc.problems
            continue
        if len(resolved) != 1:
            problems.append(Problem("command line (--set)", None, None, text,
                                    "a --set override takes one value; put sweeps in a scenario file"))
            continue
        out += resolved
    if problems:
        raise InputError(problems)
    return out


def resolve_base_path(loaded: LoadedFile, given: str | Path | None,
                      roots: list[str | Path] | tuple[str | Path, ...] = ()) -> Path:
    """The base dataset of a scenario file: the command line's, else the file's ``base:``.

    A ``base:`` is resolved against the scenario file's folder and must lie
    inside it, or inside one of ``roots`` (folders the user named with
    ``--data-root``): no ``..`` escapes, no absolute paths or symbolic links
    leading elsewhere.
    """
    if given is not None:
        return Path(given)
    if loaded.spec.base is None:
        raise InputError([Problem(loaded.label, None, "base", None,
                                  "names no base dataset; add 'base: FOLDER' or give --base DATASET")])
    folder = loaded.path.resolve().parent
    candidate = (folder / loaded.spec.base).resolve()
    allowed = [folder] + [Path(r).resolve() for r in roots]
    if not any(candidate == root or root in candidate.parents for root in allowed):
        raise InputError([FileProblem(loaded.label, loaded.line("base"), "base", loaded.spec.base,
                                  f"the base dataset must be inside the scenario file's folder ({folder})"
                                  + (" or a --data-root folder" if roots else "")
                                  + "; give --data-root FOLDER to allow another folder, or --base DATASET")])
    return candidate


def fingerprint(case: Case, base: Base, options: dict[str, Any]) -> str:
    """What makes a result current: base content, the case's overrides (what they do, not where
    they are written) and the solve options. A changed scenario gets a new fingerprint."""
    payload = {"format": 1, "base": base.fingerprint, "options": options,
               "overrides": [o.identity() for o in case.overrides]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]

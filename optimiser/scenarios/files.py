"""Reading a scenario file: YAML with each key's line, validated against ``schema``, with
messages that name the file, the scenario and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimiser.errors import InputError, Problem
from optimiser.scenarios.overrides import FileProblem, pydantic_message, unique_problems
from optimiser.scenarios.schema import ScenarioFile


@dataclass
class LoadedFile:
    """A parsed, pydantic-validated scenario file with the line of every key."""

    path: Path
    label: str
    spec: ScenarioFile
    lines: dict[tuple, int]

    def line(self, *path: Any) -> int | None:
        """The line of the deepest known prefix of ``path``."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def load_scenario_file(path: str | Path) -> LoadedFile:
    """Read and validate a scenario file; ``InputError`` names the file and the line."""
    path = Path(path)
    label = str(path)
    from optimiser.safeyaml import MAX_SCENARIO_BYTES, read_text

    if not path.exists() and not path.is_symlink():
        raise InputError([Problem(label, None, None, None, "no such scenario file")])
    text = read_text(path, label, MAX_SCENARIO_BYTES, FileProblem)
    data, lines = _compose(text, label)
    if not isinstance(data, dict):
        raise InputError([FileProblem(label, 1, None, None,
                                  "expected a mapping with 'scenarios:' (and optionally 'base:')")])
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        loaded = LoadedFile(path, label, None, lines)  # type: ignore[arg-type]
        groups: dict[tuple, list[dict]] = {}
        for err in exc.errors():
            groups.setdefault(_data_path(tuple(err["loc"]), data), []).append(err)
        problems = []
        for where, errors in groups.items():
            scenario = _scenario_of(where)
            for message in _group_messages(where, errors):
                problems.append(FileProblem(label, loaded.line(*where), ".".join(str(p) for p in where) or None,
                                            None, (f"scenario '{scenario}': " if scenario else "") + message))
        raise InputError(unique_problems(problems))
    return LoadedFile(path, label, spec, lines)


def _scenario_of(loc: tuple) -> str | None:
    return str(loc[1]) if len(loc) > 1 and loc[0] == "scenarios" else None


def _group_messages(where: tuple, errors: list[dict]) -> list[str]:
    """One clear message per place: a value that fits no form of a union says what is expected."""
    specific = [e for e in errors if e["type"] in ("value_error", "extra_forbidden", "missing")]
    if specific or len(errors) == 1:
        return list(dict.fromkeys(pydantic_message(e) for e in (specific or errors)))
    if where and where[-1] in ("scale", "add"):
        return [f"{where[-1]} expects a number, a list of numbers (a sweep) or a range {{start, stop, step}}"]
    return list(dict.fromkeys(pydantic_message(e) for e in errors))[:1]


def _data_path(loc: tuple, data: Any) -> tuple:
    """Map a pydantic error location onto the YAML data's path (scenarios given as a bare list
    gain an 'overrides' step in the model that the file does not have; union members add tags)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        elif part == "overrides" and isinstance(node, list):
            continue
        elif part == "set_":
            out.append("set")
            node = None
        else:
            break
    return tuple(out)


def _compose(text: str, label: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML as plain data with each key's line (``safeyaml.compose``: no aliases, bounded
    depth and size, a key given twice is an error naming both lines)."""
    from optimiser.safeyaml import compose

    return compose(text, label, FileProblem, "scenario files")

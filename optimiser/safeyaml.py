"""YAML read as plain data, with its cost bounded before it is built.

Used for ``settings.yaml`` and scenario files. Before any node is built, the
event stream (PyYAML's parser is not recursive) is scanned once: aliases
(``*name``, which repeat a whole subtree, so a few lines can expand to billions
of values), nesting deeper than ``MAX_DEPTH`` (which would exhaust Python's
recursion in the composer) and more than ``MAX_NODES`` values are refused with
the line. Then the document is composed with the safe loader only, keeping each
key's line; a key given twice is an error naming both lines (``yaml.safe_load``
silently keeps the last one).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from optimiser.errors import InputError, Problem

MAX_DEPTH = 50
MAX_NODES = 200_000
#: Larger files are refused before they are read.
MAX_SETTINGS_BYTES = 1_000_000
MAX_SCENARIO_BYTES = 2_000_000

#: libyaml's parser when PyYAML has it (about ten times faster), else the pure-Python one; both safe.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq",
                                                            "timestamp"))

#: ``(label, line, column, value, message) -> Problem``: how a file's problems are located.
MakeProblem = Callable[[str, int | None, str | None, str | None, str], Problem]


def read_text(path: Path, label: str, limit: int, make: MakeProblem = Problem) -> str:
    """The text of ``path``, refused when it cannot be read or is larger than ``limit`` bytes; the
    encoding is checked as a table file's is (``tablefiles.decode``: UTF-8, or UTF-16 with a BOM)."""
    from optimiser.tablefiles import decode, file_problem

    found = file_problem(path, label, limit)
    if found is None:
        try:
            text, found = decode(path.read_bytes(), label)
        except OSError as exc:
            raise InputError([make(label, None, None, None, f"cannot be read ({exc.strerror or exc})")]) from None
    if found is not None:
        raise InputError([make(found.file, found.row, found.column, found.value, found.message)])
    return text


def _yaml_problem(exc: yaml.YAMLError, label: str, make: MakeProblem) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    reason = getattr(exc, "problem", None) or str(exc)
    if "nesting depth" in reason:  # libyaml's own limit, met before ours
        return InputError([make(label, mark.line + 1 if mark else None, None, None,
                                f"is nested more than {MAX_DEPTH} levels deep")])
    return InputError([make(label, mark.line + 1 if mark else None, None, None, f"is not valid YAML: {reason}")])


def check_events(text: str, label: str, make: MakeProblem = Problem, what: str = "this file") -> None:
    """Refuse aliases, deep nesting and too many values, from the event stream alone."""
    depth = nodes = 0
    aliases: list[int] = []
    try:
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError([make(label, event.start_mark.line + 1, None, None,
                                           f"is nested more than {MAX_DEPTH} levels deep")])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases.append(event.start_mark.line + 1)
                if len(aliases) >= 10:
                    break
            if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                nodes += 1
                if nodes > MAX_NODES:
                    raise InputError([make(label, event.start_mark.line + 1, None, None,
                                           f"holds more than {MAX_NODES:,} values")])
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, label, make) from None
    if aliases:
        raise InputError([make(label, line, None, None, "uses a YAML alias (*name); aliases are not allowed in "
                               f"{what}: "
                               "write the values out") for line in aliases])


def compose(text: str, label: str, make: MakeProblem = Problem,
            what: str = "this file") -> tuple[Any, dict[tuple, int]]:
    """Plain data from YAML ``text`` and the line of each key path; ``InputError`` names the lines.
    ``what`` names the kind of file in messages ("scenario files")."""
    check_events(text, label, make, what)
    try:
        root = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, label, make) from None
    constructor = yaml.constructor.SafeConstructor()
    lines: dict[tuple, int] = {}
    problems: list[Problem] = []

    def scalar(node: yaml.Node) -> Any:
        try:
            return constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            problems.append(make(label, node.start_mark.line + 1, None, None,
                                 f"is not plain data: {getattr(exc, 'problem', exc)}"))
            return None

    def walk(node: yaml.Node, path: tuple) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if node.tag not in PLAIN_TAGS:
            problems.append(make(label, node.start_mark.line + 1, None, None,
                                 f"is not plain data: the tag {node.tag} is not allowed"))
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    problems.append(make(label, key_node.start_mark.line + 1, None, None,
                                         "a key must be a plain word or number"))
                    continue
                if key in out:
                    problems.append(make(label, key_node.start_mark.line + 1, None, str(key),
                                         f"key '{key}' appears twice (first on line {lines[path + (key,)]})"))
                    continue
                lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = walk(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [walk(item, path + (i,)) for i, item in enumerate(node.value)]
        return scalar(node)

    data = walk(root, ()) if root is not None else None
    if problems:
        raise InputError(problems)
    return data, lines

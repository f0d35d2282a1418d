"""Input problems reported to the user: file, row, column, value and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    ``row`` is the line number a user sees in a spreadsheet or editor (the
    header is row 1, the first data row is row 2); ``None`` for whole-file
    problems.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.message}{value}"


class LineProblem(Problem):
    """A problem in a YAML file: ``row`` is the file's line, ``column`` the key."""

    def __str__(self) -> str:
        where = self.file + (f", line {self.row}" if self.row is not None else "")
        if self.column:
            where += f", key '{self.column}'"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.message}{value}"


class InputError(Exception):
    """Raised when a dataset or scenario cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self, limit: int = 50) -> str:
        lines = [str(p) for p in self.problems[:limit]]
        more = len(self.problems) - limit
        if more > 0:
            lines.append(f"... and {more} more problem(s)")
        return "\n".join(lines)


class SolverError(Exception):
    """The solver could not be run at all (missing binary, crash)."""


class OutputError(Exception):
    """An output could not (or may not) be written; the message says why and where."""

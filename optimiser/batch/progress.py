"""A batch's progress and outcome: each case's status and message, the summary and the exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from optimiser.batch.case import COMPARISON, FAILED, PENDING, SCENARIOS_DIR


@dataclass
class BatchReport:
    total: int
    skipped: int  # complete from an earlier run
    statuses: dict[str, str] = field(default_factory=dict)  # name -> status, for every case
    messages: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    out: Path | None = None

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.statuses.values() if s in statuses)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        if self.count(FAILED, PENDING):
            return 1
        if self.count("time_limit", "time_limit_no_plan", "not_solved", "unbounded", "error"):
            return 4
        if self.count("infeasible"):
            return 3
        return 0

    def text(self) -> str:
        ran = self.total - self.skipped
        lines = [f"{self.total} scenario(s): {self.skipped} already complete, {ran} run this time"
                 + (" (interrupted)" if self.interrupted else "")]
        lines.append(f"  done (optimal): {self.count('optimal')}, infeasible: {self.count('infeasible')}, "
                     f"not optimal: {self.count('time_limit', 'time_limit_no_plan', 'not_solved', 'unbounded', 'error')}, "
                     f"failed: {self.count(FAILED)}" + (f", not run: {self.count(PENDING)}" if self.count(PENDING) else ""))
        for name, status in self.statuses.items():
            if status not in ("optimal", PENDING):
                lines.append(f"  {name}: {status.upper().replace('_', ' ')}: {self.messages.get(name, '')}")
        if self.out is not None:
            lines.append(f"Comparison: {self.out / (COMPARISON + '.csv')} (and .xlsx); results in {self.out / SCENARIOS_DIR}")
        if self.interrupted:
            lines.append("Run the same command again to solve the rest; complete results are kept.")
        return "\n".join(lines)

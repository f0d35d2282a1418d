"""The current what-if as the workbook and HTML report ``optimiser report --xlsx/--html`` writes.

The solved what-if's results folder (``pipeline.result_files``, with its overrides in
``summary.json``) is written into a scratch folder, read back as the reports read any
results folder, and handed to the reports' own writers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from optimiser.output import render
from optimiser.pipeline import result_files

WORKBOOK, HTML = "whatif.xlsx", "whatif.html"


def _folder(solved, root: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="result-", dir=root))
    outcome = solved.outcome
    for name, data in render(result_files(outcome.summary, outcome.results, outcome.solution, None)).items():
        (folder / name).write_bytes(data)
    return folder


def write(solved, kind: str, root: Path) -> Path:
    """Write the what-if's ``kind`` (``WORKBOOK`` or ``HTML``) under ``root``; returns its path."""
    from optimiser.reports.folder import load_result

    root.mkdir(parents=True, exist_ok=True)
    result = load_result(_folder(solved, root), dataset=solved.dataset)
    target = Path(tempfile.mkdtemp(prefix="download-", dir=root)) / kind
    if kind == WORKBOOK:
        from optimiser.reports.workbook import write_workbook

        return Path(write_workbook(result, target))
    from optimiser.reports.html import write_html

    return Path(write_html(result, target))

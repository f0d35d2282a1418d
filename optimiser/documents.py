"""The JSON documents the commands print with ``--json`` (one per command, on stdout).

Every document has ``ok`` (the command did what it was asked) and ``exit_code``
(the command's exit status, the same as without ``--json``); failures caught by
``cliopts.guarded`` print ``{"ok": false, "exit_code": ..., "error": ..., "problems": [...]}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimiser.cliopts import status_exit


def run_document(outcome) -> dict[str, Any]:
    """``optimiser run`` / ``explain``: the summary, as ``summary.json`` holds it, and where it went."""
    summary = outcome.summary
    return {"ok": True, "exit_code": status_exit(summary.status), "status": summary.status,
            "results": str(outcome.out_dir) if outcome.out_dir is not None else None,
            "summary": summary.model_dump(mode="json")}


def validate_document(dataset, ds, warnings: list[str]) -> dict[str, Any]:
    years = list(ds.settings.decision_years)
    return {"ok": True, "exit_code": 0, "dataset": str(dataset), "valid": True,
            "professions": len(ds.professions), "regions": len(ds.regions), "decision_years": years,
            "warnings": list(warnings)}


def report_document(folder, notes: list[str], written: list[str]) -> dict[str, Any]:
    """``optimiser report``: one result (summary, split) or a batch folder (its ranking)."""
    from optimiser.reports.folder import BatchFolder

    base = {"ok": True, "exit_code": 0, "path": str(folder.path), "notes": [n for n in notes if n],
            "written": written}
    if isinstance(folder, BatchFolder):
        ranking = folder.ranking()
        return {**base, "kind": "batch", "scenarios": ranking.to_dict(orient="records")}
    why = folder.why
    return {**base, "kind": "result", "exit_code": status_exit(folder.summary.status),
            "summary": folder.summary.model_dump(mode="json"),
            "why": why.to_json() if why is not None else None}


def compare_document(comparison, out: Path | None) -> dict[str, Any]:
    return {"ok": True, "exit_code": 0, **comparison.as_dict(), "written": str(out) if out is not None else None}

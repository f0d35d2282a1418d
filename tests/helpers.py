"""Write small datasets to disk for tests: tables as lists of dicts, settings as a dict."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

PROFESSION_DEFAULTS = {
    "name": "", "duration_years": 1, "completion_rate": 1, "joining_rate": 1, "attrition_rate": 0,
    "cost_per_trainee_year_gbp": 1000, "supervision_hours_per_trainee": 0,
    "supervisor_hours_per_wte": 0, "trainee_service_wte": 0, "weight": 1, "max_growth": "",
}


def profession(key: str, **values) -> dict:
    row = {"profession": key, **PROFESSION_DEFAULTS, **values}
    row["name"] = row["name"] or key
    return row


def write_table(folder: Path, name: str, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or (list(rows[0]) if rows else [])
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return path


def write_dataset(folder: Path, *, settings: dict | None = None, **tables: list[dict]) -> Path:
    """Write ``tables`` (name -> rows) and ``settings.yaml``; regions default to one 'r1'."""
    folder.mkdir(parents=True, exist_ok=True)
    tables.setdefault("regions", [{"region": "r1", "name": "Region 1", "cost_multiplier": 1}])
    tables.setdefault("budget", [])
    columns = {"budget": ["year", "budget_gbp"], "workforce": ["profession", "region", "stock_wte"],
               "demand": ["profession", "region", "year", "demand_wte"]}
    for name, rows in tables.items():
        write_table(folder, name, rows, None if rows else columns.get(name))
    base = {"base_year": 2020, "target_year": 2021}
    (folder / "settings.yaml").write_text(yaml.safe_dump({**base, **(settings or {})}), encoding="utf-8")
    return folder


def write_dataset_object(dataset, folder: Path) -> Path:
    """Write a validated ``Dataset`` (one made in memory, a what-if's) as a CSV folder that
    loads back to an equal dataset: every table with all its columns, and ``settings.yaml``."""
    from models.inputs import TABLES

    folder.mkdir(parents=True, exist_ok=True)
    for name, spec in TABLES.items():
        rows = [row.model_dump(mode="json") for row in dataset.table_rows(name)]
        if rows or spec.required:
            write_table(folder, name, rows, list(spec.columns))
    settings = dataset.settings.model_dump(mode="json", exclude_none=True)
    (folder / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return folder

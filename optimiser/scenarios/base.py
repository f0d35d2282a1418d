"""The base dataset an override applies to: its raw tables, an index of its keys, and a
fingerprint of its content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.inputs import TABLES
from optimiser.rawdata import RawDataset
from optimiser.years import parse_year
from optimiser.scenarios.overrides import YEAR_KEYS


@dataclass
class Base:
    """A base dataset ready for overrides: its raw tables, its keys, and a content fingerprint.

    Built once per batch and sent to each worker once.
    """

    source: str
    raw: RawDataset
    professions: frozenset[str]
    regions: frozenset[str]
    base_year: int
    decision_years: tuple[int, ...]
    national: dict[str, float]  # supervisor_hours_per_wte by profession
    fingerprint: str
    #: table -> [(row index, {key column: normalised value})]
    index: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)


def prepare_base(source: str | Path, raw: RawDataset | None = None) -> Base:
    """Read (unless given) and validate the base dataset once; ``InputError`` if it is invalid."""
    from optimiser.loader import read_raw, validate_raw

    raw = raw if raw is not None else read_raw(source)
    dataset = validate_raw(raw)
    st = dataset.settings
    index = {}
    for name, table in raw.tables.items():
        keys = TABLES[name].key
        index[name] = [(i, {k: _norm_key(k, cells.get(k)) for k in keys}) for i, (_, cells) in enumerate(table.rows)]
    return Base(
        source=raw.source, raw=raw,
        professions=frozenset(dataset.profession), regions=frozenset(dataset.region),
        base_year=st.base_year, decision_years=tuple(st.decision_years),
        national={p.profession: p.supervisor_hours_per_wte for p in dataset.professions},
        fingerprint=raw_fingerprint(raw), index=index,
    )


def raw_fingerprint(raw: RawDataset) -> str:
    """SHA-256 of a dataset's content: every table's header and cells, and the settings."""
    digest = hashlib.sha256()
    for name in sorted(raw.tables):
        table = raw.tables[name]
        digest.update(json.dumps([name, table.columns, [[cells.get(c) for c in table.columns]
                                                        for _, cells in table.rows]]).encode())
    digest.update(json.dumps(raw.settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _norm_key(column: str, text: Any) -> Any:
    if text is None:
        return None
    if column in YEAR_KEYS:
        try:
            return parse_year(text)
        except ValueError:
            return text
    return str(text).strip()

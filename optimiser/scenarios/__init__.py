"""What-if scenarios: overrides of input values, scenario files, sweeps.

An *override* changes input values of a base dataset::

    budget.budget_gbp[year=2022]=*0.9                  scale (x 0.9)
    professions.attrition_rate[profession=pwp]=0.2     set
    inflows.inflow_wte[region=london]=+-5              add (-5)
    capacity.placement_capacity[region=london|midlands,year=2023]=*1.1
    settings.integer_places=true                       a setting

Overrides are applied to the *raw text tables* of the dataset
(``loader.RawDataset``) before validation, so every changed value is checked
exactly as a hand-edited file would be; a value an override makes invalid is
reported with the scenario's name and the line of the scenario file.

Regional supervisor hours: ``supervisor_hours_per_wte`` is a national column of
``professions``, but a region filter on it is accepted and changes the hours a
qualified WTE of that profession gives **in that region only**: it edits (or
adds) that profession's rows of the ``supervisor_hours`` table, starting from
the national value where the table has no row, exactly as a hand-edited table
would. ``supervisor_hours.supervisor_hours_per_wte[profession=..,region=..]``
does the same. The table has no year, so neither takes a year filter; every
other column of ``professions`` refuses a region or year filter with a message.
A regional row replaces the national value in its region, so a later change of
the national value leaves it alone.

Precedence: the base dataset, then the scenario's overrides in the order they
are written (its ``settings:`` block first), then command-line ``--set``
overrides in order. Within one layer (one scenario, or the command line) two
overrides may not change the same value: that is an error naming both lines.

A scenario file is YAML, read with PyYAML's safe loader only (``yaml.compose``
with ``SafeLoader``, to keep line numbers): it is data, never code. See
``docs/scenarios.md`` for the syntax.

The package, in the order its modules build on each other (none imports a later one):
``overrides`` (one resolved override, the compact syntax, shared names), ``schema`` (the
file's models), ``files`` (reading a file), ``base`` (the base dataset's index), ``resolve``
(an override as written -> ``Override`` objects), ``apply`` (overrides -> changed raw
tables), ``cases`` (a file's scenarios and sweeps as cases to solve).
"""

from __future__ import annotations

from optimiser.scenarios.overrides import SETTINGS, REGIONAL_SUPERVISOR_HOURS, HOURS_TABLE, HOURS_COLUMN, BLANK_REGION_TABLES, MAX_CASES, MAX_LISTED_CHANGES, PROFESSION_KEYS, YEAR_KEYS, TEXT_COLUMNS, LIST_SETTINGS, Scalar, Op, FileProblem, Override, show_value, op_text, parse_compact, unique_problems, pydantic_message
from optimiser.scenarios.schema import RangeSpec, round_value, evenly_spaced, OverrideSpec, ScenarioSpec, check_name, ScenarioName, ScenarioFile
from optimiser.scenarios.files import LoadedFile, load_scenario_file
from optimiser.scenarios.base import Base, prepare_base, raw_fingerprint
from optimiser.scenarios.resolve import resolve, is_sweep
from optimiser.scenarios.apply import Applied, apply_overrides, explain_input_error
from optimiser.scenarios.cases import Case, expand, cli_overrides, resolve_base_path, fingerprint

__all__ = [
    "SETTINGS",
    "REGIONAL_SUPERVISOR_HOURS",
    "HOURS_TABLE",
    "HOURS_COLUMN",
    "BLANK_REGION_TABLES",
    "MAX_CASES",
    "MAX_LISTED_CHANGES",
    "PROFESSION_KEYS",
    "YEAR_KEYS",
    "TEXT_COLUMNS",
    "LIST_SETTINGS",
    "Scalar",
    "Op",
    "FileProblem",
    "Override",
    "show_value",
    "op_text",
    "parse_compact",
    "unique_problems",
    "pydantic_message",
    "RangeSpec",
    "round_value",
    "evenly_spaced",
    "OverrideSpec",
    "ScenarioSpec",
    "check_name",
    "ScenarioName",
    "ScenarioFile",
    "LoadedFile",
    "load_scenario_file",
    "Base",
    "prepare_base",
    "raw_fingerprint",
    "resolve",
    "is_sweep",
    "Applied",
    "apply_overrides",
    "explain_input_error",
    "Case",
    "expand",
    "cli_overrides",
    "resolve_base_path",
    "fingerprint",
]

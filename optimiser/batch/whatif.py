"""One what-if for ``optimiser run DATASET --scenario FILE --name NAME --set ...``: read, checked
and solved as a batch's case is (``solve_overrides``), written whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimiser.batch.case import SolveOptions, solve_overrides


@dataclass(frozen=True)
class WhatIf:
    """A what-if asked on the command line: the base, the case's name and its overrides, in order."""

    base: Any  # optimiser.scenarios.Base
    name: str | None
    overrides: tuple
    #: Files read besides the base (the scenario file).
    inputs: tuple = ()

    def dataset(self):
        """``(validated dataset, scenarios.Applied)``: the base with the overrides applied;
        ``InputError`` naming the override (file and line, or the command line)."""
        from optimiser.errors import InputError
        from optimiser.loader import validate_raw
        from optimiser.scenarios import apply_overrides, explain_input_error

        applied = apply_overrides(self.base, self.overrides)
        try:
            return validate_raw(applied.raw), applied
        except InputError as exc:
            raise explain_input_error(exc, applied, self.name) from None


def is_whatif(sets=(), scenario_file=None, name: str | None = None) -> bool:
    return bool(sets or scenario_file or name)


def prepare_whatif(dataset, *, sets=(), scenario_file=None, name: str | None = None) -> WhatIf:
    """``DATASET --scenario FILE --name NAME --set ...`` read and checked: the scenario's
    overrides first, then each ``--set`` in order (a ``base:`` in the file is not used)."""
    from optimiser.errors import InputError, Problem
    from optimiser.scenarios import cli_overrides, expand, load_scenario_file, prepare_base

    if name and not scenario_file:
        raise InputError([Problem("command line", None, "--name", name, "--name needs --scenario FILE")])
    base = prepare_base(dataset)
    cli = cli_overrides(list(sets), base)
    inputs = (scenario_file,) if scenario_file else ()
    if not scenario_file:
        return WhatIf(base, None, tuple(cli), inputs)
    loaded = load_scenario_file(scenario_file)
    scenarios = loaded.spec.scenarios
    if name is None and len(scenarios) != 1:
        raise InputError([Problem(loaded.label, None, None, None,
                                  "holds several scenarios; choose one with --name: " + ", ".join(scenarios))])
    group = name if name is None or name in scenarios else name.split("--", 1)[0]
    if group is not None and group not in scenarios:
        raise InputError([Problem(loaded.label, None, None, name,
                                  "no such scenario; the file has: " + ", ".join(scenarios))])
    cases = expand(loaded, base, cli, only=group)
    # the case named exactly; a scenario's own name also picks its one case (a one-value sweep)
    chosen = [c for c in cases if c.name == name] or (cases if name in (None, group) and len(cases) == 1 else [])
    if name is not None and name != group and not chosen:
        raise InputError([Problem(loaded.label, loaded.line("scenarios", group), None, name,
                                  f"no such case; scenario '{group}' has: "
                                  + ", ".join(c.name for c in cases[:5]) + (" ..." if len(cases) > 5 else ""))])
    if len(chosen) != 1:
        raise InputError([Problem(loaded.label, loaded.line("scenarios", cases[0].scenario), None, name,
                                  f"scenario '{cases[0].scenario}' is a sweep of {len(cases)} cases; name one "
                                  "(" + ", ".join(c.name for c in cases[:5]) + (" ..." if len(cases) > 5 else "")
                                  + ") or run them all with 'optimiser batch'")])
    return WhatIf(base, chosen[0].name, chosen[0].overrides, inputs)


def run_whatif(dataset, out_dir, *, sets=(), scenario_file=None, name: str | None = None,
               solver: str | None = None, time_limit_seconds: float | None = None, integer: bool | None = None):
    """``optimiser run DATASET --scenario FILE --name NAME --set ...``: one what-if, written whole
    (``prepare_whatif``)."""
    from optimiser.output import check_target

    check_target(Path(out_dir), (dataset, scenario_file))  # before any work
    whatif = prepare_whatif(dataset, sets=sets, scenario_file=scenario_file, name=name)
    outcome, _ = solve_overrides(whatif.base, whatif.overrides, out_dir, name=whatif.name,
                                 options=SolveOptions(solver, time_limit_seconds, integer), inputs=whatif.inputs)
    return outcome

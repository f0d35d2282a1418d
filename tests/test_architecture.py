"""The layout the project promises: no import cycle in ``optimiser/`` or ``models/``, the CLI
on top (nothing imports it), and only public names of PuLP and highspy used."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pulp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("optimiser", "models")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([node.module] if node.module else []))
            wanted = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in wanted:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    graph = _graph()
    assert "optimiser.build" in graph and "optimiser.build" in graph["optimiser.solve"]  # the graph is real
    assert _cycles(graph) == []


def test_nothing_imports_the_cli():
    importers = sorted(name for name, targets in _graph().items() if "optimiser.cli" in targets
                       and name != "optimiser.__main__")
    assert importers == []


def _private_names() -> set[str]:
    """The non-dunder names starting with ``_`` on PuLP's public classes and modules."""
    names: set[str] = set()
    for owner in (pulp, pulp.LpProblem, pulp.LpVariable, pulp.LpConstraint, pulp.LpAffineExpression,
                  pulp.COIN_CMD, pulp.HiGHS, pulp.LpSolveStats):
        names.update(n for n, _ in inspect.getmembers(owner) if n.startswith("_") and not n.startswith("__"))
    problem = pulp.LpProblem("probe")
    var = problem.add_variable("v", 0)
    row = problem.addConstraint(pulp.LpAffineExpression.from_dict({var: 1}) <= 1, "r")
    for instance in (problem, var, row, pulp.COIN_CMD(msg=False), pulp.HiGHS(msg=False)):
        names.update(n for n in vars(instance) if n.startswith("_") and not n.startswith("__"))
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_no_private_pulp_or_highspy_name_is_used(package):
    """No attribute access or import of a name PuLP keeps private (``problem._constraints``,
    ``var._var``, ``pulp._rustcore``...), nor any ``_``-name from highspy."""
    private = _private_names()
    assert {"_model", "_var", "_constr", "_expr"} <= private  # the probe sees PuLP 4's insides
    used = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in private:
                used.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("pulp", "highspy"):
                if any(alias.name.startswith("_") for alias in node.names) or "._" in f".{node.module}":
                    used.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import ...")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in ("pulp", "highspy") and node.attr.startswith("_"):
                used.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert used == []


def test_every_test_module_has_one_layer():
    from tests.conftest import LAYERS

    modules = sorted(p.stem for p in (ROOT / "tests").rglob("test_*.py"))
    listed = [m for layer in LAYERS.values() for m in layer]
    assert sorted(listed) == modules  # each once, none missing


def test_each_constraint_family_is_declared_whole_in_its_module():
    """One module per family in ``optimiser.families``: its ``define`` states its mathematics,
    and each family it adds has its title, and (a limit) its conflict unit and both sentences;
    every family name is declared once."""
    from optimiser import families

    names = [f.name for module in families.MODULES for f in module.FAMILIES]
    assert len(names) == len(set(names)) == len(families.FAMILIES)
    for module in families.MODULES:
        assert module.define.__module__ == module.__name__
        assert any(op in module.define.__doc__ for op in ("<=", ">=", " = ")), module.__name__  # the maths
        assert module.LIFT is None or module.LIFT_TITLE
        for family in module.FAMILIES:
            assert family.title, family.name
            if family.limit:
                assert family.conflict_unit and family.conflict and family.marginal, family.name



#: The packages of cohesive modules, each module's name in the order they build on each other.
PACKAGE_ORDER = {
    "optimiser.scenarios": ("overrides", "schema", "files", "base", "resolve", "apply", "cases"),
    "optimiser.batch": ("case", "workers", "engines", "progress", "store", "comparison", "driver", "whatif",
                        "commands"),
}
MAX_MODULE_LINES = 400


@pytest.mark.parametrize("package", sorted(PACKAGE_ORDER))
def test_a_package_stays_small_modules_each_importing_only_earlier_ones(package):
    """``batch`` and ``scenarios`` are packages (never one file again), every module of them at most
    ~400 lines, none importing a later one (the order of ``PACKAGE_ORDER``)."""
    folder = ROOT.joinpath(*package.split("."))
    assert not folder.with_suffix(".py").exists() and (folder / "__init__.py").is_file()
    order = PACKAGE_ORDER[package]
    assert sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__") == sorted(order)
    long = {p.name: n for p in sorted(folder.glob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}
    graph = _graph()
    later = {f"{package}.{name}": {f"{package}.{m}" for m in order[i + 1:]} for i, name in enumerate(order)}
    assert {name: sorted(graph[name] & ahead) for name, ahead in later.items() if graph[name] & ahead} == {}


def test_the_what_if_analyses_live_together():
    """The frontier, the shortfall split (why) and the infeasibility diagnosis in ``optimiser/whatif``,
    and nowhere else (no modules left at the old paths)."""
    whatif = ROOT / "optimiser" / "whatif"
    for name in ("frontier", "why", "diagnose"):
        assert (whatif / f"{name}.py").is_file(), name
    for old in ("optimiser/frontier.py", "optimiser/diagnose.py", "optimiser/reports/why.py"):
        assert not (ROOT / old).exists(), old


def test_command_registration_is_imported_only_by_the_cli_and_other_commands():
    """Modules that register Click commands (``*.commands``, ``app.command``) are imported by
    ``optimiser.cli`` (or another such module) only."""
    def registers(name: str) -> bool:
        return name.rpartition(".")[2] in ("commands", "command")

    graph = _graph()
    assert "optimiser.batch.commands" in graph and "optimiser.whatif.commands" in graph
    importers = sorted(f"{name} -> {target}" for name, targets in graph.items() for target in targets
                       if registers(target) and name != "optimiser.cli" and not registers(name))
    assert importers == []

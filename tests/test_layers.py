"""The package layout is the architecture: each layer imports only the layers below it, and no
module imports another around a loop (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "harness"

# From the ground up; packages on one level never import each other.
LEVELS: list[set[str]] = [{"core"}, {"adapters", "forge"}, {"interop", "loadtest"}, {"report"},
                          {"cli"}]
LEVEL_OF = {part: level for level, parts in enumerate(LEVELS) for part in parts}


def module_name(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Harness modules `path` imports, resolved to modules (not names inside them)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from harness.x import y`: y is a module when harness.x.y is one, else a name in x.
            candidates = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in candidates:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name.startswith("harness"):
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in HARNESS.rglob("*.py")}
    known = set(paths)
    return {name: imported_modules(path, known) - {name} for name, path in paths.items()}


def layer(module: str) -> str | None:
    """The top package under `harness` (`cli` for harness.cli); None for `harness` itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        own = layer(module)
        for target in targets:
            theirs = layer(target)
            if own is None or theirs is None or own == theirs:
                continue
            if own not in LEVEL_OF or theirs not in LEVEL_OF:
                wrong.append(f"{module} -> {target}: a package outside the layers")
            elif LEVEL_OF[theirs] >= LEVEL_OF[own]:
                wrong.append(f"{module} ({own}) imports {target} ({theirs})")
    return sorted(wrong)


def test_every_harness_package_has_a_layer() -> None:
    tops = {layer(module) for module in import_graph()} - {None}
    assert tops <= set(LEVEL_OF), sorted(tops - set(LEVEL_OF))


def test_no_layer_imports_its_own_level_or_a_higher_one() -> None:
    assert layer_violations(import_graph()) == []


def test_no_modules_import_each_other_around_a_loop() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(("graph", "expected"), [
    ({"harness.core.a": {"harness.core.b"}, "harness.core.b": {"harness.core.a"}},
     [["harness.core.a", "harness.core.b"]]),
    ({"harness.report.a": {"harness.report.b"}, "harness.report.b": {"harness.report.c"},
      "harness.report.c": {"harness.report.a"}},
     [["harness.report.a", "harness.report.b", "harness.report.c"]]),
    ({"harness.core.a": {"harness.core.b"}, "harness.core.b": set()}, []),
])
def test_the_loop_check_finds_direct_and_roundabout_loops(
        graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_the_layer_check_names_upward_and_sideways_imports() -> None:
    graph = {"harness.core.keys": {"harness.report.model"},
             "harness.interop.runner": {"harness.loadtest.cells", "harness.core.keys"},
             "harness.report.model": {"harness.interop.summary"}}
    assert layer_violations(graph) == [
        "harness.core.keys (core) imports harness.report.model (report)",
        "harness.interop.runner (interop) imports harness.loadtest.cells (loadtest)"]


def test_imports_resolve_to_modules_not_names(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from harness.core import keys\nfrom harness.core.suites import Suite\n"
                      "def f():\n    import harness.report.model\n")
    known = {"harness.core", "harness.core.keys", "harness.core.suites", "harness.report.model"}
    assert imported_modules(source, known) == {"harness.core.keys", "harness.core.suites",
                                              "harness.report.model"}

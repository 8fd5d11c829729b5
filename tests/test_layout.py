"""The layout rules of the README's architecture section that import-linter does not check:
no import cycles between our modules, and imports at the top of each module."""

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("billing_project", "tax", "subscriptions", "usage", "invoicing", "payments", "dunning")
PACKAGES += ("analytics", "ledger")
# AppConfig.ready() is where Django wants start-up imports (the app registry is ready then).
FUNCTION_IMPORTS_ALLOWED = {("billing_project/shared/apps.py", "ready")}


def _ours(module: str) -> bool:
    return ".tests" not in module and ".migrations" not in module


def _cycles(adjacency: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in adjacency[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in adjacency:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES)
    modules = {m for m in graph.modules if _ours(m)}
    adjacency = {
        m: {n for n in graph.find_modules_directly_imported_by(m) if n in modules} for m in modules
    }
    assert _cycles(adjacency) == []


def test_a_cycle_is_found():
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def _function_imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    found.append((node.name, inner.lineno))
    return found


def test_imports_are_at_the_top_of_modules():
    wrong = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or "/migrations/" in relative or "/settings/" in relative:
                continue
            for function, line in _function_imports(path):
                if (relative, function) not in FUNCTION_IMPORTS_ALLOWED:
                    wrong.append(f"{relative}:{line} in {function}()")
    assert wrong == []

"""No import circles among the incidents app's modules: each module can be read
(and imported) knowing only what it depends on. Every import counts, including
those inside functions: a deferred import hides a circle from Python, not from
the reader. Read with ``ast`` from the files themselves."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: str = "incidents") -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of ``package`` it imports."""
    paths = {
        _module_name(path): path
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    here = here[: len(here) - node.level + 1]
                    base = ".".join([*here, base] if base else here)
                # ``from a import b`` imports a, and a.b too when b is a module.
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            graph[name] |= {t for t in targets if t in paths and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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


def test_the_detector_finds_the_old_circle() -> None:
    """The circle there was: the services wrote the outbox, whose dispatch
    imported the tasks, which import the sweep, which imports the services (and
    the status page's fan-out the same way): put those two imports back and the
    detector reports them as one circle."""
    graph = import_graph()
    graph["incidents.services.notifications"].add("incidents.tasks")
    graph["incidents.status.services"].add("incidents.status.tasks")
    [circle] = cycles(graph)
    assert {
        "incidents.services",
        "incidents.services._base",
        "incidents.services.notifications",
        "incidents.tasks",
        "incidents.sla.sweep",
        "incidents.status.services",
        "incidents.status.tasks",
    } <= set(circle)


def test_the_incidents_modules_import_no_circle() -> None:
    assert cycles(import_graph()) == []

"""The incidents app never imports the knowledge base: the knowledge base builds on
incidents, and reaches the incident page and the portal only through URLs (htmx)
and the named hooks in settings."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings


def test_incidents_never_imports_kb() -> None:
    offenders = []
    for path in (Path(settings.BASE_DIR) / "incidents").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] == "kb"]
    assert offenders == []

"""The incidents app never imports reviews (nor kb): reviews build on incidents,
and are reached from them only through the resolution hook named in settings
(``INCIDENT_RESOLVED_HOOKS``) and the incident page's htmx panel URL."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings


def test_incidents_never_imports_reviews() -> None:
    offenders = []
    for path in (Path(settings.BASE_DIR) / "incidents").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] == "reviews"]
    assert offenders == []


def test_kb_never_imports_reviews() -> None:
    """kb sits under reviews; its records reach the automation rule through a
    signal receiver the reviews app connects (reviews.apps)."""
    offenders = []
    for path in (Path(settings.BASE_DIR) / "kb").rglob("*.py"):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] == "reviews":
                    offenders.append(str(path))
    assert offenders == []


def test_the_hook_is_named_in_settings() -> None:
    assert settings.INCIDENT_RESOLVED_HOOKS == ["reviews.hooks.incident_resolved"]

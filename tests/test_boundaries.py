"""Which app may import which: each capability builds on the ones below it and is
reached from them only through named hooks (settings) and URLs (htmx panels).

    incidents  <-  kb  <-  reviews  <-  dashboards

``incidents`` imports none of the others; ``kb`` neither reviews nor dashboards
(its uses reach the automation rule through a signal receiver that reviews
connects); ``reviews`` not the dashboards (they read its selectors)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

NEVER = [
    ("incidents", "kb"),
    ("incidents", "reviews"),
    ("incidents", "dashboards"),
    ("kb", "reviews"),
    ("kb", "dashboards"),
    ("reviews", "dashboards"),
]


def imported_apps(app: str) -> dict[str, set[str]]:
    """Every module imported anywhere in ``app`` (functions included), by file."""
    found: dict[str, set[str]] = {}
    for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            found.setdefault(str(path), set()).update(n.split(".")[0] for n in names)
    return found


@pytest.mark.parametrize(("importer", "imported"), NEVER)
def test_app_never_imports_the_one_built_on_it(importer: str, imported: str) -> None:
    offenders = [
        path for path, apps in imported_apps(importer).items() if imported in apps
    ]
    assert offenders == []


def test_the_check_sees_an_import() -> None:
    """The rule's own check: dashboards does import reviews, and it is seen."""
    assert any("reviews" in apps for apps in imported_apps("dashboards").values())

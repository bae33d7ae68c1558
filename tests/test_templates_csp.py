"""Every template works under the Content-Security-Policy: nothing in them needs
inline script, inline style or eval (README, "Security"). The browser test shows
today's pages run clean; this keeps every template, new ones too, to the rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = sorted(
    path
    for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html")
    if "email" not in path.parts
)

FORBIDDEN = {
    "an inline <script> body": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "an on*= handler attribute": re.compile(r"\son[a-z]{3,}\s*=\s*[\"']", re.I),
    "a style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "a <style> block": re.compile(r"<style[\s>]", re.I),
    "hx-on": re.compile(r"\shx-on[\w:.-]*\s*=", re.I),
    "a js: value": re.compile(r"hx-(vals|vars|headers)\s*=\s*[\"']\s*js:", re.I),
    "a filter in hx-trigger": re.compile(r"hx-trigger\s*=\s*[\"'][^\"']*\[", re.I),
    "eval": re.compile(r"\beval\s*\(", re.I),
}


def test_there_are_templates_to_check() -> None:
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize(
    "path", TEMPLATES, ids=[str(p.relative_to(settings.BASE_DIR)) for p in TEMPLATES]
)
def test_template_needs_no_inline_script_style_or_eval(path: Path) -> None:
    text = path.read_text()
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert found == [], f"{path.name} has {', '.join(found)}"


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<a onclick="x()">',
        '<p style="color: red">',
        "<style>p {}</style>",
        '<div hx-on:click="x()">',
        "<div hx-vals='js:{a: 1}'>",
        '<div hx-trigger="every 30s [ready()]">',
    ],
)
def test_each_rule_catches_what_it_forbids(snippet: str) -> None:
    assert any(pattern.search(snippet) for pattern in FORBIDDEN.values())


def test_the_rules_let_the_allowed_forms_through() -> None:
    allowed = (
        '<script src="/static/js/queue.js" defer></script>'
        '<div hx-trigger="input changed delay:400ms, change from:#id_service">'
        '<svg><rect fill="#fff"/></svg>'
    )
    assert not any(pattern.search(allowed) for pattern in FORBIDDEN.values())

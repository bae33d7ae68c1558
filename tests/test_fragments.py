"""HTML kept by its content (itsm.fragments): a copy is served only for the same
values, time zone and template, and a page built from kept copies is the page
rendered afresh."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.cache import caches
from django.utils import timezone

from itsm.fragments import CACHE_ALIAS, forget_fragments, kept, rendered


@pytest.fixture(autouse=True)
def no_kept_fragments() -> None:
    """Each test starts with none kept, so its counts are its own."""
    caches[CACHE_ALIAS].clear()


@dataclass(frozen=True)
class Line:
    text: str
    at: datetime


class Renders:
    """A render function that counts its calls."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.html


def test_the_same_values_are_rendered_once() -> None:
    render = Renders("<li>once</li>")
    values = {"lines": (Line("a", datetime(2026, 3, 2, 9, tzinfo=UTC)),)}
    assert kept("test:once", values, render) == "<li>once</li>"
    assert kept("test:once", dict(values), render) == "<li>once</li>"
    assert render.calls == 1


@pytest.mark.parametrize(
    "other",
    [
        {"lines": (Line("b", datetime(2026, 3, 2, 9, tzinfo=UTC)),)},
        {"lines": (Line("a", datetime(2026, 3, 2, 10, tzinfo=UTC)),)},
        {"lines": ()},
        {"lines": (Line("a", datetime(2026, 3, 2, 9, tzinfo=UTC)),), "more": 1},
    ],
)
def test_any_other_value_is_rendered_again(other: dict) -> None:
    first = {"lines": (Line("a", datetime(2026, 3, 2, 9, tzinfo=UTC)),)}
    render = Renders("x")
    kept("test:other", first, render)
    kept("test:other", other, render)
    assert render.calls == 2


def test_another_name_is_another_fragment() -> None:
    render = Renders("x")
    kept("test:name-a", {"n": 1}, render)
    kept("test:name-b", {"n": 1}, render)
    assert render.calls == 2


def test_times_print_in_each_readers_time_zone() -> None:
    # The template prints a time in the active zone: the zone is part of the key.
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    template = "incidents/partials/update_lines.html"
    line = _update_line(at)
    in_utc = rendered(template, lines=(line,))
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        in_tokyo = rendered(template, lines=(line,))
    assert "09:00 UTC" in in_utc and "18:00 JST" in in_tokyo
    assert rendered(template, lines=(line,)) == in_utc


def test_values_are_escaped_once_and_kept_escaped() -> None:
    line = _update_line(datetime(2026, 3, 2, 9, tzinfo=UTC), body="<script>x</script>")
    template = "incidents/partials/update_lines.html"
    for _ in range(2):
        html = rendered(template, lines=(line,))
        assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html


def _update_line(at: datetime, body: str = "All clear") -> object:
    from incidents.console.lines import UpdateLine

    return UpdateLine(public=True, author="agent", at=at, body=body)


def test_a_bound_form_is_never_kept() -> None:
    from django import forms

    from itsm.fragments import blank_form

    class Form(forms.Form):
        name = forms.CharField()

    with pytest.raises(ValueError):
        blank_form("incidents/partials/form_fields.html", Form(data={"name": "x"}))


def test_a_blank_form_is_kept_by_its_starting_values() -> None:
    from django import forms

    from itsm.fragments import blank_form

    class Form(forms.Form):
        version = forms.IntegerField(widget=forms.HiddenInput)
        kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])

    template = "incidents/partials/form_fields.html"
    one = blank_form(template, Form(initial={"version": 1}))
    assert 'name="version" value="1"' in one
    assert blank_form(template, Form(initial={"version": 1})) == one
    two = blank_form(template, Form(initial={"version": 2}))
    assert 'name="version" value="2"' in two
    chosen = blank_form(template, Form(initial={"version": 1, "kind": "b"}))
    assert '<option value="b" selected>' in chosen and chosen != one


def test_an_edited_template_drops_what_was_kept(tmp_path: Path) -> None:
    # The development server reads an edited template afresh; what was kept of
    # the old text goes with it.
    from django.utils.autoreload import file_changed

    render = Renders("old")
    kept("test:edited", {"n": 1}, render)
    answers = dict(file_changed.send(sender=None, file_path=tmp_path / "page.html"))
    # None: it does not stop the server restarting for a changed module.
    assert answers[forget_fragments] is None
    kept("test:edited", {"n": 1}, render)
    assert render.calls == 2

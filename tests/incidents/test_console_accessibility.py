"""The console works with a keyboard and a screen reader: every control has a
name, ids are unique, the page has landmarks, and the refreshed queue says when
its rows changed."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.test import Client

from incidents.models import Incident
from tests.incidents.conftest import incident_in

pytestmark = pytest.mark.django_db

S = Incident.Status
CONTROLS = {"input", "select", "textarea", "button"}


class Controls(HTMLParser):
    """Collects the page's ids, the labels' targets and each control with how it
    is named (inside a label, aria-label, aria-labelledby, or its own text)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_targets: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.in_label = 0
        self.button: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")
        if tag == "label":
            self.in_label += 1
            if attributes.get("for"):
                self.label_targets.add(attributes["for"] or "")
        if tag in CONTROLS and attributes.get("type") != "hidden":
            control = {"tag": tag, **attributes, "in_label": str(self.in_label > 0)}
            self.controls.append(control)
            if tag == "button":
                self.button = control
                control["text"] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1
        if tag == "button":
            self.button = None

    def handle_data(self, data: str) -> None:
        if self.button is not None:
            self.button["text"] = (self.button["text"] or "") + data.strip()

    def unnamed(self) -> list[dict[str, str | None]]:
        def named(control: dict[str, str | None]) -> bool:
            return bool(
                control["in_label"] == "True"
                or control.get("aria-label")
                or control.get("aria-labelledby")
                or (control.get("id") in self.label_targets)
                or control.get("text")
            )

        return [control for control in self.controls if not named(control)]


def parse(html: str) -> Controls:
    parser = Controls()
    parser.feed(html)
    return parser


@pytest.fixture
def browser(org: SimpleNamespace) -> Client:
    client = Client()
    client.force_login(org.agent)
    return client


@pytest.mark.parametrize("path", ["/console/?view=open", "/console/new/"])
def test_every_control_has_a_name_and_ids_are_unique(
    org: SimpleNamespace, browser: Client, path: str
) -> None:
    incident_in(S.TRIAGED, org)
    page = parse(browser.get(path).content.decode())
    assert page.controls and page.unnamed() == []
    assert [i for i, n in Counter(page.ids).items() if n > 1] == []


def test_incident_page_with_a_failed_form_keeps_ids_unique(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = browser.post(
        f"/console/{incident.number}/resolve/",
        {"resolution_kind": "workaround", "resolution": "", "version": 1},
    )
    assert response.status_code == 400
    page = parse(response.content.decode())
    assert page.controls and page.unnamed() == []
    assert [i for i, n in Counter(page.ids).items() if n > 1] == []
    # the failed form's labels point at its own fields (its blank twin is
    # fetched only when its action is opened)
    assert "unsent-resolve-resolution" in page.label_targets
    assert "resolve-resolution" not in page.ids


def test_pages_have_landmarks_and_a_skip_link(
    org: SimpleNamespace, browser: Client
) -> None:
    html = browser.get("/console/").content.decode()
    assert re.search(r'<a class="skip-link" href="#main">', html)
    assert '<main id="main" tabindex="-1">' in html
    assert re.search(r'<form [^>]*role="search"', html)
    assert re.search(r'<div id="queue" [^>]*role="region"[^>]*tabindex="0"', html)
    assert re.search(r'id="queue-status"[^>]*aria-live="polite"', html)


def test_queue_refresh_is_announced_only_when_its_rows_changed(
    org: SimpleNamespace, browser: Client
) -> None:
    incident_in(S.TRIAGED, org)
    html = browser.get("/console/", {"view": "open"}).content.decode()
    shown = re.search(r'data-signature="(\w+)"', html).group(1)
    announce = 'hx-swap-oob="innerHTML:#queue-status"'

    def poll() -> str:
        response = browser.get(
            "/console/", {"view": "open", "shown": shown}, HTTP_HX_REQUEST="true"
        )
        return response.content.decode()

    assert announce not in poll()
    incident_in(S.NEW, org)
    assert re.search(rf"{announce}>Queue updated at \d\d:\d\d: 2 incidents\.<", poll())

"""The status page, its JSON and its Atom feed: public, the same content in all
three, nothing internal, escaped, cached and cheap."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from incidents import services
from incidents.models import IncidentNote
from incidents.status.selectors import status_cache_clear
from tests.status.conftest import major, post, resolve

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
PAGES = ["/status", "/status.json", "/status/feed.atom"]


def _json(client: Client) -> dict[str, Any]:
    response = client.get("/status.json")
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def _atom(client: Client) -> ET.Element:
    response = client.get("/status/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def _html(client: Client) -> str:
    return client.get("/status").content.decode()


def _section(html: str, heading_id: str) -> str:
    """The HTML of the page section whose heading has ``heading_id``."""
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]


@pytest.mark.parametrize("path", PAGES)
def test_anyone_reads_it_with_a_public_cache_header(
    client: Client, settings: Any, path: str
) -> None:
    settings.STATUS_CACHE_SECONDS = 45
    response = client.get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=45"
    # Nothing per visitor that a shared cache could hand to the next one.
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize("path", PAGES)
def test_it_takes_no_writes(client: Client, path: str) -> None:
    assert client.post(path).status_code == 405


def test_signed_in_visitor_gets_the_same_page_as_anyone(
    client: Client, desk: SimpleNamespace
) -> None:
    major(desk)
    anonymous = client.get("/status").content
    client.force_login(desk.agent)
    response = client.get("/status")
    assert response.content == anonymous
    assert b"alex" not in response.content and b"csrf" not in response.content.lower()


def test_trailing_slash_redirects_to_the_page(client: Client) -> None:
    response = client.get("/status/")
    assert (response.status_code, response["Location"]) == (301, "/status")


def test_p1_shows_with_public_updates_then_moves_to_history_in_all_three(
    client: Client, desk: SimpleNamespace
) -> None:
    now = timezone.now()
    incident = major(desk, at=now - timedelta(hours=1))
    post(desk, incident, "Mail delivery is failing.", at=now - timedelta(minutes=50))
    post(desk, incident, "A fix is being rolled out.", at=now - timedelta(minutes=20))

    html = _html(client)
    current = _section(html, "current-h")
    assert incident.number in current and "Mail is down" in current
    assert current.index("A fix is being rolled out.") < current.index(
        "Mail delivery is failing."
    )
    assert "Major outage" in current and "Email" in current
    assert incident.number not in _section(html, "history-h")

    data = _json(client)
    assert [i["number"] for i in data["current"]] == [incident.number]
    assert [u["body"] for u in data["current"][0]["updates"]] == [
        "A fix is being rolled out.",
        "Mail delivery is failing.",
    ]
    assert data["history"] == []
    assert {s["name"]: s["state"] for s in data["services"]}["Email"] == "outage"

    [entry] = _atom(client).findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == (
        f"{incident.number} Mail is down (Major outage, ongoing)"
    )
    summary = entry.findtext(f"{ATOM}summary")
    assert summary.index("A fix is being rolled out.") < summary.index(
        "Mail delivery is failing."
    )

    resolve(desk, incident)
    status_cache_clear()

    html = _html(client)
    assert incident.number not in _section(html, "current-h")
    assert "No incidents are affecting our services." in html
    history = _section(html, "history-h")
    assert incident.number in history and "A fix is being rolled out." in history

    data = _json(client)
    assert data["current"] == []
    assert [i["number"] for i in data["history"]] == [incident.number]
    assert data["history"][0]["resolved_at"] is not None
    assert {s["name"]: s["state"] for s in data["services"]}["Email"] == "operational"

    [entry] = _atom(client).findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title").endswith("(Major outage, resolved)")
    assert "A fix is being rolled out." in entry.findtext(f"{ATOM}summary")


def test_nothing_internal_appears(client: Client, desk: SimpleNamespace) -> None:
    incident = major(desk, on=[desk.email, desk.internal])
    post(desk, incident, "Disk on mx-7 is full; paging storage.", public=False)
    post(desk, incident, "Some mail is delayed.")
    services.incident_add_note(
        incident=incident,
        by=desk.agent,
        kind=IncidentNote.Kind.WORK_NOTE,
        body="Work note: restart relay",
    )
    services.incident_add_note(
        incident=incident,
        by=desk.agent,
        kind=IncidentNote.Kind.REPLY,
        body="Reply to requester: looking",
    )
    major(desk, on=[desk.internal], title="Backup robot jammed")
    for path in PAGES:
        body = client.get(path).content.decode()
        assert "Some mail is delayed." in body, path
        for secret in [
            "mx-7",  # the description and the internal update
            "paging storage",
            "Work note",
            "Reply to requester",
            "Backup robot",  # the internal service and its incident
            "rita",  # the requester
            "alex",  # the agent
        ]:
            assert secret not in body, (path, secret)


def test_user_text_is_escaped(client: Client, desk: SimpleNamespace) -> None:
    incident = major(desk, title="<script>alert(1)</script>")
    post(desk, incident, "<img src=x onerror=alert(2)>")
    html = _html(client)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html

    [entry] = _atom(client).findall(f"{ATOM}entry")
    # Atom titles are text: the reader shows them as written.
    assert "<script>alert(1)</script>" in entry.findtext(f"{ATOM}title")
    # The summary is HTML: user text in it stays escaped once the XML is read.
    summary = entry.findtext(f"{ATOM}summary")
    assert "<img src=x" not in summary
    assert "&lt;img src=x onerror=alert(2)&gt;" in summary

    data = _json(client)
    assert data["current"][0]["title"] == "<script>alert(1)</script>"


def test_feed_links_are_absolute(client: Client, desk: SimpleNamespace) -> None:
    incident = major(desk)
    feed = _atom(client)
    links = [link.get("href") for link in feed.iter(f"{ATOM}link")]
    assert "http://testserver/status" in links
    assert "http://testserver/status/feed.atom" in links
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href") == (
        f"http://testserver/status#{incident.number}"
    )
    assert entry.findtext(f"{ATOM}id") == f"http://testserver/status#{incident.number}"


def test_html_links_each_day_with_an_incident_to_it(
    client: Client, desk: SimpleNamespace
) -> None:
    incident = major(desk)
    html = _html(client)
    assert f'href="#{incident.number}"' in html
    assert f'id="{incident.number}"' in html


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("size", [1, 10])
def test_each_page_costs_constant_queries_and_none_when_cached(
    client: Client,
    desk: SimpleNamespace,
    django_assert_num_queries: Any,
    path: str,
    size: int,
) -> None:
    for n in range(size):
        incident = major(desk, priority=1 + n % 2, on=[desk.email, desk.web])
        for m in range(n + 1):
            post(desk, incident, f"Update {m} on {n}", public=bool(m % 2))
        if n % 3 == 0:
            resolve(desk, incident)
    # public services, incidents, their public services, their public updates
    with django_assert_num_queries(4):
        assert client.get(path).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 200


def test_navigation_links_the_status_page_for_everyone(
    client: Client, desk: SimpleNamespace
) -> None:
    login_page = client.get("/login/").content.decode()
    nav = login_page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert 'href="/status"' in nav
    client.force_login(desk.agent)
    nav = client.get("/console/").content.decode().split('<nav aria-label="Main">')[1]
    assert 'href="/status"' in nav.split("</nav>")[0]

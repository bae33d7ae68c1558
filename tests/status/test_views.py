"""The public pages: anyone reads them, the same for everyone, with no cookie and
no session; they cost a constant number of queries, none once cached; user
text is escaped; the feed's links are absolute."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client
from django.utils import timezone

from incidents.models import (
    ComponentGroup,
    ComponentState,
    StatusComponent,
)
from incidents.status import selectors
from incidents.status import services as status
from incidents.status.selectors import (
    LOCAL_SECONDS,
    status_cache_clear,
    status_page_compute,
)
from tests.factories import make_service
from tests.status.conftest import major, plan, publish, say

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
PAGES = [
    "/status",
    "/status.json",
    "/status/feed.atom",
    "/api/v2/status.json",
    "/api/v2/summary.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]


def _section(html: str, heading_id: str) -> str:
    """The HTML of the page section whose heading has ``heading_id``."""
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]


def _window(desk: SimpleNamespace, *, hours: float, title: str = "Upgrade") -> Any:
    return plan(
        desk,
        starts_at=timezone.now() + timedelta(hours=hours),
        title=title,
        services=[desk.email],
    )


@pytest.mark.parametrize("path", PAGES)
def test_anyone_reads_it_with_a_public_cache_header_and_no_cookie(
    client: Client, settings: Any, path: str
) -> None:
    settings.STATUS_CACHE_SECONDS = 45
    response = client.get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=45"
    # Nothing per visitor that a shared cache could hand to the next one.
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize("path", ["/status", "/status.json", "/api/v2/summary.json"])
def test_a_client_that_accepts_gzip_gets_it_compressed_once(
    client: Client, desk: SimpleNamespace, path: str, django_assert_num_queries: Any
) -> None:
    publish(desk, major(desk))
    plain = client.get(path)
    packed = client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content)
    assert "Accept-Encoding" in packed["Vary"] and "Accept-Encoding" in plain["Vary"]


@pytest.mark.parametrize(
    "path",
    [p for p in PAGES if p != "/status/feed.atom"],  # the feed has its host
)
def test_a_kept_rendering_is_answered_before_the_rest_of_the_stack(
    client: Client,
    desk: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_num_queries: Any,
    path: str,
) -> None:
    """The first request renders through the view and keeps it; the next are
    answered from the cache before sessions, CSRF, authentication and URL
    resolution, with the same headers."""
    through_the_stack = []
    original = SessionMiddleware.process_request

    def counted(self: Any, request: Any) -> None:
        through_the_stack.append(request.path)
        original(self, request)

    monkeypatch.setattr(SessionMiddleware, "process_request", counted)
    publish(desk, major(desk))
    first = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    with django_assert_num_queries(0):
        second = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert through_the_stack == [path]
    assert second.content == first.content
    ignored = {"Content-Length"}
    assert {k: v for k, v in second.items() if k not in ignored} == {
        k: v for k, v in first.items() if k not in ignored
    }
    assert client.get(path, HTTP_HOST="elsewhere.example").status_code == 400


def test_a_process_answers_from_its_own_memory_for_a_second(
    client: Client, desk: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within LOCAL_SECONDS a read needs no cache round trip (a static file needs
    none either); forgetting the page empties this memory too."""
    from itsm import cache as shared

    now = [1000.0]
    monkeypatch.setattr(selectors, "monotonic", lambda: now[0])
    publish(desk, major(desk))
    first = client.get("/status")
    looked_up = []
    real_get = shared.cache.get
    monkeypatch.setattr(
        shared.cache, "get", lambda *a, **k: looked_up.append(a) or real_get(*a, **k)
    )
    assert client.get("/status").content == first.content
    assert looked_up == []
    now[0] += LOCAL_SECONDS + 0.1
    assert client.get("/status").content == first.content
    assert len(looked_up) == 1  # the shared cache, once, and kept again
    assert client.get("/status").content == first.content
    assert len(looked_up) == 1
    status_cache_clear()
    client.get("/status")
    assert len(looked_up) > 1


@pytest.mark.parametrize("path", PAGES)
def test_it_takes_no_writes(client: Client, path: str) -> None:
    assert client.post(path).status_code == 405


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_in_visitor_gets_the_same_bytes_as_anyone(
    client: Client, desk: SimpleNamespace, path: str
) -> None:
    publish(desk, major(desk))
    anonymous = client.get(path).content
    client.force_login(desk.agent)
    response = client.get(path)
    assert response.content == anonymous
    assert b"csrfmiddlewaretoken" not in response.content
    assert "sessionid" not in response.cookies


def test_trailing_slash_redirects_to_the_page(client: Client) -> None:
    response = client.get("/status/")
    assert (response.status_code, response["Location"]) == (301, "/status")


def test_the_page_shows_components_in_groups_entries_and_maintenance(
    client: Client, desk: SimpleNamespace
) -> None:
    group = ComponentGroup.objects.create(name="Customer-facing")
    StatusComponent.objects.create(service=desk.web, group=group)
    entry = publish(desk, major(desk))
    say(desk, entry, "identified", "A relay is full.")
    _window(desk, hours=-0.5, title="Disk swap")
    _window(desk, hours=48, title="Kernel upgrade")
    html = client.get("/status").content.decode()
    current = _section(html, "current-h")
    assert "Email is unavailable" in current
    assert current.index("A relay is full.") < current.index("We are looking into")
    assert "Identified" in current and "Major outage" in current
    assert "Disk swap" in _section(html, "maintenance-now-h")
    assert "Kernel upgrade" in _section(html, "maintenance-h")
    components = _section(html, "components-h")
    assert components.index("Email") < components.index("Customer-facing")
    assert components.index("Customer-facing") < components.index("Website")
    assert "Backup robot" not in html
    assert 'class="status-banner state-major_outage"' in html
    assert "Major Service Outage" in html
    # A bar of 90 days each; Email's today is drawn in its state, named.
    assert components.count('<li class="status-component"') == 2
    assert components.count('viewBox="0 0 90 10"') == 2
    assert components.count('<rect class="state-major_outage" x="89"') == 1
    assert "% uptime" in components


def test_past_entries_are_listed_by_day(client: Client, desk: SimpleNamespace) -> None:
    now = timezone.now()
    entry = publish(
        desk, major(desk, at=now - timedelta(days=3)), at=now - timedelta(days=3)
    )
    say(
        desk,
        entry,
        "resolved",
        "Fixed.",
        at=now - timedelta(days=3) + timedelta(hours=1),
    )
    content = status_page_compute(now=now)
    days = {
        day["date"]: [e["title"] for e in day["entries"]] for day in content["history"]
    }
    assert len(days) == 14
    assert days[timezone.localdate(now - timedelta(days=3))] == ["Email is unavailable"]
    html = client.get("/status").content.decode()
    history = _section(html, "history-h")
    assert "Email is unavailable" in history and "No incidents reported." in history


def test_an_entry_page_shows_a_published_entry_only(
    client: Client, desk: SimpleNamespace
) -> None:
    incident = major(desk)
    proposal = status.status_entry_propose(incident=incident)
    assert client.get(f"/status/incidents/{proposal.public_id}").status_code == 404
    entry = publish(desk, incident)
    response = client.get(f"/status/incidents/{entry.public_id}")
    assert response.status_code == 200
    assert "We are looking into problems with email." in response.content.decode()
    assert response["Cache-Control"].startswith("public")
    assert client.get("/status/incidents/nope").status_code == 404


def test_user_text_is_escaped(client: Client, desk: SimpleNamespace) -> None:
    entry = publish(desk, major(desk), title="<script>alert(1)</script>")
    say(desk, entry, "identified", "<img src=x onerror=alert(2)>")
    for path in ["/status", f"/status/incidents/{entry.public_id}"]:
        html = client.get(path).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x" not in html
    feed = ET.fromstring(client.get("/status/feed.atom").content)
    [item] = feed.findall(f"{ATOM}entry")
    # Atom titles are text: the reader shows them as written.
    assert "<script>alert(1)</script>" in item.findtext(f"{ATOM}title")
    summary = item.findtext(f"{ATOM}summary")
    assert "<img src=x" not in summary and "&lt;img src=x" in summary
    assert client.get("/api/v2/incidents.json").json()["incidents"][0]["name"] == (
        "<script>alert(1)</script>"
    )


def test_the_feed_has_an_item_per_entry_and_maintenance_with_absolute_links(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = publish(desk, major(desk))
    say(desk, entry, "identified", "Found it.")
    window = _window(desk, hours=24)
    feed = ET.fromstring(client.get("/status/feed.atom").content)
    links = [link.get("href") for link in feed.iter(f"{ATOM}link")]
    assert "http://testserver/status" in links
    items = {i.findtext(f"{ATOM}title"): i for i in feed.findall(f"{ATOM}entry")}
    assert set(items) == {"Email is unavailable (Identified)", "Upgrade (Scheduled)"}
    item = items["Email is unavailable (Identified)"]
    assert item.find(f"{ATOM}link").get("href") == (
        f"http://testserver/status/incidents/{entry.public_id}"
    )
    assert "Found it." in item.findtext(f"{ATOM}summary")
    maintenance = items["Upgrade (Scheduled)"]
    assert maintenance.find(f"{ATOM}link").get("href").endswith(f"#{window.public_id}")


@pytest.mark.parametrize("path", ["/status", "/status.json", "/api/v2/summary.json"])
@pytest.mark.parametrize("size", [1, 8])
def test_each_page_costs_constant_queries_and_none_when_cached(
    client: Client,
    desk: SimpleNamespace,
    django_assert_num_queries: Any,
    path: str,
    size: int,
) -> None:
    extra = [make_service(name=f"Component {n}") for n in range(size)]
    for n in range(size):
        entry = publish(
            desk,
            major(desk, title=f"Case {n}", on=[desk.email, extra[n]]),
            title=f"Trouble {n}",
            states={desk.email: ComponentState.PARTIAL, extra[n]: ComponentState.MAJOR},
        )
        for m in range(n + 1):
            say(
                desk,
                entry,
                "identified",
                f"Update {m}",
                states={extra[n]: "degraded_performance"},
            )
        if n % 3 == 0:
            say(desk, entry, "resolved", "Fixed.")
        _window(desk, hours=n + 1, title=f"Window {n}")
    # settings, components, entries, impacts, messages, windows, their services
    with django_assert_num_queries(7):
        assert client.get(path).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 200


def test_an_entry_page_costs_constant_queries_and_none_when_cached(
    client: Client, desk: SimpleNamespace, django_assert_num_queries: Any
) -> None:
    entry = publish(desk, major(desk))
    for m in range(5):
        say(desk, entry, "identified", f"Update {m}")
    with django_assert_num_queries(5):
        assert client.get(f"/status/incidents/{entry.public_id}").status_code == 200
    with django_assert_num_queries(0):
        assert client.get(f"/status/incidents/{entry.public_id}").status_code == 200


def test_navigation_links_the_status_page_for_everyone(
    client: Client, desk: SimpleNamespace
) -> None:
    login_page = client.get("/login/").content.decode()
    nav = login_page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert 'href="/status"' in nav
    client.force_login(desk.agent)
    nav = client.get("/console/").content.decode().split('<nav aria-label="Main">')[1]
    assert 'href="/status"' in nav.split("</nav>")[0]

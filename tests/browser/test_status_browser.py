"""The status page in a real browser: an incident manager publishes a P1 in words
for the public and takes it through identified to resolved; an anonymous
visitor follows it with the component's state and uptime; a subscriber confirms
and receives each message. The page reads on a phone, light and dark."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from incidents.models import (
    ComponentGroup,
    ComponentState,
    Incident,
    StatusComponent,
    StatusEntry,
)
from incidents.roles import Role
from incidents.services.notifications import notification_sweep
from incidents.status import services as status
from incidents.status.selectors import status_cache_clear
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_category, make_service, make_team, make_user
from tests.status.conftest import plan

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
UPTIME = re.compile(r"\d{2,3}\.\d\d% uptime")


@pytest.fixture
def desk(
    db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SimpleNamespace]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Subscription counts of this test's own (the cache outlives test runs).
    monkeypatch.setattr(status, "RATE_PREFIX", f"itsm:test:{uuid.uuid4().hex}")
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex")
    manager = make_user(role=Role.INCIDENT_MANAGER, username="imani")
    team.members.add(agent, manager)
    status_cache_clear()
    yield SimpleNamespace(
        agent=agent,
        manager=manager,
        category=make_category(name="Software", team=team),
        email=make_service(name="Email"),
        web=make_service(name="Website"),
        internal=make_service(name="Relay cluster", is_public=False),
    )
    status_cache_clear()


def _incident(
    desk: SimpleNamespace, title: str, *, urgency: str = "high", hours: float = 1
) -> Incident:
    at = timezone.now() - timedelta(hours=hours)
    incident = services.incident_log(
        by=desk.agent,
        title=title,
        source="agent",
        category=desk.category,
        services=[desk.email, desk.internal],
        impact="high",
        urgency=urgency,
        now=at,
    )
    services.incident_triage(
        incident=incident,
        by=desk.agent,
        category=desk.category,
        impact="high",
        urgency=urgency,
        now=at,
    )
    services.incident_start_work(incident=incident, by=desk.agent, now=at)
    return incident


def _deliver() -> None:
    """What beat does every 30 s: finish fan-outs, deliver the outbox."""
    status.status_fanout_sweep()
    notification_sweep()


def _look(page: Any) -> None:
    """Open the status page fresh: the browser may keep it for its max-age, as a
    visitor's would, so reload it like a visitor who wants the news."""
    page.goto("/status")
    page.reload()


def _mail_to(address: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [address]]


def test_a_manager_publishes_a_p1_a_visitor_follows_it_a_subscriber_hears_of_it(
    new_page: Any, desk: SimpleNamespace
) -> None:
    incident = _incident(desk, "mx-7 relay queue full (alert MailQueueHigh)")
    # The hook proposed it; nothing is public yet.
    assert StatusEntry.objects.get(incident=incident).status == "proposed"

    visitor = new_page()
    visitor.goto("/status")
    expect(visitor.get_by_role("status")).to_have_text("All Systems Operational")
    expect(visitor.get_by_text("mx-7")).to_have_count(0)

    # Someone subscribes and confirms by the emailed link.
    visitor.get_by_role("link", name="Subscribe to updates").click()
    visitor.get_by_label("Email address").fill("pat@example.com")
    visitor.get_by_role("button", name="Subscribe").click()
    expect(visitor.get_by_role("heading", name="Check your inbox")).to_be_visible()
    _deliver()
    [confirmation] = _mail_to("pat@example.com")
    [link] = re.findall(r"http://\S+/status/subscribe/confirm/\S+", confirmation.body)
    visitor.goto(urlsplit(link).path)
    visitor.get_by_role("button", name="Confirm subscription").click()
    expect(visitor.get_by_role("heading", name="You are subscribed")).to_be_visible()

    # The incident manager publishes from the incident page.
    manager = new_page()
    log_in(manager, "imani", PASSWORD)
    manager.goto(f"/console/{incident.number}/")
    card = manager.get_by_role("region", name="Status page")
    expect(card.get_by_text("nothing is public yet")).to_be_visible()
    card.get_by_role("link", name="Review and publish").click()
    manager.get_by_label("Public title").fill("Email delivery problems")
    manager.get_by_label("Email", exact=True).select_option("major_outage")
    manager.get_by_label("First message (investigating)").fill(
        "Some email is not being delivered. We are investigating."
    )
    manager.get_by_role("button", name="Publish", exact=True).click()
    expect(manager.get_by_text("Published on the status page.")).to_be_visible()

    post = manager.get_by_role("region", name="Post a public message")
    post.get_by_label("Stage").select_option("identified")
    post.get_by_label("Email", exact=True).select_option("partial_outage")
    post.get_by_label("Message").fill("We found the cause and are fixing it.")
    post.get_by_role("button", name="Post message").click()
    expect(manager.get_by_text("Message posted.")).to_be_visible()

    _look(visitor)
    expect(visitor.get_by_role("status")).to_have_text("Partial System Outage")
    current = visitor.get_by_role("region", name="Current incidents")
    expect(
        current.get_by_role("heading", name="Email delivery problems")
    ).to_be_visible()
    expect(current.get_by_text("We found the cause and are fixing it.")).to_be_visible()
    expect(current.get_by_text("Some email is not being delivered.")).to_be_visible()
    components = visitor.get_by_role("region", name="Components")
    email = components.locator("li.status-component", has_text="Email")
    expect(email.locator(".status-state")).to_have_text("Partial outage")
    expect(email.get_by_text(UPTIME)).to_be_visible()
    for internal in ["mx-7", "MailQueueHigh", "Relay cluster", incident.number, "P1"]:
        expect(visitor.get_by_text(internal)).to_have_count(0)

    post = manager.get_by_role("region", name="Post a public message")
    post.get_by_label("Stage").select_option("resolved")
    post.get_by_label("Message").fill(
        "Email is delivered again. Sorry for the trouble."
    )
    post.get_by_role("button", name="Post message").click()
    expect(manager.get_by_text("Message posted.")).to_be_visible()

    visitor.reload()
    expect(visitor.get_by_role("status")).to_have_text("All Systems Operational")
    expect(visitor.get_by_role("region", name="Current incidents")).to_have_count(0)
    history = visitor.get_by_role("region", name="Past incidents")
    expect(
        history.get_by_role("heading", name="Email delivery problems")
    ).to_be_visible()
    expect(history.get_by_text("Email is delivered again.")).to_be_visible()
    email = visitor.get_by_role("region", name="Components").locator(
        "li.status-component", has_text="Email"
    )
    expect(email.locator(".status-state")).to_have_text("Operational")
    figure = email.locator(".status-uptime-figure").inner_text()
    assert float(figure.split("%")[0]) < 100  # an hour of outage counts

    _deliver()
    messages = _mail_to("pat@example.com")[1:]
    assert [m.subject for m in messages] == [
        "[Service status] Email delivery problems: Investigating",
        "[Service status] Email delivery problems: Identified",
        "[Service status] Email delivery problems: Resolved",
    ]
    assert all("List-Unsubscribe" in m.extra_headers for m in messages)
    assert "Email is delivered again." in messages[-1].body


def test_navigation_leads_an_anonymous_visitor_to_the_status_page(
    new_page: Any, desk: SimpleNamespace
) -> None:
    page = new_page()
    page.goto("/login/")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Status"
    ).click()
    expect(page.get_by_role("heading", name="Service status")).to_be_visible()


def _screenshot(page: Any, name: str, tmp_path: Path) -> None:
    """A full-page screenshot; into the README's folder with UPDATE_SCREENSHOTS=1
    (make screenshots)."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000


def _screenshot_data(desk: SimpleNamespace) -> None:
    """What the README's screenshots show: a group, an entry being worked on, a
    past one, maintenance ahead."""
    group = ComponentGroup.objects.create(name="Customer-facing", position=1)
    for position, service in enumerate([desk.email, desk.web]):
        StatusComponent.objects.create(service=service, group=group, position=position)
    for name in ["VPN", "Office Wi-Fi"]:
        make_service(name=name)
    now = timezone.now()
    past = status.status_entry_publish(
        incident=_incident(desk, "old", urgency="medium", hours=80),
        by=desk.manager,
        title="Slow webmail",
        components={desk.email.pk: ComponentState.DEGRADED},
        message="Webmail is slow for some people.",
        now=now - timedelta(hours=79),
    )
    status.status_entry_post(
        entry=past,
        by=desk.manager,
        stage="resolved",
        body="Webmail is fast again.",
        now=now - timedelta(hours=77),
    )
    entry = status.status_entry_publish(
        incident=_incident(desk, "new", hours=1),
        by=desk.manager,
        title="Webmail sign-ins fail",
        components={desk.email.pk: ComponentState.MAJOR},
        message="Sign-ins to webmail fail for most people; the team is on it.",
        now=now - timedelta(minutes=50),
    )
    status.status_entry_post(
        entry=entry,
        by=desk.manager,
        stage="identified",
        body="We found the cause: an expired certificate. A new one is being installed.",
        components={desk.email.pk: ComponentState.PARTIAL},
        now=now - timedelta(minutes=20),
    )
    plan(
        desk,
        starts_at=now + timedelta(days=3),
        title="Website upgrade",
        public_message="The website may be unavailable for a few minutes.",
        services=[desk.web],
    )
    status_cache_clear()


@pytest.mark.parametrize(
    ("scheme", "viewport"),
    [
        ("light", {"width": 1280, "height": 800}),
        ("dark", {"width": 1280, "height": 800}),
        ("light", {"width": 360, "height": 740}),
        ("dark", {"width": 360, "height": 740}),
    ],
)
def test_screenshots_of_the_status_page(
    new_page: Any,
    desk: SimpleNamespace,
    scheme: str,
    viewport: dict[str, int],
    tmp_path: Path,
) -> None:
    """Both colour schemes render, and a phone needs no sideways scrolling; with
    UPDATE_SCREENSHOTS=1 (make screenshots) the README's screenshots are written."""
    _screenshot_data(desk)
    page = new_page(color_scheme=scheme, viewport=viewport)
    page.goto("/status")
    expect(page.get_by_role("heading", name="Webmail sign-ins fail")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways"
    )
    device = "phone" if viewport["width"] < 600 else "desktop"
    _screenshot(page, f"status-{device}-{scheme}.png", tmp_path)


def test_screenshots_of_publishing(
    new_page: Any, desk: SimpleNamespace, tmp_path: Path
) -> None:
    """The incident manager's page of a proposal, as the README shows it."""
    incident = _incident(desk, "Relay queue full")
    entry = StatusEntry.objects.get(incident=incident)
    page = new_page(viewport={"width": 1280, "height": 800})
    log_in(page, "imani", PASSWORD)
    page.goto(f"/console/status/{entry.public_id}/")
    page.get_by_label("Public title").fill("Email delivery problems")
    page.get_by_label("First message (investigating)").fill(
        "Some email is not being delivered. We are investigating."
    )
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_visible()
    _screenshot(page, "status-publish-light.png", tmp_path)

"""An anonymous visitor follows a major incident on the public status page, from
current to history, in a real browser; the page reads on a phone, light and dark."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from incidents.models import Incident
from incidents.roles import Role
from incidents.status.selectors import status_cache_clear
from tests.factories import make_category, make_service, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture
def desk(db: Any) -> SimpleNamespace:
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex")
    team.members.add(agent)
    make_service(name="Website")
    status_cache_clear()
    yield SimpleNamespace(
        agent=agent,
        category=make_category(name="Software", team=team),
        email=make_service(name="Email"),
    )
    status_cache_clear()


def _major(
    desk: SimpleNamespace, title: str, *, impact: str, urgency: str, hours: int
) -> Incident:
    at = timezone.now() - timedelta(hours=hours)
    incident = services.incident_log(
        by=desk.agent,
        title=title,
        source="agent",
        category=desk.category,
        services=[desk.email],
        impact=impact,
        urgency=urgency,
        now=at,
    )
    services.incident_triage(
        incident=incident,
        by=desk.agent,
        category=desk.category,
        impact=impact,
        urgency=urgency,
        now=at,
    )
    services.incident_start_work(incident=incident, by=desk.agent, now=at)
    return incident


def _resolve(desk: SimpleNamespace, incident: Incident, **kwargs: Any) -> None:
    services.incident_resolve(
        incident=incident,
        by=desk.agent,
        resolution_kind="workaround",
        resolution="Freed disk space on the relay.",
        verification="Sent a test mail.",
        **kwargs,
    )


def test_visitor_sees_a_p1_and_its_update_then_sees_it_in_history(
    new_page: Any, desk: SimpleNamespace
) -> None:
    incident = _major(desk, "Mail is down", impact="high", urgency="high", hours=1)
    services.incident_post_update(
        incident=incident,
        by=desk.agent,
        body="Mail delivery fails; fix under way.",
        is_public=True,
    )
    services.incident_post_update(
        incident=incident, by=desk.agent, body="Relay mx-7 disk full.", is_public=False
    )

    page = new_page()
    page.goto("/status")
    expect(page.get_by_role("status")).to_have_text("Major outage")
    current = page.get_by_role("region", name="Current incidents")
    expect(current.get_by_role("heading", name="Mail is down")).to_be_visible()
    expect(current.get_by_text("Mail delivery fails; fix under way.")).to_be_visible()
    expect(page.get_by_text("Relay mx-7 disk full.")).to_have_count(0)
    history = page.get_by_role("region", name="Past incidents, last 30 days")
    expect(history.get_by_text("No incidents in the last 30 days.")).to_be_visible()

    _resolve(desk, incident)
    status_cache_clear()
    page.reload()

    expect(page.get_by_role("status")).to_have_text("All systems operational")
    expect(
        current.get_by_text("No incidents are affecting our services.")
    ).to_be_visible()
    expect(current.get_by_text("Mail is down")).to_have_count(0)
    expect(history.get_by_role("heading", name="Mail is down")).to_be_visible()
    expect(history.get_by_text("Mail delivery fails; fix under way.")).to_be_visible()
    expect(history.get_by_text(incident.number)).to_be_visible()


def test_navigation_leads_an_anonymous_visitor_to_the_status_page(
    new_page: Any, desk: SimpleNamespace
) -> None:
    page = new_page()
    page.goto("/login/")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Status"
    ).click()
    expect(page.get_by_role("heading", name="Service status")).to_be_visible()


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
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    past = _major(desk, "Mail is slow", impact="high", urgency="medium", hours=80)
    _resolve(desk, past, now=timezone.now() - timedelta(hours=75))
    now = _major(desk, "Webmail login fails", impact="high", urgency="high", hours=1)
    services.incident_post_update(
        incident=now,
        by=desk.agent,
        body="Logins to webmail fail for most users; the team is on it.",
        is_public=True,
    )
    page = new_page(color_scheme=scheme, viewport=viewport)
    page.goto("/status")
    expect(page.get_by_role("heading", name="Webmail login fails")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways"
    )
    device = "phone" if viewport["width"] < 600 else "desktop"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"status-{device}-{scheme}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000

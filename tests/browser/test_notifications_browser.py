"""The bell in a real browser: the count arrives by htmx under the strict
Content-Security-Policy, the list opens the incident, and the count goes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from incidents.roles import Role
from incidents.sla.sweep import sla_sweep
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_category, make_team, make_user


def test_the_bell_counts_a_breach_and_the_list_opens_its_incident(
    new_page: Any, db: Any
) -> None:
    team = make_team(name="Service Desk")
    make_user(role=Role.INCIDENT_MANAGER, username="imani", email="")  # no email
    agent = make_user(role=Role.AGENT, username="alex")
    team.members.add(agent)
    category = make_category(name="Software", team=team)
    logged = timezone.now() - timedelta(minutes=20)
    incident = services.incident_log(
        by=agent,
        title="Checkout down",
        source="agent",
        category=category,
        impact="high",
        urgency="high",
        now=logged,
    )
    sla_sweep()  # missed its response target, and nobody took it: two events
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, "imani", PASSWORD)
    bell = page.locator("a.bell")
    expect(bell).to_contain_text("2 unread")
    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    page.get_by_role(
        "button", name=f"{incident.number} (P1) missed its response target"
    ).click()
    expect(page).to_have_url(
        f"{page.url.split('/console/')[0]}/console/{incident.number}/"
    )
    expect(bell).to_contain_text("1 unread")
    page.goto("/console/notifications/")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text("Nothing unread.")).to_be_visible()
    expect(bell.locator(".bell-count")).to_have_count(0)
    assert not [e for e in errors if "Content Security Policy" in e], errors

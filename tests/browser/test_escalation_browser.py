"""An escalation into a tier with nobody in it reaches that team's lead, and the
incident page says who was told and why."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from incidents import services
from incidents.models import Notification
from incidents.roles import Role
from tests.browser.conftest import log_in, open_section
from tests.factories import PASSWORD, make_category, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_escalation_into_an_empty_tier_reaches_the_lead(new_page: Any) -> None:
    lead = make_user(role=Role.AGENT, username="lee", first_name="Lee", last_name="Lo")
    upper = make_team(name="Systems", tier=2, lead=lead)  # no members
    desk = make_team(name="Service Desk", next_tier=upper)
    agent = make_user(role=Role.AGENT, username="alex")
    desk.members.add(agent)
    incident = services.incident_log(
        by=agent,
        title="Database refuses connections",
        source="agent",
        category=make_category(name="Software", team=desk),
    )

    page = new_page()
    log_in(page, "alex", PASSWORD)
    page.goto(f"/console/{incident.number}/")
    open_section(page, "Escalate")
    page.locator("#escalate-reason").fill("Needs a DBA")
    page.get_by_role("button", name="Escalate to the next tier").click()

    told = "told Lee Lo · Systems has no active members: its lead was told"
    expect(page.locator(".facts .escalation")).to_contain_text(told)
    expect(page.locator(".timeline")).to_contain_text("told Lee Lo")
    incident.refresh_from_db()
    assert (incident.team, incident.assignee) == (upper, lead)
    assert Notification.objects.filter(
        incident=incident, event="escalated", recipient=lead.email
    ).exists()

"""An incident manager runs a major incident from one screen: declares it, names
the commander and the stakeholders, raises P3 to P1 with the Edit action, and
posts an update that reaches the stakeholders by email. The header holds the
facts a responder needs at 1366x768."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import expect

from incidents import services
from incidents.models import Incident, Notification
from incidents.roles import Role
from incidents.services.notifications import notification_deliver
from tests.browser.conftest import log_in, open_section
from tests.factories import PASSWORD, make_category, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


def test_an_incident_manager_runs_a_major_incident(
    new_page: Any, tmp_path: Path
) -> None:
    desk = make_team(name="Service Desk")
    manager = make_user(
        role=Role.INCIDENT_MANAGER, username="imani", first_name="Imani", last_name="M"
    )
    desk.members.add(manager)
    cfo = make_user(username="cfo", email="cfo@example.com")
    incident = services.incident_log(
        by=manager,
        title="Checkout is slow for some customers",
        source="agent",
        category=make_category(name="Software", team=desk),
        impact="medium",
        urgency="medium",
    )
    services.incident_triage(
        incident=incident,
        by=manager,
        category=incident.category,
        impact="medium",
        urgency="medium",
    )
    services.incident_start_work(incident=incident, by=manager)

    page = new_page(viewport={"width": 1366, "height": 768})
    log_in(page, "imani", PASSWORD)
    page.goto(f"/console/{incident.number}/")
    head = page.get_by_label("At a glance")
    expect(head.locator(".badge")).to_have_text("P3")

    head.get_by_role("link", name="Declare major incident").click()
    page.locator("#declare_major-commander").select_option(str(manager.pk))
    page.locator("#declare_major-bridge_url").fill("https://meet.example.com/inc")
    page.get_by_role("button", name="Declare major incident").click()
    expect(head.locator(".commander")).to_have_text("Imani M")

    open_section(page, "Stakeholder list")
    page.locator("#major_stakeholders-people").select_option(label=["cfo"])
    page.locator("#major_stakeholders-addresses").fill("board@example.com")
    page.get_by_role("button", name="Set stakeholders").click()
    expect(page.locator(".stakeholders")).to_have_text("cfo, board@example.com")

    head.get_by_role("link", name="Edit").click()
    page.locator("#edit-impact").select_option("high")
    page.locator("#edit-urgency").select_option("high")
    page.get_by_role("button", name="Save changes").click()
    expect(head.locator(".badge")).to_have_text("P1")
    expect(page.locator(".timeline")).to_contain_text("priority: P3 → P1")
    expect(head.locator(".update-due")).to_contain_text("in ")

    head.get_by_role("link", name="Post update").click()
    page.get_by_role("textbox", name="Stakeholder update").fill(
        "Failing over to the second site."
    )
    page.get_by_role("button", name="Post update").click()
    expect(page.locator("#act-update")).to_contain_text("Failing over")

    sent = Notification.objects.filter(incident=incident, event="stakeholder_update")
    assert sorted(sent.values_list("recipient", flat=True)) == [
        "board@example.com",
        cfo.email,
    ]
    for notification in sent:
        notification_deliver(pk=notification.pk)
    delivered = [m for m in mail.outbox if "update:" in m.subject]
    assert sorted(m.to[0] for m in delivered) == ["board@example.com", cfo.email]
    assert all("Failing over to the second site." in m.body for m in delivered)

    # The header's facts fit the first screen at 1366x768.
    page.goto(f"/console/{incident.number}/")
    for part in (".badge", ".state", ".commander", ".sla-respond", ".sla-resolve"):
        box = head.locator(part).bounding_box()
        assert box and box["y"] + box["height"] <= 768, part
    box = head.locator(".update-due").bounding_box()
    assert box and box["y"] + box["height"] <= 768
    assert head.get_by_role("button", name="Resolve").count() == 0  # needs input
    assert head.get_by_role("link", name="Resolve").is_visible()
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / "incident-major-header.png")
    assert Incident.objects.get(pk=incident.pk).priority == 1

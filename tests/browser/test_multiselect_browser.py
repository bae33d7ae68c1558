"""The new-incident form with the keyboard only: the requester and the services
are found by typing, picked with Enter and Space, and the incident is logged for
that requester with those services."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from incidents.roles import Role
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_service, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_requester_and_services_are_picked_with_the_keyboard(new_page: Any) -> None:
    make_team(name="Service Desk").members.add(
        make_user(role=Role.AGENT, username="alex")
    )
    rita = make_user(role=Role.REQUESTER, username="rita", first_name="Rita")
    for name in ("Email", "VPN", "Payroll"):
        make_service(name=name)

    page = new_page()
    log_in(page, "alex", PASSWORD)
    page.goto("/console/new/")
    page.get_by_label("Title").fill("Cannot reach payroll over VPN")
    requester = page.get_by_label("Filter Requester")
    requester.fill("rit")
    requester.press("Enter")
    page.get_by_label("Contact details").fill("ext. 4411")
    services = page.get_by_label("Filter Services")
    services.fill("vp")
    expect(page.get_by_role("checkbox", name="Email")).to_be_hidden()
    services.press("Enter")
    services.fill("pay")
    services.press("Tab")  # to the first match, then Space ticks it
    page.keyboard.press("Space")
    page.get_by_role("button", name="Log incident").click()
    expect(page.get_by_text("Logged INC-")).to_be_visible()

    incident = Incident.objects.get(title="Cannot reach payroll over VPN")
    assert (incident.requester, incident.contact) == (rita, "ext. 4411")
    assert sorted(s.name for s in incident.services.all()) == ["Payroll", "VPN"]
    expect(page.locator(".requester")).to_contain_text("Rita")

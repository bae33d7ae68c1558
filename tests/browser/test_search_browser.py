"""Search finds what exists: a number typed in "My teams" opens that incident,
and a text search with no hits there points to where the hits are."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from incidents import services
from incidents.roles import Role
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_incident, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_number_search_from_my_teams_opens_the_incident(new_page: Any) -> None:
    desk = make_team(name="Service Desk")
    desk.members.add(make_user(role=Role.AGENT, username="alex"))
    # Another team's incident: "My teams" does not list it.
    wanted = make_incident(title="VPN drops every hour")
    services.incident_assign(
        incident=wanted, by=None, assignee=None, team=make_team(name="Network")
    )

    page = new_page()
    log_in(page, "alex", PASSWORD)
    expect(page.get_by_role("link", name="My teams")).to_have_attribute(
        "aria-current", "page"
    )
    page.get_by_label("Search").fill("vpn")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#queue")).to_contain_text("No incidents here.")
    page.get_by_role("link", name="1 open incident in All open").click()
    expect(page.get_by_role("link", name=wanted.number)).to_be_visible()

    page.get_by_role("link", name="My teams").click()
    page.get_by_label("Search").fill(wanted.number)
    page.get_by_label("Search").press("Enter")
    expect(page).to_have_url(re.compile(f"/console/{wanted.number}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(wanted.title)

"""An agent works an incident from the queue to resolution in a real browser; a
second person changes it meanwhile; a requester is kept out."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from incidents import services
from incidents.models import Incident
from incidents.roles import Role
from tests.browser.conftest import log_in, open_section
from tests.factories import PASSWORD, make_category, make_service, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture
def desk(db: Any) -> Any:
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex", first_name="Alex")
    colleague = make_user(role=Role.AGENT, username="sam")
    team.members.add(agent, colleague)
    team.next_tier = make_team(name="Systems", tier=2)
    team.save()
    category = make_category(name="Software", team=team)
    make_service(name="Email")
    return team, agent, colleague, category


def test_agent_works_an_incident_from_queue_to_resolved(
    new_page: Any, desk: Any
) -> None:
    team, agent, _, category = desk
    services.incident_log(
        by=agent, title="VPN drops every hour", source="agent", category=category
    )
    page = new_page()
    log_in(page, "alex", PASSWORD)
    assert page.get_by_role("heading", name="Queue").is_visible()

    page.get_by_label("Search").fill("VPN")
    page.get_by_role("button", name="Apply").click()
    assert page.get_by_role("link", name="INC-").count() == 1

    page.get_by_role("link", name="New incident").click()
    page.get_by_label("Title").fill("Mail server refuses logins")
    page.get_by_label("Category").select_option(label="Software")
    page.get_by_label("Impact").select_option("high")
    page.get_by_label("Urgency").select_option("high")
    expect(page.locator("#priority-preview")).to_have_text("P1 critical")
    page.get_by_role("button", name="Log incident").click()
    assert page.get_by_role("heading", name="Mail server refuses logins").is_visible()

    open_section(page, "Triage")
    page.get_by_role("button", name="Triage").click()
    # The header has it as a button too; this is the Actions section's.
    open_section(page, "Take and start work")
    actions = page.get_by_role("region", name="Actions")
    actions.get_by_role("button", name="Take and start work").click()

    page.get_by_label("Note", exact=True).fill("Auth backend times out; restarting it.")
    page.get_by_role("button", name="Add").click()
    assert page.get_by_text("Auth backend times out; restarting it.").is_visible()

    page.get_by_label("Stakeholder update", exact=True).fill(
        "Mail logins fail; fix under way."
    )
    page.get_by_label("Public (status page)").check()
    page.get_by_role("button", name="Post update").click()
    assert page.get_by_text("Mail logins fail; fix under way.").is_visible()

    open_section(page, "Resolve")
    page.get_by_label("Fix", exact=True).select_option("workaround")
    page.get_by_label("What was done").fill("Restarted the auth backend.")
    page.get_by_label("How it was verified").fill("Logged in to webmail.")
    page.get_by_role("button", name="Resolve").click()
    assert page.get_by_text("Resolved · Resolution and recovery").is_visible()

    incident = Incident.objects.get(title="Mail server refuses logins")
    assert (incident.status, incident.assignee, incident.priority) == (
        "resolved",
        agent,
        1,
    )
    assert incident.notes.count() == 1 and incident.updates.get().is_public


def test_conflicting_edit_is_shown_with_the_text_kept(new_page: Any, desk: Any) -> None:
    team, agent, colleague, category = desk
    incident = services.incident_log(
        by=agent,
        title="Payroll export fails",
        source="agent",
        category=category,
        impact="medium",
        urgency="medium",
    )
    services.incident_triage(
        incident=incident,
        by=agent,
        category=category,
        impact="medium",
        urgency="medium",
    )
    services.incident_start_work(incident=incident, by=agent)

    mine, theirs = new_page(), new_page()
    log_in(mine, "alex", PASSWORD)
    log_in(theirs, "sam", PASSWORD)
    mine.goto(f"/console/{incident.number}/")
    open_section(mine, "Resolve")
    mine.get_by_label("Fix", exact=True).select_option("permanent_fix")
    mine.get_by_label("What was done").fill("Patched the export job.")
    mine.get_by_label("How it was verified").fill("Ran a test export.")

    theirs.goto(f"/console/{incident.number}/")
    open_section(theirs, "Escalate")
    theirs.get_by_label("Reason", exact=True).fill("Needs the payroll vendor.")
    theirs.get_by_role("button", name="Escalate to the next tier").click()

    mine.get_by_role("button", name="Resolve").click()
    assert mine.get_by_text("changed by someone else").is_visible()
    unsent = mine.locator(".unsent")
    assert (
        unsent.get_by_label("What was done").input_value() == "Patched the export job."
    )
    incident.refresh_from_db()
    assert incident.status == "investigating" and incident.tier == 2


def test_requester_cannot_open_the_console(new_page: Any, desk: Any) -> None:
    make_user(role=Role.REQUESTER, username="rita")
    page = new_page()
    log_in(page, "rita", PASSWORD)
    response = page.goto("/console/")
    assert response.status == 403
    assert page.get_by_text("You may not open this page").is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_queue_and_incident(
    new_page: Any, desk: Any, scheme: str, tmp_path: Path
) -> None:
    """Both colour schemes render; with UPDATE_SCREENSHOTS=1 (make screenshots)
    the README's screenshots in docs/screenshots/ are written anew."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    team, agent, _, category = desk
    for title, impact, urgency in [
        ("Checkout returns 502", "high", "high"),
        ("VPN drops every hour", "medium", "high"),
        ("Printer on floor 3 jams", "low", "low"),
    ]:
        services.incident_log(
            by=agent,
            title=title,
            source="agent",
            category=category,
            impact=impact,
            urgency=urgency,
        )
    page = new_page(color_scheme=scheme, viewport={"width": 1280, "height": 800})
    log_in(page, "alex", PASSWORD)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"queue-{scheme}.png")
    page.get_by_role("link", name="INC-").first.click()
    page.screenshot(path=folder / f"incident-{scheme}.png", full_page=True)
    assert (folder / f"incident-{scheme}.png").stat().st_size > 10_000


def test_screenshots_at_phone_width_the_queue_scrolls_in_its_box(
    new_page: Any, desk: Any, tmp_path: Path
) -> None:
    """At 390 px the page itself does not scroll sideways: the queue's table does,
    inside its own box, which takes keyboard focus. make screenshots writes the
    README's phone screenshots."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    team, agent, _, category = desk
    for title in ("Checkout returns 502 for every card payment", "VPN drops"):
        services.incident_log(
            by=agent,
            title=title,
            source="agent",
            category=category,
            impact="high",
            urgency="high",
        )
    page = new_page(viewport={"width": 390, "height": 844})
    log_in(page, "alex", PASSWORD)
    width = "document.documentElement.scrollWidth"
    assert page.evaluate(width) <= 390
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / "queue-phone.png", full_page=True)
    box = page.locator("#queue")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")
    box.focus()  # the keyboard scrolls it
    for _ in range(5):
        box.press("ArrowRight")
    # (scrolling may be animated: wait for it)
    page.wait_for_function("document.querySelector('#queue').scrollLeft > 0")
    page.get_by_role("link", name="INC-").first.click()
    assert page.evaluate(width) <= 390
    page.screenshot(path=folder / "incident-phone.png", full_page=True)


def test_queue_refresh_announces_new_rows(new_page: Any, desk: Any) -> None:
    """The table refreshes itself; the live region speaks only when rows changed."""
    team, agent, _, category = desk
    log = {"by": agent, "source": "agent", "category": category}
    services.incident_log(title="VPN drops every hour", **log)
    page = new_page()
    log_in(page, "alex", PASSWORD)
    status = page.locator("#queue-status")
    # Poll every second instead of every 30 (same request, same swap).
    page.evaluate(
        """() => {
            const queue = document.querySelector('#queue');
            queue.setAttribute('hx-trigger', 'every 1s');
            htmx.process(queue);
        }"""
    )
    with page.expect_response(lambda r: "shown=" in r.url):
        pass
    expect(status).to_have_text("")  # nothing changed: nothing said
    services.incident_log(title="Printer on floor 3 jams", **log)
    expect(status).to_have_text(
        re.compile(r"Queue updated at \d\d:\d\d: 2 incidents\.")
    )
    expect(page.get_by_role("link", name="INC-")).to_have_count(2)


def test_bulk_assign_with_the_keyboard_alone(new_page: Any, desk: Any) -> None:
    team, agent, colleague, category = desk
    incident = services.incident_log(
        by=agent, title="VPN drops every hour", source="agent", category=category
    )
    page = new_page()
    log_in(page, "alex", PASSWORD)
    page.get_by_label("Assign to").focus()
    page.keyboard.press("End")  # the last agent of my teams: sam
    expect(page.get_by_label("Assign to")).to_have_value(str(colleague.pk))
    page.keyboard.press("Tab")  # Assign selected
    page.keyboard.press("Tab")  # the table's box
    page.keyboard.press("Tab")  # the first row's box
    expect(page.get_by_label(f"Select {incident.number}")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Assign selected")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Assigned to sam: {incident.number}.")).to_be_visible()
    incident.refresh_from_db()
    assert incident.assignee == colleague

"""What an agent types is never lost: the browser keeps it as a draft until the
server has saved it, through a reload, an expired session and a lost network."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from authcache.sessions import sessions_end
from incidents import services
from incidents.models import Incident
from incidents.roles import Role
from tests.factories import PASSWORD, make_category, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = "Relay logs show TLS errors since 03:00"


@pytest.fixture
def incident(db: Any) -> Incident:
    """An incident the agent alex is working on."""
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex")
    team.members.add(agent)
    category = make_category(name="Software", team=team)
    incident = services.incident_log(
        by=agent,
        title="Mail relay rejects logins",
        source="agent",
        category=category,
        impact="medium",
        urgency="medium",
    )
    services.incident_triage(
        incident=incident, by=agent, category=category, impact="medium", urgency="high"
    )
    return services.incident_start_work(incident=incident, by=agent)


def log_in_here(page: Any) -> None:
    """Fill in the login page the browser is on."""
    page.get_by_label("Username").fill("alex")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def drafts(page: Any) -> list[str]:
    return page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('itsm:draft:'))"
    )


def test_note_comes_back_after_a_reload_and_an_expired_session(
    new_page: Any, incident: Incident
) -> None:
    page = new_page()
    page.goto(f"/console/{incident.number}/")
    log_in_here(page)
    note = page.get_by_label("Note", exact=True)
    note.fill(NOTE)
    page.reload()
    expect(note).to_have_value(NOTE)
    expect(page.get_by_text("Restored what you typed here")).to_be_visible()

    # The session expires while the agent types.
    sessions_end(Session.objects.values_list("session_key", flat=True))
    note.press_sequentially(" (and retries)")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert not incident.notes.exists()
    log_in_here(page)
    expect(page).to_have_url(f"/console/{incident.number}/")  # back on its page
    expect(note).to_have_value(NOTE + " (and retries)")

    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text(NOTE + " (and retries)")).to_be_visible()
    expect(note).to_have_value("")
    assert drafts(page) == []
    page.reload()
    expect(note).to_have_value("")
    assert incident.notes.get().body == NOTE + " (and retries)"


def test_resolution_comes_back_after_the_network_was_lost(
    new_page: Any, incident: Incident
) -> None:
    page = new_page()
    page.goto(f"/console/{incident.number}/")
    log_in_here(page)
    page.locator("summary").filter(has_text="Resolve").click()
    page.get_by_label("Fix", exact=True).select_option("workaround")
    page.get_by_label("What was done").fill("Restarted the relay.")
    page.get_by_label("How it was verified").fill("Sent a test mail.")

    page.context.set_offline(True)
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state()
    page.context.set_offline(False)
    page.goto(f"/console/{incident.number}/")
    # The section opens by itself, with the text and the choice made with it.
    expect(page.get_by_label("What was done")).to_have_value("Restarted the relay.")
    expect(page.get_by_label("How it was verified")).to_have_value("Sent a test mail.")
    expect(page.get_by_label("Fix", exact=True)).to_have_value("workaround")
    incident.refresh_from_db()
    assert incident.status == Incident.Status.INVESTIGATING

    page.get_by_text("Discard it").click()
    expect(page.get_by_label("What was done")).to_have_value("")
    assert drafts(page) == []


def test_new_incident_form_keeps_its_draft_until_logged(
    new_page: Any, incident: Incident
) -> None:
    page = new_page()
    page.goto("/console/new/")
    log_in_here(page)
    page.get_by_label("Title").fill("Printer on floor 3 jams")
    page.get_by_label("Impact").select_option("high")
    page.get_by_label("Urgency").select_option("high")
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("Printer on floor 3 jams")
    expect(page.get_by_label("Impact")).to_have_value("high")
    # the restored choices reach the live priority too
    expect(page.locator("#priority-preview")).to_have_text("P1 critical")

    page.get_by_role("button", name="Log incident").click()
    expect(page.get_by_text("Logged INC-")).to_be_visible()
    # The message shows while the page is still parsed; drafts.js (deferred) runs
    # before DOMContentLoaded.
    page.wait_for_load_state("domcontentloaded")
    assert drafts(page) == []
    page.goto("/console/new/")
    expect(page.get_by_label("Title")).to_have_value("")

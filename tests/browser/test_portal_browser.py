"""A requester reports a problem in a real browser, follows it, reads the agent's
reply and confirms the fix; another requester finds neither the ticket nor its
file; a script typed in the description stays text."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from authcache.sessions import sessions_end
from incidents import services
from incidents.models import Attachment, Incident, Service
from incidents.roles import Role
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_category, make_service, make_team, make_user
from tests.portal.conftest import PNG

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
SCRIPT = "<script>window.pwned = true</script>"


@pytest.fixture
def desk(db: Any) -> Any:
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex", first_name="Alex")
    team.members.add(agent)
    make_category(name="Software", team=team)
    make_service(name="Email", team=team, is_public=True)
    make_user(role=Role.REQUESTER, username="rita", first_name="Rita")
    make_user(role=Role.REQUESTER, username="otto")
    return agent


def test_requester_reports_follows_and_confirms_the_fix(
    new_page: Any, desk: Any
) -> None:
    agent = desk
    page = new_page()
    log_in(page, "rita", PASSWORD)
    page.goto("/portal/")
    page.get_by_role("link", name="Report a problem").first.click()

    page.get_by_label("What is wrong, in one line").fill("Cannot send email")
    page.get_by_label("Which service").select_option(label="Email")
    page.get_by_label("What happened").fill(f"Outbox stuck. {SCRIPT}")
    page.get_by_label("Several people, or my team").check()
    page.get_by_label("I cannot work at all, or business has stopped").check()
    page.get_by_label("How to reach you").fill("ext. 4411")
    page.get_by_label("Attach files").set_input_files(
        files=[{"name": "outbox.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="Send report").click()

    incident = Incident.objects.get()
    expect(page).to_have_url(re.compile(f"/portal/tickets/{incident.number}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cannot send email")
    expect(page.get_by_text("Received", exact=True)).to_be_visible()
    # The script is shown as the text that was typed, and never ran.
    expect(page.get_by_text(f"Outbox stuck. {SCRIPT}")).to_be_visible()
    assert page.evaluate("window.pwned") is None
    expect(page.get_by_role("link", name="outbox.png")).to_be_visible()
    assert (incident.source, incident.priority, incident.contact) == (
        "portal",
        2,
        "ext. 4411",
    )

    # An agent answers from the console, in a browser of their own.
    console = new_page()
    log_in(console, "alex", PASSWORD)
    console.goto(f"/console/{incident.number}/")
    console.get_by_label("Reply", exact=True).check()
    console.get_by_label("Note", exact=True).fill("Restart Outlook, please.")
    console.get_by_role("button", name="Add").click()
    expect(console.get_by_text("Restart Outlook, please.")).to_be_visible()

    page.reload()
    expect(page.get_by_text("Restart Outlook, please.")).to_be_visible()

    incident.refresh_from_db()  # the agent's reply moved it on
    services.incident_triage(
        incident=incident,
        by=agent,
        category=incident.team.categories.get(),
        impact=incident.impact,
        urgency=incident.urgency,
    )
    services.incident_assign(incident=incident, by=agent, assignee=agent)
    services.incident_start_work(incident=incident, by=agent)
    services.incident_resolve(
        incident=incident,
        by=agent,
        resolution_kind="permanent_fix",
        resolution="Cleared the stuck outbox.",
        verification="A test mail arrived.",
    )
    page.reload()
    expect(page.get_by_text("Fixed: please confirm")).to_be_visible()
    page.get_by_role("button", name="Yes, it is fixed").click()
    expect(page.get_by_text("the ticket is closed")).to_be_visible()
    incident.refresh_from_db()
    assert incident.status == "closed"


def test_another_requester_finds_neither_the_ticket_nor_its_file(
    new_page: Any, desk: Any
) -> None:
    page = new_page()
    log_in(page, "rita", PASSWORD)
    page.goto("/portal/report/")
    page.get_by_label("What is wrong, in one line").fill("Laptop will not boot")
    page.get_by_label("What happened").fill("Black screen after the logo.")
    page.get_by_label("Just me").check()
    page.get_by_label("It slows my work down").check()
    page.get_by_label("Attach files").set_input_files(
        files=[{"name": "boot.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="Send report").click()
    incident = Incident.objects.get()
    attachment = Attachment.objects.get()
    file_url = f"/attachments/{attachment.pk}/"
    # Its owner downloads the file as it was sent.
    own = page.request.get(file_url)
    assert (own.status, own.body()) == (200, PNG)

    other = new_page()
    log_in(other, "otto", PASSWORD)
    assert other.goto(f"/portal/tickets/{incident.number}/").status == 404
    assert other.request.get(file_url).status == 404
    other.goto("/portal/")
    expect(other.get_by_text("Laptop will not boot")).to_have_count(0)


def test_similar_open_incidents_are_suggested_while_typing(
    new_page: Any, desk: Any
) -> None:
    agent = desk
    services.incident_log(
        by=agent,
        title="Email delivery delayed",
        source="agent",
        services=[Service.objects.get(name="Email")],
    )
    page = new_page()
    log_in(page, "rita", PASSWORD)
    page.goto("/portal/report/")
    page.get_by_label("Which service").select_option(label="Email")
    page.get_by_label("What is wrong, in one line").fill("email is slow")
    expect(page.get_by_text("Someone may already have reported this.")).to_be_visible()
    expect(page.get_by_text("Email delivery delayed")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_portal(
    new_page: Any, desk: Any, scheme: str, tmp_path: Path
) -> None:
    """Both colour schemes render, on a phone too; with UPDATE_SCREENSHOTS=1 (make
    screenshots) the README's screenshots in docs/screenshots/ are written anew."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    agent = desk
    incident = services.incident_report(
        by=get_user_model().objects.get(username="rita"),
        title="Cannot send email",
        description="Outlook says the server is unreachable since 9:00.",
        service=Service.objects.get(name="Email"),
        impact="medium",
        urgency="high",
    )
    services.incident_add_note(
        incident=incident,
        by=agent,
        kind="reply",
        body="We are on it: the mail relay is being restarted.",
    )
    page = new_page(color_scheme=scheme, viewport={"width": 1280, "height": 800})
    log_in(page, "rita", PASSWORD)
    page.goto("/portal/report/")
    page.screenshot(path=folder / f"portal-report-{scheme}.png", full_page=True)
    phone = new_page(color_scheme=scheme, viewport={"width": 390, "height": 844})
    log_in(phone, "rita", PASSWORD)
    phone.goto(f"/portal/tickets/{incident.number}/")
    # Readable on a phone: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=folder / f"portal-ticket-phone-{scheme}.png", full_page=True)
    assert (folder / f"portal-report-{scheme}.png").stat().st_size > 10_000


def test_a_reply_typed_when_the_session_expired_comes_back_after_login(
    new_page: Any, desk: Any
) -> None:
    incident = services.incident_report(
        by=get_user_model().objects.get(username="rita"),
        title="Wi-Fi drops",
        description="Every few minutes.",
        impact="low",
        urgency="medium",
    )
    page = new_page()
    log_in(page, "rita", PASSWORD)
    page.goto(f"/portal/tickets/{incident.number}/")
    reply = page.get_by_label("Your reply")
    reply.fill("It happens on floor 2 only.")

    # The session expires while the requester types.
    sessions_end(Session.objects.values_list("session_key", flat=True))
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert not incident.notes.exists()
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(f"/portal/tickets/{incident.number}/$"))
    expect(reply).to_have_value("It happens on floor 2 only.")

    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Your reply is sent.")).to_be_visible()
    expect(reply).to_have_value("")
    assert incident.notes.get().body == "It happens on floor 2 only."

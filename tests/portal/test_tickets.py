"""My tickets: the requester's own incidents, the conversation, confirm or reopen,
the emails; and nobody else's tickets, notes or files."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from incidents import services
from incidents.models import Attachment, Incident, IncidentNote, Notification
from incidents.services.attachments import attachments_check
from incidents.services.notifications import notification_deliver
from tests.factories import make_incident
from tests.portal.conftest import png, text_file

pytestmark = pytest.mark.django_db
S = Incident.Status


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reported(org: SimpleNamespace, **fields: Any) -> Incident:
    values = {
        "by": org.requester,
        "title": "Printer jams",
        "description": "Every second page.",
        "impact": "low",
        "urgency": "low",
        "service": org.service,
        **fields,
    }
    return services.incident_report(**values)


def _resolve(incident: Incident, org: SimpleNamespace) -> None:
    services.incident_triage(
        incident=incident,
        by=org.agent,
        category=org.category,
        impact="low",
        urgency="low",
    )
    services.incident_assign(incident=incident, by=org.agent, assignee=org.agent)
    services.incident_start_work(incident=incident, by=org.agent)
    services.incident_resolve(
        incident=incident,
        by=org.agent,
        resolution_kind=Incident.ResolutionKind.PERMANENT_FIX,
        resolution="Replaced the pickup roller.",
        verification="Printed 50 pages.",
    )


def test_my_tickets_lists_only_my_own_in_plain_words(org: SimpleNamespace) -> None:
    mine = _reported(org, title="Printer jams")
    _reported(org, by=org.other_requester, title="Otto's laptop is slow")
    make_incident(title="Disk full on db-7")  # an alert's, no requester

    response = _client(org.requester).get("/portal/")
    assert response.status_code == 200
    assert mine.number.encode() in response.content
    assert b"Received" in response.content  # "new", in plain words
    assert b"Otto" not in response.content
    assert b"db-7" not in response.content


def test_another_requester_gets_404_for_the_ticket_and_its_files(
    org: SimpleNamespace,
) -> None:
    incident = _reported(org, files=attachments_check([png()]))
    attachment = Attachment.objects.get()
    other = _client(org.other_requester)
    paths = [
        f"/portal/tickets/{incident.number}/",
        f"/attachments/{attachment.pk}/",
    ]
    assert [other.get(path).status_code for path in paths] == [404, 404]
    for action in ("reply", "confirm", "reopen"):
        response = other.post(
            f"/portal/tickets/{incident.number}/{action}/", {"body": "x", "reason": "x"}
        )
        assert response.status_code == 404
    assert incident.notes.count() == 0
    # Its owner and the agents do get the file, as a download in a sandbox.
    for user in (org.requester, org.agent):
        response = _client(user).get(f"/attachments/{attachment.pk}/")
        assert response.status_code == 200
        assert (
            response["Content-Disposition"] == 'attachment; filename="screenshot.png"'
        )
        assert response["Content-Type"] == "image/png"
        assert "sandbox" in response["Content-Security-Policy"]
    assert Client().get(f"/attachments/{attachment.pk}/").status_code == 302


def test_the_ticket_shows_replies_and_public_updates_never_work_notes(
    org: SimpleNamespace,
) -> None:
    incident = _reported(org)
    services.incident_add_note(
        incident=incident, by=org.agent, kind="work_note", body="Suspect the fuser."
    )
    services.incident_add_note(
        incident=incident, by=org.agent, kind="reply", body="Which tray do you use?"
    )
    services.incident_post_update(
        incident=incident, by=org.agent, body="Printers on floor 2 are down."
    )
    services.incident_post_update(
        incident=incident, by=org.agent, body="Vendor called.", is_public=True
    )
    response = _client(org.requester).get(f"/portal/tickets/{incident.number}/")
    assert b"Which tray do you use?" in response.content
    assert b"Vendor called." in response.content
    assert b"Suspect the fuser" not in response.content
    assert b"floor 2" not in response.content


@pytest.mark.parametrize("replies", [1, 6])
def test_the_ticket_page_costs_constant_queries(
    org: SimpleNamespace, django_assert_num_queries: Any, replies: int
) -> None:
    incident = _reported(org, files=attachments_check([png()]))
    for n in range(replies):
        services.incident_reply(
            incident=incident,
            by=org.agent if n % 2 else org.requester,
            body=f"Reply {n}",
            files=attachments_check([text_file(f"{n}.log")]),
        )
        services.incident_post_update(
            incident=incident, by=org.agent, body=f"Update {n}", is_public=True
        )
    client = _client(org.requester)
    # user, the ticket, its services, replies (session, permissions: cached)
    # with authors, their files, the report's files, public updates
    with django_assert_num_queries(7):
        response = client.get(f"/portal/tickets/{incident.number}/")
    assert response.content.count(b'class="note reply"') == replies


def test_a_reply_with_files_and_the_agents_reply_by_email(
    org: SimpleNamespace,
) -> None:
    incident = _reported(org)
    response = _client(org.requester).post(
        f"/portal/tickets/{incident.number}/reply/",
        {"body": "Tray 2.", "attachments": [text_file("tray.log")]},
    )
    assert response.status_code == 302
    reply = incident.notes.get()
    assert (reply.kind, reply.author, reply.body) == ("reply", org.requester, "Tray 2.")
    assert [a.name for a in reply.attachments.all()] == ["tray.log"]
    # The requester's own reply sends them nothing; the agent's does.
    assert not Notification.objects.filter(event="requester_reply").exists()

    services.incident_add_note(
        incident=incident, by=org.agent, kind="work_note", body="Internal remark."
    )
    services.incident_add_note(
        incident=incident, by=org.agent, kind="reply", body="Try tray 1 meanwhile."
    )
    notice = Notification.objects.get(event="requester_reply")
    assert notice.recipient == org.requester.email
    assert "Try tray 1 meanwhile." in notice.body
    assert "Internal remark" not in notice.body
    assert notification_deliver(pk=notice.pk)
    assert mail.outbox[-1].to == [org.requester.email]
    assert "Try tray 1 meanwhile." in mail.outbox[-1].body


def test_an_empty_reply_is_refused_with_the_files_unsaved(
    org: SimpleNamespace,
) -> None:
    incident = _reported(org)
    response = _client(org.requester).post(
        f"/portal/tickets/{incident.number}/reply/",
        {"body": "  ", "attachments": [png()]},
    )
    assert response.status_code == 400
    assert not Attachment.objects.exists()
    assert not IncidentNote.objects.exists()


def test_resolution_email_has_the_confirm_and_reopen_links_then_confirm_closes(
    org: SimpleNamespace, settings: Any
) -> None:
    settings.SITE_URL = "https://itsm.example.com"
    incident = _reported(org)
    _resolve(incident, org)
    notice = Notification.objects.get(event="requester_resolved")
    url = f"https://itsm.example.com/portal/tickets/{incident.number}/"
    assert f"{url}#confirm" in notice.body
    assert f"{url}#reopen" in notice.body
    assert "Replaced the pickup roller." in notice.body

    client = _client(org.requester)
    page = client.get(f"/portal/tickets/{incident.number}/")
    assert b"Yes, it is fixed" in page.content
    assert client.post(f"/portal/tickets/{incident.number}/confirm/").status_code == 302
    incident.refresh_from_db()
    assert incident.status == S.CLOSED
    assert Notification.objects.filter(event="requester_closed").count() == 1
    # Closed is final: no more replies, and confirming again is a conflict.
    again = client.post(f"/portal/tickets/{incident.number}/confirm/")
    assert again.status_code == 409
    refused = client.post(f"/portal/tickets/{incident.number}/reply/", {"body": "Hi"})
    assert refused.status_code == 409


def test_still_broken_reopens_with_the_reason_within_the_grace_period(
    org: SimpleNamespace,
) -> None:
    incident = _reported(org)
    _resolve(incident, org)
    client = _client(org.requester)
    path = f"/portal/tickets/{incident.number}/reopen/"

    assert client.post(path, {"reason": " "}).status_code == 400
    assert client.post(path, {"reason": "Jams again on page 3."}).status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.reopen_count) == (S.INVESTIGATING, 1)
    assert incident.notes.get().body == "Jams again on page 3."


def test_after_the_grace_period_reopening_is_refused_and_the_text_kept(
    org: SimpleNamespace,
) -> None:
    incident = _reported(org)
    _resolve(incident, org)
    client = _client(org.requester)
    late = incident.confirmation_due_at + timedelta(minutes=1)
    with time_machine.travel(late, tick=False):
        page = client.get(f"/portal/tickets/{incident.number}/")
        assert b"No, it is still broken" not in page.content
        response = client.post(
            f"/portal/tickets/{incident.number}/reopen/", {"reason": "Jams again."}
        )
    assert response.status_code == 409
    assert b"Report the problem again" in response.content
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED


def test_auto_close_after_the_grace_period_emails_the_requester(
    org: SimpleNamespace,
) -> None:
    incident = _reported(org)
    _resolve(incident, org)
    services.incident_close_unconfirmed(
        incident=incident, now=incident.confirmation_due_at
    )
    notice = Notification.objects.get(event="requester_closed")
    assert notice.subject == f"{incident.number} is closed"


def test_user_text_is_shown_escaped(org: SimpleNamespace) -> None:
    incident = _reported(
        org,
        title="<b>bold</b> title",
        description="<script>alert('x')</script>",
        contact="<img src=x onerror=alert(1)>",
    )
    response = _client(org.requester).get(f"/portal/tickets/{incident.number}/")
    content = response.content.decode()
    assert "<script>alert('x')</script>" not in content
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in content
    assert "<img src=x" not in content
    assert "<b>bold</b>" not in content


def test_a_question_emails_the_requester_and_their_answer_resumes_work(
    org: SimpleNamespace,
) -> None:
    incident = _reported(org)
    services.incident_triage(
        incident=incident,
        by=org.agent,
        category=org.category,
        impact="low",
        urgency="low",
    )
    services.incident_assign(incident=incident, by=org.agent, assignee=org.agent)
    services.incident_start_work(incident=incident, by=org.agent)
    services.incident_wait_for_requester(
        incident=incident, by=org.agent, question="Which floor are you on?"
    )
    notice = Notification.objects.get(event="requester_question")
    assert "Which floor are you on?" in notice.body
    client = _client(org.requester)
    page = client.get(f"/portal/tickets/{incident.number}/")
    assert b"Waiting for your answer" in page.content
    client.post(f"/portal/tickets/{incident.number}/reply/", {"body": "Floor 2."})
    incident.refresh_from_db()
    assert incident.status == S.INVESTIGATING


def test_the_requester_hears_when_their_report_is_merged_or_cancelled(
    org: SimpleNamespace,
) -> None:
    first = _reported(org, title="Wi-Fi down on floor 2")
    duplicate = _reported(org, by=org.other_requester, title="No Wi-Fi")
    mistake = _reported(org, title="Sorry, wrong button")
    services.incident_merge(incident=duplicate, by=org.agent, into=first)
    services.incident_cancel(incident=mistake, by=org.agent, reason="Sent by mistake.")
    sent = dict(
        Notification.objects.filter(
            event__in=["requester_merged", "requester_cancelled"]
        ).values_list("event", "recipient")
    )
    assert sent == {
        "requester_merged": org.other_requester.email,
        "requester_cancelled": org.requester.email,
    }
    cancelled = Notification.objects.get(event="requester_cancelled")
    assert "Sent by mistake." in cancelled.body


def test_requesters_of_merged_reports_hear_when_the_problem_is_fixed(
    org: SimpleNamespace,
) -> None:
    main = _reported(org, title="Wi-Fi down on floor 2")
    duplicate = _reported(org, by=org.other_requester, title="No Wi-Fi here")
    services.incident_merge(incident=duplicate, by=org.agent, into=main)
    main.refresh_from_db()
    _resolve(main, org)
    notice = Notification.objects.get(event="requester_duplicate_resolved")
    assert notice.recipient == org.other_requester.email
    assert notice.subject == f"{duplicate.number} is fixed: No Wi-Fi here"
    assert "Replaced the pickup roller." in notice.body
    assert main.number in notice.body

"""Reporting a problem through the portal: the form, the files, the limits."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from incidents import services
from incidents.models import (
    Attachment,
    Incident,
    IncidentEvent,
    Notification,
    Priority,
)
from incidents.roles import Role
from tests.factories import make_incident, make_service, make_team, make_user
from tests.portal.conftest import PNG, png, text_file

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_report_logs_a_portal_incident_routed_and_prioritised(
    org: SimpleNamespace, report_data: dict[str, Any]
) -> None:
    org.service.team = org.team
    org.service.save()
    response = _client(org.requester).post("/portal/report/", report_data)

    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portal/tickets/{incident.number}/"
    assert (incident.source, incident.requester, incident.team) == (
        Incident.Source.PORTAL,
        org.requester,
        org.team,
    )
    # Several people, cannot work: medium impact, high urgency is P2.
    assert (incident.impact, incident.urgency, incident.priority) == (
        "medium",
        "high",
        Priority.P2,
    )
    assert incident.contact == "ext. 4411"
    assert list(incident.services.all()) == [org.service]


def test_files_are_checked_by_content_and_stored_under_our_own_names(
    org: SimpleNamespace, report_data: dict[str, Any], attachments_dir: Path
) -> None:
    files = [png("../../etc/passwd.png"), text_file("C:\\logs\\mail\x07.log")]
    response = _client(org.requester).post(
        "/portal/report/", {**report_data, "attachments": files}
    )
    assert response.status_code == 302

    shown, log = Attachment.objects.order_by("name")
    assert (shown.name, shown.content_type, shown.size) == (
        "mail.log",
        "text/plain",
        len(b"ERROR disk full\n"),
    )
    assert (log.name, log.content_type) == ("passwd.png", "image/png")
    for attachment in (shown, log):
        stored = Path(attachment.file.path)
        # Under the attachments folder, named by the id, never by the upload.
        assert stored.is_relative_to(attachments_dir)
        assert stored.stem == str(attachment.pk)
    assert Path(log.file.path).read_bytes() == PNG
    kinds = IncidentEvent.objects.values_list("kind", flat=True)
    assert list(kinds).count(IncidentEvent.Kind.ATTACHMENT_ADDED) == 2


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("tool.png", b"\x7fELF\x02\x01\x01" + b"\0" * 64),
        SimpleUploadedFile("archive.txt", b"PK\x03\x04" + b"\0" * 64),
        SimpleUploadedFile("binary.log", b"MZ\x90\x00\x03" + b"\0" * 64),
        SimpleUploadedFile("latin1.txt", "caf\xe9".encode("latin-1")),
        SimpleUploadedFile("empty.png", b""),
    ],
    ids=["elf-named-png", "zip-named-txt", "nul-bytes", "not-utf8", "empty"],
)
def test_a_refused_file_refuses_the_report_and_writes_nothing(
    org: SimpleNamespace,
    report_data: dict[str, Any],
    upload: SimpleUploadedFile,
    attachments_dir: Path,
) -> None:
    response = _client(org.requester).post(
        "/portal/report/", {**report_data, "attachments": [upload]}
    )
    assert response.status_code == 400
    assert upload.name.encode() in response.content  # says which file
    assert b"Outlook says the server is unreachable" in response.content  # text kept
    assert not Incident.objects.exists()
    assert not Attachment.objects.exists()
    assert not attachments_dir.exists() or not any(attachments_dir.rglob("*.*"))


def test_size_and_count_limits(
    org: SimpleNamespace, report_data: dict[str, Any], settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    settings.ATTACHMENT_MAX_FILES = 2
    client = _client(org.requester)

    big = text_file("big.log", "x" * 101)
    response = client.post("/portal/report/", {**report_data, "attachments": [big]})
    assert response.status_code == 400
    assert b"big.log is larger than 100" in response.content

    three = [text_file(f"{n}.log") for n in range(3)]
    response = client.post("/portal/report/", {**report_data, "attachments": three})
    assert response.status_code == 400
    assert b"Attach at most 2 files" in response.content
    assert not Incident.objects.exists()


def test_a_body_larger_than_every_allowed_file_is_refused_unread(
    org: SimpleNamespace, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    settings.ATTACHMENT_MAX_FILES = 1
    client = _client(org.requester)
    response = client.post(
        "/portal/report/",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(2 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert not Incident.objects.exists()


def test_form_errors_keep_the_text_and_write_nothing(
    org: SimpleNamespace, report_data: dict[str, Any]
) -> None:
    response = _client(org.requester).post(
        "/portal/report/", {**report_data, "title": "   ", "urgency": "panic"}
    )
    assert response.status_code == 400
    assert b"Outlook says the server is unreachable" in response.content
    assert b"Select a valid choice" in response.content
    assert not Incident.objects.exists()


def test_reports_are_rate_limited_per_person(
    org: SimpleNamespace, report_data: dict[str, Any], settings: Any
) -> None:
    settings.PORTAL_REPORTS_PER_HOUR = 2
    client = _client(org.requester)
    assert [client.post("/portal/report/", report_data).status_code for _ in "ab"] == [
        302,
        302,
    ]
    response = client.post("/portal/report/", {**report_data, "title": "Third one"})
    assert response.status_code == 429
    assert b"Third one" in response.content
    assert Incident.objects.count() == 2
    # Someone else is not held back by it.
    other = _client(org.other_requester)
    assert other.post("/portal/report/", report_data).status_code == 302


def test_the_form_needs_a_csrf_token(
    org: SimpleNamespace, report_data: dict[str, Any]
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.requester)
    assert client.post("/portal/report/", report_data).status_code == 403
    assert not Incident.objects.exists()


def test_only_requesters_use_the_portal(org: SimpleNamespace) -> None:
    assert Client().get("/portal/report/").status_code == 302  # to the login page
    for user in (org.agent, make_user()):
        assert _client(user).get("/portal/report/").status_code == 403


def test_someone_already_reported_this(org: SimpleNamespace) -> None:
    public = make_service(name="Mail", is_public=True)
    internal = make_service(name="Build farm", is_public=False)
    make_incident(title="Email delivery delayed", services=[public])
    make_incident(title="Email queue stuck on the build farm", services=[internal])
    ended = make_incident(title="Email was down", services=[public])
    services.incident_cancel(incident=ended, by=org.agent, reason="Logged twice.")
    client = _client(org.requester)

    found = client.get(
        "/portal/similar/", {"title": "email slow", "service": public.pk}
    )
    assert b"Email delivery delayed" in found.content
    assert b"Email was down" not in found.content

    hidden = client.get("/portal/similar/", {"title": "email", "service": internal.pk})
    assert b"build farm" not in hidden.content
    nothing = client.get("/portal/similar/", {"title": "printer", "service": public.pk})
    assert b"already" not in nothing.content


def test_a_logged_report_emails_the_requester(
    org: SimpleNamespace, report_data: dict[str, Any]
) -> None:
    _client(org.requester).post("/portal/report/", report_data)
    incident = Incident.objects.get()
    mail = Notification.objects.get(event="requester_logged")
    assert (mail.recipient, mail.incident) == (org.requester.email, incident)
    assert mail.subject == f"{incident.number} received: Cannot send email"
    # An absolute link, from SITE_URL: the email is read outside the site.
    assert f"{settings.SITE_URL}/portal/tickets/{incident.number}/" in mail.body


def test_an_agent_logging_for_a_requester_without_email_sends_nothing(
    org: SimpleNamespace,
) -> None:
    silent = make_user(role=Role.REQUESTER, email="")
    make_incident(title="Phoned in", requester=silent, by=org.agent)
    make_incident(title="From an alert")
    assert not Notification.objects.filter(event__startswith="requester_").exists()


def test_without_category_the_service_team_owns_the_report(
    org: SimpleNamespace, report_data: dict[str, Any]
) -> None:
    owners = make_team(name="Messaging")
    service = make_service(name="Chat", team=owners)
    _client(org.requester).post(
        "/portal/report/", {**report_data, "service": str(service.pk)}
    )
    assert Incident.objects.get().team == owners


def test_a_report_naming_no_service_goes_to_the_service_desk(
    org: SimpleNamespace, report_data: dict[str, Any], settings: Any
) -> None:
    # "I don't know" which service, or a service no team runs.
    unowned = make_service(name="Kiosk")
    client = _client(org.requester)
    client.post("/portal/report/", {**report_data, "service": ""})
    client.post("/portal/report/", {**report_data, "service": str(unowned.pk)})
    assert [i.team for i in Incident.objects.order_by("id")] == [org.team, org.team]

    settings.SERVICE_DESK_TEAM = "Systems"
    client.post("/portal/report/", {**report_data, "title": "Printer", "service": ""})
    assert Incident.objects.get(title="Printer").team == org.upper
    # Misconfigured: a name no team has still reaches a team, the first of tier 1.
    settings.SERVICE_DESK_TEAM = "Nobody"
    client.post("/portal/report/", {**report_data, "title": "Kettle", "service": ""})
    assert Incident.objects.get(title="Kettle").team == org.team


@pytest.mark.parametrize("service", ["", "abc", "9" * 30, "-1"])
def test_suggestions_take_any_service_value_without_failing(
    org: SimpleNamespace, service: str
) -> None:
    response = _client(org.requester).get(
        "/portal/similar/", {"title": "email down", "service": service}
    )
    assert response.status_code == 200
    assert b"already" not in response.content


def test_an_unknown_service_is_a_form_error(
    org: SimpleNamespace, report_data: dict[str, Any]
) -> None:
    client = _client(org.requester)
    for service in ("9" * 30, "abc", "424242"):
        response = client.post("/portal/report/", {**report_data, "service": service})
        assert response.status_code == 400
        assert b"Select a valid choice" in response.content
    assert not Incident.objects.exists()


def test_only_public_services_are_offered(
    org: SimpleNamespace, report_data: dict[str, Any]
) -> None:
    internal = make_service(name="Backup robot", is_public=False)
    client = _client(org.requester)
    form = client.get("/portal/report/").content
    assert b"Email" in form and b"Backup robot" not in form
    response = client.post(
        "/portal/report/", {**report_data, "service": str(internal.pk)}
    )
    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_the_blank_form_offers_the_public_services_as_they_are_now(
    org: SimpleNamespace, django_assert_num_queries: Any
) -> None:
    # The blank form's fields are kept by what they print (itsm.fragments), the
    # services among it: a change shows at the next load.
    client = _client(org.requester)
    first = make_service(name="Payroll", is_public=True)
    assert "Payroll" in client.get("/portal/report/").content.decode()
    first.name = "Payroll and expenses"
    first.save()
    make_service(name="Badge readers", is_public=True)
    make_service(name="Core switches", is_public=False)
    # The session's user and the public services: kept fields cost no more.
    with django_assert_num_queries(2):
        html = client.get("/portal/report/").content.decode()
    assert "Payroll and expenses" in html and "Badge readers" in html
    assert "Core switches" not in html and ">Payroll<" not in html


def test_a_refused_report_comes_back_as_typed_not_blank(org: SimpleNamespace) -> None:
    client = _client(org.requester)
    client.get("/portal/report/")  # the blank form is kept
    answer = client.post(
        "/portal/report/",
        {"title": "Printer jams", "description": "", "impact": "", "urgency": ""},
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'value="Printer jams"' in html and "This field is required." in html

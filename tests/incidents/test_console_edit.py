"""The incident page's Edit action: what the incident is, as learnt since it was
logged; version-checked; the priority recomputed by the matrix with its clocks;
every field change on the timeline with its old and new values."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from incidents.models import Incident, IncidentEvent
from tests.factories import make_service, signed_in
from tests.incidents.conftest import incident_in

pytestmark = pytest.mark.django_db

S = Incident.Status


def edit(client: Client, incident: Incident, **data: object) -> object:
    fields = {
        "version": incident.version,
        "title": incident.title,
        "description": incident.description,
        "services": [service.pk for service in incident.services.all()],
        **data,
    }
    return client.post(f"/console/{incident.number}/edit/", fields)


def test_edit_raises_p3_to_p1_with_its_clocks(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    client = signed_in(org.agent)
    assert edit(client, incident, impact="medium", urgency="medium").status_code == 302
    incident.refresh_from_db()
    assert incident.priority == 3 and incident.next_update_due_at is None
    p3_due = incident.resolve_due_at
    vpn = make_service(name="VPN")
    response = edit(
        client,
        incident,
        title="Mail and VPN are down",
        impact="high",
        urgency="high",
        services=[org.service.pk, vpn.pk],
        category=org.category.pk,
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.priority) == ("Mail and VPN are down", 1)
    assert incident.resolve_due_at < p3_due  # the P1 target is shorter
    # A major incident's stakeholder cadence starts at once.
    assert incident.next_update_due_at is not None
    assert set(incident.services.all()) == {org.service, vpn}

    html = client.get(f"/console/{incident.number}/").content.decode()
    assert "title: Mail is down → Mail and VPN are down" in html
    assert "priority: P3 → P1" in html
    assert "impact: Medium → High" in html
    assert "services: Email → Email, VPN" in html


def test_every_field_changed_entry_shows_old_and_new(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    client = signed_in(org.agent)
    edit(client, incident, description="Only outgoing mail.", urgency="high")
    html = client.get(f"/console/{incident.number}/").content.decode()
    changes = incident.events.filter(kind=IncidentEvent.Kind.FIELD_CHANGED)
    assert changes.count() >= 3
    for event in changes:
        assert f"Field changed · alex: {event.data['field']}: " in html
    assert "description: Nobody can send mail. → Only outgoing mail." in html


def test_a_stale_edit_is_refused_and_nothing_changes(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    client = signed_in(org.agent)
    seen = incident.version
    edit(client, incident, title="First")
    response = edit(client, incident, version=seen, title="Second")
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    incident.refresh_from_db()
    assert incident.title == "First"


def test_bad_input_is_a_form_error(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = edit(signed_in(org.agent), incident, title="", impact="huge")
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.title == "Mail is down"


def test_a_requester_cannot_edit(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = edit(signed_in(org.requester), incident, title="Mine now")
    assert response.status_code in (403, 404)
    incident.refresh_from_db()
    assert incident.title == "Mail is down"


def test_the_requester_shows_by_full_name_and_contact(org: SimpleNamespace) -> None:
    org.requester.first_name, org.requester.last_name = "Rita", "Requester"
    org.requester.save()
    incident = incident_in(S.INVESTIGATING, org)
    Incident.objects.filter(pk=incident.pk).update(contact="ext. 4411")
    html = signed_in(org.agent).get(f"/console/{incident.number}/").content.decode()
    assert "Rita Requester" in html
    assert f'href="mailto:{org.requester.email}"' in html
    assert "ext. 4411" in html


def test_an_agent_logs_a_call_for_a_requester_with_contact_and_files(
    org: SimpleNamespace,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(org.agent)
    html = client.get("/console/new/").content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="services"' in html and "data-multi-select" in html
    response = client.post(
        "/console/new/",
        {
            "title": "Laptop will not boot",
            "requester": org.requester.pk,
            "contact": "+44 20 7946 0000",
            "services": [org.service.pk],
            "attachments": [SimpleUploadedFile("boot.log", b"kernel panic\n")],
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get(title="Laptop will not boot")
    assert (incident.requester, incident.contact) == (org.requester, "+44 20 7946 0000")
    assert incident.source == Incident.Source.AGENT
    assert [a.name for a in incident.attachments.all()] == ["boot.log"]


def test_a_refused_file_logs_nothing(org: SimpleNamespace) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = signed_in(org.agent).post(
        "/console/new/",
        {
            "title": "With a program",
            "attachments": [SimpleUploadedFile("run.exe", b"MZ\x90\x00binary")],
        },
    )
    assert response.status_code == 400
    assert not Incident.objects.filter(title="With a program").exists()


def test_agents_attach_files_to_notes_and_replies(org: SimpleNamespace) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    incident = incident_in(S.INVESTIGATING, org)
    client = signed_in(org.agent)
    assert (
        'enctype="multipart/form-data"'
        in client.get(f"/console/{incident.number}/").content.decode()
    )
    for kind, name in (("work_note", "trace.log"), ("reply", "steps.txt")):
        response = client.post(
            f"/console/{incident.number}/note/",
            {
                "version": incident.version,
                "kind": kind,
                "body": f"See {name}",
                "attachments": [SimpleUploadedFile(name, b"line one\n")],
            },
        )
        assert response.status_code == 302
    files = {a.name: a.note.kind for a in incident.attachments.select_related("note")}
    assert files == {"trace.log": "work_note", "steps.txt": "reply"}

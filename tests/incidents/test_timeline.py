"""The timeline, notes and stakeholder updates are append-only, everywhere."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db.models import ProtectedError
from django.test import Client

from incidents.models import Incident, IncidentEvent, IncidentNote, StakeholderUpdate
from incidents.models.timeline import AppendOnlyError
from incidents.services import incident_add_note, incident_post_update
from tests.incidents.conftest import incident_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def logs(org: SimpleNamespace) -> SimpleNamespace:
    incident = incident_in(Incident.Status.INVESTIGATING, org)
    return SimpleNamespace(
        incident=incident,
        event=incident.events.first(),
        note=incident_add_note(
            incident=incident, by=org.agent, kind="work_note", body="a"
        ),
        update=incident_post_update(incident=incident, by=org.agent, body="b"),
    )


@pytest.mark.parametrize("name", ["event", "note", "update"])
def test_a_saved_row_cannot_be_changed(logs: SimpleNamespace, name: str) -> None:
    row = getattr(logs, name)
    with pytest.raises(AppendOnlyError):
        row.save()


@pytest.mark.parametrize("name", ["event", "note", "update"])
def test_a_row_cannot_be_deleted(logs: SimpleNamespace, name: str) -> None:
    row = getattr(logs, name)
    with pytest.raises(AppendOnlyError):
        row.delete()
    assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", [IncidentEvent, IncidentNote, StakeholderUpdate])
def test_bulk_update_and_delete_are_refused(logs: SimpleNamespace, model: type) -> None:
    count = model.objects.count()
    with pytest.raises(AppendOnlyError):
        model.objects.filter(incident=logs.incident).update(created_at=None)
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()
    assert model.objects.count() == count


def test_an_incident_with_a_timeline_cannot_be_deleted(logs: SimpleNamespace) -> None:
    with pytest.raises(ProtectedError):
        logs.incident.delete()


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("incidentevent", "event"),
        ("incidentnote", "note"),
        ("stakeholderupdate", "update"),
    ],
)
def test_admin_shows_logs_read_only_even_to_a_superuser(
    logs: SimpleNamespace, admin_client: Client, model: str, name: str
) -> None:
    row = getattr(logs, name)
    base = f"/admin/incidents/{model}/{row.pk}"
    page = admin_client.get(f"{base}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(f"{base}/change/", {}).status_code == 403
    assert admin_client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"/admin/incidents/{model}/add/").status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


def test_admin_shows_incidents_read_only(
    logs: SimpleNamespace, admin_client: Client
) -> None:
    base = f"/admin/incidents/incident/{logs.incident.pk}"
    page = admin_client.get(f"{base}/change/")
    assert page.status_code == 200
    assert logs.incident.title.encode() in page.content
    assert admin_client.post(f"{base}/change/", {"title": "x"}).status_code == 403
    assert admin_client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    logs.incident.refresh_from_db()
    assert logs.incident.title != "x"


def test_timeline_is_in_order_with_actor_and_time(org: SimpleNamespace) -> None:
    incident = incident_in(Incident.Status.RESOLVED, org)
    events = list(incident.events.all())
    assert [e.at for e in events] == sorted(e.at for e in events)
    transitions = [e.data["transition"] for e in events if e.kind == "transition"]
    assert transitions == ["triage", "start_work", "resolve"]
    # The system declared the P2 a major incident; the rest is the agent's.
    assert all(e.actor == org.agent for e in events if e.kind != "major_declared")

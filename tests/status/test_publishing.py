"""Publishing on purpose: a major incident on a public service proposes an entry,
and nothing is public until an incident manager publishes it, in words written
for the public."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from incidents import services
from incidents.exceptions import IncidentConflict
from incidents.models import (
    ComponentState,
    Incident,
    StatusComponent,
    StatusEntry,
    StatusPageSettings,
    StatusVersion,
)
from incidents.status import services as status
from incidents.status.selectors import status_proposals
from tests.status.conftest import PUBLIC_TITLE, major, post_update, publish, resolve

pytestmark = pytest.mark.django_db

PUBLIC_PATHS = [
    "/status",
    "/status.json",
    "/status/feed.atom",
    "/api/v2/summary.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/components.json",
    "/api/v2/status.json",
]


def _everything_public(client: Client) -> str:
    return "\n".join(client.get(path).content.decode() for path in PUBLIC_PATHS)


def test_a_p1_on_a_public_service_is_proposed_and_nothing_is_public(
    client: Client, desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        incident = major(desk, title="Relay mx-7 out of disk")
        post_update(desk, incident, "Mail is failing for everyone.")
    entry = StatusEntry.objects.get(incident=incident)
    assert entry.status == StatusEntry.Status.PROPOSED
    assert list(status_proposals()) == [entry]
    body = _everything_public(client)
    for secret in [
        incident.number,
        "Relay mx-7",
        "Mail is failing",
        entry.public_id,
        "major_outage",
    ]:
        assert secret not in body, secret
    assert "All Systems Operational" in body


def test_once_published_the_public_title_components_and_message_show(
    client: Client, desk: SimpleNamespace
) -> None:
    incident = major(desk)
    entry = publish(desk, incident)
    body = _everything_public(client)
    assert PUBLIC_TITLE in body and "We are looking into problems with email." in body
    assert incident.number not in body and "Relay mx-7" not in body
    summary = client.get("/api/v2/summary.json").json()
    [shown] = summary["incidents"]
    assert (shown["id"], shown["status"], shown["impact"]) == (
        entry.public_id,
        "investigating",
        "critical",
    )
    states = {c["name"]: c["status"] for c in summary["components"]}
    assert states == {"Email": "major_outage", "Website": "operational"}
    assert summary["status"] == {
        "indicator": "critical",
        "description": "Major Service Outage",
    }


@pytest.mark.parametrize("priority", [1, 2])
def test_a_major_incident_only_on_internal_services_is_not_proposed(
    desk: SimpleNamespace, priority: int
) -> None:
    incident = major(desk, priority=priority, on=[desk.internal])
    status.status_incident_sync(incident_id=incident.pk)
    assert not StatusEntry.objects.exists()


def test_minor_incidents_are_not_proposed(desk: SimpleNamespace) -> None:
    incident = major(desk, priority=3)
    status.status_incident_sync(incident_id=incident.pk)
    assert not StatusEntry.objects.exists()


def test_an_agent_may_not_publish(desk: SimpleNamespace) -> None:
    incident = major(desk)
    with pytest.raises(PermissionDenied):
        status.status_entry_publish(
            incident=incident,
            by=desk.agent,
            title="Email down",
            components={desk.email.pk: ComponentState.MAJOR},
            message="Looking into it.",
        )
    assert not StatusEntry.objects.filter(status=StatusEntry.Status.PUBLISHED).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"message": ""}, "message"),
        ({"components": {}}, "components"),
        ({"components": {"internal": ComponentState.MAJOR}}, "components"),
        ({"components": {"email": "operational"}}, "components"),
        ({"components": {"email": "on fire"}}, "components"),
    ],
)
def test_publishing_refuses_bad_input_and_writes_nothing(
    desk: SimpleNamespace, changes: dict[str, Any], field: str
) -> None:
    incident = major(desk)
    arguments: dict[str, Any] = {
        "title": "Email down",
        "components": {desk.email.pk: ComponentState.MAJOR},
        "message": "Looking into it.",
        **changes,
    }
    if "components" in changes:
        arguments["components"] = {
            getattr(desk, name).pk: state
            for name, state in changes["components"].items()
        }
    with pytest.raises(ValidationError) as refused:
        status.status_entry_publish(incident=incident, by=desk.manager, **arguments)
    assert field in refused.value.message_dict
    assert not StatusEntry.objects.exists()


def test_publishing_twice_is_a_conflict(desk: SimpleNamespace) -> None:
    incident = major(desk)
    publish(desk, incident)
    with pytest.raises(IncidentConflict):
        publish(desk, incident, title="Again")
    assert StatusEntry.objects.get().title == PUBLIC_TITLE


def test_publishing_keeps_the_first_versions_and_counts_from_detection(
    desk: SimpleNamespace,
) -> None:
    incident = major(desk)
    entry = publish(desk, incident)
    assert entry.started_at == incident.detected_at < entry.published_at
    [impact] = entry.impacts.all()
    assert (impact.state, impact.start_at, impact.end_at) == (
        ComponentState.MAJOR,
        incident.detected_at,
        None,
    )
    texts = list(StatusVersion.objects.values_list("text", flat=True))
    assert texts == [PUBLIC_TITLE, "We are looking into problems with email."]


def test_a_dismissed_proposal_is_not_proposed_again_but_can_be_published(
    desk: SimpleNamespace,
) -> None:
    incident = major(desk)
    status.status_incident_sync(incident_id=incident.pk)
    entry = StatusEntry.objects.get()
    status.status_entry_dismiss(entry=entry, by=desk.manager)
    status.status_incident_sync(incident_id=incident.pk)
    entry.refresh_from_db()
    assert entry.status == StatusEntry.Status.DISMISSED
    assert list(status_proposals()) == []
    publish(desk, incident)
    entry.refresh_from_db()
    assert entry.status == StatusEntry.Status.PUBLISHED


def test_a_proposal_whose_incident_is_no_longer_major_leaves_the_list(
    desk: SimpleNamespace,
) -> None:
    incident = major(desk, priority=2)
    status.status_incident_sync(incident_id=incident.pk)
    assert status_proposals().count() == 1
    services.incident_update(
        incident=incident, by=desk.agent, impact="low", urgency="low"
    )
    assert status_proposals().count() == 0


def test_automatic_p1_publishing_is_off_by_default(desk: SimpleNamespace) -> None:
    assert StatusPageSettings.current().auto_publish_p1 is False
    incident = major(desk)
    status.status_incident_sync(incident_id=incident.pk)
    assert StatusEntry.objects.get().status == StatusEntry.Status.PROPOSED


def test_automatic_p1_publishing_uses_the_default_public_title(
    client: Client, desk: SimpleNamespace
) -> None:
    StatusPageSettings.objects.create(pk=1, auto_publish_p1=True)
    StatusComponent.objects.create(service=desk.email, default_title="Email trouble")
    p1 = major(desk, on=[desk.email, desk.internal])
    p2 = major(desk, priority=2, on=[desk.web])
    for incident in (p1, p2):
        status.status_incident_sync(incident_id=incident.pk)
    entry = StatusEntry.objects.get(incident=p1)
    assert (entry.status, entry.title, entry.published_by) == (
        StatusEntry.Status.PUBLISHED,
        "Email trouble",
        None,
    )
    assert [i.service for i in entry.impacts.all()] == [desk.email]
    [message] = entry.messages.all()
    assert "Email" in message.body and "Backup robot" not in message.body
    assert StatusEntry.objects.get(incident=p2).status == StatusEntry.Status.PROPOSED


def test_public_updates_after_publishing_become_messages_internal_ones_do_not(
    desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    incident = major(desk)
    with django_capture_on_commit_callbacks(execute=True):
        post_update(desk, incident, "Before publishing: public.")
    entry = publish(desk, incident)
    with django_capture_on_commit_callbacks(execute=True):
        post_update(desk, incident, "Failover to the spare relay started.")
        post_update(desk, incident, "Relay mx-7 disk 100%.", public=False)
    bodies = list(entry.messages.values_list("body", "stage"))
    assert bodies == [
        ("Failover to the spare relay started.", "investigating"),
        ("We are looking into problems with email.", "investigating"),
    ]
    # Running the sync again adds nothing: one message per public update.
    status.status_incident_sync(incident_id=incident.pk)
    assert entry.messages.count() == 2


def test_resolving_the_incident_proposes_resolving_the_entry(
    desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    incident = major(desk)
    entry = publish(desk, incident)
    with django_capture_on_commit_callbacks(execute=True):
        resolve(desk, incident)
    entry.refresh_from_db()
    assert entry.resolution_proposed_at is not None
    assert entry.resolved_at is None  # the public entry waits for a person
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_reopen(incident=incident, by=desk.agent, reason="Down again")
    entry.refresh_from_db()
    assert entry.resolution_proposed_at is None


def test_a_failing_status_page_does_not_fail_the_incident_write(
    desk: SimpleNamespace,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("status page bug")

    monkeypatch.setattr("incidents.status.hooks.status_incident_sync", broken)
    with django_capture_on_commit_callbacks(execute=True):
        incident = major(desk)
    assert Incident.objects.get(pk=incident.pk).status == "investigating"
    assert "not brought in step" in caplog.text


def test_the_hook_runs_only_after_commit(
    desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        major(desk)
    assert not StatusEntry.objects.exists()
    assert callbacks  # waiting for the commit

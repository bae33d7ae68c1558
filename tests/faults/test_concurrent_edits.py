"""People editing one incident at the same moment. A write that sends no version
acts on the incident as it is once locked; notes and replies only add. A 409
comes only when the version sent is stale, or the state moved under a
transition."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest

from incidents import services
from incidents.models import Incident, IncidentNote
from tests.faults.concurrency import row_locked, start, together, wait_for_lock_waiters
from tests.incidents.conftest import incident_in

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

S = Incident.Status


def url(incident: Incident, tail: str = "") -> str:
    return f"/api/v1/incidents/{incident.number}/{tail}"


def agent_edits(org: SimpleNamespace, incident: Incident, **values: Any) -> Any:
    return lambda: services.incident_update(
        incident=Incident.objects.get(pk=incident.pk), by=org.agent, **values
    )


def test_note_waiting_behind_an_edit_is_added(
    org: SimpleNamespace, api: Callable[..., Any]
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    with row_locked(incident, then=agent_edits(org, incident, title="Edited")):
        note = start(
            lambda: api(
                "agent",
                "POST",
                url(incident, "notes/"),
                {"kind": "work_note", "body": "Relay restarted"},
            )
        )
        wait_for_lock_waiters(1)
    assert note.value().status_code == 201, note.value().content
    assert incident.notes.get().body == "Relay restarted"


def test_edit_without_a_version_waiting_behind_another_keeps_both(
    org: SimpleNamespace, api: Callable[..., Any]
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    with row_locked(incident, then=agent_edits(org, incident, description="Theirs")):
        patch = start(lambda: api("agent", "PATCH", url(incident), {"title": "Mine"}))
        wait_for_lock_waiters(1)
    response = patch.value()
    assert response.status_code == 200, response.content
    assert (response.json()["title"], response.json()["version"]) == (
        "Mine",
        incident.version + 2,
    )
    incident.refresh_from_db()
    assert (incident.title, incident.description) == ("Mine", "Theirs")


def test_edit_with_the_version_seen_waiting_behind_another_is_409(
    org: SimpleNamespace, api: Callable[..., Any]
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    body = {"title": "Mine", "version": incident.version}
    with row_locked(incident, then=agent_edits(org, incident, title="Theirs")):
        patch = start(lambda: api("agent", "PATCH", url(incident), body))
        wait_for_lock_waiters(1)
    assert patch.value().status_code == 409
    assert patch.value().json()["code"] == "stale"
    incident.refresh_from_db()
    assert incident.title == "Theirs"


def test_transition_waiting_behind_a_change_of_state_is_409(
    org: SimpleNamespace, api: Callable[..., Any]
) -> None:
    """Resolving is allowed from both states, but the agent chose it from
    "investigating": once the state moved, that choice is refused."""
    incident = incident_in(S.INVESTIGATING, org)

    def ask_requester() -> None:
        services.incident_wait_for_requester(
            incident=Incident.objects.get(pk=incident.pk),
            by=org.agent,
            question="Which browser?",
        )

    resolve = {
        "resolution_kind": "workaround",
        "resolution": "Restarted the relay.",
        "verification": "Sent a test mail.",
    }
    with row_locked(incident, then=ask_requester):
        answer = start(
            lambda: api("agent", "POST", url(incident, "transitions/resolve/"), resolve)
        )
        wait_for_lock_waiters(1)
    assert answer.value().status_code == 409
    assert answer.value().json()["code"] == "stale"
    incident.refresh_from_db()
    assert incident.status == S.AWAITING_REQUESTER


def test_ten_notes_two_replies_and_a_patch_without_versions_all_succeed(
    org: SimpleNamespace, api: Callable[..., Any]
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    notes = url(incident, "notes/")
    for round_ in range(3):
        calls = [
            partial(api, "agent", "POST", notes, {"kind": "work_note", "body": f"{n}"})
            for n in range(10)
        ]
        calls += [
            partial(api, "requester", "POST", notes, {"kind": "reply", "body": f"{n}"})
            for n in range(2)
        ]
        calls.append(
            partial(api, "agent", "PATCH", url(incident), {"title": f"Edit {round_}"})
        )
        answers = [outcome.value() for outcome in together(calls)]
        assert sorted(a.status_code for a in answers) == [200] + [201] * 12, [
            a.content for a in answers if a.status_code >= 300
        ]
    kinds = list(incident.notes.values_list("kind", flat=True))
    assert kinds.count(IncidentNote.Kind.WORK_NOTE) == 30
    assert kinds.count(IncidentNote.Kind.REPLY) == 6
    incident.refresh_from_db()
    assert incident.title == "Edit 2"

"""The lifecycle: every transition from every state, guarded by django-fsm and run
only through the services."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django_fsm import ConcurrentTransition

from incidents import services
from incidents.exceptions import IncidentConflict
from incidents.models import Incident, IncidentEvent
from tests.incidents.conftest import T0, incident_in

pytestmark = pytest.mark.django_db

S = Incident.Status
LATER = T0 + timedelta(hours=1)


def _merge(incident: Incident, org: SimpleNamespace) -> Any:
    into = services.incident_log(by=org.agent, title="Survivor", source="agent")
    return services.incident_merge(incident=incident, into=into, by=org.agent)


# Each transition, called through its service with valid input by someone allowed.
TRANSITIONS: dict[str, Callable[[Incident, SimpleNamespace], Any]] = {
    "triage": lambda i, o: services.incident_triage(
        incident=i, by=o.agent, category=o.category, impact="high", urgency="high"
    ),
    "start_work": lambda i, o: services.incident_start_work(incident=i, by=o.agent),
    "wait_for_requester": lambda i, o: services.incident_wait_for_requester(
        incident=i, by=o.agent, question="Which browser?"
    ),
    "resume": lambda i, o: services.incident_resume(incident=i, by=o.agent),
    "resolve": lambda i, o: services.incident_resolve(
        incident=i,
        by=o.agent,
        resolution_kind="permanent_fix",
        resolution="Replaced the disk.",
        verification="Checked the RAID status.",
    ),
    "confirm": lambda i, o: services.incident_confirm(incident=i, by=o.requester),
    "close": lambda i, o: services.incident_close_unconfirmed(
        incident=i, now=T0 + timedelta(days=30)
    ),
    "reopen": lambda i, o: services.incident_reopen(
        incident=i, by=o.requester, reason="Still bouncing.", now=LATER
    ),
    "cancel": lambda i, o: services.incident_cancel(
        incident=i, by=o.agent, reason="Logged twice by mistake."
    ),
    "merge": _merge,
}

ALLOWED = {
    "triage": {S.NEW},
    "start_work": {S.TRIAGED},
    "wait_for_requester": {S.INVESTIGATING},
    "resume": {S.AWAITING_REQUESTER},
    "resolve": {S.INVESTIGATING, S.AWAITING_REQUESTER},
    "confirm": {S.RESOLVED},
    "close": {S.RESOLVED},
    "reopen": {S.RESOLVED},
    "cancel": {S.NEW, S.TRIAGED},
    "merge": {S.NEW, S.TRIAGED, S.INVESTIGATING, S.AWAITING_REQUESTER},
}
# Transitions only the system runs (monitoring's recovery resolves an incident
# nobody has worked yet); to a person these are as if the state did not allow them.
SYSTEM_ONLY = {"resolve": {S.NEW, S.TRIAGED}}
TARGETS = {
    "triage": S.TRIAGED,
    "start_work": S.INVESTIGATING,
    "wait_for_requester": S.AWAITING_REQUESTER,
    "resume": S.INVESTIGATING,
    "resolve": S.RESOLVED,
    "confirm": S.CLOSED,
    "close": S.CLOSED,
    "reopen": S.INVESTIGATING,
    "cancel": S.CANCELLED,
    "merge": S.MERGED,
}


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
@pytest.mark.parametrize("state", S.values)
def test_every_transition_from_every_state(
    org: SimpleNamespace, state: str, name: str
) -> None:
    incident = incident_in(state, org, at=T0 - timedelta(days=1))
    events_before = incident.events.count()
    version_before = incident.version

    if state in ALLOWED[name]:
        TRANSITIONS[name](incident, org)
        incident.refresh_from_db()
        assert incident.status == TARGETS[name]
        last = incident.events.filter(kind=IncidentEvent.Kind.TRANSITION).last()
        assert last.data["transition"] == name
        assert (last.data["source"], last.data["target"]) == (state, TARGETS[name])
    else:
        with pytest.raises(IncidentConflict) as excinfo:
            TRANSITIONS[name](incident, org)
        assert excinfo.value.code == "invalid_transition"
        assert incident.status == state
        incident.refresh_from_db()
        assert incident.status == state
        assert incident.version == version_before
        assert incident.events.count() == events_before


def test_allowed_table_matches_the_state_machine() -> None:
    declared: dict[str, set[str]] = {}
    for rule in Incident._meta.get_field("status").get_all_transitions(Incident):
        declared.setdefault(rule.name, set()).add(rule.source)
    assert declared == {
        name: set(states) | SYSTEM_ONLY.get(name, set())
        for name, states in ALLOWED.items()
    }


def test_status_cannot_be_assigned_directly(org: SimpleNamespace) -> None:
    incident = incident_in(S.NEW, org)
    with pytest.raises(AttributeError):
        incident.status = S.CLOSED


def test_stale_copies_cannot_both_transition(org: SimpleNamespace) -> None:
    """The model-level guard: the second of two stale copies cannot save."""
    first = incident_in(S.INVESTIGATING, org)
    second = Incident.objects.get(pk=first.pk)
    first.wait_for_requester(at=LATER)
    first.save()
    second.resolution_kind = "workaround"
    second.resolution = "x"
    second.verification = "y"
    second.resolve(at=LATER, grace=timedelta(days=3))
    with pytest.raises(ConcurrentTransition):
        second.save()


def test_service_refuses_a_stale_copy(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    stale = Incident.objects.get(pk=incident.pk)
    services.incident_wait_for_requester(incident=incident, by=org.agent, question="?")
    with pytest.raises(IncidentConflict) as excinfo:
        TRANSITIONS["resolve"](stale, org)
    assert excinfo.value.code == "stale"


def test_the_system_acts_on_the_incident_as_it_is_not_as_it_read_it(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    read_earlier = Incident.objects.get(pk=incident.pk)
    services.incident_update(incident=incident, by=org.agent, title="Mail down (EU)")
    services.incident_resolve(
        incident=read_earlier,
        by=None,
        resolution_kind="workaround",
        resolution="Monitoring reported recovery.",
        verification="The probe passes.",
    )
    incident.refresh_from_db()
    assert (incident.status, incident.title) == (S.RESOLVED, "Mail down (EU)")


def test_a_person_without_a_version_edits_the_incident_as_it_is(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.TRIAGED, org)
    read_earlier = Incident.objects.get(pk=incident.pk)
    services.incident_update(incident=incident, by=org.agent, description="Theirs")
    services.incident_update(incident=read_earlier, by=org.agent, title="Mine")
    services.incident_add_note(
        incident=read_earlier, by=org.agent, kind="work_note", body="Checked"
    )
    incident.refresh_from_db()
    assert (incident.title, incident.description) == ("Mine", "Theirs")
    assert incident.notes.count() == 1


def test_expected_version_detects_an_edit_in_between(org: SimpleNamespace) -> None:
    incident = incident_in(S.TRIAGED, org)
    seen = incident.version
    services.incident_update(incident=incident, by=org.agent, title="Mail down (EU)")
    with pytest.raises(IncidentConflict, match="changed by someone else"):
        services.incident_update(
            incident=incident, by=org.agent, expected_version=seen, title="Mine"
        )
    incident.refresh_from_db()
    assert incident.title == "Mail down (EU)"


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        (S.NEW, Incident.Phase.IDENTIFICATION),
        (S.TRIAGED, Incident.Phase.INVESTIGATION),
        (S.INVESTIGATING, Incident.Phase.INVESTIGATION),
        (S.AWAITING_REQUESTER, Incident.Phase.INVESTIGATION),
        (S.RESOLVED, Incident.Phase.RESOLUTION),
        (S.CLOSED, Incident.Phase.REVIEW),
        (S.CANCELLED, Incident.Phase.IDENTIFICATION),
        (S.MERGED, Incident.Phase.IDENTIFICATION),
    ],
)
def test_each_state_belongs_to_one_phase(
    org: SimpleNamespace, status: str, phase: int
) -> None:
    assert incident_in(status, org).phase == phase


def test_readme_lifecycle_diagram_matches_the_state_machine() -> None:
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    diagram = readme.split("```mermaid", 1)[1].split("```", 1)[0]
    drawn = set(re.findall(r"^\s*(\w+) --> (\w+) : (\w+)\s*$", diagram, re.M))
    declared = {
        (rule.source, rule.target, rule.name)
        for rule in Incident._meta.get_field("status").get_all_transitions(Incident)
    }
    assert drawn == declared
    assert re.search(rf"^\s*\[\*\] --> {S.NEW}\s*$", diagram, re.M)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_conflicting_transitions_one_wins(org: SimpleNamespace) -> None:
    """Two agents act on the same incident at the same moment, each on its own
    database connection: one succeeds, the other gets a conflict, and the timeline
    holds exactly the winner's transition."""
    incident = incident_in(S.INVESTIGATING, org)
    transitions_before = incident.events.filter(
        kind=IncidentEvent.Kind.TRANSITION
    ).count()
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(name: str) -> None:
        try:
            mine = Incident.objects.get(pk=incident.pk)
            barrier.wait(timeout=10)
            TRANSITIONS[name](mine, org)
            outcomes[name] = "ok"
        except IncidentConflict as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(name,))
        for name in ("resolve", "wait_for_requester")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
    losers = [o for o in outcomes.values() if isinstance(o, IncidentConflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    incident.refresh_from_db()
    assert incident.status == TARGETS[winners[0]]
    transitions = incident.events.filter(kind=IncidentEvent.Kind.TRANSITION)
    assert transitions.count() == transitions_before + 1
    assert transitions.last().data["transition"] == winners[0]

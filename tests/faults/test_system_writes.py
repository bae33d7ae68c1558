"""The system's own writes (alerts, the sweep) under concurrent edits by people:
they act on the incident as it is once locked, are never refused as stale, and a
delivery is recorded whatever happens to its incident."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from incidents import services
from incidents.models import AlertDelivery, Incident, IncidentEvent
from incidents.sla.sweep import sla_sweep
from tests.faults.concurrency import row_locked, start, together, wait_for_lock_waiters
from tests.incidents.conftest import incident_in, take_on

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

S = Incident.Status


def in_work(org: SimpleNamespace, monitor: Callable[..., Any], key: str) -> Incident:
    """An incident opened by alert ``key``, triaged and being worked on."""
    assert monitor((key, "firing")).status_code == 202
    return take_on(Incident.objects.get(alerts__dedup_key=key), org)


def edit(org: SimpleNamespace, incident: Incident, **values: Any) -> Callable[[], Any]:
    """An agent's edit of the incident, as the API makes it: no version sent."""
    return lambda: services.incident_update(
        incident=Incident.objects.get(pk=incident.pk), by=org.agent, **values
    )


def test_recovery_waiting_behind_an_edit_resolves_the_incident(
    org: SimpleNamespace, monitor: Callable[..., Any]
) -> None:
    incident = in_work(org, monitor, "db-1")
    with row_locked(incident, then=edit(org, incident, title="Disk full (edited)")):
        recovery = start(lambda: monitor(("db-1", "resolved")))
        wait_for_lock_waiters(1)
    response = recovery.value()
    assert response.status_code == 202, response.content
    assert response.json()["alerts"][0]["rule"] == (
        "recovery recorded: resolved the incident"
    )
    incident.refresh_from_db()
    assert (incident.status, incident.title) == (S.RESOLVED, "Disk full (edited)")
    assert AlertDelivery.objects.count() == 2


def test_refire_waiting_behind_an_edit_reopens_the_incident(
    org: SimpleNamespace, monitor: Callable[..., Any]
) -> None:
    incident = in_work(org, monitor, "db-1")
    assert monitor(("db-1", "resolved")).status_code == 202
    with row_locked(incident, then=edit(org, incident, description="Edited")):
        refire = start(lambda: monitor(("db-1", "firing")))
        wait_for_lock_waiters(1)
    response = refire.value()
    assert response.status_code == 202, response.content
    incident.refresh_from_db()
    assert (incident.status, incident.description) == (S.INVESTIGATING, "Edited")
    assert AlertDelivery.objects.count() == 3


def test_recovery_of_an_incident_an_agent_resolved_meanwhile_is_recorded(
    org: SimpleNamespace, monitor: Callable[..., Any]
) -> None:
    incident = in_work(org, monitor, "db-1")

    def agent_resolves() -> None:
        services.incident_resolve(
            incident=Incident.objects.get(pk=incident.pk),
            by=org.agent,
            resolution_kind="permanent_fix",
            resolution="Grew the volume.",
            verification="Free space is 40%.",
        )

    with row_locked(incident, then=agent_resolves):
        recovery = start(lambda: monitor(("db-1", "resolved")))
        wait_for_lock_waiters(1)
    response = recovery.value()
    assert response.status_code == 202, response.content
    assert "stays for an agent" in response.json()["alerts"][0]["rule"]
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED
    assert incident.resolution == "Grew the volume."
    assert AlertDelivery.objects.count() == 2


def test_auto_close_waiting_behind_an_edit_closes_the_incident(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.RESOLVED, org, at=timezone.now() - timedelta(days=10))
    with row_locked(incident, then=edit(org, incident, title="Mail (edited)")):
        sweep = start(sla_sweep)
        wait_for_lock_waiters(1)
    assert sweep.value()["auto_closed"] == 1
    incident.refresh_from_db()
    assert (incident.status, incident.title) == (S.CLOSED, "Mail (edited)")


@pytest.mark.parametrize("keys", [4])
def test_recoveries_and_refires_during_concurrent_edits_are_all_recorded(
    org: SimpleNamespace,
    monitor: Callable[..., Any],
    api: Callable[..., Any],
    keys: int,
) -> None:
    """Per incident in work: a recovery while five PATCHes without a version run,
    then a re-fire while five more run; every request is answered 2xx, every
    recovery resolves, every re-fire reopens, every edit is kept."""
    keys = 4
    incidents = [in_work(org, monitor, f"db-{n}") for n in range(keys)]

    def burst(status: str, round_: str) -> list[Any]:
        calls = []
        for n, incident in enumerate(incidents):
            calls.append(lambda n=n: monitor((f"db-{n}", status)))
            calls += [
                lambda incident=incident, e=e: api(
                    "agent",
                    "PATCH",
                    f"/api/v1/incidents/{incident.number}/",
                    {"title": f"{round_} edit {e}"},
                )
                for e in range(5)
            ]
        return [outcome.value() for outcome in together(calls)]

    answers = burst("resolved", "first")
    assert sorted(r.status_code for r in answers) == [200] * 5 * keys + [202] * keys
    assert set(Incident.objects.values_list("status", flat=True)) == {S.RESOLVED}

    answers = burst("firing", "second")
    assert sorted(r.status_code for r in answers) == [200] * 5 * keys + [202] * keys
    assert set(Incident.objects.values_list("status", flat=True)) == {S.INVESTIGATING}

    assert AlertDelivery.objects.count() == 3 * keys
    edits = IncidentEvent.objects.filter(
        kind=IncidentEvent.Kind.FIELD_CHANGED, data__field="title"
    )
    assert edits.count() == 10 * keys

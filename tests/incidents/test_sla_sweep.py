"""The SLA sweep, walked through time: each rule fires once, however often the
sweep runs."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine

from incidents import services
from incidents.models import Incident, IncidentEvent, Notification
from incidents.tasks import sla_sweep_task
from tests.incidents.conftest import T0, incident_in, log_p1, p1_in_work

pytestmark = pytest.mark.django_db

S = Incident.Status
K = IncidentEvent.Kind
MIN = timedelta(minutes=1)


def sweep_at(moment) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return sla_sweep_task()


def events(incident: Incident, kind: str) -> list[IncidentEvent]:
    return list(incident.events.filter(kind=kind))


def test_nothing_happens_before_anything_is_due(org: SimpleNamespace) -> None:
    log_p1(org)
    assert set(sweep_at(T0 + 5 * MIN).values()) == {0}


def test_response_breach_escalates_once_to_the_next_tier(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    first = sweep_at(T0 + 16 * MIN)
    second = sweep_at(T0 + 17 * MIN)
    assert first["response_breached"] == 1 and second["response_breached"] == 0
    incident.refresh_from_db()
    assert incident.respond_breached_at == T0 + 15 * MIN
    assert (incident.team, incident.tier) == (org.upper, 2)
    [breach] = events(incident, K.SLA_BREACHED)
    assert breach.data["clock"] == "response"
    assert len(events(incident, K.ESCALATED)) == 1


def test_unassigned_major_incident_is_raised_after_15_minutes(
    org: SimpleNamespace,
) -> None:
    incident = log_p1(org)
    assert sweep_at(T0 + 14 * MIN)["unassigned_major"] == 0
    assert sweep_at(T0 + 15 * MIN)["unassigned_major"] == 1
    assert sweep_at(T0 + 30 * MIN)["unassigned_major"] == 0
    [event] = events(incident, K.UNASSIGNED_MAJOR)
    assert event.data["waited_minutes"] == 15


def test_assigned_major_incident_is_not_raised(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    services.incident_assign(
        incident=incident, by=org.agent, assignee=org.agent, now=T0
    )
    services.incident_add_note(  # acknowledged in time: no breach, no escalation
        incident=incident, by=org.agent, kind="reply", body="On it", now=T0 + 5 * MIN
    )
    counts = sweep_at(T0 + 20 * MIN)
    assert counts["unassigned_major"] == 0 and counts["response_breached"] == 0


def test_response_warning_at_75_percent_reaches_the_owner_once(
    org: SimpleNamespace,
) -> None:
    org.team.email = "desk@example.com"
    org.team.save()
    incident = log_p1(org)  # P1: respond within 15 minutes, warn at 11 min 15 s
    assert sweep_at(T0 + 11 * MIN)["response_warned"] == 0
    assert sweep_at(T0 + 11 * MIN + timedelta(seconds=15))["response_warned"] == 1
    assert sweep_at(T0 + 12 * MIN)["response_warned"] == 0
    [warning] = events(incident, K.SLA_WARNING)
    assert warning.data["clock"] == "response"
    notice = Notification.objects.get(event="sla_warning", channel="email")
    assert notice.recipient == "desk@example.com"
    assert notice.subject == (
        f"{incident.number} (P1) will miss its response target at Mon 2 Mar 2026, 09:15 UTC"
    )


def test_no_response_warning_once_acknowledged(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    services.incident_add_note(
        incident=incident, by=org.agent, kind="reply", body="On it", now=T0 + 5 * MIN
    )
    incident.refresh_from_db()
    assert incident.respond_warn_at is None
    assert sweep_at(T0 + 12 * MIN)["response_warned"] == 0


def test_resolution_warning_at_75_percent_then_breach(org: SimpleNamespace) -> None:
    incident = p1_in_work(org)
    assert sweep_at(T0 + 179 * MIN)["resolution_warned"] == 0
    assert sweep_at(T0 + 180 * MIN)["resolution_warned"] == 1
    assert sweep_at(T0 + 181 * MIN)["resolution_warned"] == 0
    counts = [sweep_at(T0 + 241 * MIN), sweep_at(T0 + 300 * MIN)]
    assert [c["resolution_breached"] for c in counts] == [1, 0]
    incident.refresh_from_db()
    assert incident.resolve_breached_at == T0 + 240 * MIN
    assert len(events(incident, K.SLA_WARNING)) == 1


def test_an_edit_from_a_copy_read_before_a_warning_does_not_undo_it(
    org: SimpleNamespace,
) -> None:
    """The sweep's claim changes the row behind the editor's back: the edit is
    applied to the row as it is, so the warning is given once."""
    incident = p1_in_work(org)
    read_earlier = Incident.objects.get(pk=incident.pk)
    assert sweep_at(T0 + 180 * MIN)["resolution_warned"] == 1
    services.incident_update(
        incident=read_earlier,
        by=org.agent,
        title="Checkout down (EU)",
        now=T0 + 181 * MIN,
    )
    assert read_earlier.resolve_warned_at == T0 + 180 * MIN
    assert sweep_at(T0 + 182 * MIN)["resolution_warned"] == 0
    assert len(events(incident, K.SLA_WARNING)) == 1


def test_paused_incident_does_not_breach(org: SimpleNamespace) -> None:
    incident = p1_in_work(org)
    services.incident_wait_for_requester(
        incident=incident, by=org.agent, question="?", now=T0 + 10 * MIN
    )
    assert sweep_at(T0 + 10 * 60 * MIN)["resolution_breached"] == 0


def test_overdue_stakeholder_update_reminds_once_per_due_time(
    org: SimpleNamespace,
) -> None:
    incident = log_p1(org)  # P1: an update every 30 minutes
    assert sweep_at(T0 + 31 * MIN)["update_overdue"] == 1
    assert sweep_at(T0 + 40 * MIN)["update_overdue"] == 0
    incident.refresh_from_db()  # the sweep escalated it meanwhile (response breach)
    services.incident_post_update(
        incident=incident, by=org.agent, body="Working on it", now=T0 + 45 * MIN
    )
    assert sweep_at(T0 + 70 * MIN)["update_overdue"] == 0
    assert sweep_at(T0 + 76 * MIN)["update_overdue"] == 1
    assert len(events(incident, K.UPDATE_OVERDUE)) == 2


def test_resolved_incident_closes_after_the_grace_period(org: SimpleNamespace) -> None:
    incident = incident_in(S.RESOLVED, org)
    due = incident.confirmation_due_at
    assert sweep_at(due - MIN)["auto_closed"] == 0
    assert sweep_at(due + MIN)["auto_closed"] == 1
    assert sweep_at(due + 2 * MIN)["auto_closed"] == 0
    incident.refresh_from_db()
    assert incident.status == S.CLOSED
    assert incident.events.last().actor is None


def test_sweep_survives_a_failing_rule(org: SimpleNamespace, monkeypatch) -> None:
    from incidents.sla import sweep

    def boom(now):
        raise RuntimeError("broken rule")

    monkeypatch.setitem(sweep.RULES, "unassigned_major", boom)
    log_p1(org)
    counts = sweep_at(T0 + 16 * MIN)
    assert counts["unassigned_major"] == 0 and counts["response_breached"] == 1

"""SLA clocks on incidents: the services keep them in step with the state."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from incidents import services
from incidents.models import Incident, SlaPolicy, SlaSpan
from incidents.sla.sync import sla_clocks
from tests.incidents.conftest import T0, incident_in, log_p1, p1_in_work

pytestmark = pytest.mark.django_db

S = Incident.Status
MIN = timedelta(minutes=1)


def test_default_policies_exist() -> None:
    targets = dict(SlaPolicy.objects.values_list("priority", "respond_minutes"))
    assert targets == {1: 15, 2: 30, 3: 240, 4: 480}


def test_logging_starts_both_clocks(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    assert incident.respond_due_at == T0 + 15 * MIN
    assert incident.resolve_due_at == T0 + 4 * 60 * MIN
    assert incident.resolve_warn_at == T0 + 3 * 60 * MIN  # 75 %
    assert incident.next_update_due_at == T0 + 30 * MIN
    assert SlaSpan.objects.filter(incident=incident, end=None).count() == 2


def test_acknowledgement_stops_the_response_clock(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    services.incident_triage(
        incident=incident,
        by=org.agent,
        category=org.category,
        impact="high",
        urgency="high",
        now=T0 + 2 * MIN,
    )
    services.incident_start_work(incident=incident, by=org.agent, now=T0 + 10 * MIN)
    assert incident.respond_due_at is None
    assert incident.respond_breached_at is None
    span = SlaSpan.objects.get(incident=incident, clock="response")
    assert span.end == T0 + 10 * MIN


def test_late_acknowledgement_is_recorded_as_a_miss(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    services.incident_add_note(
        incident=incident, by=org.agent, kind="reply", body="Looking", now=T0 + 20 * MIN
    )
    assert incident.respond_breached_at == T0 + 15 * MIN


def test_waiting_for_requester_pauses_resolution_and_keeps_used_time(
    org: SimpleNamespace,
) -> None:
    incident = p1_in_work(org)
    services.incident_wait_for_requester(
        incident=incident, by=org.agent, question="Which shop?", now=T0 + 60 * MIN
    )
    assert incident.resolve_due_at is None  # paused: nothing is due
    services.incident_add_note(
        incident=incident, by=org.requester, kind="reply", body="EU", now=T0 + 100 * MIN
    )
    # 60 min used before the pause; 180 min left from the answer at +100 min.
    assert incident.status == S.INVESTIGATING
    assert incident.resolve_due_at == T0 + 280 * MIN


def test_priority_change_recomputes_targets_from_time_used(
    org: SimpleNamespace,
) -> None:
    incident = log_p1(org)  # P1: resolve in 4 h, 24x7
    services.incident_update(
        incident=incident, by=org.agent, urgency="medium", now=T0 + 60 * MIN
    )
    assert incident.priority == 2
    assert incident.resolve_due_at == T0 + 8 * 60 * MIN  # P2: 8 h from logging


def test_resolve_stops_and_reopen_resumes_with_time_used(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)  # logged at T0, P2
    services.incident_resolve(
        incident=incident,
        by=org.agent,
        resolution_kind="workaround",
        resolution="r",
        verification="v",
        now=T0 + 60 * MIN,
    )
    assert incident.resolve_due_at is None
    services.incident_reopen(
        incident=incident, by=org.requester, reason="again", now=T0 + 180 * MIN
    )
    # P2: 8 h; 1 h used before resolving; 7 h more from the reopen.
    assert incident.resolve_due_at == T0 + 180 * MIN + 7 * 60 * MIN


def test_clock_explains_itself(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    resolution = sla_clocks(incident, now=T0 + 30 * MIN)[1]
    assert resolution.explanation.startswith("resolution due ")
    assert "30 minutes used of 4 hours" in resolution.explanation
    assert resolution.reading.used == 30 * 60


def test_stakeholder_update_restarts_the_cadence(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    services.incident_post_update(
        incident=incident, by=org.agent, body="Investigating", now=T0 + 20 * MIN
    )
    assert incident.next_update_due_at == T0 + 50 * MIN


def test_minor_incidents_have_no_update_cadence(org: SimpleNamespace) -> None:
    incident = services.incident_log(
        by=org.agent, title="Mouse", source="agent", impact="low", urgency="low", now=T0
    )
    assert incident.priority == 4 and incident.next_update_due_at is None

"""A week of incidents with every figure worked out by hand (see ``week``).

All times UTC (the test settings' TIME_ZONE); Monday 2 March 2026. The default
SLA policies: P1 respond 15 min / resolve 4 h and P2 30 min / 8 h on the 24x7
calendar; P3 4 h / 24 h and P4 8 h / 40 h of business time on "Office hours"
(Monday to Friday 09:00-17:00).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from dashboards.services import rollup_refresh
from incidents import services
from incidents.models import Incident, Integration
from incidents.roles import Role
from incidents.services.alerts import AlertSignal, alert_ingest, integration_create
from tests.factories import make_category, make_service, make_team, make_user

MON = datetime.fromisoformat("2026-03-02T00:00:00+00:00")
NOW = MON + timedelta(days=2, hours=12)  # Wednesday 12:00


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` 0 is Monday 2 March."""
    return MON + timedelta(days=day, hours=hour, minutes=minute)


@pytest.fixture
def people(db: Any) -> SimpleNamespace:
    team = make_team(name="Service Desk")
    other = make_team(name="Network")
    agent = make_user(role=Role.AGENT, username="alex")
    team.members.add(agent)
    outsider = make_user(role=Role.AGENT, username="nina")
    other.members.add(outsider)
    return SimpleNamespace(
        team=team,
        other=other,
        category=make_category(name="Software", team=team),
        service=make_service(name="Email"),
        agent=agent,
        outsider=outsider,
        requester=make_user(role=Role.REQUESTER, username="rita"),
        manager=make_user(role=Role.MANAGER, username="morgan"),
        incident_manager=make_user(role=Role.INCIDENT_MANAGER, username="imani"),
    )


def _log(
    people: SimpleNamespace, title: str, when: datetime, **fields: Any
) -> Incident:
    return services.incident_log(
        by=people.agent,
        title=title,
        source=Incident.Source.AGENT,
        requester=people.requester,
        category=people.category,
        now=when,
        **fields,
    )


def _triage(
    people: SimpleNamespace,
    incident: Incident,
    when: datetime,
    impact: str,
    urgency: str,
    **fields: Any,
) -> None:
    services.incident_triage(
        incident=incident,
        by=people.agent,
        category=people.category,
        impact=impact,
        urgency=urgency,
        now=when,
        **fields,
    )


def _resolve(people: SimpleNamespace, incident: Incident, when: datetime) -> None:
    services.incident_resolve(
        incident=incident,
        by=people.agent,
        resolution_kind=Incident.ResolutionKind.WORKAROUND,
        resolution="Restarted it.",
        verification="Checked it works.",
        now=when,
    )


@pytest.fixture
def week(people: SimpleNamespace) -> SimpleNamespace:
    """Six incidents, all logged on Monday, read on Wednesday 12:00:

    A  P3, business hours, a pause. Logged Mon 16:00, taken Tue 09:30: response
       used Mon 16-17 + Tue 09-09:30 = 1 h 30 m of 4 h, met (Tue). Waits for the
       requester Tue 10:00-14:00, resolved Tue 15:00: resolution used 1 h + 1 h +
       1 h = 3 h of 24 h, met (Tue). Named service Email.
    B  P1, 24x7, a reopen. Logged Mon 10:00, taken 10:20: response 20 m of 15 m,
       missed at 10:15 (Mon). Resolved 13:00 (3 h); reopened by the requester Tue
       09:00 and resolved again Tue 10:30: resolution 4 h 30 m of 4 h, missed at
       Tue 10:00. Reopened once.
    C  P2 changed to P3 (priority change), a known error. Logged Mon 11:00 as P2
       (30 m to respond, 24x7); triaged 11:10 medium/medium, so P3 (4 business
       hours). Taken 12:00: 1 h of business time, met (Mon); as a P2 it would have
       missed. Resolved Mon 16:00: 5 h of 24 h, met (Mon).
    D  P1 never taken. Logged Mon 12:00: response missed at 12:15, resolution
       missed at 16:00 (neither recorded by the sweep: the due times passed). Open
       and past its targets now, 2 days old. Stakeholder updates (every 30 min):
       12:20 (due 12:30: on time), 13:00 (due 12:50: late); the next, due 13:30,
       is overdue now.
    E  P4, cancelled Mon 09:30 after 30 m of its 8 h: no target decided.
    F  Born of an alert (Prometheus "Disk full", fired three times) Mon 08:00,
       P3 (medium impact, warning = medium urgency), never taken: the business
       clock started at 09:00, response missed at 13:00 (Mon); resolution due Wed
       17:00, not yet. Open and past a target now, 2 days old.
    """
    p = people
    a = _log(p, "A", at(0, 16), services=[p.service])
    _triage(p, a, at(0, 16, 5), "medium", "medium")
    services.incident_start_work(incident=a, by=p.agent, now=at(1, 9, 30))
    services.incident_wait_for_requester(
        incident=a, by=p.agent, question="Which laptop?", now=at(1, 10)
    )
    services.incident_add_note(
        incident=a, by=p.requester, kind="reply", body="The grey one.", now=at(1, 14)
    )
    _resolve(p, a, at(1, 15))

    b = _log(p, "B", at(0, 10))
    _triage(p, b, at(0, 10, 1), "high", "high")
    services.incident_start_work(incident=b, by=p.agent, now=at(0, 10, 20))
    _resolve(p, b, at(0, 13))
    services.incident_reopen(
        incident=b, by=p.requester, reason="Still broken.", now=at(1, 9)
    )
    _resolve(p, b, at(1, 10, 30))

    c = _log(p, "C", at(0, 11), impact="high", urgency="medium")
    assert c.priority == 2
    _triage(p, c, at(0, 11, 10), "medium", "medium", known_error=True)
    services.incident_start_work(incident=c, by=p.agent, now=at(0, 12))
    _resolve(p, c, at(0, 16))

    d = _log(p, "D", at(0, 12), impact="high", urgency="high")
    for minute in (20, 60):
        services.incident_post_update(
            incident=d, by=p.agent, body="Working on it.", now=at(0, 12, minute)
        )

    e = _log(p, "E", at(0, 9), impact="low", urgency="low")
    services.incident_cancel(incident=e, by=p.agent, reason="A test.", now=at(0, 9, 30))

    integration, _ = integration_create(
        name="Prometheus", kind=Integration.Kind.GENERIC, default_category=p.category
    )
    for minute in (0, 5, 10):
        alert_ingest(
            integration=integration,
            signals=[
                AlertSignal(
                    dedup_key="disk-db1",
                    status="firing",
                    title="Disk full",
                    severity="warning",
                )
            ],
            payload={},
            now=at(0, 8, minute),
        )
    f = Incident.objects.get(alerts__dedup_key="disk-db1")
    return SimpleNamespace(a=a, b=b, c=c, d=d, e=e, f=f, people=p)


@pytest.fixture
def refreshed(week: SimpleNamespace) -> SimpleNamespace:
    """The week with its rollups brought up to date on Wednesday 12:00."""
    rollup_refresh(now=NOW)
    return week

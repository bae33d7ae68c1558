from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from incidents import services as incident_services
from incidents.models import Impact, Incident, Urgency
from incidents.roles import Role
from tests.factories import make_category, make_service, make_team, make_user

# Impact and urgency for each priority, by the default matrix.
LEVELS = {
    1: (Impact.HIGH, Urgency.HIGH),
    2: (Impact.HIGH, Urgency.MEDIUM),
    3: (Impact.MEDIUM, Urgency.MEDIUM),
    4: (Impact.LOW, Urgency.LOW),
}


@pytest.fixture
def org(db: Any) -> SimpleNamespace:
    """A team with an agent and an incident manager, an outsider agent, a
    manager, a requester, and one category and service."""
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex")
    lead = make_user(role=Role.INCIDENT_MANAGER, username="imani")
    outsider = make_user(role=Role.AGENT, username="otto")
    team.members.add(agent, lead)
    return SimpleNamespace(
        team=team,
        agent=agent,
        lead=lead,
        outsider=outsider,
        manager=make_user(role=Role.MANAGER, username="morgan"),
        requester=make_user(role=Role.REQUESTER, username="rita"),
        category=make_category(team=team, name="Email"),
        service=make_service(name="Mail", team=team),
    )


def resolved(
    org: SimpleNamespace,
    priority: int,
    *,
    title: str = "Mail is down",
    now: datetime | None = None,
    category: Any = None,
) -> Incident:
    """An incident of ``priority`` in the org's category and service, worked and
    resolved by the agent (at ``now`` when given)."""
    times = {"now": now} if now else {}
    incident = incident_services.incident_log(
        by=org.agent,
        title=title,
        source="agent",
        services=[org.service],
        requester=org.requester,
        **times,
    )
    impact, urgency = LEVELS[priority]
    incident_services.incident_triage(
        incident=incident,
        by=org.agent,
        category=category or org.category,
        impact=impact,
        urgency=urgency,
        **times,
    )
    incident_services.incident_start_work(incident=incident, by=org.agent, **times)
    incident_services.incident_resolve(
        incident=incident,
        by=org.agent,
        resolution_kind="workaround",
        resolution="Restarted the mail relay.",
        verification="Mail flows again.",
        **times,
    )
    incident.refresh_from_db()
    return incident

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from incidents import services
from incidents.models import Incident, Service, StakeholderUpdate
from incidents.roles import Role
from incidents.status.selectors import status_cache_clear
from tests.factories import make_category, make_service, make_team, make_user

# impact, urgency -> the priority the default matrix gives
IMPACT_URGENCY = {1: ("high", "high"), 2: ("high", "medium"), 3: ("medium", "medium")}


@pytest.fixture(autouse=True)
def fresh_status_cache(db: Any) -> Iterator[None]:
    """Each test starts and ends with nothing cached: no test sees another's page.
    Only the status page's own key is deleted (the cache may be a shared Redis)."""
    status_cache_clear()
    yield
    status_cache_clear()


@pytest.fixture
def desk(db: Any) -> SimpleNamespace:
    """A team with an agent, a category, two public services and an internal one."""
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex")
    team.members.add(agent)
    return SimpleNamespace(
        agent=agent,
        requester=make_user(role=Role.REQUESTER, username="rita"),
        category=make_category(name="Software", team=team),
        email=make_service(name="Email"),
        web=make_service(name="Website"),
        internal=make_service(name="Backup robot", is_public=False),
    )


def major(
    desk: SimpleNamespace,
    *,
    title: str = "Mail is down",
    priority: int = 1,
    on: list[Service] | None = None,
    at: datetime | None = None,
) -> Incident:
    """An incident of ``priority`` on ``on`` (Email by default), logged ``at`` (an
    hour ago by default), triaged and being worked on, through the services."""
    at = at or timezone.now() - timedelta(hours=1)
    impact, urgency = IMPACT_URGENCY[priority]
    incident = services.incident_log(
        by=desk.agent,
        title=title,
        description="Internal: the relay on host mx-7 ran out of disk.",
        source=Incident.Source.PORTAL,
        requester=desk.requester,
        category=desk.category,
        services=on if on is not None else [desk.email],
        impact=impact,
        urgency=urgency,
        now=at,
    )
    services.incident_triage(
        incident=incident,
        by=desk.agent,
        category=desk.category,
        impact=impact,
        urgency=urgency,
        now=at + timedelta(minutes=1),
    )
    services.incident_start_work(
        incident=incident, by=desk.agent, now=at + timedelta(minutes=2)
    )
    assert incident.priority == priority
    return incident


def post(
    desk: SimpleNamespace,
    incident: Incident,
    body: str,
    *,
    public: bool = True,
    at: datetime | None = None,
) -> StakeholderUpdate:
    return services.incident_post_update(
        incident=incident, by=desk.agent, body=body, is_public=public, now=at
    )


def resolve(
    desk: SimpleNamespace, incident: Incident, *, at: datetime | None = None
) -> Incident:
    return services.incident_resolve(
        incident=incident,
        by=desk.agent,
        resolution_kind=Incident.ResolutionKind.WORKAROUND,
        resolution="Freed disk space on the relay.",
        verification="Sent a test mail to an outside address.",
        now=at,
    )

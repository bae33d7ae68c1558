from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from incidents import services
from incidents.models import (
    ComponentState,
    Incident,
    MaintenanceWindow,
    Service,
    StakeholderUpdate,
    StatusEntry,
    StatusMessage,
)
from incidents.roles import Role
from incidents.status import services as status
from incidents.status.selectors import status_cache_clear
from tests.factories import make_category, make_service, make_team, make_user

# impact, urgency -> the priority the default matrix gives
IMPACT_URGENCY = {1: ("high", "high"), 2: ("high", "medium"), 3: ("medium", "medium")}
PUBLIC_TITLE = "Email is unavailable"


@pytest.fixture(autouse=True)
def fresh_status_cache(
    db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Each test starts and ends with nothing cached: no test sees another's page.
    Only the status page's own keys are deleted (the cache may be a shared Redis);
    subscription counts go under keys of the test's own. Subscribers' webhooks
    may go to this machine's test servers; mail stays in ``mail.outbox``."""
    settings.STATUS_WEBHOOKS_ALLOW_PRIVATE = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(status, "RATE_PREFIX", f"itsm:test:{uuid.uuid4().hex}")
    status_cache_clear()
    yield
    status_cache_clear()


@pytest.fixture
def desk(db: Any) -> SimpleNamespace:
    """A team with an agent, an incident manager, a category, two public
    services and an internal one."""
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex", first_name="Alex")
    manager = make_user(role=Role.INCIDENT_MANAGER, username="imani")
    team.members.add(agent, manager)
    return SimpleNamespace(
        team=team,
        agent=agent,
        manager=manager,
        requester=make_user(role=Role.REQUESTER, username="rita"),
        category=make_category(name="Software", team=team),
        email=make_service(name="Email"),
        web=make_service(name="Website"),
        internal=make_service(name="Backup robot", is_public=False),
    )


def major(
    desk: SimpleNamespace,
    *,
    title: str = "Relay mx-7 out of disk",
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


def publish(
    desk: SimpleNamespace,
    incident: Incident,
    *,
    title: str = PUBLIC_TITLE,
    states: dict[Service, str] | None = None,
    message: str = "We are looking into problems with email.",
    at: datetime | None = None,
) -> StatusEntry:
    states = states or {desk.email: ComponentState.MAJOR}
    return status.status_entry_publish(
        incident=incident,
        by=desk.manager,
        title=title,
        components={service.pk: state for service, state in states.items()},
        message=message,
        now=at,
    )


def say(
    desk: SimpleNamespace,
    entry: StatusEntry,
    stage: str,
    body: str,
    *,
    states: dict[Service, str] | None = None,
    at: datetime | None = None,
) -> StatusMessage:
    return status.status_entry_post(
        entry=entry,
        by=desk.manager,
        stage=stage,
        body=body,
        components=None
        if states is None
        else {service.pk: state for service, state in states.items()},
        now=at,
    )


def post_update(
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


def plan(
    desk: SimpleNamespace,
    *,
    starts_at: datetime,
    title: str = "Database upgrade",
    services: list[Service] | None = None,
    by: Any = None,
    **fields: Any,
) -> MaintenanceWindow:
    """A maintenance window of an hour from ``starts_at`` (on Email and the
    internal service unless ``services``), planned by the incident manager."""
    values = {
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "reason": "Replace the disks of db-4 (CHG-77)",
        "public_title": title,
        "public_message": "Short interruptions.",
        **fields,
    }
    return status.maintenance_window_save(
        window=MaintenanceWindow(**values),
        by=by or desk.manager,
        services=services if services is not None else [desk.email, desk.internal],
    )

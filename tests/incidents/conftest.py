from __future__ import annotations

import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from incidents import services
from incidents.models import Impact, Incident, Urgency
from incidents.roles import Role
from tests.factories import make_category, make_service, make_team, make_user

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")


@pytest.fixture
def org(db: Any) -> SimpleNamespace:
    """A tier-1 team escalating to tier 2, a category routed to it, a service, and
    one person per role (the agent in the tier-1 team)."""
    upper = make_team(name="Systems", tier=2)
    team = make_team(name="Service Desk", tier=1, next_tier=upper)
    agent = make_user(role=Role.AGENT, username="alex")
    team.members.add(agent)
    upper_agent = make_user(role=Role.AGENT, username="sam")
    upper.members.add(upper_agent)
    return SimpleNamespace(
        team=team,
        upper=upper,
        category=make_category(name="Software", team=team),
        service=make_service(name="Email"),
        agent=agent,
        upper_agent=upper_agent,
        requester=make_user(role=Role.REQUESTER, username="rita"),
        other_requester=make_user(role=Role.REQUESTER, username="otto"),
        incident_manager=make_user(role=Role.INCIDENT_MANAGER, username="imani"),
        manager=make_user(role=Role.MANAGER, username="morgan"),
    )


def incident_in(
    status: str,
    org: SimpleNamespace,
    *,
    at: datetime = T0,
    with_requester: bool = True,
) -> Incident:
    """An incident brought to ``status`` the way people would: through the services,
    one step a minute from ``at``; the org's requester reported it, unless
    ``with_requester`` is false (an agent logged it for nobody)."""
    step = iter(at + timedelta(minutes=n) for n in range(20))
    incident = services.incident_log(
        by=org.agent,
        title="Mail is down",
        description="Nobody can send mail.",
        source=Incident.Source.PORTAL if with_requester else Incident.Source.AGENT,
        requester=org.requester if with_requester else None,
        services=[org.service],
        now=next(step),
    )
    if status == Incident.Status.NEW:
        return incident
    if status == Incident.Status.CANCELLED:
        return services.incident_cancel(
            incident=incident, by=org.agent, reason="Test message", now=next(step)
        )
    if status == Incident.Status.MERGED:
        survivor = services.incident_log(
            by=org.agent, title="Mail outage", source="agent", now=next(step)
        )
        return services.incident_merge(
            incident=incident, into=survivor, by=org.agent, now=next(step)
        )
    services.incident_triage(
        incident=incident,
        by=org.agent,
        category=org.category,
        impact=Impact.HIGH,
        urgency=Urgency.MEDIUM,
        now=next(step),
    )
    if status == Incident.Status.TRIAGED:
        return incident
    services.incident_start_work(incident=incident, by=org.agent, now=next(step))
    if status == Incident.Status.INVESTIGATING:
        return incident
    if status == Incident.Status.AWAITING_REQUESTER:
        return services.incident_wait_for_requester(
            incident=incident, by=org.agent, question="Since when?", now=next(step)
        )
    services.incident_resolve(
        incident=incident,
        by=org.agent,
        resolution_kind=Incident.ResolutionKind.WORKAROUND,
        resolution="Restarted the mail relay.",
        verification="Sent a test mail to an outside address.",
        now=next(step),
    )
    if status == Incident.Status.RESOLVED:
        return incident
    if status == Incident.Status.CLOSED:
        return services.incident_confirm(
            incident=incident, by=org.requester, now=next(step)
        )
    raise ValueError(status)


@pytest.fixture
def make_incident_in(org: SimpleNamespace) -> Any:
    return lambda status, **kwargs: incident_in(status, org, **kwargs)


def take_on(
    incident: Incident, org: SimpleNamespace, *, at: datetime | None = None
) -> Incident:
    """Triage a new incident as high impact and urgency, in the org's category, and
    have the agent start work on it a minute later (from ``at``, or now)."""
    services.incident_triage(
        incident=incident,
        by=org.agent,
        category=org.category,
        impact="high",
        urgency="high",
        now=at,
    )
    started = at + timedelta(minutes=1) if at else None
    return services.incident_start_work(incident=incident, by=org.agent, now=started)


def log_p1(org: SimpleNamespace, *, at: datetime = T0) -> Incident:
    """A P1 (high impact, high urgency) in the org's tier-1 team, logged at ``at``."""
    return services.incident_log(
        by=org.agent,
        title="Checkout down",
        source="agent",
        category=org.category,
        impact="high",
        urgency="high",
        requester=org.requester,
        now=at,
    )


def p1_in_work(org: SimpleNamespace) -> Incident:
    """A P1 logged at T0, triaged a minute later and taken by the agent at +2 min:
    both SLA clocks running, the response one met."""
    return take_on(log_p1(org), org, at=T0 + timedelta(minutes=1))


# A masked CSRF token differs at every call (a new mask over the same secret).
_TOKENS = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def without_tokens(html: str) -> str:
    """``html`` with every CSRF token replaced by the same word."""
    return _TOKENS.sub(r"\1TOKEN", html)


def counted_renders(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[str]:
    """The names of the templates ``module`` renders with ``render_to_string``
    from now on, in order."""
    renders: list[str] = []
    render = module.render_to_string

    def counted(name: str, *args: Any, **kwargs: Any) -> str:
        renders.append(name)
        return render(name, *args, **kwargs)

    monkeypatch.setattr(module, "render_to_string", counted)
    return renders

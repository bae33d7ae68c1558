"""Demo data: a small organisation with one user per role, safe to load repeatedly."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import models, transaction
from django.utils import timezone

from incidents import services
from incidents.models import Category, Incident, Service, Team
from incidents.roles import Role, roles_sync
from incidents.status.demo import demo_status_page

# (name, tier, next tier)
DEMO_TEAMS = [
    ("Engineering", 3, None),
    ("Systems", 2, "Engineering"),
    ("Security Operations", 2, "Engineering"),
    ("Service Desk", 1, "Systems"),
    ("Network Operations", 1, "Systems"),
]
# (category, routed to team)
DEMO_CATEGORIES = [
    ("Software", "Service Desk"),
    ("Hardware", "Service Desk"),
    ("Network", "Network Operations"),
    ("Security", "Security Operations"),
]
# (service, description, run by team)
DEMO_SERVICES = [
    ("Email", "Mail and calendars for all staff.", "Systems"),
    ("VPN", "Remote access to the office network.", "Network Operations"),
    ("Office Wi-Fi", "Wireless network in every office.", "Network Operations"),
    ("Payroll", "Monthly salary runs and payslips.", "Systems"),
    (
        "Customer portal",
        "The website where customers manage their accounts.",
        "Systems",
    ),
]
# Services only staff see: never named to requesters or on the status page.
INTERNAL_SERVICES = {"Payroll"}


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str
    teams: tuple[str, ...] = ()
    leads: tuple[str, ...] = ()


DEMO_USERS = [
    DemoUser("requester", Role.REQUESTER, "Rita", "Requester"),
    DemoUser("agent", Role.AGENT, "Alex", "Agent", teams=("Service Desk",)),
    DemoUser(
        "incident_manager",
        Role.INCIDENT_MANAGER,
        "Imani",
        "Manager",
        teams=("Service Desk", "Network Operations"),
        # Every team has a lead, so no escalation in the demo reaches nobody.
        leads=(
            "Service Desk",
            "Network Operations",
            "Systems",
            "Security Operations",
            "Engineering",
        ),
    ),
    DemoUser("manager", Role.MANAGER, "Morgan", "Lead"),
    DemoUser("admin", Role.ADMIN, "Ada", "Admin"),
]


# (title, category, service, impact, urgency, how far along); logged only if no
# incident has that title yet, so seeding twice adds nothing.
DEMO_INCIDENTS = [
    (
        "Checkout returns 502 for some customers",
        "Software",
        "Customer portal",
        "high",
        "high",
        "investigating",
    ),
    (
        "Email delivery delayed by 20 minutes",
        "Software",
        "Email",
        "medium",
        "high",
        "triaged",
    ),
    ("VPN drops every hour", "Network", "VPN", "medium", "medium", "new"),
    ("Printer on floor 3 jams", "Hardware", None, "low", "low", "new"),
]


def _demo_incidents(users: dict[str, Any]) -> None:
    agent, requester = users["agent"], users["requester"]
    for title, category, service, impact, urgency, stage in DEMO_INCIDENTS:
        if Incident.objects.filter(title=title).exists():
            continue
        incident = services.incident_log(
            by=agent,
            title=title,
            source=Incident.Source.PORTAL if stage == "new" else Incident.Source.AGENT,
            requester=requester,
            category=Category.objects.get(name=category),
            services=Service.objects.filter(name=service),
            impact=impact,
            urgency=urgency,
        )
        if stage in ("triaged", "investigating"):
            services.incident_triage(
                incident=incident,
                by=agent,
                category=incident.category,
                impact=impact,
                urgency=urgency,
            )
        if stage == "investigating":
            services.incident_start_work(incident=incident, by=agent)
            services.incident_add_note(
                incident=incident,
                by=agent,
                kind="work_note",
                body="Load balancer shows one unhealthy backend; draining it.",
            )
            services.incident_post_update(
                incident=incident,
                by=agent,
                body="Some customers see errors at checkout. We are on it; "
                "next update within 30 minutes.",
                is_public=True,
            )
            services.incident_add_note(
                incident=incident,
                by=agent,
                kind="reply",
                body="Thanks for reporting: we found the cause and are fixing it.",
            )


# ---------------------------------------------------------------- history
# A few weeks of past incidents, so the dashboards have something to chart: each
# one lived through the services at its own past times (logged, triaged, taken,
# perhaps waiting for the requester or reopened, resolved, confirmed), drawn from
# a fixed seed, ending two days ago (so every major one is over and the status
# page shows only the demo's current incidents). Loaded once: the first title
# marks it.
HISTORY_DAYS = 35
HISTORY_ENDS_DAYS_AGO = 2
HISTORY_FIRST_TITLE = "Mailbox full for the finance team"
HISTORY_TITLES = {
    "Software": [
        HISTORY_FIRST_TITLE,
        "Payroll export stops at 80 %",
        "Customer portal login loops",
        "Calendar invites arrive twice",
        "Report builder times out",
    ],
    "Hardware": [
        "Laptop does not wake from sleep",
        "Docking station drops the screen",
        "Badge reader at the side door is dead",
    ],
    "Network": [
        "VPN refuses new connections",
        "Wi-Fi slow on the second floor",
        "Packet loss to the data centre",
    ],
}
# (error signature, category) the demo monitoring fires.
HISTORY_ALERTS = [
    ("High error rate on checkout", "Software"),
    ("Disk almost full on db-2", "Software"),
    ("Certificate expires in 7 days on lb-1", "Network"),
    ("Link down on core-sw-1", "Network"),
    ("Queue backlog on mail relay", "Software"),
]
# (impact, urgency, weight): P1 rare, P3 and P4 most.
HISTORY_PRIORITIES = [
    ("high", "high", 1),
    ("high", "medium", 2),
    ("medium", "medium", 5),
    ("low", "low", 4),
]
# Minutes to the first acknowledgement and to resolution, by priority (low, high).
HISTORY_PACE = {
    1: ((4, 25), (60, 330)),
    2: ((10, 50), (120, 700)),
    3: ((30, 400), (240, 4000)),
    4: ((60, 2400), (600, 9000)),
}


def _demo_history(users: dict[str, Any], *, now: datetime) -> None:
    """Past incidents for the dashboards; nothing if they are loaded already."""
    if Incident.objects.filter(title=HISTORY_FIRST_TITLE).exists():
        return
    from incidents.models import Integration, Notification
    from incidents.services.alerts import (
        AlertSignal,
        alert_ingest,
        integration_create,
    )

    dice = random.Random(14)
    monitoring = Integration.objects.filter(name="Demo monitoring").first()
    if monitoring is None:
        monitoring, _ = integration_create(
            name="Demo monitoring", kind=Integration.Kind.GENERIC
        )
    categories = {c.name: c for c in Category.objects.all()}
    all_services = list(Service.objects.all())
    history: list[int] = []
    # From midnight: the same history whatever the hour it is loaded at.
    start = (now - timedelta(days=HISTORY_DAYS + HISTORY_ENDS_DAYS_AGO)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    for day in range(HISTORY_DAYS):
        for _ in range(dice.randint(2, 6)):
            logged = start + timedelta(
                days=day, hours=dice.randint(7, 18), minutes=dice.randint(0, 59)
            )
            impact, urgency, _ = dice.choices(
                HISTORY_PRIORITIES, weights=[w for *_, w in HISTORY_PRIORITIES]
            )[0]
            if history and dice.random() < 0.35:  # the first one is the marker
                signature, category = dice.choice(HISTORY_ALERTS)
                incident = _history_alert(
                    monitoring, signature, logged, dice, alert_ingest, AlertSignal
                )
            else:
                category = dice.choice(list(HISTORY_TITLES))
                title = dice.choice(HISTORY_TITLES[category])
                if not history:
                    title, category = HISTORY_FIRST_TITLE, "Software"
                portal = dice.random() < 0.5
                incident = services.incident_log(
                    by=users["requester"] if portal else users["agent"],
                    title=title,
                    source=Incident.Source.PORTAL if portal else Incident.Source.AGENT,
                    requester=users["requester"],
                    services=[dice.choice(all_services)],
                    now=logged,
                )
            history.append(incident.pk)
            _history_life(
                incident, users, categories[category], impact, urgency, dice, now
            )
    # These emails tell of the past; nobody is to receive them now.
    Notification.objects.filter(
        incident__in=history, status=Notification.Status.PENDING
    ).update(status=Notification.Status.SENT, sent_at=now)


def _history_alert(
    monitoring: Any,
    signature: str,
    logged: datetime,
    dice: random.Random,
    alert_ingest: Any,
    signal: Any,
) -> Incident:
    key = f"demo-{signature}-{logged:%Y%m%d%H%M}"
    for repeat in range(dice.randint(1, 6)):
        alert_ingest(
            integration=monitoring,
            signals=[signal(dedup_key=key, status="firing", title=signature)],
            payload={"dedup_key": key, "title": signature},
            now=logged + timedelta(minutes=3 * repeat),
        )
    return Incident.objects.get(alerts__dedup_key=key)


def _history_life(
    incident: Incident,
    users: dict[str, Any],
    category: Category,
    impact: str,
    urgency: str,
    dice: random.Random,
    now: datetime,
) -> None:
    """Take an incident through its life at past times, stopping where ``now``
    comes (so the recent ones are still open)."""
    # Network Operations has the incident manager; Service Desk has both.
    worker = users["incident_manager"] if category.name == "Network" else users["agent"]
    clock = [incident.logged_at]

    def after(low: int, high: int) -> datetime | None:
        clock[0] += timedelta(minutes=dice.randint(low, high))
        return clock[0] if clock[0] < now else None

    if (at := after(2, 30)) is None:
        return
    services.incident_triage(
        incident=incident,
        by=worker,
        category=category,
        impact=impact,
        urgency=urgency,
        now=at,
    )
    respond, resolve = HISTORY_PACE[incident.priority]
    if (at := after(*respond)) is None:
        return
    services.incident_start_work(incident=incident, by=worker, now=at)
    if incident.is_major:
        for _ in range(dice.randint(1, 3)):
            if (at := after(20, 75)) is None:
                return
            services.incident_post_update(
                incident=incident,
                by=worker,
                body="Still on it; next update within the hour.",
                now=at,
            )
    requester = incident.requester
    if requester is not None and dice.random() < 0.15:
        if (at := after(30, 240)) is None:
            return
        services.incident_wait_for_requester(
            incident=incident, by=worker, question="Does it still happen?", now=at
        )
        if (at := after(60, 1200)) is None:
            return
        services.incident_add_note(
            incident=incident, by=requester, kind="reply", body="Yes, twice.", now=at
        )
    if (at := after(*resolve)) is None:
        return
    _history_resolve(incident, worker, at)
    if dice.random() < 0.08:
        if (at := after(120, 1200)) is None:
            return
        services.incident_reopen(
            incident=incident, by=worker, reason="It came back.", now=at
        )
        if (at := after(*resolve)) is None:
            return
        _history_resolve(incident, worker, at)
    if (at := after(60, 1800)) is None:
        return
    services.incident_confirm(
        incident=incident, by=requester or users["incident_manager"], now=at
    )


def _history_resolve(incident: Incident, worker: Any, at: datetime) -> None:
    services.incident_resolve(
        incident=incident,
        by=worker,
        resolution_kind=Incident.ResolutionKind.WORKAROUND,
        resolution="Restarted the service and cleared the queue.",
        verification="Watched it work for a quarter of an hour.",
        now=at,
    )


@dataclass(frozen=True)
class DemoSeedResult:
    created_users: list[str]
    existing_users: list[str]
    # The password set in this run, on the users it was set on; None if none was set.
    password: str | None
    password_users: list[str]


def _save(obj: models.Model) -> None:
    obj.full_clean()
    obj.save()


@transaction.atomic
def demo_seed(*, password: str | None = None) -> DemoSeedResult:
    """Create or update the demo organisation and users. Running it again changes
    nothing, except that an explicit ``password`` is set on every demo user; without
    one, only users created now get a fresh generated password."""
    if password is not None:
        validate_password(password)
    groups = roles_sync()

    teams: dict[str, Team] = {}
    for name, tier, next_tier in DEMO_TEAMS:  # listed top tier first
        team = Team.objects.filter(name=name).first() or Team(name=name)
        team.tier = tier
        team.next_tier = teams[next_tier] if next_tier else None
        _save(team)
        teams[name] = team
    for name, team_name in DEMO_CATEGORIES:
        category = Category.objects.filter(name=name).first() or Category(name=name)
        category.team = teams[team_name]
        _save(category)
    for name, description, team_name in DEMO_SERVICES:
        service = Service.objects.filter(name=name).first() or Service(name=name)
        service.description = description
        service.team = teams[team_name]
        service.is_public = name not in INTERNAL_SERVICES
        _save(service)

    User = get_user_model()
    generated = password or secrets.token_urlsafe(12)
    created, existing, password_users = [], [], []
    users = {}
    for spec in DEMO_USERS:
        user = User.objects.filter(username=spec.username).first()
        is_new = user is None
        if is_new:
            user = User(username=spec.username)
        user.first_name, user.last_name = spec.first_name, spec.last_name
        user.email = f"{spec.username}@example.com"
        user.is_staff = spec.role == Role.ADMIN
        if is_new or password is not None:
            user.set_password(generated)
            password_users.append(spec.username)
        _save(user)
        user.groups.add(groups[spec.role])
        for team_name in spec.teams:
            teams[team_name].members.add(user)
        for team_name in spec.leads:
            teams[team_name].lead = user
            _save(teams[team_name])
        (created if is_new else existing).append(spec.username)
        users[spec.username] = user
    _demo_incidents(users)
    _demo_history(users, now=timezone.now())
    demo_status_page(users["incident_manager"], agent=users["agent"])

    return DemoSeedResult(
        created_users=created,
        existing_users=existing,
        password=generated if password_users else None,
        password_users=password_users,
    )

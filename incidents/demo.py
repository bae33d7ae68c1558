"""Demo data: a small organisation with one user per role, safe to load repeatedly."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import models, transaction

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
        leads=("Service Desk", "Network Operations"),
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
    demo_status_page(users["incident_manager"], agent=users["agent"])

    return DemoSeedResult(
        created_users=created,
        existing_users=existing,
        password=generated if password_users else None,
        password_users=password_users,
    )

"""Demo data: a small organisation with one user per role, safe to load repeatedly."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import models, transaction

from incidents.models import Category, Service, Team
from incidents.roles import Role, roles_sync

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
        _save(service)

    User = get_user_model()
    generated = password or secrets.token_urlsafe(12)
    created, existing, password_users = [], [], []
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

    return DemoSeedResult(
        created_users=created,
        existing_users=existing,
        password=generated if password_users else None,
        password_users=password_users,
    )

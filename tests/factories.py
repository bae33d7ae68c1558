"""Plain helpers that build test data with sensible defaults."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from incidents.models import Category, Incident, Service, Team
from incidents.roles import Role

PASSWORD = "a-long-test-password-0"
_seq = itertools.count(1)


def make_user(*, role: str | None = None, **overrides: Any) -> Any:
    """A user holding ``role`` (a ``Role`` group name), or no role at all."""
    n = next(_seq)
    fields = {"username": f"user{n}", "email": f"user{n}@example.com", **overrides}
    if role == Role.ADMIN:
        fields.setdefault("is_staff", True)
    user = get_user_model().objects.create_user(password=PASSWORD, **fields)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_team(**overrides: Any) -> Team:
    fields = {"name": f"Team {next(_seq)}", "tier": Team.Tier.TIER_1, **overrides}
    return Team.objects.create(**fields)


def make_category(**overrides: Any) -> Category:
    fields = {"name": f"Category {next(_seq)}", **overrides}
    if "team" not in fields:
        fields["team"] = make_team()
    return Category.objects.create(**fields)


def make_service(**overrides: Any) -> Service:
    fields = {"name": f"Service {next(_seq)}", **overrides}
    return Service.objects.create(**fields)


def make_incident(**overrides: Any) -> Incident:
    """A new incident logged by the system through the service, as an alert would."""
    from incidents.services import incident_log

    fields: dict[str, Any] = {
        "by": None,
        "title": f"Incident {next(_seq)}",
        "source": Incident.Source.AGENT,
        **overrides,
    }
    return incident_log(**fields)


def signed_in(user: Any) -> Client:
    """A test client signed in as ``user``."""
    client = Client()
    client.force_login(user)
    return client

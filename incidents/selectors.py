"""Reads of the organisation for pages and dashboards."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from incidents.models import Service, Team


def team_list(*, member: AbstractBaseUser | None = None) -> QuerySet[Team]:
    """Teams in escalation order with what the overview shows: next tier, lead,
    routed categories and members; optionally only those ``member`` belongs to."""
    teams = Team.objects.select_related("next_tier", "lead").prefetch_related(
        "categories", "members"
    )
    if member is not None:
        teams = teams.filter(members=member)
    return teams


def service_list(*, public_only: bool) -> QuerySet[Service]:
    services = Service.objects.select_related("team")
    return services.filter(is_public=True) if public_only else services

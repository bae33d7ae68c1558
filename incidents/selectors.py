"""Reads for pages, dashboards and the API. ``incidents_visible_to`` is the one
authorisation rule for reading incidents: every list, detail, search and export
starts from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from incidents.models import AlertDelivery, Incident, IncidentEvent, Service, Team

# Roles that read every incident: agents, incident managers, managers.
READ_ALL_PERMISSION = "incidents.view_incident"


def incidents_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Incident]:
    """Staff who may view incidents see all of them; a requester sees only their
    own; anyone else sees none."""
    if not user.is_authenticated or not user.is_active:
        return Incident.objects.none()
    if user.has_perm(READ_ALL_PERMISSION):
        return Incident.objects.all()
    return Incident.objects.filter(requester=user)


def incident_list(
    *, user: AbstractBaseUser | AnonymousUser, filters: dict[str, Any] | None = None
) -> QuerySet[Incident]:
    """The incidents ``user`` may see, newest first, with what a list row shows
    (category, team, assignee, requester, services) loaded in a fixed number of
    queries. ``filters`` are field lookups (``status``, ``priority``, ``team``...)."""
    return (
        incidents_visible_to(user)
        .filter(**(filters or {}))
        .select_related("category", "team", "assignee", "requester")
        .prefetch_related("services")
        .order_by("-id")
    )


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


@dataclass(frozen=True)
class InspectedOccurrence:
    """One alert occurrence on an incident, with the delivery that carried it (None
    once the delivery has been pruned)."""

    event: IncidentEvent
    delivery: AlertDelivery | None

    @property
    def rule(self) -> str:
        return self.event.data.get("rule", "")


def alert_inspector(
    *, incident: Incident, limit: int = 50
) -> list[InspectedOccurrence]:
    """The newest alert occurrences of an incident with their raw payloads and the
    rule that matched: why an alert did what it did. Two queries."""
    events = list(
        incident.events.filter(kind=IncidentEvent.Kind.ALERT_OCCURRENCE).order_by(
            "-at", "-id"
        )[:limit]
    )
    keys = {
        e.pk: uuid.UUID(e.data["delivery"]) for e in events if e.data.get("delivery")
    }
    deliveries = AlertDelivery.objects.select_related("integration").in_bulk(
        set(keys.values())
    )
    return [
        InspectedOccurrence(event, deliveries.get(keys.get(event.pk)))
        for event in events
    ]

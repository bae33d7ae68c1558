"""Logging an incident, editing what it is, and correcting its milestones."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from incidents.exceptions import ReportLimitReached
from incidents.models import (
    Category,
    Incident,
    IncidentEvent,
    Service,
    Team,
    priority_for,
)
from incidents.services._base import (
    User,
    incident_service,
    lock,
    major_duties,
    now_or,
    record,
    refuse_if_final,
    require_perm,
    resign,
    save,
    set_fields,
)
from incidents.services.requester_notices import requester_notify


def _check_may_log(by: User | None, *, source: str, requester: User | None) -> bool:
    """Refuse a caller who may not log this incident; True when it is a
    requester's own report (which the hourly limit counts)."""
    if by is None or by.has_perm("incidents.add_incident"):
        return False  # the system (alerts) and agents log anything
    is_own_report = requester is not None and requester.pk == by.pk
    if by.has_perm("incidents.use_requester_portal") and is_own_report:
        if source == Incident.Source.PORTAL:
            return True
    raise PermissionDenied("You may not log this incident.")


REPORT_WINDOW = timedelta(hours=1)


def _refuse_over_report_limit(requester: User, *, at: datetime) -> None:
    """A requester logs at most ``PORTAL_REPORTS_PER_HOUR`` reports of their own in
    any hour, by whatever path (the portal's form, the API with their token).

    Counted from the incidents themselves, not from a counter beside them: a
    report that failed and rolled back never counts, and no cache outage lets one
    through. The requester's row is locked first, so two reports of the same
    person sent at once are counted one after the other, not both against the
    same total."""
    get_user_model().objects.select_for_update().filter(pk=requester.pk).exists()
    limit = settings.PORTAL_REPORTS_PER_HOUR
    recent = list(
        Incident.objects.filter(
            requester=requester,
            source=Incident.Source.PORTAL,
            logged_at__gt=at - REPORT_WINDOW,
        )
        .order_by("-logged_at")
        .values_list("logged_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    # The oldest report of the hour's allowance is the next to age out of it.
    wait = recent[-1] + REPORT_WINDOW - at
    raise ReportLimitReached(
        f"You have sent {limit} reports in the last hour. Wait a little, or call "
        "the service desk if it cannot wait.",
        retry_after=max(1, math.ceil(wait.total_seconds())),
    )


def service_desk_team() -> Team | None:
    """The team that receives what nothing else routes (a portal report naming no
    service): the team named by ``SERVICE_DESK_TEAM``, else the first tier-1
    team by name; None only when there are no teams at all."""
    named = Team.objects.filter(name=settings.SERVICE_DESK_TEAM).first()
    return named or Team.objects.order_by("tier", "name").first()


@incident_service
def incident_log(
    *,
    by: User | None,
    title: str,
    source: str,
    description: str = "",
    requester: User | None = None,
    category: Category | None = None,
    services: Iterable[Service] = (),
    impact: str = "",
    urgency: str = "",
    detected_at: datetime | None = None,
    follows_up: Incident | None = None,
    contact: str = "",
    signature: str = "",
    now: datetime | None = None,
) -> Incident:
    """Log a new incident. The category routes it to its team (without a category,
    the team of the first affected service that has one; a portal report with
    neither goes to the service desk team); impact and urgency,
    when both known, give its priority. Agents and the system log any incident;
    a requester logs only their own, through the portal, and at most
    ``PORTAL_REPORTS_PER_HOUR`` of them an hour (``ReportLimitReached``).
    Detection cannot lie in the future or after logging. ``signature`` is the
    error signature of an alert (``incidents.signatures``); without one it follows
    the category and services."""
    is_own_report = _check_may_log(by, source=source, requester=requester)
    at = now_or(now)
    if is_own_report:
        _refuse_over_report_limit(requester, at=at)
    detected_at = detected_at or at
    if detected_at > at:
        raise ValidationError({"detected_at": "Detection cannot be in the future."})
    incident = Incident(
        title=title.strip(),
        description=description,
        source=source,
        requester=requester,
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact, urgency) if impact and urgency else None,
        detected_at=detected_at,
        logged_at=at,
        follows_up=follows_up,
        contact=contact.strip(),
    )
    services = list(services)
    if category is not None:
        incident.category = category
        incident.team = category.team
        incident.tier = category.team.tier
    elif owner := next((s.team for s in services if s.team_id), None):
        incident.team = owner
        incident.tier = owner.tier
    elif source == Incident.Source.PORTAL and (desk := service_desk_team()):
        # "I don't know" which service: the service desk sorts it out.
        incident.team = desk
        incident.tier = desk.tier
    incident.signature = signature
    resign(incident, service_ids=[service.pk for service in services])
    save(incident, at=at)
    incident.services.set(services)
    record(
        incident,
        IncidentEvent.Kind.LOGGED,
        by=by,
        at=at,
        source=source,
        priority=incident.priority,
        team=incident.team_id,
    )
    major_duties(incident, at=at)
    requester_notify(incident, "requester_logged", at=at)
    return incident


@incident_service
def incident_update(
    *,
    incident: Incident,
    by: User | None,
    expected_version: int | None = None,
    title: str | None = None,
    description: str | None = None,
    category: Category | None = None,
    impact: str | None = None,
    urgency: str | None = None,
    services: Iterable[Service] | None = None,
    now: datetime | None = None,
) -> Incident:
    """Edit what the incident is; ``None`` leaves a field as it is. Every change is
    on the timeline, and impact or urgency changes recompute the priority. Before
    triage a new category also routes the incident to that category's team."""
    require_perm(by, "incidents.change_incident", "edit this incident")
    lock(incident, by=by, expected_version=expected_version)
    refuse_if_final(incident, "edit")
    at = now_or(now)
    values = {
        "title": title.strip() if title is not None else None,
        "description": description,
        "category": category,
        "impact": impact,
        "urgency": urgency,
    }
    changed = set_fields(
        incident, by=by, at=at, **{k: v for k, v in values.items() if v is not None}
    )
    if "category" in changed and incident.status == Incident.Status.NEW:
        set_fields(incident, by=by, at=at, team=category.team, tier=category.team.tier)
    if services is not None:
        before = dict(incident.services.values_list("pk", "name"))
        after = {service.pk: service.name for service in services}
        if set(before) != set(after):
            incident.services.set(after)
            # Ids as before, and the names, for the timeline to read.
            record(
                incident,
                IncidentEvent.Kind.FIELD_CHANGED,
                by=by,
                at=at,
                field="services",
                old=sorted(before),
                new=sorted(after),
                old_names=sorted(before.values()),
                new_names=sorted(after.values()),
            )
            changed.append("services")
    if {"category", "services"} & set(changed):
        resign(incident)
    if changed:
        save(incident, at=at)
    return incident


# Milestones in the order they happen; a correction must keep that order.
MILESTONES = ("detected_at", "logged_at", "acknowledged_at", "resolved_at", "closed_at")


@incident_service
def incident_correct_timestamp(
    *,
    incident: Incident,
    by: User | None,
    field: str,
    value: datetime,
    reason: str,
    now: datetime | None = None,
) -> Incident:
    """Correct a milestone (say, an incident logged an hour after it was detected),
    with a reason kept on the timeline beside the old value, so metrics stay honest
    and the correction stays visible."""
    require_perm(
        by,
        "incidents.correct_incident_timestamps",
        "correct this incident's timestamps",
    )
    lock(incident, by=by)
    at = now_or(now)
    if field not in MILESTONES:
        raise ValidationError({"field": f"{field!r} is not a milestone."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the timestamp is corrected."})
    if getattr(incident, field) is None:
        raise ValidationError({field: "This milestone has not happened yet."})
    if value > at:
        raise ValidationError({field: "A milestone cannot be in the future."})
    index = MILESTONES.index(field)
    earlier = [getattr(incident, f) for f in MILESTONES[:index] if getattr(incident, f)]
    later = [
        getattr(incident, f) for f in MILESTONES[index + 1 :] if getattr(incident, f)
    ]
    if any(value < t for t in earlier) or any(value > t for t in later):
        raise ValidationError(
            {
                field: "Milestones must stay in order: detected, logged, acknowledged, "
                "resolved, closed."
            }
        )
    old = getattr(incident, field)
    setattr(incident, field, value)
    save(incident, at=at)
    record(
        incident,
        IncidentEvent.Kind.TIMESTAMP_CORRECTED,
        by=by,
        at=at,
        field=field,
        old=old.isoformat(),
        new=value.isoformat(),
        reason=reason.strip(),
    )
    return incident

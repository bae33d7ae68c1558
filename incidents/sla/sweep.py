"""The SLA sweep: what the clocks say is due, acted on once.

Each rule finds its due incidents with one query on a partial index, then claims
each one with a conditional UPDATE and goes on only if it changed exactly that row
(the claim is the idempotency: a second sweep, or a second worker running the same
sweep at the same time, finds nothing left to claim). The action itself goes
through the incident services, in the claim's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from incidents.exceptions import IncidentConflict
from incidents.models import Incident, IncidentEvent, Priority
from incidents.services import incident_close_unconfirmed, incident_escalate
from incidents.services._base import record
from incidents.services.notifications import notify

logger = logging.getLogger(__name__)

# How long a major incident may wait for an assignee before the incident manager
# and the team lead hear of it.
UNASSIGNED_MAJOR_AFTER = timedelta(minutes=15)
BATCH = 500


def _claimed(pk: int, condition: Q, **claim: object) -> Incident | None:
    if Incident.objects.filter(condition, pk=pk).update(**claim) != 1:
        return None
    return Incident.objects.select_related("team__lead", "assignee").get(pk=pk)


def _due(condition: Q, order_by: str) -> list[int]:
    return list(
        Incident.objects.filter(condition)
        .order_by(order_by)
        .values_list("pk", flat=True)[:BATCH]
    )


def _breach(incident: Incident, clock: str, at: datetime, due: datetime) -> None:
    record(
        incident,
        IncidentEvent.Kind.SLA_BREACHED,
        by=None,
        at=at,
        clock=clock,
        due=due.isoformat(),
        lead=incident.team.lead_id if incident.team else None,
    )
    notify(incident, "sla_breached", at=at, clock=clock, due=due.isoformat())
    next_tier = incident.team.next_tier if incident.team else None
    if next_tier is not None and next_tier.tier > incident.tier:
        incident_escalate(
            incident=incident,
            by=None,
            reason=f"The {clock} target was missed at {due:%Y-%m-%d %H:%M %Z}.",
            now=at,
        )


def sweep_breaches(now: datetime, clock: str) -> int:
    if clock == "response":
        due_field, breached_field = "respond_due_at", "respond_breached_at"
    else:
        due_field, breached_field = "resolve_due_at", "resolve_breached_at"
    condition = Q(**{f"{due_field}__lte": now, f"{breached_field}__isnull": True})
    acted = 0
    for pk in _due(condition, due_field):
        with transaction.atomic():
            incident = _claimed(pk, condition, **{breached_field: F(due_field)})
            if incident is None:
                continue
            _breach(incident, clock, now, getattr(incident, breached_field))
            acted += 1
    return acted


def sweep_warnings(now: datetime) -> int:
    condition = Q(resolve_warn_at__lte=now, resolve_warned_at__isnull=True)
    acted = 0
    for pk in _due(condition, "resolve_warn_at"):
        with transaction.atomic():
            incident = _claimed(pk, condition, resolve_warned_at=now)
            if incident is None:
                continue
            record(
                incident,
                IncidentEvent.Kind.SLA_WARNING,
                by=None,
                at=now,
                clock="resolution",
                due=incident.resolve_due_at.isoformat()
                if incident.resolve_due_at
                else None,
                assignee=incident.assignee_id,
                team=incident.team_id,
            )
            due = incident.resolve_due_at
            notify(
                incident, "sla_warning", at=now, due=due.isoformat() if due else None
            )
            acted += 1
    return acted


def sweep_unassigned_major(now: datetime) -> int:
    condition = Q(
        assignee__isnull=True,
        unassigned_escalated_at__isnull=True,
        priority__in=Priority.major(),
        status__in=Incident.OPEN_STATUSES,
        logged_at__lte=now - UNASSIGNED_MAJOR_AFTER,
    )
    acted = 0
    for pk in _due(condition, "logged_at"):
        with transaction.atomic():
            incident = _claimed(pk, condition, unassigned_escalated_at=now)
            if incident is None:
                continue
            record(
                incident,
                IncidentEvent.Kind.UNASSIGNED_MAJOR,
                by=None,
                at=now,
                waited_minutes=int((now - incident.logged_at).total_seconds() // 60),
                lead=incident.team.lead_id if incident.team else None,
            )
            notify(incident, "unassigned_major", at=now)
            acted += 1
    return acted


def sweep_update_cadence(now: datetime) -> int:
    condition = Q(next_update_due_at__lte=now) & (
        Q(update_reminded_at__isnull=True)
        | Q(update_reminded_at__lt=F("next_update_due_at"))
    )
    acted = 0
    for pk in _due(condition, "next_update_due_at"):
        with transaction.atomic():
            incident = _claimed(pk, condition, update_reminded_at=now)
            if incident is None:
                continue
            record(
                incident,
                IncidentEvent.Kind.UPDATE_OVERDUE,
                by=None,
                at=now,
                due=incident.next_update_due_at.isoformat(),
                assignee=incident.assignee_id,
            )
            notify(
                incident,
                "update_overdue",
                at=now,
                due=incident.next_update_due_at.isoformat(),
            )
            acted += 1
    return acted


def sweep_auto_close(now: datetime) -> int:
    condition = Q(status=Incident.Status.RESOLVED, confirmation_due_at__lte=now)
    acted = 0
    for pk in _due(condition, "confirmation_due_at"):
        incident = Incident.objects.filter(pk=pk).first()
        try:
            incident_close_unconfirmed(incident=incident, now=now)
        except IncidentConflict:
            continue  # someone confirmed, reopened or closed it meanwhile
        acted += 1
    return acted


RULES: dict[str, Callable[[datetime], int]] = {
    "response_breached": lambda now: sweep_breaches(now, "response"),
    "resolution_breached": lambda now: sweep_breaches(now, "resolution"),
    "resolution_warned": sweep_warnings,
    "unassigned_major": sweep_unassigned_major,
    "update_overdue": sweep_update_cadence,
    "auto_closed": sweep_auto_close,
}


def sla_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Run every rule once; returns how many incidents each acted on. A rule that
    fails is logged and does not stop the others."""
    now = now or timezone.now()
    counts = {}
    for name, rule in RULES.items():
        try:
            counts[name] = rule(now)
        except Exception:
            logger.exception("SLA sweep rule %s failed", name)
            counts[name] = 0
    return counts

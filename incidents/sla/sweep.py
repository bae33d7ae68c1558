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
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from incidents.exceptions import IncidentConflict
from incidents.models import Incident, IncidentEvent, Priority
from incidents.services import incident_close_unconfirmed, incident_escalate
from incidents.services._base import record
from incidents.services.notifications import notify
from incidents.services.retry import retried

logger = logging.getLogger(__name__)

# How long a major incident may wait for an assignee before the incident manager
# and the team lead hear of it.
UNASSIGNED_MAJOR_AFTER = timedelta(minutes=15)
BATCH = 500


def conditions(now: datetime) -> dict[str, tuple[Q, str]]:
    """What each rule selects at ``now``, and in which order (each served by a
    partial index on the incident table)."""
    return {
        "response_breached": (
            Q(respond_due_at__lte=now, respond_breached_at__isnull=True),
            "respond_due_at",
        ),
        "resolution_breached": (
            Q(resolve_due_at__lte=now, resolve_breached_at__isnull=True),
            "resolve_due_at",
        ),
        "response_warned": (
            Q(respond_warn_at__lte=now, respond_warned_at__isnull=True),
            "respond_warn_at",
        ),
        "resolution_warned": (
            Q(resolve_warn_at__lte=now, resolve_warned_at__isnull=True),
            "resolve_warn_at",
        ),
        "unassigned_major": (
            Q(
                assignee__isnull=True,
                unassigned_escalated_at__isnull=True,
                priority__in=Priority.major(),
                status__in=Incident.OPEN_STATUSES,
                logged_at__lte=now - UNASSIGNED_MAJOR_AFTER,
            ),
            "logged_at",
        ),
        "update_overdue": (
            Q(next_update_due_at__lte=now)
            & (
                Q(update_reminded_at__isnull=True)
                | Q(update_reminded_at__lt=F("next_update_due_at"))
            ),
            "next_update_due_at",
        ),
        "auto_closed": (
            Q(status=Incident.Status.RESOLVED, confirmation_due_at__lte=now),
            "confirmation_due_at",
        ),
    }


def due_query(now: datetime, rule: str) -> QuerySet:
    """The one query a rule runs to find its work: ids, oldest due first."""
    condition, order_by = conditions(now)[rule]
    return (
        Incident.objects.filter(condition)
        .order_by(order_by)
        .values_list("pk", flat=True)[:BATCH]
    )


def _claim_each(
    now: datetime, rule: str, act: Callable[[Incident], None], **claim: object
) -> int:
    """For each incident the rule selects, claim it by setting ``claim`` where the
    rule's condition still holds, and if this call changed exactly that row,
    ``act`` on it in the same transaction. Returns how many were acted on."""
    condition, _ = conditions(now)[rule]
    return sum(
        _claim_one(pk, condition, act, claim) for pk in list(due_query(now, rule))
    )


@retried
def _claim_one(
    pk: int, condition: Q, act: Callable[[Incident], None], claim: dict[str, object]
) -> bool:
    """Claim one incident and act on it, in one transaction (run again if it was
    a deadlock victim: it then did nothing). False if another sweep got there
    first."""
    with transaction.atomic():
        if Incident.objects.filter(condition, pk=pk).update(**claim) != 1:
            return False
        act(Incident.objects.select_related("team__lead", "assignee").get(pk=pk))
        return True


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _lead(incident: Incident) -> int | None:
    return incident.team.lead_id if incident.team else None


def sweep_breaches(now: datetime, clock: str) -> int:
    """A missed target: on the timeline, to the incident managers and the lead, and
    up to the team's next tier."""
    prefix = "respond" if clock == "response" else "resolve"
    due_field, breached_field = f"{prefix}_due_at", f"{prefix}_breached_at"

    def breach(incident: Incident) -> None:
        due = getattr(incident, breached_field)
        record(
            incident,
            IncidentEvent.Kind.SLA_BREACHED,
            by=None,
            at=now,
            clock=clock,
            due=_iso(due),
            lead=_lead(incident),
        )
        notify(incident, "sla_breached", at=now, clock=clock, due=due)
        next_tier = incident.team.next_tier if incident.team else None
        if next_tier is not None and next_tier.tier > incident.tier:
            incident_escalate(
                incident=incident,
                by=None,
                reason=f"The {clock} target was missed at {due:%Y-%m-%d %H:%M %Z}.",
                now=now,
            )

    rule = f"{clock}_breached"
    return _claim_each(now, rule, breach, **{breached_field: F(due_field)})


def sweep_warnings(now: datetime, clock: str) -> int:
    """A target mostly used (``warn_at_percent`` of the policy): the owner hears of
    it, once per clock."""
    prefix = "respond" if clock == "response" else "resolve"

    def warn(incident: Incident) -> None:
        due = getattr(incident, f"{prefix}_due_at")
        record(
            incident,
            IncidentEvent.Kind.SLA_WARNING,
            by=None,
            at=now,
            clock=clock,
            due=_iso(due),
            assignee=incident.assignee_id,
            team=incident.team_id,
        )
        notify(incident, "sla_warning", at=now, clock=clock, due=due)

    return _claim_each(now, f"{clock}_warned", warn, **{f"{prefix}_warned_at": now})


def sweep_unassigned_major(now: datetime) -> int:
    """A P1/P2 nobody took within 15 minutes: the incident managers and the lead
    hear of it, once."""

    def raise_it(incident: Incident) -> None:
        waited = int((now - incident.logged_at).total_seconds() // 60)
        record(
            incident,
            IncidentEvent.Kind.UNASSIGNED_MAJOR,
            by=None,
            at=now,
            waited_minutes=waited,
            lead=_lead(incident),
        )
        notify(incident, "unassigned_major", at=now)

    return _claim_each(now, "unassigned_major", raise_it, unassigned_escalated_at=now)


def sweep_update_cadence(now: datetime) -> int:
    """A stakeholder update is overdue: the owner is reminded, once per due time."""

    def remind(incident: Incident) -> None:
        due = incident.next_update_due_at
        record(
            incident,
            IncidentEvent.Kind.UPDATE_OVERDUE,
            by=None,
            at=now,
            due=_iso(due),
            assignee=incident.assignee_id,
        )
        notify(incident, "update_overdue", at=now, due=due)

    return _claim_each(now, "update_overdue", remind, update_reminded_at=now)


def sweep_auto_close(now: datetime) -> int:
    # The close service is the claim here: it locks the row and refuses an
    # incident that is no longer resolved.
    acted = 0
    for incident in Incident.objects.filter(pk__in=list(due_query(now, "auto_closed"))):
        try:
            incident_close_unconfirmed(incident=incident, now=now)
        except IncidentConflict:
            continue  # someone confirmed, reopened or closed it meanwhile
        acted += 1
    return acted


RULES: dict[str, Callable[[datetime], int]] = {
    "response_breached": lambda now: sweep_breaches(now, "response"),
    "resolution_breached": lambda now: sweep_breaches(now, "resolution"),
    "response_warned": lambda now: sweep_warnings(now, "response"),
    "resolution_warned": lambda now: sweep_warnings(now, "resolution"),
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

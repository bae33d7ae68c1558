"""The queue filtered to the incidents behind one dashboard figure.

A figure link carries ``figure`` (what is counted), ``since``/``until`` (the
half-open period ``[since, until)`` of the instant that figure is dated by) and
``at`` (the instant "now" meant when the figure was computed). Each rule below is
the figure's definition written as a query, so the list a figure opens holds
exactly the incidents it counted. The dashboards compute the same definitions
from their rollups (``dashboards.facts``); a test keeps the two in step.

SLA outcomes are read from the SLA engine's own columns: a response or
resolution target is missed at the instant the clock reached it (the breach
column, or the due time once it has passed and the sweep has not yet recorded
it), and met when the clock stopped first. Only incidents whose priority has an
SLA policy have targets.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from incidents.models import Incident, Priority
from incidents.sla.policies import sla_policies

FIGURES = [
    ("opened", "Opened"),
    ("reopened", "Opened, reopened since"),
    ("known_error", "Opened, a known error"),
    ("response_met", "Response target met"),
    ("response_missed", "Response target missed"),
    ("resolution_met", "Resolution target met"),
    ("resolution_missed", "Resolution target missed"),
    ("acknowledged", "Acknowledged"),
    ("resolved", "Resolved"),
    ("breaching", "Open and past a target"),
    ("update_overdue", "Major, stakeholder update overdue"),
    ("backlog", "Open"),
]


def _within(field: str, since: datetime | None, until: datetime | None) -> Q:
    bounds = {}
    if since is not None:
        bounds[f"{field}__gte"] = since
    if until is not None:
        bounds[f"{field}__lt"] = until
    return Q(**bounds)


def _missed(
    prefix: str, since: datetime | None, until: datetime | None, at: datetime
) -> Q:
    """Missed, dated by the instant the target was reached: recorded by the sweep
    (the breach column), or not yet recorded while the clock still runs past it
    (its due time, which is set only while the clock runs)."""
    breached, due = f"{prefix}_breached_at", f"{prefix}_due_at"
    recorded = Q(**{f"{breached}__isnull": False}) & _within(breached, since, until)
    unrecorded = Q(**{f"{breached}__isnull": True, f"{due}__lte": at}) & _within(
        due, since, until
    )
    return recorded | unrecorded


def breaching_now(at: datetime) -> Q:
    """Open and past a target at ``at``: the response target (while nobody has
    acknowledged it) or the resolution target, recorded by the sweep or not yet."""
    response = Q(acknowledged_at__isnull=True) & (
        Q(respond_breached_at__isnull=False) | Q(respond_due_at__lte=at)
    )
    resolution = Q(resolve_breached_at__isnull=False) | Q(resolve_due_at__lte=at)
    return Q(status__in=Incident.OPEN_STATUSES) & (response | resolution)


def update_overdue_now(at: datetime) -> Q:
    """An open major incident whose stakeholder update was due by ``at``."""
    return Q(
        status__in=Incident.OPEN_STATUSES,
        priority__in=Priority.major(),
        next_update_due_at__lte=at,
    )


def figure_condition(
    figure: str, *, since: datetime | None, until: datetime | None, at: datetime
) -> Q:
    """The incidents a figure counts, as one condition."""
    with_targets = Q(priority__in=list(sla_policies()))
    if figure in ("opened", "reopened", "known_error", "backlog"):
        condition = _within("logged_at", since, until)
        if figure == "reopened":
            condition &= Q(reopen_count__gt=0)
        elif figure == "known_error":
            condition &= Q(known_error=True) | Q(problem__isnull=False)
        elif figure == "backlog":
            condition &= Q(status__in=Incident.OPEN_STATUSES, logged_at__lte=at)
        return condition
    if figure in ("acknowledged", "response_met"):
        condition = with_targets & _within("acknowledged_at", since, until)
        if figure == "response_met":
            condition &= Q(respond_breached_at__isnull=True)
        return condition
    if figure in ("resolved", "resolution_met"):
        condition = with_targets & _within("resolved_at", since, until)
        if figure == "resolution_met":
            condition &= Q(resolve_breached_at__isnull=True)
        return condition
    if figure == "response_missed":
        return with_targets & _missed("respond", since, until, at)
    if figure == "resolution_missed":
        return with_targets & _missed("resolve", since, until, at)
    if figure == "breaching":
        return breaching_now(at)
    if figure == "update_overdue":
        return update_overdue_now(at)
    raise ValueError(f"unknown figure {figure!r}")

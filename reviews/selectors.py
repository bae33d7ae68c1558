"""Reads for reviews and action items: who may see which, the review page's
timeline and impact, "my action items", and the corrected milestones the
dashboards use.

Who sees what: people who approve or open reviews (incident managers, managers)
see every review; agents see the reviews of their teams' incidents and those they
own while unpublished, and every published one. Requesters see none."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from incidents.models import Incident, IncidentEvent, Team
from reviews.models import (
    MILESTONE_DEFAULTS,
    MILESTONES,
    ActionItem,
    Review,
    ReviewMilestone,
)

AnyUser = AbstractBaseUser | AnonymousUser
SEE_ALL = ("reviews.approve_review", "reviews.open_review")
# The incidents' own events a review's timeline shows (not every field change).
TIMELINE_KINDS = (
    IncidentEvent.Kind.LOGGED,
    IncidentEvent.Kind.TRANSITION,
    IncidentEvent.Kind.ASSIGNED,
    IncidentEvent.Kind.ESCALATED,
    IncidentEvent.Kind.STAKEHOLDER_UPDATE,
    IncidentEvent.Kind.ALERT_OCCURRENCE,
    IncidentEvent.Kind.SLA_BREACHED,
    IncidentEvent.Kind.TIMESTAMP_CORRECTED,
    IncidentEvent.Kind.ARTICLE_APPLIED,
)
TIMELINE_LIMIT = 300


def can_see_all(user: AnyUser) -> bool:
    return any(user.has_perm(p) for p in SEE_ALL)


def reviews_visible_to(user: AnyUser) -> QuerySet[Review]:
    if not user.is_authenticated or not user.is_active:
        return Review.objects.none()
    if not user.has_perm("reviews.view_review"):
        return Review.objects.none()
    if can_see_all(user):
        return Review.objects.all()
    teams = Team.objects.filter(members=user).values("pk")
    return Review.objects.filter(
        Q(status=Review.Status.PUBLISHED) | Q(owner=user) | Q(incident__team__in=teams)
    )


def review_list(*, user: AnyUser, status: str = "") -> QuerySet[Review]:
    reviews = reviews_visible_to(user).select_related("incident", "owner")
    if status:
        reviews = reviews.filter(status=status)
    return reviews.order_by("-id")


def review_get(*, user: AnyUser, pk: int) -> Review:
    """The review, if ``user`` may see it (else ``Review.DoesNotExist``)."""
    return (
        reviews_visible_to(user)
        .select_related("incident__team", "owner", "approved_by", "problem")
        .get(pk=pk)
    )


def review_for_incident(*, user: AnyUser, incident: Incident) -> Review | None:
    return (
        reviews_visible_to(user)
        .filter(covers__incident=incident)
        .select_related("owner")
        .first()
    )


def may_write(review: Review, user: AnyUser) -> bool:
    """Agents write the reviews of their teams' incidents and those they own;
    incident managers and managers any. Not once approved."""
    if review.is_read_only or not user.has_perm("reviews.change_review"):
        return False
    if can_see_all(user) or review.owner_id == user.pk:
        return True
    team = review.incident.team_id
    return (
        team is not None
        and Team.members.through.objects.filter(team_id=team, user_id=user.pk).exists()
    )


def action_items_visible_to(user: AnyUser) -> QuerySet[ActionItem]:
    """Action items are staff work: every agent may see them, requesters none."""
    if not user.is_authenticated or not user.is_active:
        return ActionItem.objects.none()
    if not user.has_perm("reviews.view_actionitem"):
        return ActionItem.objects.none()
    return ActionItem.objects.all()


def my_action_items(
    *, user: AnyUser, today: date, include_closed: bool = False
) -> QuerySet[ActionItem]:
    """The person's own action items and their teams', overdue first, then by
    due date: one query, whatever the number of items. Open items are overdue
    exactly when their due date is before today, so ordering by due date puts
    them first, and the partial index on open items' (due_on, id) is read in
    order and stops after a page."""
    teams = Team.objects.filter(members=user).values("pk")
    items = action_items_visible_to(user).filter(
        Q(owner_user=user) | Q(owner_team__in=teams)
    )
    if not include_closed:
        items = items.open()
    return items.select_related(
        "owner_user", "owner_team", "review", "article"
    ).order_by("due_on", "id")


# ---------------------------------------------------------------- the review page
@dataclass(frozen=True)
class Milestone:
    incident_id: int
    name: str
    at: datetime | None
    recorded: datetime | None
    edited: bool


def review_milestones(review: Review, incidents: Iterable[Incident]) -> list[Milestone]:
    """Each covered incident's five milestones: the corrected time where someone
    edited it, else the recorded one."""
    edited = {(m.incident_id, m.name): m.at for m in review.milestones.all()}
    rows = []
    for incident in incidents:
        for name in MILESTONES:
            recorded = getattr(incident, MILESTONE_DEFAULTS[name])
            key = (incident.pk, name)
            rows.append(
                Milestone(
                    incident.pk,
                    name,
                    edited.get(key, recorded),
                    recorded,
                    key in edited,
                )
            )
    return rows


def review_timeline(
    incident_ids: list[int], *, limit: int = TIMELINE_LIMIT
) -> list[IncidentEvent]:
    """The covered incidents' own events, oldest first, in one query."""
    return list(
        IncidentEvent.objects.filter(
            incident_id__in=incident_ids, kind__in=TIMELINE_KINDS
        )
        .select_related("actor")
        .order_by("at", "id")[:limit]
    )


def review_impact(
    incidents: list[Incident], milestones: list[Milestone]
) -> dict[str, Any]:
    """Duration (started to resolved, by the milestones), affected services,
    requesters affected, and SLA targets missed (from the SLA clocks)."""
    by_incident: dict[int, dict[str, datetime | None]] = {}
    for m in milestones:
        by_incident.setdefault(m.incident_id, {})[m.name] = m.at
    starts = [v["started"] for v in by_incident.values() if v.get("started")]
    ends = [v["resolved"] for v in by_incident.values() if v.get("resolved")]
    missed = []
    for incident in incidents:
        if incident.respond_breached_at:
            missed.append((incident.number, "response", incident.respond_breached_at))
        if incident.resolve_breached_at:
            missed.append((incident.number, "resolution", incident.resolve_breached_at))
    services = sorted({s.name for i in incidents for s in i.services.all()})
    return {
        # To the second: a duration reads as 0:25:18, not with microseconds.
        "duration": timedelta(seconds=int((max(ends) - min(starts)).total_seconds()))
        if starts and ends
        else None,
        "services": services,
        "requesters": len({i.requester_id for i in incidents if i.requester_id}),
        "sla_missed": missed,
    }


def review_incidents(review: Review) -> list[Incident]:
    return list(
        Incident.objects.filter(review_cover__review=review)
        .select_related("team", "category")
        .prefetch_related("services")
        .order_by("id")
    )


# ---------------------------------------------------------------- recurrence
def signature_recurs(signature: str, *, since: datetime, count: int) -> bool:
    """Whether at least ``count`` incidents of ``signature`` were logged since
    ``since``: run inside every resolution of a P3/P4, so it reads at most
    ``count`` rows of the ``incident_signature_logged`` index, however common the
    signature (a LIMIT under the COUNT, never a scan)."""
    from incidents.selectors import recurring_incidents

    return recurring_incidents(signature, since=since)[:count].count() >= count


# ---------------------------------------------------------------- for the dashboards
def corrected_milestones(
    incident_ids: Iterable[int],
) -> dict[int, dict[str, datetime]]:
    """The milestones reviews corrected, by incident and milestone name: what the
    dashboards use for time to detect, acknowledge and mitigate instead of the
    recorded times. Incidents without a correction are absent. One query."""
    found: dict[int, dict[str, datetime]] = {}
    rows = ReviewMilestone.objects.filter(incident_id__in=list(incident_ids))
    for incident_id, name, at in rows.values_list("incident_id", "name", "at"):
        found.setdefault(incident_id, {})[name] = at
    return found

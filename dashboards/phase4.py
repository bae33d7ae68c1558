"""Phase 4 of the incident process on the dashboards: post-incident reviews still
open and past their due time, and action items past their due date, by team.

Read from the reviews app when the figures are computed (so as of the same
refresh as the rest, kept under its token), in two grouped queries over the open
rows only. A review belongs to the team of the incident it reviews; an action item
to its owner team, else to the team of its review's incident. Like the alert
noise, these follow the team filter only: reviews and action items have no
priority, category or service of their own.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce

from reviews.models import ActionItem, Review

if TYPE_CHECKING:
    from dashboards.access import Scope
    from dashboards.forms import Filters
    from dashboards.selectors import Names, Table

OPEN_REVIEWS = (Review.Status.DRAFT, Review.Status.IN_REVIEW)


def _within(
    rows: QuerySet, team_field: str, scope: Scope, filters: Filters
) -> QuerySet:
    if scope.team_ids is not None:
        rows = rows.filter(**{f"{team_field}__in": scope.team_ids})
    if filters.team:
        rows = rows.filter(**{team_field: filters.team})
    return rows


def phase4_counts(
    scope: Scope, filters: Filters, at: datetime
) -> dict[int, Counter[str]]:
    """Per team id (0: no team): reviews open and overdue, action items open and
    overdue, as of ``at``."""
    found: dict[int, Counter[str]] = {}
    reviews = _within(
        Review.objects.filter(status__in=OPEN_REVIEWS).annotate(
            team=F("incident__team_id")
        ),
        "team",
        scope,
        filters,
    )
    for row in (
        reviews.values("team")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=at)))
        .order_by()
    ):
        counts = found.setdefault(row["team"] or 0, Counter())
        counts.update(reviews_open=row["open"], reviews_overdue=row["overdue"])
    items = _within(
        ActionItem.objects.open().annotate(
            team=Coalesce("owner_team_id", "review__incident__team_id")
        ),
        "team",
        scope,
        filters,
    )
    today = at.date()
    for row in (
        items.values("team")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
        .order_by()
    ):
        counts = found.setdefault(row["team"] or 0, Counter())
        counts.update(items_open=row["open"], items_overdue=row["overdue"])
    return found


def phase4_table(scope: Scope, filters: Filters, names: Names, at: datetime) -> Table:
    """The "Reviews and action items" table, overdue first."""
    from dashboards.selectors import Cell, Column, Table

    table = Table(
        "phase4",
        "Reviews and action items",
        [
            Column("team", "Team", numeric=False),
            Column("reviews_open", "Reviews open"),
            Column("reviews_overdue", "Reviews overdue"),
            Column("items_open", "Action items open"),
            Column("items_overdue", "Action items overdue"),
        ],
        note="Open now: reviews in draft or in review (by the reviewed incident's "
        "team) and action items open or in progress (by their owner team). "
        "Filtered by team only.",
    )
    counts = phase4_counts(scope, filters, at)
    order = sorted(
        counts,
        key=lambda team: (
            -(counts[team]["reviews_overdue"] + counts[team]["items_overdue"]),
            names.teams.get(team, ""),
        ),
    )
    fields = ("reviews_open", "reviews_overdue", "items_open", "items_overdue")
    table.rows = [
        [
            Cell(names.teams.get(team, "No team")),
            *(Cell(counts[team][f], f"{counts[team][f]:,}") for f in fields),
        ]
        for team in order
    ]
    return table

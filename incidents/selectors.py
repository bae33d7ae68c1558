"""Reads for pages, dashboards and the API. ``incidents_visible_to`` is the one
authorisation rule for reading incidents: every list, detail, search and export
starts from it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from incidents.console.figures import figure_condition
from incidents.console.queue import (
    ROW_FIELDS,
    QueueRow,
    queue_rows,
    rows_signature,
    update_key_time,
)
from incidents.models import (
    MAX_ID,
    Alert,
    AlertDelivery,
    InAppNotification,
    Incident,
    IncidentEvent,
    MaintenanceWindow,
    Priority,
    Service,
    Team,
)
from incidents.models.incident import PRIORITY_RANK

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


def assignable_people(*, team: Team | None) -> QuerySet[Any]:
    """Who may take an incident of ``team``: the team's active members first, then
    every other active person who may work incidents, each by username. Each row
    carries ``in_team``."""
    User = get_user_model()
    may_work = (
        Q(groups__permissions__codename="work_incident")
        | Q(user_permissions__codename="work_incident")
        | Q(is_superuser=True)
    )
    workers = User.objects.filter(
        pk__in=User.objects.filter(may_work).values("pk"), is_active=True
    )
    members = Team.members.through.objects.filter(
        team_id=team.pk if team else None, user_id=OuterRef("pk")
    )
    return workers.annotate(in_team=Exists(members)).order_by("-in_team", "username")


def team_list(*, member: AbstractBaseUser | None = None) -> QuerySet[Team]:
    """Teams in escalation order with what the overview shows: next tier, lead,
    routed categories and members; optionally only those ``member`` belongs to."""
    teams = Team.objects.select_related("next_tier", "lead").prefetch_related(
        "categories", "members"
    )
    if member is not None:
        teams = teams.filter(members=member)
    return teams


@dataclass(frozen=True)
class InspectedOccurrence:
    """One alert occurrence on an incident, with the delivery that carried it (None
    once the delivery has been pruned)."""

    event: IncidentEvent
    delivery: AlertDelivery | None

    @property
    def rule(self) -> str:
        return self.event.data.get("rule", "")

    @property
    def payload_json(self) -> str:
        """The payload as received, as formatted JSON (not a Python repr)."""
        if self.delivery is None:
            return ""
        return json.dumps(self.delivery.payload, indent=2, ensure_ascii=False)


def alert_inspector(
    *, incident: Incident, limit: int = 50
) -> list[InspectedOccurrence]:
    """The newest alert occurrences of an incident (its alerts' state changes,
    and each alert's newest repeat) with their raw payloads and the rule that
    matched: why an alert did what it did. Three queries."""
    events = list(
        incident.events.filter(kind=IncidentEvent.Kind.ALERT_OCCURRENCE).order_by(
            "-at", "-id"
        )[:limit]
    )
    keys = {
        e.pk: uuid.UUID(e.data["delivery"]) for e in events if e.data.get("delivery")
    }
    # A repeat writes no timeline row: the alert keeps its newest delivery.
    seen = {str(key) for key in keys.values()}
    repeats = [
        IncidentEvent(
            incident=incident,
            kind=IncidentEvent.Kind.ALERT_OCCURRENCE,
            at=alert.last_repeat_at,
            data={
                "alert": alert.pk,
                "name": alert.name,
                "delivery": str(alert.last_delivery_id),
                "rule": f"repeat {alert.repeats} (the newest)",
            },
        )
        for alert in incident.alerts.exclude(last_repeat_at=None).exclude(
            last_delivery_id=None
        )[:limit]
        if str(alert.last_delivery_id) not in seen
    ]
    deliveries = AlertDelivery.objects.select_related("integration").in_bulk(
        set(keys.values()) | {uuid.UUID(e.data["delivery"]) for e in repeats}
    )
    items = [
        InspectedOccurrence(event, deliveries.get(keys.get(event.pk)))
        for event in events
    ] + [
        InspectedOccurrence(e, deliveries.get(uuid.UUID(e.data["delivery"])))
        for e in repeats
    ]
    items.sort(key=lambda item: item.event.at, reverse=True)
    return items[:limit]


_LINK_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class AlertLink:
    href: str
    text: str

    @property
    def is_link(self) -> bool:
        """Only http(s) addresses become links; anything else (javascript:,
        data:, a bare path) is shown as text."""
        return self.href.lower().startswith(_LINK_SCHEMES)


@dataclass(frozen=True)
class AlertPanelItem:
    """One alert of an incident as the Alerts panel and the API show it."""

    alert: Alert

    @property
    def links(self) -> list[AlertLink]:
        return [
            AlertLink(str(link.get("href", "")), str(link.get("text", "") or "Link"))
            for link in self.alert.links
            if isinstance(link, dict) and link.get("href")
        ]

    @property
    def labels(self) -> list[tuple[str, str]]:
        return sorted((str(k), str(v)) for k, v in self.alert.labels.items())

    @property
    def annotations(self) -> list[tuple[str, str]]:
        """The annotations that are text (links are shown as links)."""
        return [
            (str(k), str(v))
            for k, v in self.alert.annotations.items()
            if not str(v).lower().startswith(_LINK_SCHEMES)
        ]

    def as_data(self) -> dict[str, Any]:
        alert = self.alert
        return {
            "id": alert.pk,
            "name": alert.name,
            "integration": alert.integration.name,
            "kind": alert.integration.kind,
            "state": alert.state,
            "severity": alert.severity,
            "first_seen_at": alert.first_seen_at,
            "last_seen_at": alert.last_seen_at,
            "occurrences": alert.occurrences,
            "repeats": alert.repeats,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "links": [
                {"href": link.href, "text": link.text}
                for link in self.links
                if link.is_link
            ],
        }


def incident_alerts(*, incident: Incident) -> list[AlertPanelItem]:
    """The alerts of an incident, newest first, each with its integration: the
    Alerts panel. One query, whatever the number of repeats."""
    return [
        AlertPanelItem(alert)
        for alert in Alert.objects.filter(incident=incident)
        .select_related("integration")
        .order_by("-last_seen_at", "-id")
    ]


TIMELINE_LIMIT = 200
# What the incident page shows until asked for more: its first screen should not
# carry a long night's whole history (the API's timeline has every entry).
TIMELINE_SHOWN = 50
NOTES_SHOWN = 50


@dataclass(frozen=True)
class RepeatLine:
    """The timeline's one counted line for an alert's repeats."""

    name: str
    repeats: int
    at: datetime


def _repeat_lines(incident: Incident) -> list[RepeatLine]:
    return [
        RepeatLine(alert.name, alert.repeats, alert.last_repeat_at)
        for alert in Alert.objects.filter(incident=incident, repeats__gt=0)
        .exclude(last_repeat_at=None)
        .only("title", "labels", "repeats", "last_repeat_at")
    ]


@dataclass(frozen=True)
class Timeline:
    """The incident page's timeline: the newest events as plain rows (``at``,
    ``kind``, ``data``, ``actor_name``: the actor's username or None), and the
    alerts' counted repeat lines."""

    rows: list[dict[str, Any]]
    truncated: bool  # older entries exist beyond ``rows``
    repeats: list[RepeatLine]


def incident_timeline(*, incident: Incident, limit: int = TIMELINE_LIMIT) -> Timeline:
    """The newest ``limit`` timeline entries, newest first, and one counted line
    per alert that repeated ("HighCPU repeated 312 times, last at 03:12"), in two
    queries: a storm of repeats writes no rows, so it costs the page nothing.
    Values, not model instances: the page prints a few fields of each entry."""
    actor = f"actor__{get_user_model().USERNAME_FIELD}"
    rows = list(
        incident.events.order_by("-at", "-id")
        .annotate(actor_name=F(actor))
        .values("at", "kind", "data", "actor_name")[: limit + 1]
    )
    return Timeline(rows[:limit], len(rows) > limit, _repeat_lines(incident))


QUEUE_PAGE_SIZE = 50
BREACHING_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None

    @property
    def signature(self) -> str:
        return rows_signature(self.rows)


def incident_queue(
    *,
    user: AbstractBaseUser,
    filters: dict[str, Any],
    cursor: str | None = None,
    now: datetime,
    team_ids: Collection[int] | None = None,
) -> QueuePage:
    """One page of the agent queue: a view (mine, my teams, unassigned, all open,
    breaching soon, major), filters, search and sort, paged by keyset (no OFFSET,
    so the thousandth page costs what the first does). Rows are plain values
    (``incidents.console.queue.QueueRow``): two queries, the page and its services.

    ``team_ids`` are the reader's teams when the caller already knows them (the
    console's cached options, which a change of membership clears): "My teams"
    then filters on them, and the database plans no subquery for it."""
    queryset = _queue_queryset(user, filters, now, team_ids).values(*ROW_FIELDS)
    size = QUEUE_PAGE_SIZE + 1  # one more than shown: is there a next page?
    by_update = filters.get("view") == "major" and filters.get("sort") != "priority"
    if filters.get("sort") == "priority":
        values = _by_priority(queryset, cursor, size)
    elif by_update:
        values = _by_update_due(queryset, cursor, size)
    else:
        queryset = queryset.order_by("-id")
        if cursor and re.fullmatch(r"\d{1,18}", cursor):
            queryset = queryset.filter(pk__lt=int(cursor))
        values = list(queryset[:size])

    shown = values[:QUEUE_PAGE_SIZE]
    rows = queue_rows(shown, _service_names([v["id"] for v in shown]), now)
    next_cursor = None
    if len(values) > QUEUE_PAGE_SIZE:
        last = rows[-1]
        sorted_by_rank = filters.get("sort") == "priority"
        next_cursor = f"{last.rank}.{last.pk}" if sorted_by_rank else str(last.pk)
        if by_update:
            next_cursor = f"{last.update_key}.{last.pk}"
    return QueuePage(rows, next_cursor)


def incident_queue_count(
    *, user: AbstractBaseUser, filters: dict[str, Any], now: datetime
) -> int:
    """How many incidents the queue lists with these filters, over all pages (one
    query): what a dashboard figure's list shows beside the figure."""
    return _queue_queryset(user, filters, now).order_by().count()


def _queue_queryset(
    user: AbstractBaseUser,
    filters: dict[str, Any],
    now: datetime,
    team_ids: Collection[int] | None = None,
) -> QuerySet[Incident]:
    """The queue's incidents before paging: the view, the filters and the search,
    on what ``user`` may see (``team_ids``: see incident_queue)."""
    queryset = incidents_visible_to(user)
    view = filters.get("view") or "open"
    # A chosen state may be a closed one, and a figure says which states it counts.
    if not filters.get("state") and not filters.get("figure"):
        queryset = queryset.filter(status__in=Incident.OPEN_STATUSES)
    if view == "mine":
        queryset = queryset.filter(assignee=user)
    elif view == "team":
        teams = Team.objects.filter(members=user) if team_ids is None else team_ids
        queryset = queryset.filter(team__in=teams)
    elif view == "unassigned":
        queryset = queryset.filter(assignee__isnull=True)
    elif view == "major":
        queryset = queryset.filter(priority__in=Priority.major())
    elif view == "breaching":
        soon = now + BREACHING_WITHIN
        queryset = queryset.filter(
            Q(respond_due_at__lte=soon)
            | Q(resolve_due_at__lte=soon)
            | Q(respond_breached_at__isnull=False, acknowledged_at__isnull=True)
            | Q(resolve_breached_at__isnull=False)
        )
    lookups = {
        "status": filters.get("state"),
        "priority": filters.get("priority"),
        "category": filters.get("category"),
        "team": filters.get("team"),
        "services": filters.get("service"),
        "source": filters.get("source"),
    }
    queryset = queryset.filter(**{k: v for k, v in lookups.items() if v})
    if figure := filters.get("figure"):
        condition = figure_condition(
            figure,
            since=filters.get("since"),
            until=filters.get("until"),
            at=filters.get("at") or now,
        )
        queryset = queryset.filter(condition)
    if term := (filters.get("q") or "").strip():
        queryset = _search(queryset, term)
    return queryset


def _number_in(term: str) -> int | None:
    """The incident id a search term names (``INC-000123``, ``inc-123``, ``123``)."""
    if number := re.fullmatch(r"(?i)(?:INC-?)?0*(\d+)", term.strip()):
        return int(number.group(1))
    return None


def incident_for_search(*, user: AbstractBaseUser, term: str) -> Incident | None:
    """The incident a number search names, in any state, if ``user`` may see it:
    a number opens that incident whatever view the search came from."""
    pk = _number_in(term)
    if pk is None or pk > MAX_ID:
        return None
    return incidents_visible_to(user).filter(pk=pk).only("id").first()


def _search(queryset: QuerySet[Incident], term: str) -> QuerySet[Incident]:
    """An incident number (``INC-000123``, ``inc-123``, ``123``) finds that
    incident alone, by primary key; anything else is looked for in the title and
    description (case-insensitive substring; on PostgreSQL the trigram indexes of
    migration 0008 answer it for terms of three characters or more)."""
    if (pk := _number_in(term)) is not None:
        return queryset.filter(pk=pk) if pk <= MAX_ID else queryset.none()
    return queryset.filter(Q(title__icontains=term) | Q(description__icontains=term))


def _by_update_due(
    queryset: QuerySet[Incident], cursor: str | None, size: int
) -> list[dict[str, Any]]:
    """The major view: the stakeholder update due soonest (or longest overdue)
    first, those with none due last, newest first within a due time; after
    ``cursor`` ("microseconds.id" or "none.id") if given."""
    ordered = queryset.order_by(F("next_update_due_at").asc(nulls_last=True), "-id")
    if cursor and (found := re.fullmatch(r"(none|\d{1,20})\.(\d{1,18})", cursor)):
        key, pk = found.group(1), int(found.group(2))
        if key == "none":
            ordered = ordered.filter(next_update_due_at__isnull=True, pk__lt=pk)
        else:
            at = update_key_time(key)
            ordered = ordered.filter(
                Q(next_update_due_at__gt=at)
                | Q(next_update_due_at=at, pk__lt=pk)
                | Q(next_update_due_at__isnull=True)
            )
    return list(ordered[:size])


def _by_priority(
    queryset: QuerySet[Incident], cursor: str | None, size: int
) -> list[dict[str, Any]]:
    """``size`` rows by priority (none last), newest first within a priority,
    after ``cursor`` ("rank.id") if given.

    The two keys run in opposite directions, so "after the cursor" is no single
    row comparison; it is read as two ranges of the index incident_open_by_priority:
    the rest of the cursor's priority, then (only if that runs out) the next ones.
    """
    ranked = queryset.alias(rank=PRIORITY_RANK).order_by("rank", "-id")
    if not (cursor and re.fullmatch(r"\d{1,2}\.\d{1,18}", cursor)):
        return list(ranked[:size])
    rank, last = (int(part) for part in cursor.split("."))
    rows = list(ranked.filter(rank=rank, pk__lt=last)[:size])
    if len(rows) < size:
        rows += ranked.filter(rank__gt=rank)[: size - len(rows)]
    return rows


def _service_names(ids: list[int]) -> dict[int, list[str]]:
    """The names of each incident's services, by name (one query, none for no
    ids). The statement is written out: for a page of 50 ids the ORM spent twice
    as long preparing the IN list, value by value, as the database took to answer
    it, and the queue runs it on every load."""
    names: dict[int, list[str]] = {}
    if not ids:
        return names
    links = Incident.services.through._meta
    quote = connection.ops.quote_name
    sql = (
        f"SELECT link.{quote(links.get_field('incident').column)}, service.name"
        f" FROM {quote(links.db_table)} link"
        f" JOIN {quote(Service._meta.db_table)} service"
        f" ON service.id = link.{quote(links.get_field('service').column)}"
        f" WHERE link.{quote(links.get_field('incident').column)}"
        f" IN ({', '.join(['%s'] * len(ids))})"
        " ORDER BY service.name, service.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(pk) for pk in ids])
        for incident_id, name in cursor.fetchall():
            names.setdefault(incident_id, []).append(name)
    return names


def incident_allowed_transitions(
    incident: Incident, user: AbstractBaseUser
) -> list[str]:
    """The transitions ``user`` may start from the incident's state, in lifecycle
    order. Guards that depend on input (a resolution, a reason) are not checked
    here: the form asks for that input, and the service says what is missing."""
    rules = Incident._meta.get_field("status").get_all_transitions(Incident)
    return [
        rule.name
        for rule in rules
        if rule.source in (incident.status, "*") and rule.has_perm(incident, user)
    ]


def services_in_maintenance(*, at: datetime) -> QuerySet[Service]:
    """The services (public or not) that a maintenance window that is not
    cancelled covers at the instant ``at``: alerts for them are expected."""
    covering = MaintenanceWindow.objects.in_progress(at=at).filter(
        services=OuterRef("pk")
    )
    return Service.objects.filter(Exists(covering))


def recurring_incidents(signature: str, *, since: datetime) -> QuerySet[Incident]:
    """Incidents of one error signature (``incidents.signatures``) logged at or
    after ``since``, oldest first, merged duplicates and cancellations left out: a
    range of the ``incident_signature_logged`` index, never a scan. An empty
    signature recurs with nothing."""
    if not signature:
        return Incident.objects.none()
    return (
        Incident.objects.filter(signature=signature, logged_at__gte=since)
        .exclude(status__in=(Incident.Status.MERGED, Incident.Status.CANCELLED))
        .order_by("logged_at", "id")
    )


def notifications_for(user: Any) -> QuerySet:
    """``user``'s in-app notifications, newest first, with their incidents."""
    return InAppNotification.objects.filter(user=user).select_related("incident")


def unread_count(user: Any) -> int:
    """How many of ``user``'s notifications are unread: one COUNT on the partial
    index of unread rows (the bell asks for it on every console page)."""
    return InAppNotification.objects.filter(user=user, read_at=None).count()


def incident_updates(*, incident: Incident) -> list[dict[str, Any]]:
    """The incident's stakeholder updates, oldest first, as values (``is_public``,
    ``body``, ``created_at`` and the author's username as ``author_name``). One
    query."""
    author = f"author__{get_user_model().USERNAME_FIELD}"
    return list(
        incident.updates.annotate(author_name=F(author)).values(
            "is_public", "body", "created_at", "author_name"
        )
    )


def incident_notes(
    *, incident: Incident, limit: int | None = NOTES_SHOWN
) -> tuple[list[dict[str, Any]], bool]:
    """The newest ``limit`` notes and replies (all with None), oldest first as a
    conversation reads, as values (``kind``, ``body``, ``created_at`` and the
    author's username as ``author_name``); and whether older ones were left out.
    One query."""
    author = f"author__{get_user_model().USERNAME_FIELD}"
    notes = (
        incident.notes.order_by("-created_at", "-id")
        .annotate(author_name=F(author))
        .values("kind", "body", "created_at", "author_name")
    )
    if limit is None:
        return list(reversed(notes)), False
    newest = list(notes[: limit + 1])
    return list(reversed(newest[:limit])), len(newest) > limit

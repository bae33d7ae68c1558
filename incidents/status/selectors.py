"""What the public status page says, computed once and cached; and the reads of
the console's status pages.

The rules (the README's "Status page" section says the same):

- Components are the public services (``Service.is_public``), in their groups.
  A component's state is the worst state an open published entry puts it in;
  else "under maintenance" while an announced maintenance window covers it;
  else operational. The page's state is the worst component's.
- Only published entries are read, and of them only their public words: title,
  stage, components and their states, messages. The incident behind an entry is
  never read here, so its number, priority, internal services, people and alert
  text cannot reach a public page.
- Uptime per component over the last ``UPTIME_DAYS`` days (today and the days
  before, in ``TIME_ZONE``), from the entries' component impacts, weighted as
  Statuspage weighs them (``incidents.status.uptime``); each day of the bar has
  its worst state and its downtime.
- Maintenance: announced windows (a public title, not cancelled) on at least one
  public service, upcoming, in progress, and completed within the uptime days.
- History: resolved entries published in the last ``HISTORY_DAYS`` days, by day.

Everything is computed in a fixed number of queries whatever the number of
components, entries, messages and windows, and kept in the cache for
``STATUS_CACHE_SECONDS``; so is each rendering of it (``cached_rendering``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from incidents.models import (
    Alert,
    ComponentState,
    Incident,
    MaintenanceWindow,
    Priority,
    Service,
    StatusEntry,
    StatusImpact,
    StatusMessage,
    StatusPageSettings,
    StatusVersion,
)
from incidents.status import uptime
from itsm.cache import cached, forget, peek

# Bump when the content's shape changes, so a deploy never renders a cached
# dictionary (or bytes) of the old shape.
CACHE_VERSION = "status:v2"
CONTENT_KEY = f"{CACHE_VERSION}:content"
UPTIME_DAYS = 90
HISTORY_DAYS = 14
# Every rendering of the content kept in the cache; forgotten with it.
RENDERINGS = (
    "html",
    "json",
    "v2-status",
    "v2-summary",
    "v2-components",
    "v2-incidents",
    "v2-unresolved",
    "v2-maintenances",
    "v2-maintenances-upcoming",
    "v2-maintenances-active",
)

Content = dict[str, Any]
T = TypeVar("T")

STATE_LABELS = dict(ComponentState.choices)
# The page's state in Statuspage's words: (indicator, description).
PAGE_STATES = {
    ComponentState.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentState.MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    ComponentState.DEGRADED: ("minor", "Minor Service Outage"),
    ComponentState.PARTIAL: ("major", "Partial System Outage"),
    ComponentState.MAJOR: ("critical", "Major Service Outage"),
}
STAGE_LABELS = dict(StatusEntry.Stage.choices)
MAINTENANCE_LABELS = {
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "completed": "Completed",
}


# ---------------------------------------------------------------- cache
def _timeout() -> int:
    return settings.STATUS_CACHE_SECONDS


def status_page(*, now: datetime | None = None) -> Content:
    """The status page's content, from the cache when it holds it (see
    ``itsm.cache``: a cache that is down costs a recomputation, never an error)."""

    def compute() -> Content:
        return status_page_compute(now=now or timezone.now())

    return cached(CONTENT_KEY, compute, _timeout()) if _timeout() > 0 else compute()


# Renderings this process fetched lately: name -> (kept until, rendering). A read
# within LOCAL_SECONDS costs no cache round trip; forgetting the page clears it in
# this process at once, and other processes see the change within LOCAL_SECONDS
# (well inside the max-age browsers and proxies are told).
LOCAL_SECONDS = 1.0
_local: dict[str, tuple[float, Any]] = {}


def _rendering_key(name: str) -> str:
    return f"{CACHE_VERSION}:render:{name}"


def _remember(name: str, value: T) -> T:
    _local[name] = (monotonic() + min(LOCAL_SECONDS, _timeout()), value)
    return value


def cached_rendering(name: str, render: Callable[[], T]) -> T:
    """One rendering of the content (the page, a JSON shape), kept beside it so
    a cached read is one cache look-up and no rendering."""
    if _timeout() <= 0:
        return render()
    return _remember(name, cached(_rendering_key(name), render, _timeout()))


def cached_rendering_peek(name: str) -> Any:
    """The rendering ``name`` if this process or the cache holds it, else None
    (never computes)."""
    if _timeout() <= 0:
        return None
    until, value = _local.get(name, (0.0, None))
    if until > monotonic():
        return value
    value = peek(_rendering_key(name))
    return None if value is None else _remember(name, value)


def entry_key(public_id: str) -> str:
    return f"{CACHE_VERSION}:entry:{public_id}"


def status_cache_clear(*, entries: Iterable[str] = ()) -> None:
    """Forget the cached content and its renderings (and the pages of
    ``entries``, by public id): the next read computes them anew."""
    forget(CONTENT_KEY)
    _local.clear()
    for name in RENDERINGS:
        forget(_rendering_key(name))
    for public_id in entries:
        forget(entry_key(public_id))


# ---------------------------------------------------------------- the page
def page_id() -> str:
    """The page's id in the Statuspage shapes: stable for a deployment (its
    address), and saying nothing else."""
    return hashlib.sha256(settings.SITE_URL.encode()).hexdigest()[:12]


def status_page_compute(*, now: datetime) -> Content:
    """The content, straight from the database in seven queries (settings,
    components, published entries, their impacts, their messages, announced
    windows, their public services)."""
    tz = timezone.get_default_timezone()
    today = timezone.localdate(now, tz)
    days = [today - timedelta(days=n) for n in range(UPTIME_DAYS - 1, -1, -1)]
    since = day_start(days[0])

    page_settings = StatusPageSettings.current()
    services = list(
        Service.objects.filter(is_public=True)
        .select_related("status_component__group")
        .only(
            "id",
            "name",
            "status_component__position",
            "status_component__description",
            "status_component__created_at",
            "status_component__updated_at",
            "status_component__group__name",
            "status_component__group__position",
            "status_component__group__created_at",
        )
    )
    names = {service.pk: service.name for service in services}
    entries = list(
        published_entries()
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=since))
        .order_by("-published_at", "-id")
    )
    windows = [
        window
        for window in announced_windows().filter(ends_at__gte=since)
        if window.public_services
    ]

    in_maintenance = {
        service.pk
        for window in windows
        if window.stage(now) == "in_progress"
        for service in window.public_services
    }
    spans: dict[int, list[uptime.Span]] = defaultdict(list)
    for entry in entries:
        for impact in entry.all_impacts:
            spans[impact.service_id].append(
                uptime.Span(impact.state, impact.start_at, impact.end_at)
            )

    components = [
        _component(
            service,
            spans[service.pk],
            days=days,
            now=now,
            in_maintenance=service.pk in in_maintenance,
            fallback_created=page_settings.created_at or since,
        )
        for service in services
    ]
    components.sort(key=lambda c: (c["position"], c["name"].lower()))
    groups = _groups(services, components)
    overall = uptime.worst(c["state"] for c in components)
    indicator, description = PAGE_STATES[overall]
    shown = [entry_content(e, names) for e in entries]
    maintenance = [_window(w, now=now) for w in windows]
    updated = [since, *(e["updated_at"] for e in shown)]
    updated += [m["updated_at"] for m in maintenance]
    updated += [c["updated_at"] for c in components]
    return {
        "generated_at": now,
        "page": {
            "id": page_id(),
            "name": page_settings.name,
            "url": settings.SITE_URL + "/status",
            "time_zone": settings.TIME_ZONE,
            "updated_at": max(updated),
        },
        "state": overall,
        "state_label": description,
        "indicator": indicator,
        "uptime_days": UPTIME_DAYS,
        "history_days": HISTORY_DAYS,
        "components": components,
        "groups": groups,
        "sections": _sections(components, groups),
        "current": [e for e in shown if e["resolved_at"] is None],
        "recent": shown[:50],
        "history": _history(shown, today=today),
        "maintenance_active": [m for m in maintenance if m["stage"] == "in_progress"],
        "maintenance_upcoming": [m for m in maintenance if m["stage"] == "scheduled"],
        "maintenance_recent": sorted(
            maintenance, key=lambda m: m["starts_at"], reverse=True
        )[:50],
    }


def published_entries() -> QuerySet[StatusEntry]:
    """Published entries with only their public fields, and their impacts and
    messages (newest first) prefetched: three queries."""
    return (
        StatusEntry.objects.filter(status=StatusEntry.Status.PUBLISHED)
        # Only what the page shows is read: the incident's own row never is.
        .only(
            "id",
            "public_id",
            "title",
            "stage",
            "impact",
            "published_at",
            "started_at",
            "monitoring_at",
            "resolved_at",
            "title_edited_at",
            "updated_at",
        )
        .prefetch_related(
            Prefetch(
                "impacts",
                queryset=StatusImpact.objects.only(
                    "id", "entry_id", "service_id", "state", "start_at", "end_at"
                ).order_by("start_at", "id"),
                to_attr="all_impacts",
            ),
            Prefetch(
                "messages",
                queryset=StatusMessage.objects.only(
                    "id",
                    "public_id",
                    "entry_id",
                    "stage",
                    "body",
                    "created_at",
                    "edited_at",
                ).order_by("-created_at", "-id"),
                to_attr="all_messages",
            ),
        )
    )


def announced_windows() -> QuerySet[MaintenanceWindow]:
    """Announced maintenance windows with their public services: two queries.
    The reason, and services that are not public, are never read."""
    return (
        MaintenanceWindow.objects.announced()
        .only(
            "id",
            "public_id",
            "public_title",
            "public_message",
            "starts_at",
            "ends_at",
            "created_at",
        )
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.filter(is_public=True).only("id", "name"),
                to_attr="public_services",
            )
        )
        .order_by("starts_at", "id")
    )


def component_id(service_id: int) -> str:
    return f"service-{service_id}"


def group_id(pk: int) -> str:
    return f"group-{pk}"


def _settings_of(service: Service) -> Any:
    try:
        return service.status_component
    except Service.status_component.RelatedObjectDoesNotExist:
        return None


def _component(
    service: Service,
    spans: list[uptime.Span],
    *,
    days: list[date],
    now: datetime,
    in_maintenance: bool,
    fallback_created: datetime,
) -> Content:
    row = _settings_of(service)
    since = day_start(days[0])
    parts = uptime.segments(spans, since, now)
    state = uptime.worst(s.state for s in spans if s.end is None)
    if state == ComponentState.OPERATIONAL and in_maintenance:
        state = ComponentState.MAINTENANCE
    percent = uptime.uptime_percent(parts, since, now)
    created = row.created_at if row else fallback_created
    changes = [t for s in spans for t in (s.start, s.end) if t is not None and t <= now]
    return {
        "id": component_id(service.pk),
        "name": service.name,
        "description": (row.description if row else "") or None,
        "group_id": group_id(row.group_id) if row and row.group_id else None,
        "position": row.position if row else 0,
        "state": state,
        "state_label": STATE_LABELS[state],
        "created_at": created,
        "updated_at": max([created, *changes]),
        "uptime": percent,
        "uptime_label": uptime.uptime_label(percent),
        "days": _trouble_days(parts, days),
    }


def _trouble_days(parts: list[uptime.Segment], days: list[date]) -> list[Content]:
    """The days of a component's bar that were not all operational: each with its
    place in the bar (0 is the oldest day), its worst state, minutes by state and
    weighted downtime. The other days are operational; the bar draws them as
    such without a row each."""
    first = days[0]
    minutes: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for part in parts:  # each part cut at the local midnights it spans
        day = timezone.localdate(part.start)
        while day_start(day) < part.end:
            start, end = day_start(day), day_start(day + timedelta(days=1))
            overlap = min(part.end, end) - max(part.start, start)
            minutes[day][part.state] += overlap.total_seconds() / 60
            day += timedelta(days=1)
    found = []
    for day in sorted(minutes):
        by_state = minutes[day]
        summary = ", ".join(
            f"{STATE_LABELS[s].lower()} {_duration(m)}"
            for s, m in sorted(by_state.items(), key=lambda i: -uptime.STATE_RANK[i[0]])
        )
        down = sum(uptime.WEIGHTS.get(s, 0.0) * m for s, m in by_state.items())
        found.append(
            {
                "index": (day - first).days,
                "date": day,
                "state": uptime.worst(by_state),
                "summary": summary,
                "downtime_minutes": round(down),
            }
        )
    return found


def _duration(minutes: float) -> str:
    whole = max(1, round(minutes))
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def _groups(services: list[Service], components: list[Content]) -> list[Content]:
    by_id = {c["id"]: c for c in components}
    found: dict[int, Content] = {}
    for service in services:
        row = _settings_of(service)
        if row is None or row.group_id is None:
            continue
        group = found.setdefault(
            row.group_id,
            {
                "id": group_id(row.group_id),
                "name": row.group.name,
                "position": row.group.position,
                "created_at": row.group.created_at,
                "components": [],
            },
        )
        group["components"].append(by_id[component_id(service.pk)])
    groups = sorted(found.values(), key=lambda g: (g["position"], g["name"].lower()))
    for group in groups:
        group["components"].sort(key=lambda c: (c["position"], c["name"].lower()))
        group["state"] = uptime.worst(c["state"] for c in group["components"])
        group["state_label"] = STATE_LABELS[group["state"]]
        group["updated_at"] = max(c["updated_at"] for c in group["components"])
    return groups


def _sections(components: list[Content], groups: list[Content]) -> list[Content]:
    """The page's component list: the ungrouped ones first, then each group."""
    loose = [c for c in components if c["group_id"] is None]
    sections = [{"group": None, "components": loose}] if loose else []
    return sections + [{"group": g, "components": g["components"]} for g in groups]


def entry_content(entry: StatusEntry, names: dict[int, str]) -> Content:
    """An entry as the public reads it. ``names`` are the public services' names:
    an impact on a service that is no longer public is left out."""
    states: dict[int, str] = {}
    for impact in entry.all_impacts:  # in order: the last state of each stays
        if impact.service_id in names:
            states[impact.service_id] = impact.state
    resolved = entry.resolved_at is not None
    messages = [
        {
            "id": message.public_id,
            "stage": message.stage,
            "stage_label": STAGE_LABELS[message.stage],
            "body": message.body,
            "created_at": message.created_at,
            "edited_at": message.edited_at,
        }
        for message in entry.all_messages
    ]
    return {
        "id": entry.public_id,
        "title": entry.title,
        "stage": entry.stage,
        "stage_label": STAGE_LABELS[entry.stage],
        "impact": entry.impact,
        "started_at": entry.started_at or entry.published_at,
        "published_at": entry.published_at,
        "monitoring_at": entry.monitoring_at,
        "resolved_at": entry.resolved_at,
        "updated_at": entry.updated_at,
        "title_edited_at": entry.title_edited_at,
        "edited": entry.title_edited_at is not None
        or any(m["edited_at"] for m in messages),
        "components": [
            {
                "id": component_id(pk),
                "name": names[pk],
                "state": ComponentState.OPERATIONAL if resolved else state,
                "state_label": STATE_LABELS[
                    ComponentState.OPERATIONAL if resolved else state
                ],
                "was": state,
                "was_label": STATE_LABELS[state],
            }
            for pk, state in sorted(states.items(), key=lambda i: names[i[0]].lower())
        ],
        "messages": messages,
    }


def _window(window: MaintenanceWindow, *, now: datetime) -> Content:
    stage = window.stage(now)
    moments = [
        t for t in (window.created_at, window.starts_at, window.ends_at) if t <= now
    ]
    return {
        "id": window.public_id,
        "title": window.public_title,
        "message": window.public_message,
        "stage": stage,
        "stage_label": MAINTENANCE_LABELS[stage],
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "created_at": window.created_at,
        # The last time its stage changed (announced, started, ended).
        "updated_at": max(moments, default=window.created_at),
        "components": [
            {"id": component_id(s.pk), "name": s.name}
            for s in sorted(window.public_services, key=lambda s: s.name.lower())
        ],
    }


def _history(entries: list[Content], *, today: date) -> list[Content]:
    """The last ``HISTORY_DAYS`` days, newest first, each with the resolved
    entries published on it."""
    by_day: dict[date, list[Content]] = defaultdict(list)
    for entry in entries:
        if entry["resolved_at"] is not None:
            by_day[timezone.localdate(entry["published_at"])].append(entry)
    return [
        {"date": day, "entries": by_day.get(day, [])}
        for day in (today - timedelta(days=n) for n in range(HISTORY_DAYS))
    ]


def day_start(day: date) -> datetime:
    # Local midnight: a day is a calendar day where the service runs, DST included.
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


# ---------------------------------------------------------------- one entry
def status_entry_page(*, public_id: str) -> Content | None:
    """One published entry as its own page shows it (None: no such published
    entry), cached like the page; five queries when it is not cached (the
    entry, its impacts, its messages, their public services' names, the page's
    name)."""

    def compute() -> Content | None:
        entry = published_entries().filter(public_id=public_id).first()
        if entry is None:
            return None
        ids = {impact.service_id for impact in entry.all_impacts}
        names = dict(
            Service.objects.filter(pk__in=ids, is_public=True).values_list("id", "name")
        )
        return {
            **entry_content(entry, names),
            "page_name": StatusPageSettings.current().name,
        }

    if _timeout() <= 0:
        return compute()
    # A miss is not cached (None reads as a miss): one query per unknown id.
    return cached(entry_key(public_id), compute, _timeout())


# ---------------------------------------------------------------- the console
def entry_of(incident: Incident) -> StatusEntry | None:
    """The incident's entry, if it has one (no query when it was loaded with
    ``select_related("status_entry")``)."""
    try:
        return incident.status_entry
    except Incident.status_entry.RelatedObjectDoesNotExist:
        return None


def status_proposals() -> QuerySet[StatusEntry]:
    """Proposed entries whose incident is still a major one and still open: what
    waits for an incident manager's decision, oldest first."""
    return (
        StatusEntry.objects.filter(
            status=StatusEntry.Status.PROPOSED,
            incident__priority__in=Priority.major(),
            incident__status__in=Incident.OPEN_STATUSES,
        )
        .select_related("incident")
        .order_by("proposed_at", "id")
    )


def status_entries_open() -> QuerySet[StatusEntry]:
    """Published entries not yet resolved, those whose incident is resolved
    (resolution proposed) first."""
    return (
        StatusEntry.objects.filter(
            status=StatusEntry.Status.PUBLISHED, resolved_at__isnull=True
        )
        .select_related("incident")
        .order_by("resolution_proposed_at", "-published_at")
    )


def status_entries_resolved(*, limit: int = 20) -> QuerySet[StatusEntry]:
    return (
        StatusEntry.objects.filter(
            status=StatusEntry.Status.PUBLISHED, resolved_at__isnull=False
        )
        .select_related("incident")
        .order_by("-resolved_at")[:limit]
    )


def status_entry_for_console(*, public_id: str) -> StatusEntry | None:
    """An entry with what its console page shows: the incident, impacts with
    their services, messages and every published version."""
    return (
        StatusEntry.objects.filter(public_id=public_id)
        .select_related("incident", "published_by")
        .prefetch_related(
            Prefetch(
                "impacts",
                queryset=StatusImpact.objects.select_related("service"),
                to_attr="all_impacts",
            ),
            Prefetch(
                "messages",
                queryset=StatusMessage.objects.select_related("author").order_by(
                    "-created_at", "-id"
                ),
                to_attr="all_messages",
            ),
            Prefetch(
                "versions",
                queryset=StatusVersion.objects.select_related("by", "message"),
                to_attr="all_versions",
            ),
        )
        .first()
    )


def maintenance_windows_upcoming(*, now: datetime) -> QuerySet[MaintenanceWindow]:
    """Live windows that have not ended, soonest first, with all their services
    and the alerts they hold (recorded, no incident opened)."""
    held = Alert.objects.filter(incident=None, is_open=True).order_by("-last_seen_at")
    return (
        MaintenanceWindow.objects.live()
        .filter(ends_at__gt=now)
        .prefetch_related("services", Prefetch("alerts", queryset=held))
        .select_related("created_by")
        .order_by("starts_at", "id")
    )

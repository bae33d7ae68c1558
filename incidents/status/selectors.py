"""What the public status page says, computed once and cached.

The rules (the README's "Status page" section says the same):

- Shown: public services (``Service.is_public``), and major incidents (P1 and P2)
  that name at least one public service. Of such an incident only its number,
  title, priority, public services, start (``detected_at``), resolution time and
  public stakeholder updates are read. Descriptions, requesters, assignees, notes,
  non-public updates and non-public services are never read, so never shown.
- Current: a major incident that is open (new, triaged, investigating or awaiting
  the requester).
- History: a major incident resolved (resolved or closed) since the start of the
  first of the last ``HISTORY_DAYS`` days (today and the days before, in
  ``TIME_ZONE``). Cancelled and merged incidents are never shown: one was not an
  incident, the other is told by the incident it was merged into.
- A service's state: ``outage`` while an open P1 names it, ``degraded`` while an
  open P2 does, else ``operational``. Each day of a service has the worst state of
  the major incidents that ran on it that day (from start to resolution).
- The title is shown as written: whoever logs a major incident on a public service
  writes its title for the public.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from incidents.models import Incident, Priority, Service, StakeholderUpdate
from itsm.cache import cached, forget

# Bump the version when the dictionary's shape changes, so a deploy never renders a
# cached dictionary of the old shape.
CACHE_KEY = "status-page:v1"
HISTORY_DAYS = 30

OPERATIONAL, DEGRADED, OUTAGE = "operational", "degraded", "outage"
# Worst last: a day or a service takes the highest rank among its incidents.
STATE_RANK = {OPERATIONAL: 0, DEGRADED: 1, OUTAGE: 2}
STATE_LABELS = {
    OPERATIONAL: "Operational",
    DEGRADED: "Degraded performance",
    OUTAGE: "Major outage",
}
OVERALL_LABELS = {
    OPERATIONAL: "All systems operational",
    DEGRADED: "Some services are degraded",
    OUTAGE: "Major outage",
}
STATE_FOR_PRIORITY = {Priority.P1: OUTAGE, Priority.P2: DEGRADED}
RESOLVED_STATUSES = (Incident.Status.RESOLVED, Incident.Status.CLOSED)

Content = dict[str, Any]


def status_page(*, now: datetime | None = None) -> Content:
    """The status page's content, from the cache when it holds it (see
    ``itsm.cache``: a cache that is down costs a recomputation, never an error)."""
    timeout = settings.STATUS_CACHE_SECONDS

    def compute() -> Content:
        return status_page_compute(now=now or timezone.now())

    return cached(CACHE_KEY, compute, timeout) if timeout > 0 else compute()


def status_cache_clear() -> None:
    """Forget the cached content: the next read computes it anew."""
    forget(CACHE_KEY)


def status_page_compute(*, now: datetime) -> Content:
    """The content, straight from the database in four queries (public services,
    major incidents, their public services, their public updates), whatever the
    number of services, incidents and updates."""
    tz = timezone.get_default_timezone()
    today = timezone.localdate(now, tz)
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS - 1, -1, -1)]
    since = _day_start(days[0])

    services = list(Service.objects.filter(is_public=True).only("id", "name"))
    incidents = _major_incidents(since=since)
    current = [i for i in incidents if i.status in Incident.OPEN_STATUSES]
    history = sorted(
        (i for i in incidents if i.status in RESOLVED_STATUSES),
        key=lambda i: (i.resolved_at, i.pk),
        reverse=True,
    )

    service_rows = []
    for service in services:
        mine = [i for i in incidents if service.pk in _service_ids(i)]
        state = _worst(i for i in mine if i.status in Incident.OPEN_STATUSES)
        service_rows.append(
            {
                "name": service.name,
                "state": state,
                "state_label": STATE_LABELS[state],
                "days": [_day(day, mine, now=now) for day in days],
            }
        )
    overall = max(
        (row["state"] for row in service_rows),
        key=STATE_RANK.__getitem__,
        default=OPERATIONAL,
    )
    return {
        "generated_at": now,
        "state": overall,
        "state_label": OVERALL_LABELS[overall],
        "history_days": HISTORY_DAYS,
        "services": service_rows,
        "current": [_incident(i) for i in current],
        "history": [_incident(i) for i in history],
    }


def _major_incidents(*, since: datetime) -> list[Incident]:
    """Open major incidents and those resolved since ``since``, that name a public
    service; most severe first, then newest first. Three queries."""
    on_public_service = Incident.services.through.objects.filter(
        incident=OuterRef("pk"), service__is_public=True
    )
    return list(
        Incident.objects.filter(Exists(on_public_service))
        .filter(priority__in=Priority.major())
        .filter(
            Q(status__in=Incident.OPEN_STATUSES)
            | Q(status__in=RESOLVED_STATUSES, resolved_at__gte=since)
        )
        # Only what the page shows is read: nothing internal can leak from a row
        # that was never loaded.
        .only("id", "title", "priority", "status", "detected_at", "resolved_at")
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.filter(is_public=True).only("id", "name"),
                to_attr="public_services",
            ),
            Prefetch(
                "updates",
                queryset=StakeholderUpdate.objects.filter(is_public=True)
                .only("id", "incident_id", "body", "created_at")
                .order_by("-created_at", "-id"),
                to_attr="public_updates",
            ),
        )
        .order_by("priority", "-detected_at", "-id")
    )


def _incident(incident: Incident) -> Content:
    state = STATE_FOR_PRIORITY[incident.priority]
    is_open = incident.status in Incident.OPEN_STATUSES
    return {
        "number": incident.number,
        "title": incident.title,
        "priority": f"P{incident.priority}",
        "impact": state,
        "impact_label": STATE_LABELS[state],
        "status": "investigating" if is_open else "resolved",
        "services": [service.name for service in incident.public_services],
        "started_at": incident.detected_at,
        "resolved_at": None if is_open else incident.resolved_at,
        "updates": [
            {"body": update.body, "posted_at": update.created_at}
            for update in incident.public_updates
        ],
    }


def _day(day: date, incidents: list[Incident], *, now: datetime) -> Content:
    """One day of one service: the incidents that ran during it, and their worst
    state."""
    start, end = _day_start(day), _day_start(day + timedelta(days=1))
    ran = [
        i for i in incidents if i.detected_at < end and (i.resolved_at or now) >= start
    ]
    state = _worst(ran)
    return {
        "date": day,
        "state": state,
        "state_label": STATE_LABELS[state],
        "incidents": [i.number for i in ran],
    }


def _day_start(day: date) -> datetime:
    # Local midnight: a day is a calendar day where the service runs, DST included.
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _service_ids(incident: Incident) -> set[int]:
    return {service.pk for service in incident.public_services}


def _worst(incidents: Any) -> str:
    return max(
        (STATE_FOR_PRIORITY[i.priority] for i in incidents),
        key=STATE_RANK.__getitem__,
        default=OPERATIONAL,
    )

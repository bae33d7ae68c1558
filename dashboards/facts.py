"""One incident's share of the rollups, computed from its own columns and its SLA
ledger: pure functions, no database.

The definitions (the drill-down queries of ``incidents.console.figures`` are the
same ones written as queries):

- Opened: dated by logging. Of those: reopened at least once since, a known error
  (triage matched one, or it is linked to a problem), born of an alert.
- Response and resolution targets, for incidents whose priority has an SLA policy:
  missed at the instant the clock reached the target (the sweep's breach column,
  or the due time once passed and not yet swept); met when the clock stopped
  first (acknowledged, resolved). An incident's outcome is counted once, on the
  day it was decided; until then it is neither.
- Time to acknowledge and to resolve: the SLA time the clock used, read from the
  ledger on the policy's calendar (business time on a business calendar: pauses
  and time outside working hours do not count), dated by the acknowledgement and
  the resolution (the effective ones, see ``dashboards.milestones``).
- Now: open incidents, those past a target, major ones with a stakeholder update
  overdue, and their age since logging.
- Stakeholder updates with a due time (those of major incidents), on time when
  sent by it.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboards.milestones import Milestones, effective_milestones, spans_until
from dashboards.models import AGE_BUCKETS, TIME_BUCKETS
from incidents.models import Incident, Priority, SlaPolicy
from incidents.sla.clock import Calendar, Span, read

Policies = Mapping[int, tuple[SlaPolicy, Calendar]]
OPEN = frozenset(Incident.OPEN_STATUSES)
MAJOR = frozenset(Priority.major())

# The incident columns a fact is computed from.
INCIDENT_FIELDS = (
    "id",
    "status",
    "priority",
    "team_id",
    "category_id",
    "source",
    "logged_at",
    "acknowledged_at",
    "resolved_at",
    "respond_due_at",
    "resolve_due_at",
    "respond_breached_at",
    "resolve_breached_at",
    "next_update_due_at",
    "known_error",
    "problem_id",
    "reopen_count",
)


@dataclass(frozen=True)
class IncidentInputs:
    """What a fact is computed from: the incident's columns (``INCIDENT_FIELDS``),
    its services, its two clocks' ledgers, its alerts (signature, occurrences) and
    its stakeholder updates (sent at, due at or None), and the milestones a review
    corrected (``dashboards.milestones``)."""

    row: Mapping[str, Any]
    services: Sequence[int] = ()
    response: Sequence[Span] = ()
    resolution: Sequence[Span] = ()
    alerts: Sequence[tuple[str, int]] = ()
    updates: Sequence[tuple[datetime, datetime | None]] = ()
    corrected: Mapping[str, datetime] | None = None


# A rollup row's key as text ("2026-03-02|0|3|5|2|alert"), so a fact's
# contributions can be kept as JSON.
Shares = dict[str, Counter[str]]


@dataclass
class Contributions:
    """The rows of each rollup an incident adds to, and what it adds."""

    daily: Shares = field(default_factory=dict)
    now: Shares = field(default_factory=dict)
    signatures: Shares = field(default_factory=dict)
    next_change_at: datetime | None = None

    def as_json(self) -> dict[str, dict[str, dict[str, int]]]:
        return {
            "daily": {k: dict(v) for k, v in self.daily.items()},
            "now": {k: dict(v) for k, v in self.now.items()},
            "signatures": {k: dict(v) for k, v in self.signatures.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contributions:
        def shares(name: str) -> Shares:
            return {k: Counter(v) for k, v in (data.get(name) or {}).items()}

        return cls(shares("daily"), shares("now"), shares("signatures"))


def key_text(*parts: object) -> str:
    return "|".join(str(part) for part in parts)


def bucket_of(seconds: int) -> int:
    """The time bucket holding ``seconds`` (upper bounds inclusive)."""
    return bisect.bisect_left(TIME_BUCKETS, seconds)


def used_seconds(calendar: Calendar, spans: Sequence[Span], now: datetime) -> int:
    """SLA time a clock used, in whole seconds: the engine's own reading."""
    return int(read(calendar, 0, spans, now).used)


def _next(candidates: Iterable[datetime | None], now: datetime) -> datetime | None:
    later = [moment for moment in candidates if moment is not None and moment > now]
    return min(later, default=None)


def _day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def age_bucket(logged_at: datetime, at: datetime) -> int:
    """The backlog age bucket of an incident logged at ``logged_at``, at ``at``:
    bucket k holds those logged in ``[at - high, at - low)``."""
    age = at - logged_at
    for index, (_, _low, high) in enumerate(AGE_BUCKETS):
        if high is None or age <= timedelta(days=high):
            return index
    raise AssertionError("unreachable: the last bucket has no upper bound")


def _outcome(
    breached: datetime | None,
    stopped: datetime | None,
    due: datetime | None,
    now: datetime,
) -> tuple[str, datetime] | None:
    """Met or missed, and when that was decided; None while undecided."""
    if breached is not None:
        return "missed", breached
    if stopped is not None:
        return "met", stopped
    if due is not None and due <= now:
        return "missed", due
    return None


def contributions(
    inputs: IncidentInputs, *, policies: Policies, now: datetime, tz: ZoneInfo
) -> Contributions:
    """An incident's share of the rollups, as of ``now``."""
    row = inputs.row
    found = policies.get(row["priority"]) if row["priority"] else None
    milestones: Milestones = effective_milestones(row, inputs.corrected)
    dims = (
        row["priority"] or 0,
        row["team_id"] or 0,
        row["category_id"] or 0,
        row["source"],
    )
    services = (0, *sorted(set(inputs.services)))
    daily: dict[date, Counter[str]] = {}

    def add(day: date, **counts: int) -> None:
        daily.setdefault(day, Counter()).update(counts)

    opened = _day(row["logged_at"], tz)
    occurrences = sum(n for _, n in inputs.alerts)
    add(
        opened,
        opened=1,
        reopened=int(row["reopen_count"] > 0),
        known_error=int(bool(row["known_error"] or row["problem_id"])),
        alert_incidents=int(row["source"] == Incident.Source.ALERT),
        alert_occurrences=occurrences,
    )
    if found is not None:
        _, calendar = found
        # Outcomes stay as the engine decided them when the clock stopped.
        response = _outcome(
            row["respond_breached_at"],
            row["acknowledged_at"],
            row["respond_due_at"],
            now,
        )
        if response is not None:
            add(_day(response[1], tz), **{f"response_{response[0]}": 1})
        resolution = _outcome(
            row["resolve_breached_at"],
            row["resolved_at"],
            row["resolve_due_at"],
            now,
        )
        if resolution is not None:
            add(_day(resolution[1], tz), **{f"resolution_{resolution[0]}": 1})
        if (acked := milestones.acknowledged_at) is not None:
            spans = spans_until(inputs.response, acked)
            seconds = used_seconds(calendar, spans, now)
            counts = {"acknowledged": 1, "ack_seconds": seconds}
            add(_day(acked, tz), **counts, **{f"ack_b{bucket_of(seconds):02d}": 1})
        if (resolved := milestones.resolved_at) is not None:
            spans = spans_until(inputs.resolution, resolved)
            seconds = used_seconds(calendar, spans, now)
            counts = {"resolved": 1, "resolve_seconds": seconds}
            add(_day(resolved, tz), **counts, **{f"res_b{bucket_of(seconds):02d}": 1})
    for sent, due in inputs.updates:
        if due is not None:
            add(_day(sent, tz), updates_due=1, updates_on_time=int(sent <= due))

    result = Contributions()
    for service in services:
        for day, counts in daily.items():
            result.daily[key_text(day.isoformat(), service, *dims)] = Counter(counts)

    is_open = row["status"] in OPEN
    if is_open:
        now_counts = _now_counts(row, now)
        for service in services:
            result.now[key_text(service, *dims)] = Counter(now_counts)
        # Once it is no longer open its clocks are stopped: nothing changes by
        # itself any more.
        result.next_change_at = _next_change(row, now)

    for signature, count in inputs.alerts:
        key = key_text(opened.isoformat(), row["team_id"] or 0, signature)
        result.signatures.setdefault(key, Counter()).update(alerts=1, occurrences=count)
    return result


def _now_counts(row: Mapping[str, Any], now: datetime) -> Counter[str]:
    unacknowledged = row["acknowledged_at"] is None
    response_past = unacknowledged and (
        row["respond_breached_at"] is not None
        or (row["respond_due_at"] is not None and row["respond_due_at"] <= now)
    )
    resolution_past = row["resolve_breached_at"] is not None or (
        row["resolve_due_at"] is not None and row["resolve_due_at"] <= now
    )
    update_due = row["next_update_due_at"]
    overdue = row["priority"] in MAJOR and update_due is not None and update_due <= now
    counts: Counter[str] = Counter(open=1)
    counts["breaching"] = int(response_past or resolution_past)
    counts["update_overdue"] = int(overdue)
    counts[f"age_{age_bucket(row['logged_at'], now)}"] = 1
    return +counts


def _next_change(row: Mapping[str, Any], now: datetime) -> datetime | None:
    """The next instant this open incident's share changes by itself."""
    ages = [
        row["logged_at"] + timedelta(days=high)
        for _, _, high in AGE_BUCKETS
        if high is not None
    ]
    # An age bucket ends just after ``logged_at + high``: at that instant the
    # incident is still in it (``age <= high``).
    ages = [moment + timedelta(microseconds=1) for moment in ages]
    return _next(
        [
            row["respond_due_at"] if row["acknowledged_at"] is None else None,
            row["resolve_due_at"],
            row["next_update_due_at"] if row["priority"] in MAJOR else None,
            *ages,
        ],
        now,
    )

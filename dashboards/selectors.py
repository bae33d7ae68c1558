"""The dashboards' figures, read from the rollups in a fixed number of queries
whatever the number of incidents (the rollups have a row per day and key, not per
incident), and laid out as tables that the page, the CSV downloads and the API
all print. Each figure links to the list of the incidents behind it (the queue's
filters, ``incidents.console.figures``)."""

from __future__ import annotations

import functools
import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from dashboards.access import Scope
from dashboards.forms import Filters, Period
from dashboards.models import (
    ACK_BUCKETS,
    AGE_BUCKETS,
    AGE_FIELDS,
    DAILY_COUNTERS,
    NOW_COUNTERS,
    RES_BUCKETS,
    TIME_BUCKETS,
    DailyRollup,
    NowRollup,
    RollupState,
    SignatureRollup,
    age_bounds,
)
from dashboards.phase4 import phase4_table
from incidents.models import Category, Incident, Priority, Service, Team
from incidents.sla.policies import sla_policies
from itsm.cache import cached

NONE = "—"
PRIORITY_LABELS = {0: "No priority", **{p: f"P{p}" for p in Priority.values}}
SOURCE_LABELS = dict(Incident.Source.choices)
NOISIEST = 10


# ---------------------------------------------------------------- tables
@dataclass(frozen=True)
class Cell:
    """One value of a table: what CSV and JSON carry (``value``), what the page
    prints (``text``), and the list of incidents behind it (``url``)."""

    value: Any
    text: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(
                self, "text", NONE if self.value is None else str(self.value)
            )

    @property
    def html(self) -> SafeString:
        """The cell's content: the one bit of markup made here, as a page prints
        a thousand of them."""
        if self.url:
            return format_html('<a href="{}">{}</a>', self.url, self.text)
        return conditional_escape(self.text)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = True


@dataclass
class Table:
    """A table of the dashboard: also its CSV download and its API answer."""

    name: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    def printed(self) -> list[list[tuple[Cell, bool]]]:
        """The rows as the page prints them: each cell with whether it is a
        number (right-aligned)."""
        return [
            [
                (cell, column.numeric)
                for column, cell in zip(self.columns, row, strict=True)
            ]
            for row in self.rows
        ]

    def records(self) -> list[dict[str, Any]]:
        return [
            {
                column.key: cell.value
                for column, cell in zip(self.columns, row, strict=True)
            }
            for row in self.rows
        ]


def share(part: int, whole: int) -> float | None:
    """A percentage with one decimal, None when there is nothing to share."""
    return round(100 * part / whole, 1) if whole else None


def percent_text(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f} %"


def duration_text(seconds: int | None) -> str:
    """Hours and minutes, never days: a day of business time is not 24 hours."""
    if seconds is None:
        return NONE
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} m" if hours else f"{minutes} m"


def percentile_bucket(counts: list[int], percent: int) -> int | None:
    """The bucket holding the ``percent``-th percentile (nearest rank)."""
    total = sum(counts)
    if not total:
        return None
    rank = max(1, math.ceil(percent * total / 100))
    running = 0
    for index, count in enumerate(counts):
        running += count
        if running >= rank:
            return index
    raise AssertionError("unreachable: the ranks add up to the total")


def bucket_cell(bucket: int | None) -> Cell:
    """A percentile as the bucket it falls in: "at most" its upper bound."""
    if bucket is None:
        return Cell(None)
    if bucket >= len(TIME_BUCKETS):
        return Cell(None, f"> {duration_text(TIME_BUCKETS[-1])}")
    bound = TIME_BUCKETS[bucket]
    return Cell(bound, f"≤ {duration_text(bound)}")


# ---------------------------------------------------------------- links
@dataclass(frozen=True)
class Drill:
    """Builds the links from figures to their incidents: the dashboards' list
    with the queue's filters (``incidents.console.figures``). A page has a
    thousand of them, so the parts they share are encoded once."""

    scope: Scope
    period: Period
    filters: Filters
    at: datetime

    @functools.cached_property
    def _base(self) -> str:
        return reverse("dashboards:incidents") + "?"

    @functools.cached_property
    def _at(self) -> str:
        return urlencode({"at": self.at.isoformat()})

    @functools.cached_property
    def _dated(self) -> str:
        return urlencode(
            {
                "since": self.period.since.isoformat(),
                "until": self.period.until.isoformat(),
            }
        )

    def _link(self, figure: str, bounds: str, narrower: dict[str, Any]) -> str:
        query = {**self.filters.as_query(), **narrower}
        extra = urlencode({k: v for k, v in query.items() if v not in (None, "")})
        parts = [f"figure={figure}", self._at, bounds, extra]
        return self._base + "&".join(part for part in parts if part)

    def url(self, figure: str, *, dated: bool = True, **narrower: Any) -> str:
        return self._link(figure, self._dated if dated else "", narrower)

    def backlog_url(self, bucket: int, **narrower: Any) -> str:
        since, until = age_bounds(bucket, self.at)
        bounds = {"since": since, "until": until}
        encoded = urlencode({k: v.isoformat() for k, v in bounds.items() if v})
        return self._link("backlog", encoded, narrower)

    def within(self, period: Period) -> Drill:
        """The same links for a part of the period (a day or a week of it)."""
        return Drill(self.scope, period, self.filters, self.at)


# ---------------------------------------------------------------- reading
def _scoped(
    queryset: QuerySet, scope: Scope, filters: Filters, *, keyed: bool = True
) -> QuerySet:
    if filters.team:
        queryset = queryset.filter(team_id=filters.team)
    elif scope.team_ids is not None:
        queryset = queryset.filter(team_id__in=scope.team_ids)
    if not keyed:
        return queryset
    for name, value in (
        ("category_id", filters.category),
        ("priority", filters.priority),
        ("source", filters.source),
    ):
        if value:
            queryset = queryset.filter(**{name: value})
    return queryset


def _sums(fields: Iterable[str]) -> dict[str, Sum]:
    return {name: Sum(name) for name in fields}


def _window(scope: Scope, period: Period, filters: Filters) -> QuerySet:
    rows = DailyRollup.objects.filter(
        service_id=filters.service or 0, day__gte=period.first, day__lte=period.last
    )
    return _scoped(rows, scope, filters)


@dataclass
class Names:
    teams: dict[int, str]
    categories: dict[int, str]
    services: dict[int, str]

    @classmethod
    def load(cls) -> Names:
        return cls(
            teams=dict(Team.objects.values_list("pk", "name")),
            categories=dict(Category.objects.values_list("pk", "name")),
            services=dict(Service.objects.values_list("pk", "name")),
        )


@dataclass
class Dashboard:
    """Everything the page shows: the headline figures, the tables and the
    charts' data, as of ``as_of``."""

    period: Period
    filters: Filters
    as_of: datetime | None
    headline: Table
    tables: dict[str, Table]
    volume: list[tuple[str, Counter[str]]]  # (bucket label, counts by series)
    backlog: dict[int, Counter[int]]  # age bucket -> counts by priority
    # Where these figures are cached (None: not cached, the rollups were never
    # refreshed); what is made from them alone may be cached beside it.
    cache_key: str | None = None

    def table(self, name: str) -> Table:
        if name == "headline":
            return self.headline
        return self.tables[name]


def dashboard_data(
    *, scope: Scope, period: Period, filters: Filters, names: Names
) -> Dashboard:
    """The dashboard of ``period`` and ``filters`` within ``scope``. The rollups
    change only when they are refreshed, so what is computed from them is kept in
    the shared cache under the refresh's token: one query (the state) when it is
    there, eight when it is not (the state, the window by key, the window by day, by
    service, the open incidents, the noisiest signatures, open reviews and open
    action items)."""
    state = RollupState.objects.filter(pk=1).first()
    if state is None or not state.token:
        return _compute(state, scope, period, filters, names, None)
    teams = (
        "all" if scope.team_ids is None else ",".join(map(str, sorted(scope.team_ids)))
    )
    asked = repr(
        (
            teams,
            period.first,
            period.last,
            period.label,
            sorted(filters.as_query().items()),
        )
    )
    digest = hashlib.blake2b(asked.encode(), digest_size=12).hexdigest()
    key = f"dashboards:v1:{state.token}:{digest}"
    seconds = cache_seconds()
    return cached(
        key, lambda: _compute(state, scope, period, filters, names, key), seconds
    )


def cache_seconds() -> int:
    """How long computed figures are kept: past the next refresh or two, when
    the token they are kept under is no longer asked for."""
    return 3 * settings.DASHBOARDS_REFRESH_SECONDS


def _compute(
    state: RollupState | None,
    scope: Scope,
    period: Period,
    filters: Filters,
    names: Names,
    cache_key: str | None,
) -> Dashboard:
    as_of = state.refreshed_at if state else None
    at = as_of or period.until
    drill = Drill(scope, period, filters, at)

    keys = ("priority", "team_id", "category_id", "source")
    cube = list(
        _window(scope, period, filters)
        .values(*keys)
        .annotate(**_sums(DAILY_COUNTERS))
        .order_by(*keys)
    )
    by_day = list(
        _window(scope, period, filters)
        .values("day", "priority", "source")
        .annotate(opened=Sum("opened"))
        .order_by("day")
    )
    by_service_rows = DailyRollup.objects.filter(
        day__gte=period.first, day__lte=period.last
    )
    by_service_rows = (
        by_service_rows.filter(service_id=filters.service)
        if filters.service
        else by_service_rows.exclude(service_id=0)
    )
    by_service = list(
        _scoped(by_service_rows, scope, filters)
        .values("service_id")
        .annotate(**_sums(COMPLIANCE_FIELDS))
        .order_by("service_id")
    )
    now_rows = list(
        _scoped(
            NowRollup.objects.filter(service_id=filters.service or 0), scope, filters
        )
        .values("priority")
        .annotate(**_sums(NOW_COUNTERS))
        .order_by("priority")
    )
    noisiest = list(
        _scoped(
            SignatureRollup.objects.filter(day__gte=period.first, day__lte=period.last),
            scope,
            filters,
            keyed=False,
        )
        .values("signature")
        .annotate(alerts=Sum("alerts"), occurrences=Sum("occurrences"))
        .order_by("-occurrences", "signature")[:NOISIEST]
    )

    totals = _total(cube)
    now_total = _total(now_rows, NOW_COUNTERS)
    tables = {
        "compliance_priority": _compliance(
            "compliance_priority",
            "SLA compliance by priority",
            "Priority",
            _group(cube, "priority"),
            lambda key: PRIORITY_LABELS.get(key, str(key)),
            lambda key: {"priority": key} if key else None,
            drill,
        ),
        "compliance_team": _compliance(
            "compliance_team",
            "SLA compliance by team",
            "Team",
            _group(cube, "team_id"),
            lambda key: names.teams.get(key, "No team"),
            lambda key: {"team": key} if key else None,
            drill,
        ),
        "compliance_category": _compliance(
            "compliance_category",
            "SLA compliance by category",
            "Category",
            _group(cube, "category_id"),
            lambda key: names.categories.get(key, "No category"),
            lambda key: {"category": key} if key else None,
            drill,
        ),
        "compliance_service": _compliance(
            "compliance_service",
            "SLA compliance by service",
            "Service",
            {row["service_id"]: row for row in by_service},
            lambda key: names.services.get(key, str(key)),
            lambda key: {"service": key},
            drill,
        ),
        "times": _times(_group(cube, "priority"), drill),
        "volume": None,  # filled below, with the chart's data
        "backlog": None,
        "communication": _communication(totals, now_total, drill),
        "noise": _noise(noisiest, totals, drill),
        "phase4": phase4_table(scope, filters, names, at),
    }
    volume_table, volume = _volume(by_day, period, drill)
    tables["volume"] = volume_table
    backlog_table, backlog = _backlog(now_rows, drill)
    tables["backlog"] = backlog_table
    return Dashboard(
        period=period,
        filters=filters,
        as_of=as_of,
        headline=_headline(totals, now_total, drill),
        tables=tables,
        volume=volume,
        backlog=backlog,
        cache_key=cache_key,
    )


COMPLIANCE_FIELDS = (
    "response_met",
    "response_missed",
    "resolution_met",
    "resolution_missed",
)


def _total(
    rows: list[dict[str, Any]], fields: Iterable[str] = DAILY_COUNTERS
) -> Counter[str]:
    fields = tuple(fields)
    sums = [0] * len(fields)
    for row in rows:
        sums = [
            total + (row[name] or 0) for total, name in zip(sums, fields, strict=True)
        ]
    return Counter(dict(zip(fields, sums, strict=True)))


def _group(rows: list[dict[str, Any]], key: str) -> dict[Any, Counter[str]]:
    sums: dict[Any, list[int]] = {}
    for row in rows:
        values = [row[name] or 0 for name in DAILY_COUNTERS]
        into = sums.get(row[key])
        sums[row[key]] = (
            values
            if into is None
            else [a + b for a, b in zip(into, values, strict=True)]
        )
    groups = {
        group: Counter(dict(zip(DAILY_COUNTERS, values, strict=True)))
        for group, values in sums.items()
    }
    return dict(sorted(groups.items(), key=lambda item: (item[0] == 0, item[0])))


def _count(value: int, url: str) -> Cell:
    return Cell(value, f"{value:,}", url if value else "")


# ---------------------------------------------------------------- the tables
def _headline(totals: Counter[str], now: Counter[str], drill: Drill) -> Table:
    response = totals["response_met"] + totals["response_missed"]
    resolution = totals["resolution_met"] + totals["resolution_missed"]
    rows = [
        ("opened", "Incidents opened", _count(totals["opened"], drill.url("opened"))),
        (
            "response_compliance",
            "Response target met",
            Cell(
                share(totals["response_met"], response),
                f"{percent_text(share(totals['response_met'], response))} of {response:,}",
                drill.url("response_met") if response else "",
            ),
        ),
        (
            "resolution_compliance",
            "Resolution target met",
            Cell(
                share(totals["resolution_met"], resolution),
                f"{percent_text(share(totals['resolution_met'], resolution))} of "
                f"{resolution:,}",
                drill.url("resolution_met") if resolution else "",
            ),
        ),
        (
            "breaching_now",
            "Open and past a target now",
            _count(now["breaching"], drill.url("breaching", dated=False)),
        ),
        (
            "open_now",
            "Open now",
            _count(now["open"], drill.url("backlog", dated=False)),
        ),
        (
            "reopened",
            "Reopened since (of those opened)",
            _count(totals["reopened"], drill.url("reopened")),
        ),
        (
            "reopen_rate",
            "Reopen rate",
            Cell(
                share(totals["reopened"], totals["opened"]),
                percent_text(share(totals["reopened"], totals["opened"])),
            ),
        ),
        (
            "known_error",
            "Linked to a known error",
            _count(totals["known_error"], drill.url("known_error")),
        ),
    ]
    table = Table(
        "headline",
        "At a glance",
        [Column("figure", "Figure", numeric=False), Column("value", "Value")],
    )
    table.rows = [[Cell(key, label), cell] for key, label, cell in rows]
    return table


def _compliance(
    name: str,
    title: str,
    label: str,
    groups: Mapping[Any, Mapping[str, int]],
    label_of: Callable[[Any], str],
    narrow: Callable[[Any], dict[str, Any] | None],
    drill: Drill,
) -> Table:
    table = Table(
        name,
        title,
        [
            Column("name", label, numeric=False),
            Column("response_met", "Response met"),
            Column("response_missed", "Response missed"),
            Column("response_percent", "Response %"),
            Column("resolution_met", "Resolution met"),
            Column("resolution_missed", "Resolution missed"),
            Column("resolution_percent", "Resolution %"),
        ],
        note="Incidents whose target was decided in the period: met when the clock "
        "stopped in time, missed when it reached the target.",
    )
    for key, counts in groups.items():
        if not any(counts[f] for f in COMPLIANCE_FIELDS):
            continue
        extra = narrow(key)

        def link(figure: str, count: int, extra: dict[str, Any] | None = extra) -> Cell:
            url = drill.url(figure, **extra) if extra is not None else ""
            return _count(count, url)

        response = counts["response_met"] + counts["response_missed"]
        resolution = counts["resolution_met"] + counts["resolution_missed"]
        table.rows.append(
            [
                Cell(key, label_of(key)),
                link("response_met", counts["response_met"]),
                link("response_missed", counts["response_missed"]),
                Cell(
                    share(counts["response_met"], response),
                    percent_text(share(counts["response_met"], response)),
                ),
                link("resolution_met", counts["resolution_met"]),
                link("resolution_missed", counts["resolution_missed"]),
                Cell(
                    share(counts["resolution_met"], resolution),
                    percent_text(share(counts["resolution_met"], resolution)),
                ),
            ]
        )
    return table


def _times(groups: Mapping[int, Mapping[str, int]], drill: Drill) -> Table:
    policies = sla_policies()
    table = Table(
        "times",
        "Time to acknowledge and to resolve",
        [
            Column("priority", "Priority", numeric=False),
            Column("calendar", "Counted in", numeric=False),
            Column("acknowledged", "Acknowledged"),
            Column("mtta_mean_seconds", "Mean"),
            Column("mtta_p50_max_seconds", "Median ≤"),
            Column("mtta_p90_max_seconds", "90th pct ≤"),
            Column("resolved", "Resolved"),
            Column("mttr_mean_seconds", "Mean"),
            Column("mttr_p50_max_seconds", "Median ≤"),
            Column("mttr_p90_max_seconds", "90th pct ≤"),
        ],
        note="SLA time the clocks used, on the calendar of the incident's "
        "priority: real time on a 24x7 calendar, business time (working hours, "
        "holidays off) on a business one; time waiting for the requester never "
        "counts. Medians and 90th percentiles are given as the bucket they fall "
        "in (at most the time shown); means are exact.",
    )
    for priority, counts in groups.items():
        found = policies.get(priority)
        if found is None or not (counts["acknowledged"] or counts["resolved"]):
            continue
        policy, calendar = found
        kind = "real time" if calendar.is_24x7 else "business time"
        acks = [counts[name] for name in ACK_BUCKETS]
        resolves = [counts[name] for name in RES_BUCKETS]
        table.rows.append(
            [
                Cell(priority, f"P{priority}"),
                Cell(f"{policy.calendar.name}: {kind}"),
                _count(
                    counts["acknowledged"], drill.url("acknowledged", priority=priority)
                ),
                _mean(counts["ack_seconds"], counts["acknowledged"]),
                bucket_cell(percentile_bucket(acks, 50)),
                bucket_cell(percentile_bucket(acks, 90)),
                _count(counts["resolved"], drill.url("resolved", priority=priority)),
                _mean(counts["resolve_seconds"], counts["resolved"]),
                bucket_cell(percentile_bucket(resolves, 50)),
                bucket_cell(percentile_bucket(resolves, 90)),
            ]
        )
    return table


def _mean(seconds: int, count: int) -> Cell:
    if not count:
        return Cell(None)
    mean = seconds // count
    return Cell(mean, duration_text(mean))


def _volume(
    by_day: list[dict[str, Any]], period: Period, drill: Drill
) -> tuple[Table, list[tuple[str, Counter[str]]]]:
    """Opened per day (per week, Monday first, for long periods), by priority and
    by source."""
    starts: list[date] = []
    day = period.first
    while day <= period.last:
        starts.append(day)
        day = (
            day + timedelta(days=7 - day.weekday())
            if period.weekly
            else day + timedelta(days=1)
        )
    counts: dict[date, Counter[str]] = {start: Counter() for start in starts}
    for row in by_day:
        start = max(s for s in starts if s <= row["day"])
        counts[start][f"p{row['priority']}"] += row["opened"]
        counts[start][row["source"]] += row["opened"]
        counts[start]["total"] += row["opened"]
    priorities = [f"p{p}" for p in (*Priority.values, 0)]
    sources = list(SOURCE_LABELS)
    table = Table(
        "volume",
        "Incidents opened per week" if period.weekly else "Incidents opened per day",
        [
            Column("start", "Week of" if period.weekly else "Day", numeric=False),
            *(Column(p, PRIORITY_LABELS[int(p[1:])]) for p in priorities),
            *(Column(s, SOURCE_LABELS[s]) for s in sources),
            Column("total", "Total"),
        ],
    )
    series = []
    for index, start in enumerate(starts):
        end = (
            starts[index + 1]
            if index + 1 < len(starts)
            else period.last + timedelta(days=1)
        )
        bucket = Period(start, end - timedelta(days=1), "")
        sub = drill.within(bucket)
        row = counts[start]
        table.rows.append(
            [
                Cell(start.isoformat()),
                *(
                    _count(
                        row[p],
                        sub.url("opened", priority=int(p[1:])) if p != "p0" else "",
                    )
                    for p in priorities
                ),
                *(_count(row[s], sub.url("opened", source=s)) for s in sources),
                _count(row["total"], sub.url("opened")),
            ]
        )
        label = f"{start:%d %b}"
        series.append((label, row))
    return table, series


def _backlog(
    now_rows: list[dict[str, Any]], drill: Drill
) -> tuple[Table, dict[int, Counter[int]]]:
    buckets: dict[int, Counter[int]] = {i: Counter() for i in range(len(AGE_BUCKETS))}
    for row in now_rows:
        for index, name in enumerate(AGE_FIELDS):
            buckets[index][row["priority"]] += row[name] or 0
    priorities = [*Priority.values, 0]
    table = Table(
        "backlog",
        "Open incidents by age",
        [
            Column("age", "Age", numeric=False),
            *(Column(f"p{p}", PRIORITY_LABELS[p]) for p in priorities),
            Column("total", "Total"),
        ],
        note="Open now (new, triaged, being worked, waiting for the requester), by "
        "time since logging.",
    )
    for index, (label, _, _) in enumerate(AGE_BUCKETS):
        counts = buckets[index]
        table.rows.append(
            [
                Cell(label),
                *(
                    _count(counts[p], drill.backlog_url(index, priority=p) if p else "")
                    for p in priorities
                ),
                _count(sum(counts.values()), drill.backlog_url(index)),
            ]
        )
    return table, buckets


def _communication(totals: Counter[str], now: Counter[str], drill: Drill) -> Table:
    due, on_time = totals["updates_due"], totals["updates_on_time"]
    table = Table(
        "communication",
        "Stakeholder communication",
        [Column("figure", "Figure", numeric=False), Column("value", "Value")],
        note="Updates of major (P1/P2) incidents, each due at the cadence of its "
        "priority's SLA policy.",
    )
    table.rows = [
        [
            Cell("update_overdue", "Major incidents with an update overdue now"),
            _count(now["update_overdue"], drill.url("update_overdue", dated=False)),
        ],
        [Cell("updates_due", "Updates sent that were due"), Cell(due, f"{due:,}")],
        [
            Cell("updates_on_time", "Sent on time"),
            Cell(
                share(on_time, due),
                f"{percent_text(share(on_time, due))} ({on_time:,})",
            ),
        ],
    ]
    return table


def _noise(noisiest: list[dict[str, Any]], totals: Counter[str], drill: Drill) -> Table:
    incidents, occurrences = totals["alert_incidents"], totals["alert_occurrences"]
    per = round(occurrences / incidents, 1) if incidents else None
    table = Table(
        "noise",
        "Alert noise",
        [
            Column("signature", "Error signature", numeric=False),
            Column("alerts", "Alerts"),
            Column("occurrences", "Occurrences"),
        ],
        note=f"Alert occurrences per alert-born incident: "
        f"{NONE if per is None else per} ({occurrences:,} on "
        f"{incidents:,} incidents). The ten noisiest signatures of the incidents "
        "opened in the period (filtered by team only).",
    )
    table.rows = [
        [
            Cell(row["signature"]),
            Cell(row["alerts"], f"{row['alerts']:,}"),
            Cell(row["occurrences"], f"{row['occurrences']:,}"),
        ]
        for row in noisiest
    ]
    return table

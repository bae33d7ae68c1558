"""Uptime per component from the entries' component impacts, against figures
worked out by hand: a minute of major outage is a minute down, a minute of
partial outage 0.3 of one, degraded performance none; overlaps count once, at
the worse state."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from incidents.models import ComponentState, StatusEntry
from incidents.status.selectors import status_page_compute
from incidents.status.uptime import (
    Span,
    downtime_minutes,
    segments,
    uptime_label,
    uptime_percent,
)
from tests.status.conftest import major, publish, say

MAJOR, PARTIAL, DEGRADED = (
    ComponentState.MAJOR,
    ComponentState.PARTIAL,
    ComponentState.DEGRADED,
)
START = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
END = START + timedelta(days=90)  # 129,600 minutes
MIN = timedelta(minutes=1)


def at(minutes: float) -> datetime:
    return START + timedelta(days=40) + minutes * MIN


def figure(spans: list[Span]) -> str:
    return uptime_label(uptime_percent(segments(spans, START, END), START, END))


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], "100.00"),
        # 60 min down of 129,600: 99.9537...
        ([Span(MAJOR, at(0), at(60))], "99.95"),
        # 100 min of partial outage is 30 min down: 99.9768...
        ([Span(PARTIAL, at(0), at(100))], "99.97"),
        # Degraded performance is not downtime.
        ([Span(DEGRADED, at(0), at(1000))], "100.00"),
        # Overlapping entries: 60 min major, then 60 min of partial only:
        # 60 + 18 = 78 min down: 99.9398...
        ([Span(MAJOR, at(0), at(60)), Span(PARTIAL, at(30), at(120))], "99.93"),
        # Two entries putting it in major outage at once count once: 90 min.
        ([Span(MAJOR, at(0), at(60)), Span(MAJOR, at(30), at(90))], "99.93"),
        # One minute of partial outage (0.3 min) still shows below 100.
        ([Span(PARTIAL, at(0), at(1))], "99.99"),
        # 1,296 min down is exactly 1%.
        ([Span(MAJOR, at(0), at(1296))], "99.00"),
    ],
)
def test_uptime_against_hand_worked_figures(spans: list[Span], expected: str) -> None:
    assert figure(spans) == expected


def test_spans_are_clipped_to_the_window_and_open_ones_run_to_its_end() -> None:
    before = Span(MAJOR, START - timedelta(days=2), START + 30 * MIN)
    still = Span(PARTIAL, END - 100 * MIN, None)
    parts = segments([before, still], START, END)
    assert [(p.state, p.minutes) for p in parts] == [(MAJOR, 30), (PARTIAL, 100)]
    assert downtime_minutes(parts) == pytest.approx(60)


def test_segments_take_the_worse_state_where_spans_overlap() -> None:
    parts = segments(
        [Span(DEGRADED, at(0), at(100)), Span(MAJOR, at(20), at(40))], START, END
    )
    assert [(p.state, p.start, p.end) for p in parts] == [
        (DEGRADED, at(0), at(20)),
        (MAJOR, at(20), at(40)),
        (DEGRADED, at(40), at(100)),
    ]


@pytest.mark.django_db
def test_the_page_shows_each_components_uptime_and_its_day(
    desk: SimpleNamespace, settings: object
) -> None:
    """Now is 12:00 on 2 March; the 90 days start on 3 December at 00:00 (UTC),
    so the window is 89 days and 12 hours: 128,880 minutes. Email: 60 min major
    (08:00-09:00), 100 min partial (30 down), 20 min degraded: 90 minutes down,
    99.9301...%."""
    now = datetime.fromisoformat("2026-03-02T12:00:00+00:00")
    t = datetime.fromisoformat("2026-03-02T08:00:00+00:00")
    entry = publish(desk, major(desk, at=t), at=t + 10 * MIN)
    say(
        desk,
        entry,
        StatusEntry.Stage.IDENTIFIED,
        "Found.",
        states={desk.email: PARTIAL},
        at=t + 60 * MIN,
    )
    say(
        desk,
        entry,
        StatusEntry.Stage.MONITORING,
        "Better.",
        states={desk.email: DEGRADED},
        at=t + 160 * MIN,
    )
    say(desk, entry, StatusEntry.Stage.RESOLVED, "Fixed.", at=t + 180 * MIN)
    content = status_page_compute(now=now)
    email, web = (
        next(c for c in content["components"] if c["name"] == name)
        for name in ("Email", "Website")
    )
    assert email["uptime"] == pytest.approx(100 * (1 - 90 / 128_880))
    assert email["uptime_label"] == "99.93"
    assert web["uptime_label"] == "100.00"
    # Only the days with trouble are listed, by their place in the bar.
    [today] = email["days"]
    assert (today["index"], today["date"].isoformat()) == (89, "2026-03-02")
    assert (today["state"], today["downtime_minutes"]) == (MAJOR, 90)
    assert today["summary"] == (
        "major outage 1 h 0 min, partial outage 1 h 40 min, degraded performance 20 min"
    )
    assert web["days"] == []


@pytest.mark.django_db
def test_an_outage_across_midnight_colours_both_days(desk: SimpleNamespace) -> None:
    t = datetime.fromisoformat("2026-03-01T23:30:00+00:00")
    entry = publish(desk, major(desk, at=t), at=t + MIN)
    say(desk, entry, StatusEntry.Stage.RESOLVED, "Fixed.", at=t + 60 * MIN)
    content = status_page_compute(
        now=datetime.fromisoformat("2026-03-02T12:00:00+00:00")
    )
    email = next(c for c in content["components"] if c["name"] == "Email")
    yesterday, today = email["days"]
    assert (yesterday["index"], today["index"]) == (88, 89)
    assert (yesterday["downtime_minutes"], today["downtime_minutes"]) == (30, 30)
    assert yesterday["state"] == today["state"] == MAJOR

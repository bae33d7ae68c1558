"""SLA clock arithmetic: hand-worked cases, then properties over random calendars,
instants and pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from incidents.humanize import business_duration
from incidents.sla.clock import Calendar, Span, explain, reach, read

AMS = ZoneInfo("Europe/Amsterdam")
NINE_TO_FIVE = {d: [(time(9), time(17))] for d in range(5)}  # Monday to Friday
OFFICE = Calendar(tz=AMS, weekly=NINE_TO_FIVE)
ALWAYS = Calendar()
H = 3600


def ams(text: str) -> datetime:
    """A local Amsterdam time, e.g. '2026-03-02 16:00' (2026-03-02 is a Monday)."""
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


# ---------------------------------------------------------------- hand-worked
def test_friday_afternoon_target_lands_on_monday() -> None:
    # Fri 16:00-17:00 is 1 h; the other 3 h are Mon 09:00-12:00.
    assert OFFICE.add(ams("2026-03-06 16:00"), 4 * H) == ams("2026-03-09 12:00")


def test_clock_started_at_the_weekend_counts_from_the_next_opening() -> None:
    assert OFFICE.add(ams("2026-03-07 10:00"), 4 * H) == ams("2026-03-09 13:00")
    assert OFFICE.working_seconds(ams("2026-03-07 10:00"), ams("2026-03-09 09:00")) == 0


def test_target_reached_exactly_at_closing_is_due_at_closing() -> None:
    assert OFFICE.add(ams("2026-03-02 09:00"), 8 * H) == ams("2026-03-02 17:00")
    assert OFFICE.add(ams("2026-03-02 16:00"), 1 * H) == ams("2026-03-02 17:00")


def test_holidays_are_whole_days_without_working_time() -> None:
    easter = Calendar(
        tz=AMS, weekly=NINE_TO_FIVE, holidays=frozenset({date(2026, 4, 6)})
    )
    # Fri 3 April 16:00 + 4 h: 1 h on Friday, Easter Monday off, 3 h on Tuesday.
    assert easter.add(ams("2026-04-03 16:00"), 4 * H) == ams("2026-04-07 12:00")


def test_three_business_days() -> None:
    # P3 resolution: 3 business days of 8 h from Wednesday 11:00 -> Monday 11:00.
    assert OFFICE.add(ams("2026-03-04 11:00"), 24 * H) == ams("2026-03-09 11:00")


def test_24x7_counts_real_time_across_spring_forward() -> None:
    # Amsterdam jumps 02:00 -> 03:00 on 2026-03-29: 4 real hours end at 05:30.
    due = ALWAYS.add(ams("2026-03-29 00:30"), 4 * H)
    assert due == ams("2026-03-29 05:30")
    assert due - ams("2026-03-29 00:30").astimezone(UTC) == timedelta(hours=4)


def test_24x7_counts_real_time_across_fall_back() -> None:
    # 2026-10-25 repeats 02:00-03:00: 4 real hours from 00:30 end at 03:30.
    start = ams("2026-10-25 00:30")
    assert ALWAYS.add(start, 4 * H).astimezone(AMS).strftime("%H:%M") == "03:30"


def test_business_hours_count_by_the_wall_clock_on_dst_days() -> None:
    nights = Calendar(tz=AMS, weekly={6: [(time(0), time(6))]})  # Sundays 00-06
    spring = (ams("2026-03-29 00:00"), ams("2026-03-29 06:00"))
    autumn = (ams("2026-10-25 00:00"), ams("2026-10-25 06:00"))
    assert nights.working_seconds(*spring) == 6 * H  # 5 real hours
    assert nights.working_seconds(*autumn) == 6 * H  # 7 real hours
    assert (
        OFFICE.working_seconds(ams("2026-03-30 09:00"), ams("2026-03-30 17:00"))
        == 8 * H
    )


BERLIN = ZoneInfo("Europe/Berlin")
ALL_DAY = Calendar(tz=BERLIN, weekly={d: [(time(0), None)] for d in range(7)})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_repeated_hour_of_a_fall_back_counts_once_and_never_backwards() -> None:
    # Berlin repeats 02:00-03:00 on 2026-10-25 (00:00 UTC is 02:00 CEST, 01:00 UTC
    # is 02:00 CET): the first pass counts, the clock stands still on the second.
    start = utc("2026-10-24 22:00")  # 00:00 local
    used = [
        ALL_DAY.working_seconds(start, utc(f"2026-10-25 {t}")) / 60
        for t in ("00:59", "01:00", "01:30", "02:00", "03:00")
    ]
    assert used == [179, 180, 180, 180, 240]
    # The whole day is 24 working hours by the wall clock, though 25 real hours.
    assert ALL_DAY.working_seconds(start, utc("2026-10-25 23:00")) == 24 * H
    # A target reached in the repeated hour is due on its first pass.
    assert ALL_DAY.add(start, 150 * 60) == utc("2026-10-25 00:30")
    assert ALL_DAY.add(start, 180 * 60) == utc("2026-10-25 01:00")
    assert ALL_DAY.add(start, 181 * 60) == utc("2026-10-25 02:01")
    # A clock started on the second pass starts counting when the hour is over.
    second_pass = utc("2026-10-25 01:30")
    assert ALL_DAY.add(second_pass, 0) == second_pass
    assert ALL_DAY.add(second_pass, 60) == utc("2026-10-25 02:01")
    assert ALL_DAY.working_seconds(second_pass, utc("2026-10-25 02:00")) == 0


def test_a_target_in_the_hour_spring_forward_skips_is_due_at_the_change() -> None:
    # Berlin skips 02:00-03:00 on 2026-03-29: at 01:00 UTC the wall clock jumps
    # from 02:00 to 03:00, and counts the skipped hour at that instant.
    start = utc("2026-03-28 23:00")  # 00:00 local
    assert ALL_DAY.working_seconds(start, utc("2026-03-29 00:59")) == 119 * 60
    assert ALL_DAY.working_seconds(start, utc("2026-03-29 01:00")) == 180 * 60
    due = [ALL_DAY.add(start, minutes * 60) for minutes in (120, 150, 180, 195)]
    assert due == [utc("2026-03-29 01:00")] * 3 + [utc("2026-03-29 01:15")]


def test_pause_across_the_night() -> None:
    spans = [
        Span(ams("2026-03-02 16:00"), ams("2026-03-02 16:30")),
        Span(ams("2026-03-02 16:30"), ams("2026-03-03 10:00"), paused=True),
        Span(ams("2026-03-03 10:00")),
    ]
    reading = read(OFFICE, 4 * H, spans, now=ams("2026-03-03 11:00"))
    assert reading.used == 1.5 * H
    assert reading.running
    # 30 m before the pause, 3 h 30 m after it: Tue 13:30.
    assert reading.due == ams("2026-03-03 13:30")


def test_pause_outside_working_hours_changes_nothing() -> None:
    plain = [Span(ams("2026-03-02 16:00"))]
    paused_at_night = [
        Span(ams("2026-03-02 16:00"), ams("2026-03-02 20:00")),
        Span(ams("2026-03-02 20:00"), ams("2026-03-03 08:00"), paused=True),
        Span(ams("2026-03-03 08:00")),
    ]
    now = ams("2026-03-03 10:00")
    assert (
        read(OFFICE, 4 * H, plain, now).due
        == read(OFFICE, 4 * H, paused_at_night, now).due
    )


def test_stopped_clock_has_no_due_time_unless_it_breached() -> None:
    met = [Span(ams("2026-03-02 09:00"), ams("2026-03-02 10:00"))]
    assert read(OFFICE, 4 * H, met, ams("2026-03-05 09:00")).due is None
    late = [Span(ams("2026-03-02 09:00"), ams("2026-03-02 15:00"))]
    reading = read(OFFICE, 4 * H, late, ams("2026-03-05 09:00"))
    assert reading.breached and reading.due == ams("2026-03-02 13:00")


def test_changing_the_target_keeps_the_time_used() -> None:
    spans = [
        Span(ams("2026-03-02 09:00"), ams("2026-03-02 10:00")),
        Span(ams("2026-03-02 10:00"), ams("2026-03-02 11:00"), paused=True),
        Span(ams("2026-03-02 11:00")),
    ]
    now = ams("2026-03-02 12:00")
    before, after = read(OFFICE, 8 * H, spans, now), read(OFFICE, 4 * H, spans, now)
    assert before.used == after.used == 2 * H
    assert after.due == ams("2026-03-02 14:00")  # 2 h used, 2 h left from 12:00


def test_explanation_names_used_paused_and_outside_hours() -> None:
    spans = [
        Span(ams("2026-03-02 15:00"), ams("2026-03-02 16:00")),
        Span(ams("2026-03-02 16:00"), ams("2026-03-02 16:40"), paused=True),
        Span(ams("2026-03-02 16:40")),
    ]
    reading = read(OFFICE, 4 * H, spans, now=ams("2026-03-03 09:30"))
    with timezone.override(AMS):  # the reader's time zone
        text = explain(OFFICE, reading, what="resolution")
    assert text == (
        "resolution due Tue 3 Mar 2026, 11:40 CET because: 1 working hour 50 minutes"
        " used of 4 working hours, paused 40 minutes waiting for requester,"
        " outside hours Mon 17:00-Tue 09:00"
    )
    with timezone.override(UTC):
        assert explain(OFFICE, reading, what="resolution").startswith(
            "resolution due Tue 3 Mar 2026, 10:40 UTC because"
        )


def test_a_business_target_is_told_in_business_days_and_working_hours() -> None:
    reading = read(
        OFFICE, 24 * H, [Span(ams("2026-03-02 09:00"))], now=ams("2026-03-02 10:00")
    )
    text = explain(OFFICE, reading, what="resolution")
    assert "1 working hour used of 3 business days (24 working hours)" in text
    assert OFFICE.hours_per_day == 8
    assert business_duration(6 * H, hours_per_day=8) == "6 working hours"
    assert business_duration(90 * 60, hours_per_day=8) == "1 working hour 30 minutes"
    assert business_duration(26 * H, hours_per_day=None) == "1 day 2 hours"


def test_a_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(ValueError):
        Calendar(tz=AMS, weekly={0: []})
    with pytest.raises(ValueError):
        Calendar(tz=AMS, weekly={0: [(time(17), time(9))]})


# ---------------------------------------------------------------- properties
ZONES = [
    "UTC",
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
]


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    if draw(st.booleans()):
        return Calendar(tz=tz)
    weekly = {}
    for weekday in draw(st.sets(st.integers(0, 6), min_size=1)):
        opens = draw(st.integers(0, 22))
        closes = draw(st.integers(opens + 1, 24))
        weekly[weekday] = [(time(opens), None if closes == 24 else time(closes))]
    holidays = draw(
        st.frozensets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=5)
    )
    return Calendar(tz=tz, weekly=weekly, holidays=holidays)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2027, 6, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
)
durations = st.floats(min_value=0, max_value=40 * H, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, durations)
def test_due_is_the_first_instant_the_target_is_reached(
    cal: Calendar, start: datetime, s: float
) -> None:
    due = cal.add(start, s)
    assert due >= start
    assert cal.working_seconds(start, due) >= s - 1e-3
    if due > start:
        just_before = due - timedelta(microseconds=1)
        assert cal.working_seconds(start, just_before) < s


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, durations)
def test_add_then_measure_gives_back_the_duration_off_dst_gaps(
    cal: Calendar, start: datetime, s: float
) -> None:
    """Equal, except for a due time in a local hour that a spring-forward change
    skips: it comes at the change, when the wall clock jumps past the skipped hour
    and has counted it too (wall-clock counting, as the README says)."""
    due = cal.add(start, s)
    local = cal.local(due)
    in_gap = not cal.is_24x7 and (
        cal.instant(local - timedelta(hours=1)) + timedelta(hours=1) != due
    )
    assume(not in_gap)
    assert cal.working_seconds(start, due) == pytest.approx(s, abs=1e-3)


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, durations, durations)
def test_add_is_monotone(cal: Calendar, start: datetime, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert cal.add(start, low) <= cal.add(start, high)


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, instants, instants)
def test_working_time_adds_up(
    cal: Calendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assume(c - a < timedelta(days=60))
    whole = cal.working_seconds(a, c)
    assert whole == pytest.approx(cal.working_seconds(a, b) + cal.working_seconds(b, c))
    assert 0 <= whole <= (c - a).total_seconds() + 2 * H  # wall clock may gain an hour


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, durations, durations, durations)
def test_a_pause_only_removes_its_own_working_time(
    cal: Calendar, start: datetime, before: float, pause: float, target: float
) -> None:
    pause_start = start + timedelta(seconds=before)
    pause_end = pause_start + timedelta(seconds=pause)
    now = pause_end + timedelta(days=2)
    plain = read(cal, target, [Span(start)], now)
    paused = read(
        cal,
        target,
        [
            Span(start, pause_start),
            Span(pause_start, pause_end, paused=True),
            Span(pause_end),
        ],
        now,
    )
    lost = cal.working_seconds(pause_start, pause_end)
    assert paused.used == pytest.approx(plain.used - lost, abs=1e-3)
    if paused.due is not None and plain.due is not None:
        assert paused.due >= plain.due


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, durations)
def test_due_time_is_within_working_hours(
    cal: Calendar, start: datetime, s: float
) -> None:
    assume(s >= 1 and not cal.is_24x7)  # datetimes resolve to microseconds
    due = cal.add(start, s)
    # Just before the due instant the clock was running: working time was counted.
    assert cal.working_seconds(due - timedelta(seconds=1), due) > 0


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, durations)
def test_reach_agrees_with_add_on_a_running_clock(
    cal: Calendar, start: datetime, s: float
) -> None:
    assert reach(cal, [Span(start)], s) == cal.add(start, s)


# ---------------------------------------------------------------- across DST changes
DST_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # changes by 30 minutes
    "America/Santiago",  # changes at midnight
]


def _changes(zone: str) -> list[datetime]:
    """The instants (to the minute) in 2026-2027 when ``zone``'s offset changes."""
    tz = ZoneInfo(zone)
    found, hour = [], datetime(2026, 1, 1, tzinfo=UTC)
    while hour.year < 2028:
        after = hour + timedelta(hours=1)
        if hour.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset():
            minute = hour
            while minute.astimezone(tz).utcoffset() == hour.astimezone(tz).utcoffset():
                minute += timedelta(minutes=1)
            found.append(minute)
        hour = after
    return found


CHANGES = {zone: _changes(zone) for zone in DST_ZONES}


@st.composite
def around_a_change(draw: st.DrawFn) -> tuple[Calendar, list[datetime]]:
    """A business calendar in a zone with DST whose working hours, every day,
    include the small hours a change skips or repeats; and instants within a
    day and a half of one of its changes."""
    zone = draw(st.sampled_from(DST_ZONES))
    opens = draw(st.integers(0, 2))
    closes = draw(st.integers(3, 24))
    hours = [(time(opens), None if closes == 24 else time(closes))]
    cal = Calendar(tz=ZoneInfo(zone), weekly={d: hours for d in range(7)})
    change = draw(st.sampled_from(CHANGES[zone]))
    near = st.floats(min_value=-36 * H, max_value=36 * H, allow_nan=False).map(
        lambda seconds: change + timedelta(seconds=seconds)
    )
    return cal, draw(st.lists(near, min_size=3, max_size=3))


def test_every_zone_of_the_dst_properties_changes_twice_a_year() -> None:
    assert all(len(CHANGES[zone]) == 4 for zone in DST_ZONES)


@settings(max_examples=400, deadline=None)
@given(around_a_change())
def test_used_time_never_goes_backwards_across_a_change(
    case: tuple[Calendar, list[datetime]],
) -> None:
    cal, (start, now, later) = case[0], sorted(case[1])
    assert cal.working_seconds(start, now) <= cal.working_seconds(start, later)
    assert cal.working_seconds(start, later) == pytest.approx(
        cal.working_seconds(start, now) + cal.working_seconds(now, later)
    )


@settings(max_examples=400, deadline=None)
@given(around_a_change(), durations, durations)
def test_a_longer_target_is_never_due_earlier_across_a_change(
    case: tuple[Calendar, list[datetime]], a: float, b: float
) -> None:
    cal, start = case[0], case[1][0]
    low, high = sorted((a, b))
    assert cal.add(start, low) <= cal.add(start, high)


@settings(max_examples=400, deadline=None)
@given(around_a_change(), durations)
def test_due_is_the_first_instant_the_target_is_reached_across_a_change(
    case: tuple[Calendar, list[datetime]], s: float
) -> None:
    cal, start = case[0], case[1][0]
    due = cal.add(start, s)
    assert cal.working_seconds(start, due) >= s - 1e-3
    if due > start:
        assert cal.working_seconds(start, due - timedelta(microseconds=1)) < s

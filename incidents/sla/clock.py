"""SLA time arithmetic: pure functions and values, no database.

The rules (README, "How SLA time is counted"):

- A 24x7 calendar counts real elapsed time: 4 h across a daylight-saving change is
  4 real hours.
- A business calendar counts working time in its own time zone by the wall clock:
  09:00-17:00 is 8 working hours on a DST-change day too. Holidays are whole local
  days without working time.
- A clock started outside working hours starts counting at the next opening.
- A target reached exactly at closing time is due at that closing instant.
- Paused time never counts; pausing outside working hours changes nothing.
- Used time never goes backwards, and a longer target is never due earlier: an
  hour a fall-back change repeats counts once (on its first pass; the clock stands
  still on the second), and a target in an hour a spring-forward change skips is
  due at the change, when the wall clock jumps past it.

Instants are aware datetimes, and results are in UTC. Business arithmetic converts
them to the calendar's naive local wall time, works there, and converts back
(``Calendar.local`` and ``Calendar.instant``, which keep the order of instants
across a DST change).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from incidents.humanize import business_duration, human_datetime, human_duration

# A business calendar with no working time would make "due" never come; looking
# further than this means the calendar is unusable, and is an error.
MAX_DAYS_AHEAD = 3 * 366

Interval = tuple[time, time | None]  # (opens, closes); closes None = midnight


def _closing(day: date, closes: time | None) -> datetime:
    if closes is None:
        return datetime.combine(day + timedelta(days=1), time())
    return datetime.combine(day, closes)


def _offset_change(tz: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant, between ``before`` and ``after`` (which the zone reads with
    different offsets), when its offset changes. Zones change on whole seconds,
    so this bisects whole seconds: a few steps, and only near a change."""
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    offset = datetime.fromtimestamp(low, tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


@dataclass(frozen=True)
class Calendar:
    """When SLA time runs. ``weekly`` maps a weekday (0 Monday .. 6 Sunday) to its
    opening intervals in local time; ``None`` means 24x7."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    weekly: Mapping[int, Sequence[Interval]] | None = None
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.weekly is None:
            return
        for weekday, intervals in self.weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            for opens, closes in intervals:
                if closes is not None and closes <= opens:
                    raise ValueError(
                        f"interval {opens}-{closes} closes before it opens"
                    )
        if not any(self.weekly.values()):
            raise ValueError("a business calendar needs some working hours")

    @property
    def is_24x7(self) -> bool:
        return self.weekly is None

    @property
    def hours_per_day(self) -> float | None:
        """The working hours of the calendar's longest working day (8 for
        09:00-17:00), the "business day" targets are told in; None for 24x7."""
        if self.weekly is None:
            return None
        sample = date(2026, 1, 5)  # a Monday: weekday n is sample + n days
        return max(
            sum(
                (closes - opens).total_seconds() / 3600
                for opens, closes in self.intervals(sample + timedelta(days=n))
            )
            for n in range(7)
        )

    # ---- the wall clock, as SLA time reads it
    def local(self, instant: datetime) -> datetime:
        """The calendar's wall clock at ``instant``, as a naive local time that
        never goes backwards: the local time, except on the second pass of an
        hour that a fall-back change repeats, when it stands at the end of that
        hour (counted once, on its first pass) until the hour has passed again."""
        aware = instant.astimezone(self.tz)
        if not aware.fold:
            return aware.replace(tzinfo=None)
        before = aware.replace(fold=0).utcoffset()
        repeated = before - aware.utcoffset()
        change = _offset_change(self.tz, instant - repeated, instant)
        return (change + before).replace(tzinfo=None)

    def instant(self, local: datetime) -> datetime:
        """The first instant at which the wall clock (``local`` above) shows
        ``local``: a repeated local time is its first occurrence, and one that a
        spring-forward change skips is reached at the change, when the clock
        jumps past it (02:30 in a 02:00-03:00 gap is at 03:00). So a later wall
        time is never an earlier instant."""
        first = local.replace(tzinfo=self.tz, fold=0).astimezone(UTC)
        if first.astimezone(self.tz).replace(tzinfo=None) == local:
            just_before = (first - timedelta(microseconds=1)).astimezone(self.tz)
            if just_before.fold:
                # The end of a repeated hour: the clock showed it all through the
                # hour's second pass, which began when its first pass ended.
                repeated = (
                    just_before.replace(fold=0).utcoffset() - just_before.utcoffset()
                )
                return first - repeated
            return first
        # Skipped: read with the offset after the change it is before the
        # change, with the offset before it is after; the change lies between.
        later_offset = local.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        return _offset_change(self.tz, later_offset, first)

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """Working intervals of a local day, as naive local times."""
        if self.weekly is None or day in self.holidays:
            return []
        return [
            (datetime.combine(day, opens), _closing(day, closes))
            for opens, closes in sorted(self.weekly.get(day.weekday(), ()))
        ]

    def _intervals_from(self, local: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = local.date() - timedelta(days=1)  # an interval may run past midnight
        for _ in range(MAX_DAYS_AHEAD):
            for opens, closes in self.intervals(day):
                if closes > local:
                    yield max(opens, local), closes
            day += timedelta(days=1)
        raise ValueError(f"no working time within {MAX_DAYS_AHEAD} days")

    # ---- the three questions
    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Working time between two instants (0 if end is not after start)."""
        # In UTC: Python compares and subtracts two datetimes of the same zone by
        # their wall clocks, which is wrong across a DST change.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return 0.0
        if self.weekly is None:
            return (end - start).total_seconds()
        first, last = self.local(start), self.local(end)
        total = 0.0
        day = first.date() - timedelta(days=1)
        while day <= last.date():
            for opens, closes in self.intervals(day):
                overlap = (min(closes, last) - max(opens, first)).total_seconds()
                total += max(0.0, overlap)
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of working time, counted from ``start``,
        have passed. Reached exactly at a closing time, it is that closing time."""
        start = start.astimezone(UTC)  # real-time arithmetic, see working_seconds
        if seconds <= 0:
            return start
        if self.weekly is None:
            return start + timedelta(seconds=seconds)
        remaining = seconds
        for begin, closes in self._intervals_from(self.local(start)):
            available = (closes - begin).total_seconds()
            if remaining <= available:
                # Not before the start: while the clock stands still on a repeated
                # hour, the wall time it shows was first reached earlier.
                return max(start, self.instant(begin + timedelta(seconds=remaining)))
            remaining -= available
        raise AssertionError("unreachable: _intervals_from raises first")

    def off_hours(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The spans between ``start`` and ``end`` with no working time, in order."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if self.weekly is None or end <= start:
            return []
        spans, cursor, last = [], self.local(start), self.local(end)
        since = start  # the instant of ``cursor``, which may stand still
        for begin, closes in self._intervals_from(cursor):
            if begin >= last:
                break
            if begin > cursor:
                spans.append((since, max(since, self.instant(begin))))
            cursor = closes
            since = max(since, self.instant(cursor))
            if cursor >= last:
                break
        if cursor < last:
            spans.append((since, end))
        return spans


# ---------------------------------------------------------------- a clock's ledger
@dataclass(frozen=True)
class Span:
    """A stretch of an SLA clock's life: running or paused, from ``start`` to
    ``end`` (None while it lasts)."""

    start: datetime
    end: datetime | None = None
    paused: bool = False

    def until(self, now: datetime) -> datetime:
        if self.end is not None:
            return self.end
        return max(now.astimezone(UTC), self.start.astimezone(UTC))


@dataclass(frozen=True)
class Reading:
    """A clock read at ``now``: working time used, whether it runs, when the target
    is (or was) reached, and what explains the due time."""

    target: float
    used: float
    running: bool
    due: datetime | None
    paused_spans: tuple[tuple[datetime, datetime], ...]
    off_hours: tuple[tuple[datetime, datetime], ...]

    @property
    def remaining(self) -> float:
        return self.target - self.used

    @property
    def breached(self) -> bool:
        return self.used >= self.target


def reach(calendar: Calendar, spans: Sequence[Span], seconds: float) -> datetime | None:
    """When the running spans accumulate ``seconds`` of working time: inside a
    closed span if it happened already, in the open running span if it is still to
    come, or None while paused or stopped short of it."""
    remaining = seconds
    for span in spans:
        if span.paused:
            continue
        if span.end is None:
            return calendar.add(span.start, remaining)
        worked = calendar.working_seconds(span.start, span.end)
        if worked >= remaining:
            return calendar.add(span.start, remaining)
        remaining -= worked
    return None


def read(
    calendar: Calendar, target: float, spans: Sequence[Span], now: datetime
) -> Reading:
    """Read a clock whose history is ``spans`` (in order, not overlapping)."""
    used = sum(
        calendar.working_seconds(s.start, s.until(now)) for s in spans if not s.paused
    )
    running = bool(spans) and spans[-1].end is None and not spans[-1].paused
    due = reach(calendar, spans, target)
    first = spans[0].start if spans else now
    last = due if due is not None else (spans[-1].until(now) if spans else now)
    return Reading(
        target=target,
        used=used,
        running=running,
        due=due,
        paused_spans=tuple((s.start, s.until(now)) for s in spans if s.paused),
        off_hours=tuple(calendar.off_hours(first, last)),
    )


def explain(calendar: Calendar, reading: Reading, *, what: str) -> str:
    """ "resolution due Tue 3 Mar 2026, 14:30 CET because: 2 working hours 10
    minutes used of 3 business days (24 working hours), paused 40 minutes waiting
    for requester, outside hours Mon 18:00-Tue 09:00": the due time in the
    reader's time zone (the active one), SLA time in working hours."""

    def at(instant: datetime) -> str:
        return instant.astimezone(calendar.tz).strftime("%a %H:%M")

    if reading.due is None:
        head = f"{what} clock stopped" if not reading.running else f"{what} not due"
    elif reading.breached:
        head = f"{what} target missed at {human_datetime(reading.due)}"
    else:
        head = f"{what} due {human_datetime(reading.due)}"
    per_day = calendar.hours_per_day
    used = business_duration(reading.used, hours_per_day=per_day, days=False)
    target = business_duration(reading.target, hours_per_day=per_day)
    reasons = [f"{used} used of {target}"]
    reasons += [
        f"paused {human_duration((end - start).total_seconds())} waiting for requester"
        for start, end in reading.paused_spans
    ]
    reasons += [
        f"outside hours {at(start)}-{at(end)}" for start, end in reading.off_hours
    ]
    return f"{head} because: " + ", ".join(reasons)

"""Times and durations as people read them: one date-time format everywhere (the
console, the portal, emails), always in the reader's time zone, and durations in
words rather than clock notation.

The format itself is ``DATETIME_FORMAT`` in ``itsm/formats/en/formats.py`` (so
``{{ value }}`` and ``|date`` without an argument in a template agree with it);
this module applies it outside templates."""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.utils import formats, timezone


def human_datetime(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """``moment`` in ``zone`` (default: the active time zone), e.g.
    "Mon 2 Mar 2026, 10:00 CET"; no seconds, no microseconds."""
    if moment is None:
        return ""
    local = timezone.localtime(moment, zone) if timezone.is_aware(moment) else moment
    return formats.date_format(local, "DATETIME_FORMAT")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def human_duration(seconds: float) -> str:
    """A span of wall-clock time in words: "45 minutes", "2 hours 30 minutes",
    "3 days 4 hours"."""
    minutes = max(0, round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return " ".join(
            [_plural(days, "day")] + ([_plural(hours, "hour")] if hours else [])
        )
    if hours:
        return " ".join(
            [_plural(hours, "hour")] + ([_plural(minutes, "minute")] if minutes else [])
        )
    return _plural(minutes, "minute")


def business_duration(
    seconds: float, *, hours_per_day: float | None, days: bool = True
) -> str:
    """A span of business time: "3 business days (24 working hours)" when it is a
    whole number of working days of ``hours_per_day``, else "6 working hours" or
    "1 working hour 30 minutes" (always so without ``days``). Without
    ``hours_per_day`` (a 24x7 policy) it is wall-clock time."""
    if not hours_per_day:
        return human_duration(seconds)
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    worded = _plural(hours, "working hour") if hours else ""
    if rest:
        worded = f"{worded} {_plural(rest, 'minute')}".strip()
    day_minutes = round(hours_per_day * 60)
    if (
        minutes
        and day_minutes
        and minutes % day_minutes == 0
        and minutes >= day_minutes
    ):
        return f"{_plural(minutes // day_minutes, 'business day')} ({worded})"
    return worded or "0 minutes"

"""SLA policies and the calendars they count on, and each incident's clock ledger."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models

from incidents.models.priority import Priority
from incidents.sla.clock import Calendar


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a known time zone.") from None


class BusinessCalendar(models.Model):
    """When SLA time runs: around the clock, or the working hours of a time zone
    minus its holidays."""

    name = models.CharField(max_length=100, unique=True)
    is_24x7 = models.BooleanField(
        default=False, help_text="Count every hour; working hours are ignored."
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_clock_calendar(self) -> Calendar:
        """The pure calendar the clock arithmetic uses (reads hours and holidays)."""
        tz = zoneinfo.ZoneInfo(self.time_zone)
        if self.is_24x7:
            return Calendar(tz=tz)
        weekly: dict[int, list] = {}
        for hours in self.working_hours.all():
            weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
        holidays = frozenset(h.date for h in self.holidays.all())
        return Calendar(tz=tz, weekly=weekly, holidays=holidays)


class WorkingHours(models.Model):
    """One opening interval of a weekday, in the calendar's local time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(null=True, blank=True, help_text="Empty: midnight.")

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        closes = self.closes.strftime("%H:%M") if self.closes else "24:00"
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{closes}"

    def clean(self) -> None:
        if self.closes is not None and self.closes <= self.opens:
            raise ValidationError(
                {"closes": "Closing time must be after opening time."}
            )


class Holiday(models.Model):
    """A whole local day without working time."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SlaPolicy(models.Model):
    """The targets of one priority: respond and resolve within so many minutes of
    the calendar's time; warn at a share of the target; for major incidents, a
    stakeholder update every so many minutes."""

    priority = models.PositiveSmallIntegerField(choices=Priority.choices, unique=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies"
    )
    respond_minutes = models.PositiveIntegerField()
    resolve_minutes = models.PositiveIntegerField()
    warn_at_percent = models.PositiveSmallIntegerField(
        default=75, help_text="Warn the owner when this share of a target is used."
    )
    update_every_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Stakeholder update cadence; empty: none."
    )

    class Meta:
        ordering = ["priority"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warn_at_percent__gte=1, warn_at_percent__lte=99),
                name="sla_warn_between_1_and_99",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()} policy"


class SlaSpan(models.Model):
    """One stretch of an incident's response or resolution clock: running or
    paused, from ``start`` to ``end`` (open while it lasts). The ledger the due
    times and their explanations are computed from."""

    class Clock(models.TextChoices):
        RESPONSE = "response", "Response"
        RESOLUTION = "resolution", "Resolution"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="sla_spans"
    )
    clock = models.CharField(max_length=10, choices=Clock.choices)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["incident", "clock", "start"], name="span_ledger")
        ]

    def __str__(self) -> str:
        state = "paused" if self.paused else "running"
        return f"{self.clock} {state} from {self.start:%Y-%m-%d %H:%M}"

"""The dashboards' period and filters, all from the query string."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from dashboards.access import Scope
from incidents.models import Incident, Priority

MAX_DAYS = 731
# Longer periods chart their volume by week rather than by day.
DAILY_UP_TO_DAYS = 62

PERIODS = [
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("quarter", "This quarter"),
    ("custom", "From - to"),
]


@dataclass(frozen=True)
class Period:
    """Whole local days, ``first`` to ``last`` (both included), in the service's
    time zone (``TIME_ZONE``)."""

    first: date
    last: date
    label: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def since(self) -> datetime:
        return _start_of(self.first)

    @property
    def until(self) -> datetime:
        return _start_of(self.last + timedelta(days=1))

    @property
    def weekly(self) -> bool:
        return self.days > DAILY_UP_TO_DAYS


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.get_current_timezone())


def preset_period(name: str, today: date) -> Period:
    label = dict(PERIODS)[name]
    if name == "today":
        return Period(today, today, label)
    if name == "quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return Period(first, today, label)
    days = int(name.rstrip("d"))
    return Period(today - timedelta(days=days - 1), today, label)


@dataclass(frozen=True)
class Filters:
    team: int | None = None
    category: int | None = None
    service: int | None = None
    priority: int | None = None
    source: str = ""

    def as_query(self) -> dict[str, Any]:
        values = {
            "team": self.team,
            "category": self.category,
            "service": self.service,
            "priority": self.priority,
            "source": self.source,
        }
        return {k: v for k, v in values.items() if v}


def _blank(choices: list[tuple[Any, str]]) -> list[tuple[Any, str]]:
    return [("", "Any"), *choices]


class DashboardForm(forms.Form):
    """A period (a preset, or from and to dates) and the filters. Teams are those
    the person's dashboards cover."""

    period = forms.ChoiceField(choices=PERIODS, required=False)
    start = forms.DateField(label="From", required=False)
    end = forms.DateField(label="To", required=False)
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    category = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    service = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    priority = forms.TypedChoiceField(
        choices=_blank(Priority.choices), coerce=int, required=False, empty_value=None
    )
    source = forms.ChoiceField(choices=_blank(Incident.Source.choices), required=False)

    SELECTS = ("team", "category", "service", "priority", "source")

    def __init__(
        self,
        *args: Any,
        scope: Scope,
        teams: list[tuple[int, str]],
        categories: list[tuple[int, str]],
        services: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = _blank(
            [(pk, name) for pk, name in teams if scope.allows_team(pk)]
        )
        self.fields["category"].choices = _blank(categories)
        self.fields["service"].choices = _blank(services)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if data.get("period") == "custom" or start or end:
            if not (start and end):
                raise forms.ValidationError("Give both dates of the period.")
            if end < start:
                raise forms.ValidationError(
                    "The period must end on or after it starts."
                )
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"A period is at most {MAX_DAYS} days.")
            data["period"] = "custom"
        return data

    def period_of(self, today: date) -> Period:
        """The chosen period (call after ``is_valid``); the last 30 days unless
        another is chosen."""
        data = self.cleaned_data
        if data.get("period") == "custom":
            start, end = data["start"], data["end"]
            return Period(start, end, f"{start:%Y-%m-%d} to {end:%Y-%m-%d}")
        return preset_period(data.get("period") or "30d", today)

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            team=data.get("team"),
            category=data.get("category"),
            service=data.get("service"),
            priority=data.get("priority"),
            source=data.get("source") or "",
        )


class DigestForm(forms.Form):
    subscribe = forms.BooleanField(required=False)

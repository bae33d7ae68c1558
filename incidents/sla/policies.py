"""The SLA policies with their calendars, read once and kept in the shared cache.

Every incident write and every incident page needs the policy of the incident's
priority and its calendar (three queries). They change only when an admin edits
them, so they are cached whole; saving or deleting a policy, a calendar, its
working hours or holidays forgets them, at once and again after commit (a reader
between the two would otherwise cache what the transaction replaced). If the cache
is unreachable they are read from the database.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from incidents.models import BusinessCalendar, Holiday, SlaPolicy, WorkingHours
from incidents.sla.clock import Calendar
from itsm.cache import cached, forget

POLICIES_KEY = "itsm:sla-policies:v1"
# A bound on staleness if a change ever bypasses the signals (a raw SQL edit).
POLICIES_SECONDS = 300

Policies = dict[int, tuple[SlaPolicy, Calendar]]


def _read() -> Policies:
    policies = SlaPolicy.objects.select_related("calendar").prefetch_related(
        "calendar__working_hours", "calendar__holidays"
    )
    return {p.priority: (p, p.calendar.as_clock_calendar()) for p in policies}


def sla_policies() -> Policies:
    """Every priority's policy and calendar."""
    return cached(POLICIES_KEY, _read, POLICIES_SECONDS)


def policy_for(priority: int | None) -> tuple[SlaPolicy, Calendar] | None:
    return None if priority is None else sla_policies().get(priority)


def forget_sla_policies(**kwargs: Any) -> None:
    """Signal receiver: a policy or a calendar changed. A save never fails for the
    cache: at worst the old policies serve for ``POLICIES_SECONDS``."""
    forget(POLICIES_KEY)
    transaction.on_commit(lambda: forget(POLICIES_KEY))


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    for model in (SlaPolicy, BusinessCalendar, WorkingHours, Holiday):
        uid = f"sla-policies-{model._meta.label_lower}"
        post_save.connect(forget_sla_policies, sender=model, dispatch_uid=uid)
        post_delete.connect(forget_sla_policies, sender=model, dispatch_uid=uid)

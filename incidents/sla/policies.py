"""The SLA policies with their calendars, read once and kept in the shared cache.

Every incident write and every incident page needs the policy of the incident's
priority and its calendar (three queries). They change only when an admin edits
them, so they are cached whole; saving or deleting a policy, a calendar, its
working hours or holidays forgets them, at once and again after commit (a reader
between the two would otherwise cache what the transaction replaced). If the cache
is unreachable they are read from the database.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import transaction

from incidents.models import BusinessCalendar, Holiday, SlaPolicy, WorkingHours
from incidents.sla.clock import Calendar

logger = logging.getLogger(__name__)

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
    try:
        cached = cache.get(POLICIES_KEY)
    except Exception:  # noqa: BLE001 - the database answers instead
        logger.warning("cache unavailable; SLA policies read from the database")
        return _read()
    if cached is None:
        cached = _read()
        try:
            cache.set(POLICIES_KEY, cached, POLICIES_SECONDS)
        except Exception:  # noqa: BLE001 - read again next time
            logger.warning("cache unavailable; SLA policies not cached")
    return cached


def policy_for(priority: int | None) -> tuple[SlaPolicy, Calendar] | None:
    return None if priority is None else sla_policies().get(priority)


def forget_sla_policies(**kwargs: Any) -> None:
    """Signal receiver: a policy or a calendar changed. A save never fails for the
    cache: at worst the old policies serve for ``POLICIES_SECONDS``."""

    def forget() -> None:
        try:
            cache.delete(POLICIES_KEY)
        except Exception:  # noqa: BLE001 - see the docstring
            logger.warning("cache unavailable; SLA policies not forgotten")

    forget()
    transaction.on_commit(forget)


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    for model in (SlaPolicy, BusinessCalendar, WorkingHours, Holiday):
        uid = f"sla-policies-{model._meta.label_lower}"
        post_save.connect(forget_sla_policies, sender=model, dispatch_uid=uid)
        post_delete.connect(forget_sla_policies, sender=model, dispatch_uid=uid)

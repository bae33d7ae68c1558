"""The SLA policies are cached whole and forgotten when an admin changes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache

from incidents.models import Holiday, SlaPolicy
from incidents.sla.policies import POLICIES_KEY, policy_for

pytestmark = pytest.mark.django_db


def test_policies_are_read_once_then_served_from_the_cache(
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(3):  # policies, working hours, holidays
        first = policy_for(1)
    with django_assert_num_queries(0):
        again = policy_for(2)
    assert first is not None and again is not None
    assert (first[0].priority, again[0].priority) == (1, 2)
    assert policy_for(None) is None


def test_a_changed_policy_or_calendar_is_read_anew() -> None:
    policy, _ = policy_for(3)  # office hours, where holidays count
    stored = SlaPolicy.objects.get(pk=policy.pk)
    stored.respond_minutes = 7
    stored.save()
    changed, calendar = policy_for(3)
    assert changed.respond_minutes == 7

    Holiday.objects.create(calendar=stored.calendar, date=dt.date(2030, 1, 2), name="x")
    _, with_holiday = policy_for(3)
    assert dt.date(2030, 1, 2) not in calendar.holidays
    assert dt.date(2030, 1, 2) in with_holiday.holidays
    assert cache.get(POLICIES_KEY) is not None  # cached again after the read


@pytest.mark.usefixtures("cache_down")
def test_an_unreachable_cache_reads_the_database() -> None:
    found = policy_for(3)
    assert found is not None and found[0].priority == 3
    policy = SlaPolicy.objects.get(priority=3)
    policy.respond_minutes = 9
    policy.save()  # forgetting the cache fails quietly
    assert policy_for(3)[0].respond_minutes == 9

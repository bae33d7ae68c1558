"""The shared retry of deadlock victims: what is retried, how often, and where."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import OperationalError, transaction

from incidents.services.retry import ATTEMPTS, retried


class _Deadlock(Exception):
    pgcode = "40P01"  # as psycopg2 reports a deadlock


def test_retries_are_bounded() -> None:
    calls: Counter[str] = Counter()

    @retried
    def always_deadlocked() -> None:
        calls["made"] += 1
        raise OperationalError("deadlock detected") from _Deadlock()

    with pytest.raises(OperationalError):
        always_deadlocked()
    assert calls["made"] == ATTEMPTS


def test_only_deadlocks_and_serialisation_failures_are_retried() -> None:
    calls: Counter[str] = Counter()

    @retried
    def broken() -> None:
        calls["made"] += 1
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        broken()
    assert calls["made"] == 1


@pytest.mark.django_db
def test_inside_a_transaction_the_failure_goes_to_its_boundary() -> None:
    calls: Counter[str] = Counter()

    @retried
    def deadlocked() -> None:
        calls["made"] += 1
        raise OperationalError("deadlock detected") from _Deadlock()

    with pytest.raises(OperationalError), transaction.atomic():
        deadlocked()
    assert calls["made"] == 1  # the transaction is aborted: only its start may retry

"""Row locks are taken in one order, so deliveries that share alerts cannot
deadlock; a deadlock that still happens (two kinds of write that need the same
rows the other way round) is retried where its transaction began, never answered
with a 500."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction

from incidents import services
from incidents.models import Alert, AlertDelivery, Incident
from incidents.services.retry import retried
from tests.faults.concurrency import row_locked, start, together, wait_for_lock_waiters

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def occurrences() -> dict[str, int]:
    return dict(Alert.objects.values_list("dedup_key", "occurrences"))


def test_deliveries_with_the_same_alerts_in_opposite_orders_do_not_deadlock(
    monitor: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The first delivery waits for alert A; the second, with B before A, is let
    in next. Locking in the delivery's own order, the second would hold B and wait
    for A while the first held A and waited for B."""
    assert monitor(("A", "firing"), ("B", "firing")).status_code == 202
    caplog.set_level(logging.WARNING, logger="incidents.services.retry")
    with row_locked(Alert.objects.get(dedup_key="A")):
        first = start(lambda: monitor(("A", "firing"), ("B", "firing")))
        wait_for_lock_waiters(1)
        second = start(lambda: monitor(("B", "firing"), ("A", "firing")))
        wait_for_lock_waiters(2)
    assert [first.value().status_code, second.value().status_code] == [202, 202]
    assert [a["dedup_key"] for a in second.value().json()["alerts"]] == ["B", "A"]
    assert occurrences() == {"A": 3, "B": 3}
    assert "deadlock" not in caplog.text  # nothing needed a retry


def test_deliveries_sharing_alerts_posted_concurrently_are_all_accepted(
    monitor: Callable[..., Any],
) -> None:
    assert monitor(("A", "firing"), ("B", "firing")).status_code == 202
    calls = [lambda: monitor(("A", "firing"), ("B", "firing"))] * 8
    calls += [lambda: monitor(("B", "firing"), ("A", "firing"))] * 8
    answers = [outcome.value() for outcome in together(calls)]
    assert [a.status_code for a in answers] == [202] * 16
    assert occurrences() == {"A": 17, "B": 17}
    assert Incident.objects.count() == 2
    assert AlertDelivery.objects.count() == 17


def test_a_recovery_deadlocked_with_a_merge_is_retried_and_recorded(
    org: SimpleNamespace,
    monitor: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A recovery locks its alert, then its incident; a merge locks the incident,
    then hands its alerts on. Met halfway, PostgreSQL aborts the recovery, which
    runs again once the merge is done."""
    assert monitor(("db-1", "firing")).status_code == 202
    duplicate = Incident.objects.get()
    survivor = services.incident_log(by=org.agent, title="Disk full", source="agent")
    caplog.set_level(logging.WARNING, logger="incidents.services.retry")

    def merge() -> None:
        services.incident_merge(
            incident=Incident.objects.get(pk=duplicate.pk), into=survivor, by=org.agent
        )

    with row_locked(duplicate, then=merge):
        recovery = start(lambda: monitor(("db-1", "resolved")))
        wait_for_lock_waiters(1)
    response = recovery.value()
    assert response.status_code == 202, response.content
    assert "deadlock" in caplog.text
    [outcome] = response.json()["alerts"]
    assert outcome["incident"] == survivor.number  # the alert went with the merge
    assert AlertDelivery.objects.count() == 2
    assert Alert.objects.get().status == Alert.Status.RESOLVED


def test_a_deadlock_victim_runs_again_and_both_transactions_complete(
    org: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    first = services.incident_log(by=org.agent, title="One", source="agent")
    second = services.incident_log(by=org.agent, title="Two", source="agent")
    both_hold_one = threading.Barrier(2)
    attempts: Counter[str] = Counter()

    def lock(pk: int) -> None:
        Incident.objects.select_for_update().get(pk=pk)

    def crosswise(name: str, pks: tuple[int, int]) -> Callable[[], str]:
        @retried
        def run() -> str:
            with transaction.atomic():
                attempts[name] += 1
                lock(pks[0])
                if attempts[name] == 1:
                    both_hold_one.wait(timeout=30)
                lock(pks[1])
            return name

        return run

    outcomes = together(
        [
            crosswise("one", (first.pk, second.pk)),
            crosswise("two", (second.pk, first.pk)),
        ]
    )
    assert sorted(o.value() for o in outcomes) == ["one", "two"]
    assert sorted(attempts.values()) == [1, 2]  # the victim ran twice
    assert "deadlock" in caplog.text

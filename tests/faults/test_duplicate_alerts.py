"""Concurrent duplicates of alerts never seen before: however many arrive at once,
each key opens one incident, and every delivery counts as one occurrence."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from incidents.models import Alert, AlertDelivery, Incident
from incidents.services.alert_placement import alerts_place_awaiting
from incidents.services.alerts import integration_create
from tests.faults.concurrency import together

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

GENERIC = {
    "dedup_key": "backup-nightly",
    "status": "firing",
    "title": "Nightly backup did not run",
    "severity": "error",
}


def posted_and_placed(token: str, body: dict[str, Any]) -> int:
    """Post one generic alert, then place what waits, as a worker right after
    the commit: threads that post at once are as many workers placing at once."""
    status = (
        Client()
        .post(
            "/api/v1/alerts/",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        .status_code
    )
    alerts_place_awaiting()
    return status


def test_twenty_threads_posting_one_new_alert_open_one_incident(
    org: SimpleNamespace,
) -> None:
    _, token = integration_create(name="storm", kind="generic")

    def post() -> int:
        return posted_and_placed(token, GENERIC)

    assert [o.value() for o in together([post] * 20)] == [202] * 20
    assert Incident.objects.count() == 1
    assert Alert.objects.get().occurrences == 20
    assert AlertDelivery.objects.count() == 20


def test_new_keys_posted_alone_and_together_concurrently_open_one_incident_each(
    monitor: Callable[..., Any],
) -> None:
    keys = ["db-1", "db-2", "db-3", "db-4"]
    calls = [lambda key=key: monitor((key, "firing")) for key in keys for _ in range(4)]
    calls += [lambda: monitor(*((key, "firing") for key in keys))] * 2
    calls += [lambda: monitor(*((key, "firing") for key in reversed(keys)))] * 2
    answers = [outcome.value() for outcome in together(calls)]
    assert [a.status_code for a in answers] == [202] * 20
    assert Incident.objects.count() == 4
    assert dict(Alert.objects.values_list("dedup_key", "occurrences")) == {
        key: 8 for key in keys
    }
    assert AlertDelivery.objects.count() == 20


@pytest.mark.parametrize("grouping", ["sender_group", "service"])
def test_new_alerts_of_one_group_posted_at_once_open_one_incident(
    org: SimpleNamespace, grouping: str
) -> None:
    """Grouped integrations: different new keys of one group (or one service)
    arriving together join one incident, never two."""
    _, token = integration_create(
        name="grouped", kind="generic", grouping=grouping, default_service=org.service
    )

    def post(key: str) -> int:
        body = {**GENERIC, "dedup_key": key, "source": "one-group"}
        return posted_and_placed(token, body)

    calls = [lambda n=n: post(f"key-{n % 6}") for n in range(18)]
    assert [o.value() for o in together(calls)] == [202] * 18
    assert Incident.objects.count() == 1
    assert Alert.objects.count() == 6
    assert set(Alert.objects.values_list("incident", flat=True)) == {
        Incident.objects.get().pk
    }

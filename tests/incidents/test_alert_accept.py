"""Accepting alerts: the request writes the alert and its delivery, a worker opens
its incident right after, and whatever the worker does not get to (a lost
message, a killed worker) the sweep does. Nothing is opened twice, nothing is
lost, and a recovery that arrives first is applied once the incident opens."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache

from incidents.models import Alert, AlertDelivery, Incident, Integration
from incidents.services.alert_placement import alerts_place_awaiting
from incidents.services.alerts import (
    PLACEMENT_ASKED,
    AlertSignal,
    alert_accept,
    integration_create,
    placement_ask,
)
from incidents.tasks import alert_placement_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def accept(org: SimpleNamespace) -> Any:
    """accept(key, status="firing"): one delivery of one alert, accepted."""
    integration, _ = integration_create(
        name="prometheus",
        kind="generic",
        default_service=org.service,
        recovery=Integration.Recovery.ALL_RECOVERED,
    )

    def send(key: str, status: str = "firing", **extra: Any) -> dict:
        signal = AlertSignal(
            dedup_key=key, status=status, title=f"{key} is down", **extra
        )
        delivery = alert_accept(
            integration=send.integration, signals=[signal], payload={"key": key}
        )
        return delivery.outcomes[0]

    send.integration = integration
    return send


def test_a_new_alert_is_written_and_waits_for_the_worker(accept: Any) -> None:
    outcome = accept("db-1", description="Replica lag", service="")
    assert outcome["incident"] is None
    assert outcome["rule"] == "new alert: accepted; its incident is opened next"
    alert = Alert.objects.get()
    assert (alert.incident, alert.placed_at, alert.description) == (
        None,
        None,
        "Replica lag",
    )
    assert AlertDelivery.objects.count() == 1
    assert not Incident.objects.exists()

    assert alerts_place_awaiting() == 1
    incident = Incident.objects.get()
    assert incident.description == "Replica lag"  # kept on the alert for this
    assert Alert.objects.get().incident == incident
    assert alerts_place_awaiting() == 0  # placed once, never again


def test_repeats_before_the_worker_are_counted_and_open_one_incident(
    accept: Any,
) -> None:
    accept("db-1")
    assert accept("db-1")["rule"] == "repeat: counted; its incident is opened next"
    alerts_place_awaiting()
    assert Incident.objects.count() == 1
    assert Alert.objects.get().occurrences == 2
    assert accept("db-1")["incident"] == Incident.objects.get().pk  # a plain repeat


def test_a_recovery_before_the_worker_is_applied_after_it_opens(
    accept: Any,
) -> None:
    accept("db-1")
    outcome = accept("db-1", status="resolved")
    assert outcome["rule"] == "recovery recorded; applied once its incident is opened"
    alerts_place_awaiting()
    incident = Incident.objects.get()
    assert incident.alerts.get().status == Alert.Status.RESOLVED
    # In order: opened, then the recovery, as if the worker had been instant.
    rules = list(incident.events.order_by("pk").values_list("data__rule", flat=True))
    rules = [rule for rule in rules if rule]
    assert rules[0] == "new alert: opened an incident"
    assert rules[-1].startswith("recovery recorded")


def test_the_sweep_places_what_a_lost_message_left(accept: Any) -> None:
    accept("db-1")
    accept("db-2")
    # No worker ever ran (the message was lost): the beat sweep finds them.
    assert alert_placement_task() == 2
    assert Incident.objects.count() == 2


def test_a_placement_that_dies_halfway_leaves_nothing_and_the_alert_waits(
    accept: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from incidents.services import alert_placement

    accept("db-1")
    accept("db-2")
    first = Alert.objects.get(dedup_key="db-1").pk
    real = alert_placement.alert_place

    def broken(alert: Alert) -> dict:
        placed = real(alert)  # the incident is written, then the worker dies
        if alert.pk == first:
            raise RuntimeError("worker died")
        return placed

    monkeypatch.setattr(alert_placement, "alert_place", broken)
    assert alerts_place_awaiting() == 1
    assert Alert.objects.get(dedup_key="db-1").incident is None  # still waits
    assert Incident.objects.count() == 1  # its half-opened incident rolled back
    monkeypatch.setattr(alert_placement, "alert_place", real)
    assert alert_placement_task() == 1


def test_a_grouped_integration_groups_accepted_alerts(accept: Any) -> None:
    Integration.objects.filter(pk=accept.integration.pk).update(
        grouping=Integration.Grouping.SENDER_GROUP
    )
    accept.integration.refresh_from_db()
    accept("db-1", group_key="db")
    accept("db-2", group_key="db")
    alerts_place_awaiting()
    assert Incident.objects.count() == 1
    assert set(Alert.objects.values_list("incident", flat=True)) == {
        Incident.objects.get().pk
    }


def test_the_ask_is_sent_once_until_a_pass_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from incidents.services import alerts

    sent: list[str] = []
    monkeypatch.setattr(alerts, "send_task_by_name", sent.append)
    cache.delete(PLACEMENT_ASKED)
    placement_ask()
    placement_ask()
    assert sent == [alerts.PLACEMENT_TASK]  # the second knows a pass will see it
    alerts_place_awaiting()  # a pass starts by taking the ask away
    placement_ask()
    assert sent == [alerts.PLACEMENT_TASK] * 2


def test_a_broker_that_cannot_be_reached_leaves_the_ask_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from incidents.services import alerts

    def down(name: str) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(alerts, "send_task_by_name", down)
    cache.delete(PLACEMENT_ASKED)
    placement_ask()  # never raises: the sweep is the fallback
    assert cache.get(PLACEMENT_ASKED) is None  # the next request asks again


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_placers_in_threads_share_the_alerts_and_open_each_once(
    settings: Any,
) -> None:
    """Three placers, each on its own connection over its own share of the ids:
    every alert placed exactly once, and nothing left waiting."""
    settings.ALERT_PLACEMENT_THREADS = 3
    integration, _ = integration_create(name="prometheus", kind="generic")
    for n in range(30):
        signal = AlertSignal(dedup_key=f"disk-{n}", status="firing", title=f"disk {n}")
        alert_accept(integration=integration, signals=[signal], payload={"n": n})
    assert Alert.objects.filter(incident=None).count() == 30

    assert alerts_place_awaiting() == 30
    assert Incident.objects.count() == 30
    assert not Alert.objects.filter(incident=None).exists()
    assert not Alert.objects.filter(placed_at=None).exists()
    assert alerts_place_awaiting() == 0

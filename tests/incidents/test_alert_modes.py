"""What alerts do to incidents, per integration: recovery modes, grouping modes,
maintenance windows; and the "test this integration" page, which writes nothing."""

from __future__ import annotations

import copy
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from incidents import services
from incidents.exceptions import IncidentConflict
from incidents.models import (
    Alert,
    AlertDelivery,
    Incident,
    IncidentEvent,
    Integration,
    MaintenanceWindow,
    Notification,
)
from incidents.services.alert_placement import alerts_place_awaiting
from incidents.services.alerts import (
    AlertSignal,
    alert_ingest,
    integration_create,
    maintenance_sweep,
)
from incidents.tasks import alert_maintenance_sweep_task
from tests.incidents.conftest import take_on
from tests.incidents.test_api_alerts import ALERTMANAGER

pytestmark = pytest.mark.django_db
S = Incident.Status


@pytest.fixture
def monitor(org: SimpleNamespace) -> Any:
    """send(key, status="firing", **signal): one delivery of one alert from an
    integration with the given settings (``monitor.integration``)."""
    integration, _ = integration_create(
        name="prometheus", kind="alertmanager", default_service=org.service
    )

    def send(key: str, status: str = "firing", at: Any = None, **extra: Any) -> dict:
        signal = AlertSignal(
            dedup_key=key,
            status=status,
            title=extra.pop("title", key.capitalize()),
            labels=extra.pop("labels", {"instance": f"{key}-host"}),
            **extra,
        )
        delivery = alert_ingest(
            integration=monitor.integration, signals=[signal], payload={}, now=at
        )
        return delivery.outcomes[0]

    def configure(**fields: Any) -> None:
        Integration.objects.filter(pk=integration.pk).update(**fields)
        monitor.integration = Integration.objects.get(pk=integration.pk)

    send.integration = integration
    send.configure = configure
    monitor = send
    return send


# ---------------------------------------------------------------- recovery
def test_new_integrations_resolve_when_all_alerts_recovered(
    monitor: Any, org: SimpleNamespace
) -> None:
    assert monitor.integration.recovery == Integration.Recovery.ALL_RECOVERED
    monitor.configure(grouping=Integration.Grouping.SERVICE)
    monitor("cpu")
    monitor("disk")
    incident = Incident.objects.get()
    assert Alert.objects.filter(incident=incident).count() == 2
    assert "1 other alert" in monitor("cpu", "resolved")["rule"]
    incident.refresh_from_db()
    assert incident.status == S.NEW
    assert monitor("disk", "resolved")["rule"] == (
        "recovery recorded: resolved the incident"
    )
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED
    assert incident.confirmation_due_at is not None  # the grace period applies
    assert incident.verification.startswith(
        "Monitoring reported recovery of Disk (instance=disk-host)"
    )
    transition = incident.events.filter(kind=IncidentEvent.Kind.TRANSITION).last()
    assert (transition.actor, transition.data["target"]) == (None, S.RESOLVED)


def test_a_person_cannot_resolve_a_new_incident(
    monitor: Any, org: SimpleNamespace
) -> None:
    monitor("cpu")
    incident = Incident.objects.get()
    with pytest.raises(IncidentConflict):
        services.incident_resolve(
            incident=incident,
            by=org.agent,
            resolution_kind="workaround",
            resolution="x",
            verification="y",
        )


def test_flap_reopens_within_grace(monitor: Any) -> None:
    monitor("cpu")
    monitor("cpu", "resolved")
    assert Incident.objects.get().status == S.RESOLVED
    assert monitor("cpu")["rule"] == (
        "fired again after recovery: reopened the resolved incident"
    )
    assert Incident.objects.get().status == S.INVESTIGATING


def test_unacknowledged_mode_leaves_an_acknowledged_incident(
    monitor: Any, org: SimpleNamespace
) -> None:
    monitor.configure(recovery=Integration.Recovery.UNACKNOWLEDGED)
    monitor("cpu")
    take_on(Incident.objects.get(), org)  # someone acknowledged it
    assert "someone acknowledged" in monitor("cpu", "resolved")["rule"]
    assert Incident.objects.get().status == S.INVESTIGATING
    monitor("disk")
    disk = Alert.objects.get(dedup_key="disk").incident
    monitor("disk", "resolved")
    disk.refresh_from_db()
    assert disk.status == S.RESOLVED  # nobody had acknowledged this one


def test_record_mode_only_records(monitor: Any) -> None:
    monitor.configure(recovery=Integration.Recovery.RECORD)
    monitor("cpu")
    assert monitor("cpu", "resolved")["rule"] == "recovery recorded"
    assert Incident.objects.get().status == S.NEW
    assert Alert.objects.get().state == "recovered"


# ---------------------------------------------------------------- grouping
def test_per_alert_grouping_opens_one_incident_per_alert(monitor: Any) -> None:
    monitor("cpu", group_key="g")
    monitor("disk", group_key="g")
    assert Incident.objects.count() == 2


def test_sender_group_grouping_joins_the_group_incident(monitor: Any) -> None:
    monitor.configure(grouping=Integration.Grouping.SENDER_GROUP)
    first = monitor("cpu", group_key="{}:{job=node}")
    second = monitor("disk", group_key="{}:{job=node}")
    other = monitor("mem", group_key="{}:{job=db}")
    incident = Incident.objects.get(pk=first["incident"])
    assert second["incident"] == incident.pk
    assert second["rule"] == f"new alert: grouped into {incident.number}"
    assert other["incident"] != incident.pk
    assert Incident.objects.count() == 2
    # A repeat of a grouped alert is still that alert, never a duplicate.
    monitor("disk", group_key="{}:{job=node}")
    assert Alert.objects.filter(dedup_key="disk").count() == 1
    assert Alert.objects.get(dedup_key="disk").occurrences == 2


def test_alertmanager_group_key_groups_a_delivery(
    monitor: Any, org: SimpleNamespace
) -> None:
    monitor.configure(grouping=Integration.Grouping.SENDER_GROUP)
    _, token = integration_create(name="am", kind="alertmanager")
    Integration.objects.filter(name="am").update(
        grouping=Integration.Grouping.SENDER_GROUP
    )
    body = copy.deepcopy(ALERTMANAGER)
    second = copy.deepcopy(body["alerts"][0])
    second["fingerprint"] = "another"
    second["labels"]["instance"] = "web-2:9100"
    body["alerts"].append(second)
    response = Client().post(
        "/api/v1/alerts/alertmanager/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 202
    alerts_place_awaiting()
    assert Incident.objects.count() == 1
    assert Alert.objects.filter(incident=Incident.objects.get()).count() == 2


def test_service_grouping_attaches_within_the_minutes(
    monitor: Any, org: SimpleNamespace
) -> None:
    monitor.configure(grouping=Integration.Grouping.SERVICE, group_within_minutes=10)
    now = timezone.now()
    monitor("cpu", at=now - timedelta(minutes=20))
    monitor("disk", at=now - timedelta(minutes=15))  # 5 minutes later: joins
    monitor("mem", at=now)  # 15 minutes after the incident was logged: new
    assert Alert.objects.get(dedup_key="cpu").incident == (
        Alert.objects.get(dedup_key="disk").incident
    )
    assert Incident.objects.count() == 2


# ---------------------------------------------------------------- maintenance
@pytest.fixture
def window(org: SimpleNamespace) -> MaintenanceWindow:
    now = timezone.now()
    window = MaintenanceWindow(
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        reason="Mail server upgrade",
    )
    return services_window(window, org)


def services_window(window: MaintenanceWindow, org: SimpleNamespace) -> Any:
    from incidents.status.services import maintenance_window_save

    return maintenance_window_save(
        window=window, by=org.incident_manager, services=[org.service]
    )


def test_alerts_during_a_window_open_nothing_and_page_nobody(
    monitor: Any, window: MaintenanceWindow, org: SimpleNamespace
) -> None:
    notifications = Notification.objects.count()
    outcome = monitor("cpu")
    monitor("cpu")  # a repeat while held
    assert outcome["rule"].startswith("suppressed: Email is under maintenance")
    assert outcome["incident"] is None
    assert not Incident.objects.exists()
    assert Notification.objects.count() == notifications
    alert = Alert.objects.get()
    assert (alert.maintenance_window, alert.occurrences) == (window, 2)
    assert AlertDelivery.objects.count() == 2  # recorded all the same
    # Shown under the window on the status console.
    page = Client()
    page.force_login(org.incident_manager)
    html = page.get("/console/status/").content.decode()
    assert "Cpu (instance=cpu-host) · firing · 2 occurrences" in html


def test_at_the_end_of_the_window_still_firing_alerts_open_incidents(
    monitor: Any, window: MaintenanceWindow
) -> None:
    monitor("cpu")
    monitor("disk")
    monitor("disk", "resolved")  # recovered during the window: never an incident
    assert maintenance_sweep() == 0  # the window is still on
    later = window.ends_at + timedelta(seconds=1)
    assert maintenance_sweep(now=later) == 1
    incident = Alert.objects.get(dedup_key="cpu").incident
    assert incident is not None and incident.source == Incident.Source.ALERT
    assert Alert.objects.get(dedup_key="disk").incident is None
    assert maintenance_sweep(now=later) == 0  # twice is harmless
    assert alert_maintenance_sweep_task() == 0
    assert Incident.objects.count() == 1


def test_a_cancelled_window_holds_nothing_more(
    monitor: Any, window: MaintenanceWindow, org: SimpleNamespace
) -> None:
    from incidents.status.services import maintenance_window_cancel

    monitor("cpu")
    maintenance_window_cancel(window=window, by=org.incident_manager)
    assert monitor("disk")["rule"] == "new alert: opened an incident"
    assert maintenance_sweep() == 1
    assert Incident.objects.count() == 2


# ---------------------------------------------------------------- the test page
def _test_page(user: Any, integration: Integration, payload: str | None = None) -> Any:
    client = Client()
    client.force_login(user)
    path = f"/console/integrations/{integration.pk}/test/"
    if payload is None:
        return client.get(path)
    return client.post(path, {"payload": payload})


def _counts() -> tuple[int, ...]:
    return (
        Incident.objects.count(),
        Alert.objects.count(),
        AlertDelivery.objects.count(),
        IncidentEvent.objects.count(),
        Notification.objects.count(),
    )


def test_test_page_says_what_would_happen_and_writes_nothing(
    monitor: Any, org: SimpleNamespace
) -> None:
    import json

    page = _test_page(org.incident_manager, monitor.integration)
    assert page.status_code == 200
    assert "HighCPU" in page.content.decode()  # a sample of the integration's kind
    body = json.dumps(ALERTMANAGER)
    before = _counts()
    html = _test_page(org.incident_manager, monitor.integration, body).content.decode()
    assert _counts() == before
    assert "opens a new incident" in html and "c3b1f2a9d4e5f607" in html
    assert "High latency on web-1 (instance=web-1:9100" in html
    # Once the alert is in, the same payload is a repeat of its incident.
    alert_ingest(
        integration=monitor.integration,
        signals=[AlertSignal(dedup_key="c3b1f2a9d4e5f607", status="firing")],
        payload={},
    )
    number = Incident.objects.get().number
    before = _counts()
    html = _test_page(org.incident_manager, monitor.integration, body).content.decode()
    assert f"repeat: adds an occurrence to {number}" in html
    assert _counts() == before


def test_test_page_shows_grouping_and_maintenance(
    monitor: Any, window: MaintenanceWindow, org: SimpleNamespace
) -> None:
    import json

    body = json.dumps(ALERTMANAGER)  # label service=Email: under maintenance
    html = _test_page(org.incident_manager, monitor.integration, body).content.decode()
    assert "suppressed by the maintenance window of Email" in html


def test_test_page_shows_why_a_body_would_be_refused(
    monitor: Any, org: SimpleNamespace
) -> None:
    before = _counts()
    page = _test_page(org.incident_manager, monitor.integration, '{"alerts": []}')
    assert page.status_code == 400
    assert "status" in page.content.decode()
    page = _test_page(org.incident_manager, monitor.integration, "{nope")
    assert page.status_code == 400 and "JSON parse error" in page.content.decode()
    assert _counts() == before


def test_test_page_is_for_incident_managers_and_admins(
    monitor: Any, org: SimpleNamespace
) -> None:
    assert _test_page(org.agent, monitor.integration).status_code == 403
    assert _test_page(org.requester, monitor.integration).status_code == 403

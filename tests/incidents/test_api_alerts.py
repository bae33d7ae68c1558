"""Alert intake over HTTP, with real-shaped payloads of each sender."""

from __future__ import annotations

import copy
import json
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client
from django.utils import timezone

from incidents import services
from incidents.models import Alert, AlertDelivery, Incident, IncidentEvent, Integration
from incidents.selectors import alert_inspector
from incidents.services.alert_placement import alerts_place_awaiting
from incidents.services.alerts import integration_create
from incidents.tasks import alert_delivery_prune_task
from tests.incidents.conftest import incident_in, take_on

pytestmark = pytest.mark.django_db

ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="HighLatency"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "itsm",
    "groupLabels": {"alertname": "HighLatency"},
    "commonLabels": {"alertname": "HighLatency", "severity": "critical", "job": "web"},
    "commonAnnotations": {"runbook": "https://runbooks.example.com/latency"},
    "externalURL": "http://alertmanager.example.com:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighLatency",
                "severity": "critical",
                "instance": "web-1:9100",
                "service": "Email",
            },
            "annotations": {
                "summary": "High latency on web-1",
                "description": "p95 latency above 2 s for 10 minutes",
            },
            "startsAt": "2026-11-27T07:50:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=x",
            "fingerprint": "c3b1f2a9d4e5f607",
        }
    ],
}

GRAFANA = {
    **copy.deepcopy(ALERTMANAGER),
    "title": "[FIRING:1] DiskFull (db-1)",
    "state": "alerting",
    "message": "**Firing**\nDisk almost full",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "severity": "warning", "host": "db-1"},
            "annotations": {"summary": "Disk almost full on db-1"},
            "startsAt": "2026-11-27T07:55:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://grafana.example.com/alerting/grafana/x/view",
            "fingerprint": "9f8e7d6c5b4a3921",
            "values": {"B": 91.5, "C": 1},
            "valueString": "[ var='B' value=91.5 ]",
            "dashboardURL": "http://grafana.example.com/d/abc",
            "panelURL": "http://grafana.example.com/d/abc?viewPanel=2",
            "silenceURL": "http://grafana.example.com/alerting/silence/new",
        }
    ],
}


def pagerduty(action: str = "trigger", **extra: Any) -> dict[str, Any]:
    event = {
        "event_action": action,
        "dedup_key": "db-1/disk",
        "payload": {
            "summary": "Disk full on db-1",
            "source": "db-1.example.com",
            "severity": "critical",
            "component": "postgres",
            "group": "prod-db",
            "class": "disk",
            "custom_details": {"free": "0.4%"},
        },
        "links": [{"href": "https://grafana.example.com/d/abc", "text": "Dashboard"}],
        **extra,
    }
    if action != "trigger":
        del event["payload"]
    return event


GENERIC = {
    "source": "cron-monitor",
    "dedup_key": "backup-nightly",
    "status": "firing",
    "title": "Nightly backup did not run",
    "description": "No heartbeat from the backup job since 02:00.",
    "severity": "error",
    "service": "Payroll",
    "labels": {"team": "systems"},
}

PATHS = {
    "alertmanager": "/api/v1/alerts/alertmanager/",
    "grafana": "/api/v1/alerts/grafana/",
    "pagerduty": "/api/v1/alerts/pagerduty/",
    "generic": "/api/v1/alerts/",
}


@pytest.fixture
def hook(org: SimpleNamespace) -> Any:
    """post(kind, body): deliver ``body`` with a fresh integration of that kind."""
    made: dict[str, tuple[Integration, str]] = {}

    def post(
        kind: str,
        body: Any,
        *,
        token: str | None = None,
        place: bool = True,
        **headers: Any,
    ) -> Any:
        if kind not in made:
            # Record-only recovery: these tests look at intake, not at what a
            # recovery does (tests/incidents/test_alert_recovery.py does).
            made[kind] = integration_create(
                name=f"{kind} monitor",
                kind=kind,
                default_service=org.service,
                recovery=Integration.Recovery.RECORD,
            )
        integration, secret = made[kind]
        client = Client()
        response = client.post(
            PATHS[kind],
            json.dumps(body) if not isinstance(body, str | bytes) else body,
            content_type=headers.pop("content_type", "application/json"),
            HTTP_AUTHORIZATION=f"Bearer {token or secret}",
            **headers,
        )
        response.integration = integration
        # What the worker does right after the commit: open the incidents of the
        # alerts this delivery left waiting.
        response.placed = alerts_place_awaiting() if place else 0
        return response

    post.integrations = made
    return post


def resolved(payload: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(payload)
    body["status"] = "resolved"
    for alert in body["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-27T08:30:00Z"
    return body


# ---------------------------------------------------------------- Alertmanager
def test_alertmanager_firing_opens_an_incident(hook: Any, org: SimpleNamespace) -> None:
    response = hook("alertmanager", ALERTMANAGER, place=False)
    assert response.status_code == 202
    # Accepted: the alert and its delivery are written, the incident comes next.
    assert response.json()["alerts"] == [
        {
            "dedup_key": "c3b1f2a9d4e5f607",
            "status": "firing",
            "rule": "new alert: accepted; its incident is opened next",
            "incident": None,
        }
    ]
    assert not Incident.objects.exists()
    assert Alert.objects.get().incident is None
    assert alerts_place_awaiting() == 1  # the worker, right after the commit
    incident = Incident.objects.get()
    alert = Alert.objects.get()
    assert alert.incident == incident and alert.placed_at >= alert.first_seen_at
    assert incident.logged_at == alert.first_seen_at  # SLA clocks from acceptance
    opened = incident.events.get(kind=IncidentEvent.Kind.ALERT_OCCURRENCE)
    assert opened.data["rule"] == "new alert: opened an incident"
    assert opened.data["delivery"] == str(response.json()["delivery"])
    assert incident.title == "High latency on web-1"
    assert incident.description == "p95 latency above 2 s for 10 minutes"
    assert incident.source == Incident.Source.ALERT
    assert (incident.impact, incident.urgency, incident.priority) == (
        "medium",
        "high",
        2,
    )
    assert list(incident.services.all()) == [org.service]  # label service=Email
    assert incident.detected_at.isoformat() == "2026-11-27T07:50:00+00:00"
    delivery = AlertDelivery.objects.get()
    assert delivery.payload == ALERTMANAGER  # kept exactly as received


def test_alertmanager_repeat_adds_an_occurrence(hook: Any) -> None:
    hook("alertmanager", ALERTMANAGER)
    response = hook("alertmanager", ALERTMANAGER)
    assert response.status_code == 202
    assert response.json()["alerts"][0]["rule"].startswith("repeat")
    incident = Incident.objects.get()
    alert = Alert.objects.get()
    assert (alert.occurrences, alert.incident) == (2, incident)
    # The repeat counts on the alert; the timeline keeps its one "fired" row.
    counts = [
        e.data["count"]
        for e in incident.events.filter(kind=IncidentEvent.Kind.ALERT_OCCURRENCE)
    ]
    assert counts == [1]
    assert (alert.repeats, alert.last_repeat_at) == (1, alert.last_seen_at)
    assert AlertDelivery.objects.count() == 2


def test_repeat_records_its_occurrence_and_delivery_in_full(hook: Any) -> None:
    first = hook("alertmanager", ALERTMANAGER)
    response = hook("alertmanager", ALERTMANAGER)
    incident = Incident.objects.get()
    alert = Alert.objects.get()
    delivery = AlertDelivery.objects.get(pk=response.json()["delivery"])
    rule = "repeat: added an occurrence to the open incident"
    outcome = {
        "dedup_key": "c3b1f2a9d4e5f607",
        "status": "firing",
        "rule": rule,
        "incident": incident.pk,
    }
    assert response.json()["alerts"] == [{**outcome, "incident": incident.number}]
    assert (delivery.integration, delivery.payload, delivery.outcomes) == (
        first.integration,
        ALERTMANAGER,
        [outcome],
    )
    assert not incident.events.filter(data__delivery=str(delivery.pk)).exists()
    assert (alert.repeats, alert.last_delivery_id) == (1, delivery.pk)
    assert (alert.last_seen_at, alert.status_changed) == (delivery.received_at, False)


@pytest.mark.postgres
def test_repeat_is_two_statements_on_postgresql(
    hook: Any, django_assert_num_queries: Any
) -> None:
    hook("generic", GENERIC)
    with django_assert_num_queries(2):  # the token, then one data-modifying statement
        response = hook("generic", GENERIC, place=False)
    assert response.status_code == 202
    assert Alert.objects.get().occurrences == 2


def test_alertmanager_resolved_records_recovery_only(hook: Any) -> None:
    hook("alertmanager", ALERTMANAGER)
    response = hook("alertmanager", resolved(ALERTMANAGER))
    assert response.json()["alerts"][0]["rule"].startswith("recovery recorded")
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.recovered_at is not None
    assert Incident.objects.get().status == Incident.Status.NEW


@pytest.fixture
def worked_on(hook: Any, org: SimpleNamespace) -> Incident:
    """The incident of an Alertmanager alert whose recoveries resolve incidents,
    being worked on."""
    hook("alertmanager", ALERTMANAGER)
    integration = hook.integrations["alertmanager"][0]
    Integration.objects.filter(pk=integration.pk).update(recovery="all_recovered")
    return take_on(Incident.objects.get(), org)


def test_resolved_alert_resolves_worked_incident_when_integration_says_so(
    hook: Any, worked_on: Incident
) -> None:
    incident = worked_on
    response = hook("alertmanager", resolved(ALERTMANAGER))
    assert (
        response.json()["alerts"][0]["rule"]
        == "recovery recorded: resolved the incident"
    )
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert "Monitoring reported recovery" in incident.resolution


def test_a_recovery_the_lifecycle_refuses_is_still_recorded(
    hook: Any, worked_on: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = worked_on
    # A guard the monitor's recovery cannot meet (none does today).
    monkeypatch.setattr(
        Incident, "resolution_blockers", lambda self: {"problem": "Link a problem."}
    )
    response = hook("alertmanager", resolved(ALERTMANAGER))
    assert response.status_code == 202
    assert response.json()["alerts"][0]["rule"] == (
        "recovery recorded: the incident was not resolved: Link a problem."
    )
    incident.refresh_from_db()
    assert incident.status == Incident.Status.INVESTIGATING
    assert AlertDelivery.objects.count() == 2
    assert Alert.objects.get().status == Alert.Status.RESOLVED


def test_refire_after_recovery_reopens_the_resolved_incident(
    hook: Any, org: SimpleNamespace
) -> None:
    hook("alertmanager", ALERTMANAGER)
    incident = Incident.objects.get()
    take_on(incident, org)
    hook("alertmanager", resolved(ALERTMANAGER))
    services.incident_resolve(
        incident=incident,
        by=org.agent,
        resolution_kind="workaround",
        resolution="Restarted web-1",
        verification="Latency back under 200 ms",
    )
    response = hook("alertmanager", ALERTMANAGER)
    assert "reopened" in response.json()["alerts"][0]["rule"]
    incident.refresh_from_db()
    assert (incident.status, incident.reopen_count) == (
        Incident.Status.INVESTIGATING,
        1,
    )
    assert Incident.objects.count() == 1


def test_refire_after_close_opens_a_linked_incident(
    hook: Any, org: SimpleNamespace
) -> None:
    hook("alertmanager", ALERTMANAGER)
    first = Incident.objects.get()
    services.incident_cancel(incident=first, by=org.agent, reason="Test alert")
    hook("alertmanager", ALERTMANAGER)
    second = Incident.objects.exclude(pk=first.pk).get()
    opened = second.events.get(kind=IncidentEvent.Kind.ALERT_OCCURRENCE)
    assert "follow-up" in opened.data["rule"]
    assert second.follows_up == first
    assert Alert.objects.filter(is_open=True).get().incident == second


def test_merged_duplicate_hands_its_alert_to_the_survivor(
    hook: Any, org: SimpleNamespace
) -> None:
    hook("alertmanager", ALERTMANAGER)
    duplicate = Incident.objects.get()
    survivor = incident_in(Incident.Status.INVESTIGATING, org)
    services.incident_merge(incident=duplicate, into=survivor, by=org.agent)
    response = hook("alertmanager", ALERTMANAGER)
    assert response.json()["alerts"][0]["incident"] == survivor.number


def test_one_open_alert_per_key_is_a_database_rule(hook: Any) -> None:
    hook("alertmanager", ALERTMANAGER)
    alert = Alert.objects.get()
    now = timezone.now()
    with pytest.raises(IntegrityError):
        Alert.objects.create(
            integration=alert.integration,
            dedup_key=alert.dedup_key,
            status="firing",
            title="dup",
            first_seen_at=now,
            last_seen_at=now,
        )


def test_alert_without_fingerprint_is_keyed_by_its_labels(hook: Any) -> None:
    body = copy.deepcopy(ALERTMANAGER)
    del body["alerts"][0]["fingerprint"]
    hook("alertmanager", body)
    hook("alertmanager", body)
    assert Incident.objects.count() == 1
    assert Alert.objects.get().occurrences == 2


def test_trailing_slash_is_optional(hook: Any) -> None:
    hook("generic", GENERIC)  # creates the integration
    integration, token = hook.integrations["generic"]
    response = Client().post(
        "/api/v1/alerts",
        json.dumps(GENERIC),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 202
    assert Alert.objects.get().occurrences == 2


# ---------------------------------------------------------------- Grafana
def test_grafana_firing_opens_an_incident(hook: Any) -> None:
    response = hook("grafana", GRAFANA)
    assert response.status_code == 202
    incident = Incident.objects.get()
    assert incident.title == "Disk almost full on db-1"
    assert incident.urgency == "medium"  # severity warning


# ---------------------------------------------------------------- PagerDuty
def test_pagerduty_trigger_with_routing_key_only(hook: Any) -> None:
    hook("generic", GENERIC)  # any call creates the fixture's integrations lazily
    integration, token = integration_create(name="pd", kind="pagerduty")
    response = Client().post(
        PATHS["pagerduty"],
        json.dumps({**pagerduty(), "routing_key": token}),
        content_type="application/json",
    )
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "db-1/disk",
    }
    alerts_place_awaiting()
    assert Incident.objects.filter(title="Disk full on db-1").count() == 1


def test_pagerduty_trigger_without_dedup_key_gets_one(hook: Any) -> None:
    body = pagerduty()
    del body["dedup_key"]
    response = hook("pagerduty", body)
    key = response.json()["dedup_key"]
    assert len(key) == 32
    assert Alert.objects.get().dedup_key == key


def test_pagerduty_acknowledge_and_resolve(hook: Any) -> None:
    hook("pagerduty", pagerduty())
    assert hook("pagerduty", pagerduty("acknowledge")).status_code == 202
    assert hook("pagerduty", pagerduty("resolve")).status_code == 202
    alert = Alert.objects.get()
    assert (alert.status, alert.occurrences) == ("resolved", 3)
    rules = [
        o["rule"]
        for d in AlertDelivery.objects.order_by("received_at")
        for o in d.outcomes
    ]
    assert rules[1] == "acknowledgement recorded"


def test_pagerduty_invalid_event_is_answered_like_pagerduty(hook: Any) -> None:
    response = hook("pagerduty", {"event_action": "explode"})
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["message"]) == (
        "invalid event",
        "Event object is invalid",
    )
    assert any(error.startswith("event_action:") for error in body["errors"])
    assert not AlertDelivery.objects.exists()


# ---------------------------------------------------------------- generic
def test_generic_firing_and_resolved(hook: Any) -> None:
    assert hook("generic", GENERIC).status_code == 202
    assert hook("generic", {**GENERIC, "status": "resolved"}).status_code == 202
    assert Alert.objects.get().status == "resolved"
    assert Incident.objects.get().urgency == "high"  # severity error


def test_generic_recovery_of_unknown_alert_is_kept_but_opens_nothing(hook: Any) -> None:
    response = hook("generic", {**GENERIC, "status": "resolved"})
    assert response.status_code == 202
    assert response.json()["alerts"][0]["incident"] is None
    assert not Incident.objects.exists()
    assert AlertDelivery.objects.get().outcomes[0]["rule"].startswith("ignored")


# ---------------------------------------------------------------- bad input
def _nothing_written() -> bool:
    return not (
        Incident.objects.exists()
        or Alert.objects.exists()
        or AlertDelivery.objects.exists()
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GENERIC, "title": ""}, "title"),
        ({**GENERIC, "status": "exploded"}, "status"),
        ({k: v for k, v in GENERIC.items() if k != "dedup_key"}, "dedup_key"),
        ({**GENERIC, "starts_at": "yesterday"}, "starts_at"),
    ],
)
def test_invalid_field_is_400_with_the_field(hook: Any, body: dict, field: str) -> None:
    response = hook("generic", body)
    assert response.status_code == 400
    assert field in response.json()
    assert _nothing_written()


def test_alertmanager_without_alerts_is_400(hook: Any) -> None:
    response = hook("alertmanager", {**ALERTMANAGER, "alerts": []})
    assert response.status_code == 400
    assert "alerts" in response.json()
    assert _nothing_written()


def test_malformed_json_is_400(hook: Any) -> None:
    response = hook("generic", '{"dedup_key": ')
    assert response.status_code == 400
    assert _nothing_written()


def test_json_that_is_not_an_object_is_400(hook: Any) -> None:
    response = hook("generic", "[1, 2]")
    assert response.status_code == 400
    assert _nothing_written()


def test_missing_token_is_401(db: Any) -> None:
    response = Client().post(PATHS["generic"], GENERIC, content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _nothing_written()


def test_unknown_token_is_401(hook: Any) -> None:
    response = hook("generic", GENERIC, token="itsm_not-a-real-token")
    assert response.status_code == 401
    assert _nothing_written()


def test_disabled_integration_is_403(hook: Any) -> None:
    hook("generic", GENERIC)
    Integration.objects.update(is_active=False)
    before = AlertDelivery.objects.count()
    response = hook("generic", GENERIC)
    assert response.status_code == 403
    assert AlertDelivery.objects.count() == before


def test_token_of_another_kind_is_403_naming_the_right_path(hook: Any) -> None:
    _, token = integration_create(name="prom", kind="alertmanager")
    response = hook("generic", GENERIC, token=token)
    assert response.status_code == 403
    assert "/api/v1/alerts/alertmanager/" in response.json()["detail"]
    assert _nothing_written()


def test_body_over_one_mebibyte_is_413(hook: Any) -> None:
    body = {**GENERIC, "description": "x" * (1024 * 1024)}
    response = hook("generic", body)
    assert response.status_code == 413
    assert _nothing_written()


def test_wrong_content_type_is_415(hook: Any) -> None:
    response = hook("generic", "dedup_key=x", content_type="text/plain")
    assert response.status_code == 415
    assert _nothing_written()


def test_over_the_rate_limit_is_429(hook: Any, monkeypatch: Any) -> None:
    # One clock minute throughout: the counter's window must not turn mid-test.
    from incidents.api import throttling

    minute = (time.time() // 60) * 60 + 1
    monkeypatch.setattr(throttling, "clock", lambda: minute)
    hook("generic", GENERIC)
    Integration.objects.update(rate_limit_per_minute=2)
    assert hook("generic", GENERIC).status_code == 202
    before = AlertDelivery.objects.count()
    response = hook("generic", GENERIC)
    assert response.status_code == 429
    assert "Retry-After" in response
    assert AlertDelivery.objects.count() == before


def test_incident_page_shows_each_payload_with_its_rule(
    hook: Any, admin_client: Client
) -> None:
    hook("alertmanager", ALERTMANAGER)
    hook("alertmanager", resolved(ALERTMANAGER))
    incident = Incident.objects.get()
    page = admin_client.get(f"/admin/incidents/incident/{incident.pk}/change/")
    html = page.content.decode()
    assert "new alert: opened an incident" in html
    assert "recovery recorded" in html
    assert "c3b1f2a9d4e5f607" in html  # the fingerprint, from the raw payload
    assert "&quot;runbook&quot;" in html  # payload text is escaped, not markup


def test_inspector_survives_pruned_deliveries(hook: Any) -> None:
    hook("generic", GENERIC)
    AlertDelivery.objects.update(received_at=timezone.now() - timedelta(days=31))
    assert alert_delivery_prune_task() == 1
    [item] = alert_inspector(incident=Incident.objects.get())
    assert item.delivery is None and item.rule.startswith("new alert")


def _firing(kind: str) -> dict[str, Any]:
    return {
        "alertmanager": ALERTMANAGER,
        "grafana": GRAFANA,
        "pagerduty": pagerduty(),
        "generic": GENERIC,
    }[kind]


def _resolved(kind: str) -> dict[str, Any]:
    if kind in ("alertmanager", "grafana"):
        return resolved(_firing(kind))
    if kind == "pagerduty":
        return pagerduty("resolve")
    return {**GENERIC, "status": "resolved"}


@pytest.mark.parametrize("kind", ["alertmanager", "grafana", "pagerduty", "generic"])
def test_each_sender_fires_repeats_resolves_and_refires_after_close(
    hook: Any, org: SimpleNamespace, kind: str
) -> None:
    assert hook(kind, _firing(kind)).status_code == 202
    first = Incident.objects.get()
    assert first.source == Incident.Source.ALERT

    assert hook(kind, _firing(kind)).status_code == 202
    assert Incident.objects.count() == 1
    assert Alert.objects.get().occurrences == 2

    assert hook(kind, _resolved(kind)).status_code == 202
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.recovered_at is not None

    services.incident_cancel(incident=first, by=org.agent, reason="Fixed upstream")
    assert hook(kind, _firing(kind)).status_code == 202
    second = Incident.objects.exclude(pk=first.pk).get()
    assert second.follows_up == first
    assert AlertDelivery.objects.count() == 4


@pytest.mark.parametrize(
    "body",
    [
        '{"dedup_key": "a\\u0000b", "title": "x"}',
        '{"dedup_key": "k", "title": "x", "labels": {"\\u0000": "v"}}',
        '{"dedup_key": "k", "title": "\\ud800 lone surrogate"}',
    ],
    ids=["nul-value", "nul-key", "lone-surrogate"],
)
def test_text_no_database_can_store_is_400(hook: Any, body: str) -> None:
    response = hook("generic", body)
    assert response.status_code == 400
    assert _nothing_written()

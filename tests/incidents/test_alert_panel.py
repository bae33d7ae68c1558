"""The alert as an agent reads it: the Alerts panel (console and API), the counted
timeline, the inspector's JSON, and what senders get back."""

from __future__ import annotations

import copy
import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from incidents.models import Alert, AlertDelivery, Incident, IncidentEvent, Integration
from incidents.services.alerts import AlertSignal, alert_ingest
from tests.incidents import test_api_alerts
from tests.incidents.test_api_alerts import (
    ALERTMANAGER,
    GRAFANA,
    PATHS,
    pagerduty,
    resolved,
)

pytestmark = pytest.mark.django_db

hook = test_api_alerts.hook  # the fixture: post(kind, body) with an integration


def _console(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _panel(client: Client, incident: Incident) -> str:
    response = client.get(f"/console/{incident.number}/alerts/")
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------- the panel
def test_panel_shows_the_alert_as_an_agent_reads_it(
    hook: Any, org: SimpleNamespace
) -> None:
    body = copy.deepcopy(ALERTMANAGER)
    body["alerts"][0]["annotations"]["runbook_url"] = "https://runbooks.example.com/l"
    hook("alertmanager", body)
    hook("alertmanager", body)
    incident = Incident.objects.get()
    html = _panel(_console(org.agent), incident)
    assert "High latency on web-1 (instance=web-1:9100, job=web, service=Email)" in html
    assert "alertmanager monitor" in html and "Firing" in html
    assert "<dt>Occurrences</dt><dd>2</dd>" in html
    assert 'class="chip-key">instance</span>=<span class="chip-value">web-1:9100' in (
        html
    )
    assert "p95 latency above 2 s for 10 minutes" in html  # the description
    assert '<a href="https://runbooks.example.com/l"' in html
    assert '<a href="http://prometheus.example.com:9090/graph?g0.expr=x"' in html
    # The inspector: the payload as formatted JSON, not a Python repr.
    assert "&quot;fingerprint&quot;: &quot;c3b1f2a9d4e5f607&quot;" in html
    assert "{&#x27;" not in html
    assert "c3b1f2a9d4e5f607" not in html.split("Alert inspector")[0]


def test_grafana_links_and_only_http_urls_become_links(
    hook: Any, org: SimpleNamespace
) -> None:
    body = copy.deepcopy(GRAFANA)
    body["alerts"][0]["silenceURL"] = "javascript:alert(1)"
    hook("grafana", body)
    html = _panel(_console(org.agent), Incident.objects.get())
    assert '<a href="http://grafana.example.com/d/abc"' in html
    assert '<a href="http://grafana.example.com/d/abc?viewPanel=2"' in html
    assert 'href="javascript:' not in html
    assert "<code>javascript:alert(1)</code> (not a web address)" in html


def test_pagerduty_links_and_images_are_links_never_inline(
    hook: Any, org: SimpleNamespace
) -> None:
    hook(
        "pagerduty",
        pagerduty(
            images=[{"src": "https://chart.example.com/x.png", "alt": "Chart"}],
            client="Nagios",
            client_url="https://nagios.example.com/host/db-1",
        ),
    )
    html = _panel(_console(org.agent), Incident.objects.get())
    assert '<a href="https://grafana.example.com/d/abc"' in html
    assert '<a href="https://chart.example.com/x.png"' in html
    assert '<a href="https://nagios.example.com/host/db-1"' in html
    assert "<img" not in html


def test_panel_is_staff_only(hook: Any, org: SimpleNamespace) -> None:
    hook("alertmanager", ALERTMANAGER)
    incident = Incident.objects.get()
    response = _console(org.requester).get(f"/console/{incident.number}/alerts/")
    assert response.status_code in (403, 404)


def test_api_detail_has_the_alerts_for_staff(hook: Any, org: SimpleNamespace) -> None:
    hook("alertmanager", ALERTMANAGER)
    hook("alertmanager", resolved(ALERTMANAGER))
    incident = Incident.objects.get()
    data = _console(org.agent).get(f"/api/v1/incidents/{incident.number}/").json()
    [alert] = data["alerts"]
    assert alert["state"] == "recovered"
    assert alert["integration"] == "alertmanager monitor"
    assert alert["occurrences"] == 2 and alert["severity"] == "critical"
    assert alert["labels"]["instance"] == "web-1:9100"
    assert alert["annotations"]["summary"] == "High latency on web-1"
    assert {"href": "http://prometheus.example.com:9090/graph?g0.expr=x",
            "text": "Source"} in alert["links"]  # fmt: skip


def test_acknowledged_state(hook: Any, org: SimpleNamespace) -> None:
    hook("pagerduty", pagerduty())
    hook("pagerduty", pagerduty("acknowledge"))
    assert Alert.objects.get().state == "acknowledged"
    assert "Acknowledged" in _panel(_console(org.agent), Incident.objects.get())


# ---------------------------------------------------------------- the timeline
def test_timeline_counts_repeats_in_one_line(hook: Any, org: SimpleNamespace) -> None:
    for _ in range(5):
        hook("alertmanager", ALERTMANAGER)
    incident = Incident.objects.get()
    html = _console(org.agent).get(f"/console/{incident.number}/").content.decode()
    timeline = html.split('id="timeline-h"')[1]
    assert re.search(
        r"High latency on web-1 \(instance=web-1:9100, job=web, service=Email\) "
        r"repeated 4 times, last at \d\d:\d\d",
        timeline,
    )
    assert timeline.count("repeated") == 1
    assert "new alert: opened an incident" in timeline
    assert "c3b1f2a9d4e5f607" not in timeline  # texts name the alert, not its key
    assert incident.events.filter(kind=IncidentEvent.Kind.ALERT_OCCURRENCE).count() == 1


def test_state_changes_stay_on_the_timeline(hook: Any, org: SimpleNamespace) -> None:
    hook("alertmanager", ALERTMANAGER)
    hook("alertmanager", resolved(ALERTMANAGER))
    hook("alertmanager", resolved(ALERTMANAGER))  # a repeated recovery
    hook("alertmanager", ALERTMANAGER)
    rules = [
        e.data["rule"]
        for e in Incident.objects.get().events.filter(
            kind=IncidentEvent.Kind.ALERT_OCCURRENCE
        )
    ]
    assert rules == [
        "new alert: opened an incident",
        "recovery recorded",
        "fired again after recovery: added to the open incident",
    ]


def _storm(incident_alert: Integration, key: str, n: int) -> None:
    signal = AlertSignal(dedup_key=key, status="firing", title=key)
    for _ in range(n):
        alert_ingest(integration=incident_alert, signals=[signal], payload={"k": key})


def test_ten_thousand_repeats_cost_the_page_nothing(
    org: SimpleNamespace, django_assert_num_queries: Any
) -> None:
    """An incident with 10,000 repeats renders its page and its Alerts panel with
    the same number of queries as one with a single occurrence."""
    from incidents.services.alerts import integration_create

    integration, _ = integration_create(
        name="storm", kind="generic", default_service=org.service
    )
    _storm(integration, "quiet", 1)
    _storm(integration, "storm", 10_000)
    quiet, storm = (Alert.objects.get(dedup_key=k).incident for k in ("quiet", "storm"))
    assert Alert.objects.get(dedup_key="storm").occurrences == 10_000
    client = _console(org.agent)

    def queries(incident: Incident) -> tuple[int, int]:
        counts = []
        for path in (
            f"/console/{incident.number}/",
            f"/console/{incident.number}/alerts/",
        ):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                assert client.get(path).status_code == 200
            counts.append(len(captured))
        return tuple(counts)

    queries(quiet)  # warm the caches the first page fills
    caches["fragments"].clear()  # both pages rendered, neither kept
    assert queries(storm) == queries(quiet)
    html = client.get(f"/console/{storm.number}/").content.decode()
    assert "repeated 9999 times" in html


# ---------------------------------------------------------------- what senders get
@pytest.mark.parametrize("kind", list(PATHS))
def test_get_on_an_intake_endpoint_is_405_with_allow(hook: Any, kind: str) -> None:
    response = Client().get(PATHS[kind])
    assert response.status_code == 405
    assert "POST" in response["Allow"]


@pytest.mark.parametrize("action", ["resolve", "acknowledge"])
def test_pagerduty_resolve_or_ack_without_dedup_key_is_400_and_writes_nothing(
    hook: Any, action: str
) -> None:
    hook("pagerduty", pagerduty())
    before = (AlertDelivery.objects.count(), Alert.objects.get().occurrences)
    event = pagerduty(action)
    del event["dedup_key"]
    response = hook("pagerduty", event)
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["message"]) == (
        "invalid event",
        "Event object is invalid",
    )
    assert any("dedup_key" in error for error in body["errors"])
    assert (AlertDelivery.objects.count(), Alert.objects.get().occurrences) == before
    assert Alert.objects.get().status == "firing"


def test_pagerduty_v2_enqueue_path_is_accepted(hook: Any) -> None:
    hook("pagerduty", pagerduty())  # makes the integration
    integration, token = hook.integrations["pagerduty"]
    response = Client().post(
        "/api/v1/alerts/pagerduty/v2/enqueue",
        json.dumps({**pagerduty("resolve"), "routing_key": token}),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "success"
    assert Alert.objects.get().status == "resolved"
    assert timezone.now() >= Alert.objects.get().recovered_at


def test_api_detail_shows_a_requester_no_alerts(
    hook: Any, org: SimpleNamespace
) -> None:
    hook("alertmanager", ALERTMANAGER)
    incident = Incident.objects.get()
    Incident.objects.filter(pk=incident.pk).update(requester=org.requester)
    response = _console(org.requester).get(f"/api/v1/incidents/{incident.number}/")
    assert response.status_code == 200
    assert response.json()["alerts"] == []

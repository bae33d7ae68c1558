"""What the fault suite's tests share: the organisation of the incident tests, a
monitor posting alerts over HTTP and people calling the API, each request on a
client (and so a database connection) of its own, ready to run in threads; and
the overdue incidents the process tests give the sweep, and how they count what
it did."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from incidents import services
from incidents.models import Category, Incident, IncidentEvent
from incidents.services.alert_placement import alerts_place_awaiting
from incidents.services.alerts import integration_create
from incidents.services.tokens import api_token_create
from tests.incidents.conftest import org  # noqa: F401 - the shared fixture

ALERTMANAGER_PATH = "/api/v1/alerts/alertmanager/"


def alertmanager(*alerts: tuple[str, str]) -> dict[str, Any]:
    """An Alertmanager webhook (version 4) carrying these (key, status) alerts."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": "firing" if any(s == "firing" for _, s in alerts) else "resolved",
        "receiver": "itsm",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "DiskFull", "instance": key},
                "annotations": {"summary": f"Disk full on {key}"},
                "startsAt": "2026-11-27T07:50:00Z",
                "fingerprint": key,
            }
            for key, status in alerts
        ],
    }


@pytest.fixture
def monitor(org: SimpleNamespace) -> Callable[..., Any]:  # noqa: F811
    """post(*(key, status)): one Alertmanager delivery from a monitor whose
    recoveries resolve incidents in work; returns the response."""
    _, token = integration_create(
        name="prometheus", kind="alertmanager", recovery="all_recovered"
    )

    def post(*alerts: tuple[str, str]) -> Any:
        response = Client().post(
            ALERTMANAGER_PATH,
            json.dumps(alertmanager(*alerts)),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        # And, in the same thread, what a worker does right after the commit:
        # threads that post at once are as many workers placing at once.
        alerts_place_awaiting()
        return response

    return post


@pytest.fixture
def api(org: SimpleNamespace) -> Callable[..., Any]:  # noqa: F811
    """call(who, method, path, body): a JSON request with that person's token
    (``who`` names a person of ``org``)."""
    people = ("agent", "upper_agent", "requester", "incident_manager")
    tokens = {
        who: api_token_create(user=getattr(org, who), name="faults")[1]
        for who in people
    }

    def call(who: str, method: str, path: str, body: dict | None = None) -> Any:
        send = getattr(Client(), method.lower())
        return send(
            path,
            json.dumps(body or {}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {tokens[who]}",
        )

    return call


def overdue_p1s(
    agent: Any, category: Category, count: int, *, logged_ago: timedelta
) -> list[Incident]:
    """P1s the agent logged ``logged_ago`` in the category (so its team): their
    response target (15 minutes) has passed, nobody took them."""
    logged = timezone.now() - logged_ago
    return [
        services.incident_log(
            by=agent,
            title=f"Checkout down in shop {n}",
            source="agent",
            category=category,
            impact="high",
            urgency="high",
            now=logged,
        )
        for n in range(count)
    ]


def events_per_incident(kind: str) -> Counter[int]:
    return Counter(
        IncidentEvent.objects.filter(kind=kind).values_list("incident_id", flat=True)
    )

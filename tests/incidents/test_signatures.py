"""The error signature that the recurrence rules of reviews and problems count by."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from incidents import services
from incidents.models import Incident
from incidents.selectors import recurring_incidents
from incidents.signatures import alert_signature
from tests.factories import make_category, make_incident, make_service
from tests.incidents.test_api_alerts import ALERTMANAGER, hook  # noqa: F401

pytestmark = pytest.mark.django_db


def test_classified_incident_is_signed_by_first_service_and_category() -> None:
    category = make_category()
    low, high = make_service(), make_service()
    incident = make_incident(category=category, services=[high, low])
    assert incident.signature == f"service:{low.pk}:category:{category.pk}"


def test_incident_with_neither_service_nor_category_has_no_signature() -> None:
    incident = make_incident()
    assert incident.signature == ""
    assert list(recurring_incidents("", since=incident.logged_at)) == []


def test_editing_category_or_services_signs_again(org: SimpleNamespace) -> None:
    service = make_service()
    incident = make_incident(services=[service])
    assert incident.signature == f"service:{service.pk}:category:-"
    other = make_category()
    services.incident_update(incident=incident, by=org.agent, category=other)
    incident.refresh_from_db()
    assert incident.signature == f"service:{service.pk}:category:{other.pk}"
    services.incident_update(incident=incident, by=org.agent, services=[])
    incident.refresh_from_db()
    assert incident.signature == f"service:-:category:{other.pk}"


def test_triage_signs_with_the_services_it_sets(org: SimpleNamespace) -> None:
    incident = make_incident()
    service = make_service()
    services.incident_triage(
        incident=incident,
        by=org.agent,
        category=org.category,
        impact="high",
        urgency="high",
        services=[service],
    )
    incident.refresh_from_db()
    assert incident.signature == f"service:{service.pk}:category:{org.category.pk}"


def test_alert_born_incident_is_signed_by_its_alert(hook: Any) -> None:  # noqa: F811
    response = hook("alertmanager", ALERTMANAGER)
    incident = Incident.objects.get()
    fingerprint = ALERTMANAGER["alerts"][0]["fingerprint"]
    assert fingerprint in incident.alerts.get().dedup_key
    assert incident.signature == alert_signature(
        response.integration.pk, incident.alerts.get().dedup_key
    )


def test_alert_signature_survives_reclassification(
    hook: Any,  # noqa: F811
    org: SimpleNamespace,
) -> None:
    hook("alertmanager", ALERTMANAGER)
    incident = Incident.objects.get()
    signed = incident.signature
    services.incident_update(incident=incident, by=org.agent, category=org.category)
    incident.refresh_from_db()
    assert incident.signature == signed


def test_recurring_incidents_counts_one_signature_within_the_window(
    org: SimpleNamespace,
) -> None:
    now = timezone.now()
    service, category = make_service(), make_category()
    old = make_incident(
        services=[service], category=category, now=now - timedelta(days=40)
    )
    recent = [
        make_incident(
            services=[service], category=category, now=now - timedelta(days=d)
        )
        for d in (20, 10, 1)
    ]
    make_incident(services=[make_service()], category=category, now=now)
    cancelled = make_incident(services=[service], category=category, now=now)
    services.incident_cancel(incident=cancelled, by=org.agent, reason="Not an incident")
    found = recurring_incidents(old.signature, since=now - timedelta(days=30))
    assert [i.pk for i in found] == [i.pk for i in recent]


def test_recurrence_check_is_a_range_of_its_index() -> None:
    incident = make_incident(services=[make_service()], category=make_category())
    query = recurring_incidents(incident.signature, since=incident.logged_at)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A handful of rows is cheaper to scan; priced out, the planner names
            # the index it can use.
            cursor.execute("SET LOCAL enable_seqscan = off")
    plan = query.explain()
    assert "incident_signature_logged" in plan

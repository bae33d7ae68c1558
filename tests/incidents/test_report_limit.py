"""A requester's reports are limited per hour in the service, so the limit holds
on every path a requester can log an incident through: the portal's form and the
API with their own token alike."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from incidents import services
from incidents.exceptions import ReportLimitReached
from incidents.models import Incident
from incidents.services import portal as portal_services
from incidents.services.tokens import api_token_create
from tests.incidents.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limit(settings: Any) -> int:
    settings.PORTAL_REPORTS_PER_HOUR = 3
    return 3


def _report(org: SimpleNamespace, title: str = "Printer jammed", **kwargs: Any) -> Any:
    return services.incident_report(
        by=org.requester,
        title=title,
        description="It beeps.",
        impact="low",
        urgency="low",
        **kwargs,
    )


def _api_report(token: str, title: str = "Printer jammed") -> Any:
    return Client().post(
        "/api/v1/incidents/",
        {"title": title, "impact": "low", "urgency": "low"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_limit_holds_on_the_api_with_a_requesters_token(
    org: SimpleNamespace, limit: int
) -> None:
    _, token = api_token_create(user=org.requester, name="script")
    assert [_api_report(token).status_code for _ in range(limit)] == [201] * limit
    response = _api_report(token, title="One too many")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "reports in the last hour" in response.json()["detail"]
    assert Incident.objects.count() == limit
    assert not Incident.objects.filter(title="One too many").exists()


def test_the_portal_and_the_api_count_against_one_limit(
    org: SimpleNamespace, limit: int
) -> None:
    _, token = api_token_create(user=org.requester, name="script")
    for _ in range(limit - 1):
        _report(org)
    assert _api_report(token).status_code == 201
    portal = Client()
    portal.force_login(org.requester)
    response = portal.post(
        "/portal/report/",
        {
            "title": "Through the form",
            "description": "Still jammed.",
            "impact": "low",
            "urgency": "low",
        },
    )
    assert response.status_code == 429
    assert b"Through the form" in response.content  # the text is kept
    assert Incident.objects.count() == limit


def test_the_window_slides_and_says_when_the_next_report_is_taken(
    org: SimpleNamespace, limit: int
) -> None:
    for minute in range(limit):
        _report(org, now=T0 + timedelta(minutes=10 * minute))
    with pytest.raises(ReportLimitReached) as refused:
        _report(org, now=T0 + timedelta(minutes=30))
    # The first report (at T0) leaves the hour at T0 + 60 min: 30 minutes on.
    assert refused.value.retry_after == 30 * 60
    _report(org, now=T0 + timedelta(minutes=60, seconds=1))
    assert Incident.objects.count() == limit + 1


def test_other_people_and_agents_are_not_held_back(
    org: SimpleNamespace, limit: int
) -> None:
    for _ in range(limit):
        _report(org)
    services.incident_report(
        by=org.other_requester,
        title="Mine",
        description="",
        impact="low",
        urgency="low",
    )
    # An agent logging on the requester's behalf is not the requester's report.
    services.incident_log(
        by=org.agent, title="Logged by phone", source="agent", requester=org.requester
    )
    assert Incident.objects.count() == limit + 2


def test_a_report_that_failed_does_not_count(
    org: SimpleNamespace, limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_files(*args: Any, **kwargs: Any) -> None:
        raise ValidationError({"attachments": "The disk is full."})

    for _ in range(limit - 1):
        _report(org)
    with monkeypatch.context() as patched:
        # Fails after the incident row was written: the whole report rolls back.
        patched.setattr(portal_services, "attachments_store", refuse_files)
        with pytest.raises(ValidationError):
            _report(org)
    _report(org)
    assert Incident.objects.count() == limit


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reports_sent_at_once_are_counted_one_after_the_other(
    org: SimpleNamespace, limit: int
) -> None:
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            _report(org)
            outcomes.append("logged")
        except ReportLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["logged"] * limit + ["refused"] * (8 - limit)
    assert Incident.objects.count() == limit

"""The status page's cache is forgotten when a major incident or a public update
changes, so the page does not wait out its cache lifetime."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from incidents import services
from tests.status.conftest import major

pytestmark = pytest.mark.django_db


def test_a_public_update_and_a_resolution_show_at_once(
    client: Client, desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        incident = major(desk)
    assert b"Mail is down" in client.get("/status").content  # cached from here on

    with django_capture_on_commit_callbacks(execute=True):
        services.incident_post_update(
            incident=incident, by=desk.agent, body="Failover started.", is_public=True
        )
    assert b"Failover started." in client.get("/status").content

    with django_capture_on_commit_callbacks(execute=True):
        services.incident_resolve(
            incident=incident,
            by=desk.agent,
            resolution_kind="workaround",
            resolution="Moved mail to the spare relay.",
            verification="Mail flows.",
        )
    current = client.get("/status.json").json()
    assert current["current"] == []


def test_a_minor_incident_leaves_the_cache_alone(
    desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        services.incident_log(
            by=desk.agent,
            title="Mouse broken",
            source="agent",
            impact="low",
            urgency="low",
        )
    assert not any("status_page" in repr(callback) for callback in callbacks)


@pytest.mark.usefixtures("cache_down")
def test_the_page_is_computed_when_the_cache_is_down(
    client: Client, desk: SimpleNamespace
) -> None:
    major(desk)
    for path in ("/status", "/status.json", "/status/feed.atom"):
        response = client.get(path)
        assert response.status_code == 200
        assert b"Mail is down" in response.content

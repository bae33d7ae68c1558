"""The cached page (and each rendering of it) is forgotten after every write that
changes what the public reads, so it shows at the next read; a cache that is
down costs a computation, never an error."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from incidents.status import services as status
from tests.status.conftest import major, plan, post_update, publish, say

pytestmark = pytest.mark.django_db

PATHS = ["/status", "/status.json", "/api/v2/summary.json", "/status/feed.atom"]


@pytest.fixture(autouse=True)
def cached(settings: Any) -> None:
    settings.STATUS_CACHE_SECONDS = 30


def _everywhere(client: Client, text: str) -> bool:
    return all(text in client.get(path).content.decode() for path in PATHS)


def test_publishing_messages_and_edits_show_at_once(
    client: Client, desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    incident = major(desk)
    assert not _everywhere(client, "Email is unavailable")  # cached from here on
    with django_capture_on_commit_callbacks(execute=True):
        entry = publish(desk, incident)
    assert _everywhere(client, "Email is unavailable")
    with django_capture_on_commit_callbacks(execute=True):
        say(desk, entry, "identified", "A relay is full.")
    assert _everywhere(client, "A relay is full.")
    page = client.get(f"/status/incidents/{entry.public_id}")  # cached too
    with django_capture_on_commit_callbacks(execute=True):
        post_update(desk, incident, "Failover started.")  # through the hook
    assert _everywhere(client, "Failover started.")
    with django_capture_on_commit_callbacks(execute=True):
        status.status_entry_edit_title(
            entry=entry, by=desk.manager, title="Mail is slow"
        )
    assert _everywhere(client, "Mail is slow")
    page = client.get(f"/status/incidents/{entry.public_id}")
    assert "Mail is slow" in page.content.decode()


def test_maintenance_shows_at_once(
    client: Client, desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    assert not _everywhere(client, "Kernel upgrade")
    with django_capture_on_commit_callbacks(execute=True):
        window = plan(
            desk, starts_at=timezone.now() + timedelta(days=1), title="Kernel upgrade"
        )
    assert _everywhere(client, "Kernel upgrade")
    with django_capture_on_commit_callbacks(execute=True):
        status.maintenance_window_cancel(window=window, by=desk.manager)
    assert not any("Kernel upgrade" in client.get(p).content.decode() for p in PATHS)


def test_internal_incident_writes_leave_the_cache_alone(
    client: Client,
    desk: SimpleNamespace,
    django_capture_on_commit_callbacks: Any,
    django_assert_num_queries: Any,
) -> None:
    client.get("/status")
    with django_capture_on_commit_callbacks(execute=True):
        incident = major(desk)  # proposed, nothing public
        post_update(desk, incident, "Internal note", public=False)
    with django_assert_num_queries(0):
        client.get("/status")


@pytest.mark.usefixtures("cache_down")
def test_the_pages_are_computed_when_the_cache_is_down(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = publish(desk, major(desk))
    for path in [*PATHS, f"/status/incidents/{entry.public_id}"]:
        response = client.get(path)
        assert response.status_code == 200
        assert b"Email is unavailable" in response.content

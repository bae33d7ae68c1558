"""The notification outbox: rows written with their event, delivered once, retried
with backoff, and never lost while the broker is down."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import mail

from incidents import services
from incidents.models import Notification, WebhookEndpoint
from incidents.services.notifications import MAX_ATTEMPTS, notification_sweep
from incidents.sla.sweep import sla_sweep
from itsm.celery import app as celery_app
from tests.incidents.conftest import T0

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)


@pytest.fixture
def p1(org: SimpleNamespace) -> Any:
    org.team.lead = org.incident_manager
    org.team.save()
    org.incident_manager.email = "imani@example.com"
    org.incident_manager.save()
    return services.incident_log(
        by=org.agent,
        title="Checkout down",
        source="agent",
        category=org.category,
        impact="high",
        urgency="high",
        now=T0,
    )


def test_breach_notifies_incident_managers_once(p1: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sla_sweep(now=T0 + 16 * MIN)
    sla_sweep(now=T0 + 17 * MIN)
    breach = Notification.objects.filter(event="sla_breached")
    assert list(breach.values_list("recipient", flat=True)) == ["imani@example.com"]
    assert notification_sweep(now=T0 + 18 * MIN) >= 1
    assert notification_sweep(now=T0 + 19 * MIN) == 0
    subjects = [m.subject for m in mail.outbox]
    assert subjects.count(f"{p1.number} (P1) missed its response target") == 1
    assert breach.get().status == Notification.Status.SENT


def test_notifications_wait_out_a_dead_broker_and_are_delivered_once(
    p1: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(
        celery_app.conf,
        "broker_transport_options",
        settings.REDIS_BROKER_TRANSPORT_OPTIONS,
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sla_sweep(now=T0 + 16 * MIN)  # breach + unassigned major: notifications
    assert callbacks, "delivery is asked for after commit"
    pending = Notification.objects.filter(status=Notification.Status.PENDING)
    assert pending.count() >= 2  # the dead broker delivered nothing, lost nothing
    assert mail.outbox == []

    monkeypatch.undo()  # the broker is back; beat runs the notification sweep
    sent = notification_sweep(now=T0 + 17 * MIN)
    assert sent == Notification.objects.count() == len(mail.outbox)
    assert notification_sweep(now=T0 + 18 * MIN) == 0
    assert len(mail.outbox) == sent


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {key.lower(): value for key, value in self.headers.items()}
        type(self).received.append((headers, body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_server() -> Any:
    _Hook.received, _Hook.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_webhook_is_signed_with_hmac_sha256(p1: Any, webhook_server: Any) -> None:
    port = webhook_server.server_address[1]
    hook = WebhookEndpoint.objects.create(
        name="chatops", url=f"http://127.0.0.1:{port}/itsm", events=["sla_breached"]
    )
    sla_sweep(now=T0 + 16 * MIN)
    assert Notification.objects.filter(channel="webhook").count() == 1  # breach only
    notification_sweep(now=T0 + 17 * MIN)
    [(headers, body)] = _Hook.received
    expected = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-itsm-signature"] == f"sha256={expected}"
    assert headers["x-itsm-event"] == "sla_breached"
    assert json.loads(body)["incident"]["number"] == p1.number


def test_failing_webhook_is_retried_with_backoff_then_given_up(
    p1: Any, webhook_server: Any
) -> None:
    _Hook.status = 500
    port = webhook_server.server_address[1]
    WebhookEndpoint.objects.create(name="down", url=f"http://127.0.0.1:{port}/")
    sla_sweep(now=T0 + 16 * MIN)
    row = Notification.objects.filter(channel="webhook", event="sla_breached").get()
    now = T0 + 17 * MIN
    notification_sweep(now=now)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == now + 2 * MIN
    assert notification_sweep(now=now + MIN) == 0  # not due yet: no attempt
    for _ in range(MAX_ATTEMPTS):
        row.refresh_from_db()
        notification_sweep(now=row.next_attempt_at)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert "500" in row.last_error


def test_a_worker_that_died_while_sending_is_retried(p1: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sla_sweep(now=T0 + 16 * MIN)
    row = Notification.objects.filter(event="sla_breached").first()
    Notification.objects.filter(pk=row.pk).update(status="sending", claimed_at=T0)
    notification_sweep(now=T0 + 30 * MIN)
    row.refresh_from_db()
    assert row.status == "sent"

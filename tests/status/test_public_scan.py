"""Nothing internal ever reaches the public: every public response (the page,
entry pages, our JSON, the Statuspage-shaped JSON, the Atom feed, the
subscription pages, emails and webhook payloads to subscribers) is scanned for
every internal field of the demo data: incident numbers, priorities, internal
titles and descriptions, notes and internal updates, internal service names,
the names and addresses of the people, alert text, maintenance reasons."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

from incidents import services
from incidents.models import (
    Alert,
    Category,
    ComponentState,
    Incident,
    IncidentNote,
    MaintenanceWindow,
    Notification,
    Service,
    StakeholderUpdate,
    StatusEntry,
    StatusMessage,
)
from incidents.services.alerts import AlertSignal, alert_ingest, integration_create
from incidents.services.notifications import notification_sweep
from incidents.status import services as status
from incidents.status.statuspage import ENDPOINTS
from incidents.status.tasks import status_message_fanout_task

pytestmark = pytest.mark.django_db

ALERT = AlertSignal(
    dedup_key="email-api-5xx-ratio",
    status="firing",
    title="Email API error rate 20%",
    description='rate(http_requests_total{job="email-api",code=~"5.."}[5m]) > 0.2',
    severity="critical",
    service="Email",
    labels={"alertname": "EmailApiErrors", "instance": "mx-7.internal:9100"},
)
URL = re.compile(r"https?://\S+")
PRIORITY = re.compile(r"\bP[1-4]\b")
CONFIRM = re.compile(r"https?://\S+/status/subscribe/confirm/\S+")


def _demo(django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """The demo data, with an alert-born P1 published under a public title, an
    internal update, and two subscribers who received everything."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--password", "a-demo-password-42", verbosity=0)
    manager = get_user_model().objects.get(username="incident_manager")
    agent = get_user_model().objects.get(username="agent")
    integration, _ = integration_create(
        name="Prometheus",
        kind="alertmanager",
        default_impact="high",
        default_category=Category.objects.get(name="Software"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        alert_ingest(integration=integration, signals=[ALERT], payload={"raw": True})
    alerted = Alert.objects.get(dedup_key=ALERT.dedup_key).incident
    email = Service.objects.get(name="Email")
    entry = status.status_entry_publish(
        incident=alerted,
        by=manager,
        title="Email delays",
        components={email.pk: ComponentState.PARTIAL},
        message="Some emails arrive late.",
    )
    checkout = StatusEntry.objects.get(title="Errors at checkout").incident
    services.incident_post_update(
        incident=checkout,
        by=agent,
        body="Internal: lb-3 backend pool drained by Imani.",
        is_public=False,
    )
    client = Client()
    client.post("/status/subscribe", {"email": "pat@example.net"})
    client.post(
        "/status/subscribe",
        {"email": "ops@example.net", "webhook_url": "https://hooks.example.net/x"},
    )
    notification_sweep()
    for confirmation in list(mail.outbox):
        for link in CONFIRM.findall(confirmation.body):
            client.post(urlsplit(link).path)
    status.status_entry_post(
        entry=entry, by=manager, stage="identified", body="A mail relay is overloaded."
    )
    for pk in StatusMessage.objects.values_list("pk", flat=True):
        status_message_fanout_task(pk)
    notification_sweep()
    return {"client": client, "entry": entry}


def _public_texts(client: Client) -> dict[str, str]:
    texts = {}
    paths = ["/status", "/status/", "/status.json", "/status/feed.atom"]
    paths += [f"/api/v2/{endpoint}" for endpoint in ENDPOINTS]
    paths += [
        f"/status/incidents/{public_id}"
        for public_id in StatusEntry.objects.filter(status="published").values_list(
            "public_id", flat=True
        )
    ]
    paths += ["/status/subscribe"]
    for path in paths:
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        texts[path] = response.content.decode()
    for n, row in enumerate(Notification.objects.filter(event__startswith="status_")):
        texts[f"outbox {n} ({row.event}, {row.channel})"] = "\n".join(
            [row.subject, row.body, json.dumps(row.payload)]
        )
    for n, message in enumerate(mail.outbox):
        if message.to[0].endswith("@example.net"):  # the subscribers' mail
            headers = json.dumps(message.extra_headers)
            texts[f"mail {n}"] = "\n".join([message.subject, message.body, headers])
            for link in URL.findall(message.body):
                if "/status/" in link:
                    texts[link] = client.get(urlsplit(link).path).content.decode()
    return texts


def _internal_fields() -> list[str]:
    fields: list[str] = []
    for incident in Incident.objects.all():
        fields += [incident.number, incident.title, incident.description]
        fields += [incident.resolution, incident.verification, incident.contact]
    fields += list(IncidentNote.objects.values_list("body", flat=True))
    fields += list(
        StakeholderUpdate.objects.filter(is_public=False).values_list("body", flat=True)
    )
    fields += list(
        Service.objects.filter(is_public=False).values_list("name", flat=True)
    )
    for user in get_user_model().objects.all():
        fields += [user.get_full_name(), user.email, user.first_name, user.last_name]
    for alert in Alert.objects.all():
        fields += [alert.title, alert.dedup_key]
    fields += [ALERT.description, *ALERT.labels.values()]
    fields += list(MaintenanceWindow.objects.values_list("reason", flat=True))
    return sorted({f.strip() for f in fields if f and f.strip()})


def test_no_public_response_shows_an_internal_field(
    django_capture_on_commit_callbacks: Any,
) -> None:
    demo = _demo(django_capture_on_commit_callbacks)
    texts = _public_texts(demo["client"])
    internal = _internal_fields()
    # The scan has something to find: the demo's internal words exist, and the
    # public words it must show do appear.
    assert "Checkout returns 502 for some customers" in internal
    assert "Email API error rate 20%" in internal and "Payroll" in internal
    everything = "\n".join(texts.values())
    for public in ["Errors at checkout", "Email delays", "A mail relay is overloaded."]:
        assert public in everything
    assert any(name.startswith("mail") for name in texts), "subscribers got mail"
    assert any("webhook" in name for name in texts), "and webhook payloads"
    leaks = [
        (where, field)
        for where, text in texts.items()
        for field in internal
        if field in text
    ]
    assert leaks == []
    usernames = get_user_model().objects.values_list("username", flat=True)
    for where, text in texts.items():
        for username in usernames:
            assert not re.search(rf"\b{re.escape(username)}\b", text), (where, username)
        without_links = URL.sub("", text)
        assert not PRIORITY.search(without_links), (
            where,
            PRIORITY.search(without_links),
        )
        assert "INC-" not in text, where

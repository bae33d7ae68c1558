"""Subscribers: email with double opt-in, one-click unsubscribe, signed webhooks;
each published message reaches every confirmed subscriber once, through the
outbox, in background batches; rate limits, and no way to tell whether an
address is subscribed."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import (
    ComponentState,
    Notification,
    StatusMessage,
    StatusSubscriber,
)
from incidents.services.notifications import (
    STALE_CLAIM,
    notification_deliver,
    notification_sweep,
)
from incidents.status import services as status
from incidents.status.tasks import status_message_fanout_task
from tests.incidents.test_notifications import _Hook, webhook_server  # noqa: F401
from tests.status.conftest import major, publish, say

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://\S+/status/(?:subscribe/confirm|unsubscribe)/\S+")


def _subscribe(client: Client, email: str, **data: Any) -> Any:
    return client.post("/status/subscribe", {"email": email, **data})


def _link(message: Any) -> str:
    [url] = LINK.findall(message.body)
    return urlsplit(url).path


def _confirm(client: Client, email: str, **data: Any) -> StatusSubscriber:
    """Subscribe, receive the confirmation, follow it."""
    assert _subscribe(client, email, **data).status_code == 200
    notification_sweep()
    confirmation = [m for m in mail.outbox if m.to == [email]][-1]
    assert client.post(_link(confirmation)).status_code == 200
    return StatusSubscriber.objects.get(email=email)


def _fan_out_and_deliver() -> None:
    for pk in StatusMessage.objects.order_by("created_at", "id").values_list(
        "pk", flat=True
    ):
        status_message_fanout_task(pk)
    notification_sweep()


def _mail_to(address: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [address]]


# ---------------------------------------------------------------- double opt-in
def test_subscribing_sends_a_confirmation_and_stores_nothing(client: Client) -> None:
    response = _subscribe(client, "Pat@Example.com")
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert not StatusSubscriber.objects.exists()
    assert notification_sweep() == 1
    [confirmation] = mail.outbox
    assert confirmation.to == ["pat@example.com"]
    assert "/status/subscribe/confirm/" in confirmation.body


def test_following_the_link_and_pressing_the_button_subscribes(
    client: Client, desk: SimpleNamespace
) -> None:
    _subscribe(client, "pat@example.com", components=[desk.web.pk])
    notification_sweep()
    link = _link(mail.outbox[0])
    page = client.get(link)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and "Confirm subscription" in page.content.decode()
    assert not StatusSubscriber.objects.exists()
    response = client.post(link)
    assert (
        response.status_code == 200
        and "You are subscribed" in response.content.decode()
    )
    subscriber = StatusSubscriber.objects.get()
    assert (subscriber.kind, subscriber.email) == ("email", "pat@example.com")
    assert list(subscriber.components.all()) == [desk.web]
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "no-referrer"
    # Following it again changes nothing.
    assert client.post(link).status_code == 200
    assert StatusSubscriber.objects.count() == 1


def test_a_confirmation_link_expires_after_three_days(client: Client) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _subscribe(client, "pat@example.com")
        notification_sweep()
        link = _link(mail.outbox[0])
        traveller.shift(timedelta(days=3, minutes=1))
        response = client.post(link)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not StatusSubscriber.objects.exists()


def test_a_forged_link_is_refused(client: Client) -> None:
    forged = "/status/subscribe/confirm/eyJlIjoieEB4LmNvbSJ9:1abc:forged"
    assert client.post(forged).status_code == 400
    assert client.post("/status/unsubscribe/123:forged").status_code == 400
    assert not StatusSubscriber.objects.exists()


def test_a_bad_address_is_a_form_error(client: Client) -> None:
    response = _subscribe(client, "not-an-address")
    assert response.status_code == 400
    assert "valid email" in response.content.decode()
    assert not Notification.objects.exists()


# ---------------------------------------------------------------- no enumeration
def _page_without(response: Any, address: str) -> str:
    """The page, with the address it repeats and its CSRF token taken out."""
    page = response.content.decode().replace(address, "ADDRESS")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_the_answer_is_the_same_whether_the_address_is_subscribed_or_not(
    client: Client,
) -> None:
    _confirm(client, "known@example.com")
    mail.outbox.clear()
    known = _subscribe(client, "known@example.com")
    unknown = _subscribe(client, "unknown@example.com")
    assert known.status_code == unknown.status_code == 200
    assert _page_without(known, "known@example.com") == _page_without(
        unknown, "unknown@example.com"
    )
    notification_sweep()
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["known@example.com"] == subjects["unknown@example.com"]


# ---------------------------------------------------------------- rate limits
def test_subscribing_is_limited_per_address(client: Client, settings: Any) -> None:
    settings.STATUS_SUBSCRIBE_PER_HOUR_ADDRESS = 2
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        codes = [_subscribe(client, "pat@example.com").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert _subscribe(client, "other@example.com").status_code == 200
        traveller.shift(timedelta(hours=1))
        assert _subscribe(client, "pat@example.com").status_code == 200
    assert Notification.objects.filter(recipient="pat@example.com").count() == 3


def test_subscribing_is_limited_per_client(client: Client, settings: Any) -> None:
    settings.STATUS_SUBSCRIBE_PER_HOUR_CLIENT = 3
    codes = [
        _subscribe(client, f"p{n}@example.com", REMOTE_ADDR="203.0.113.7").status_code
        for n in range(4)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    other = Client(REMOTE_ADDR="203.0.113.8")
    assert _subscribe(other, "p9@example.com").status_code == 200


# ---------------------------------------------------------------- messages
def test_each_message_reaches_each_subscriber_once_with_an_unsubscribe_link(
    client: Client, desk: SimpleNamespace
) -> None:
    _confirm(client, "pat@example.com")
    mail.outbox.clear()
    entry = publish(desk, major(desk))
    say(desk, entry, "identified", "A relay is full.")
    _fan_out_and_deliver()
    _fan_out_and_deliver()  # again: nothing more
    received = _mail_to("pat@example.com")
    assert [m.subject for m in received] == [
        "[Service status] Email is unavailable: Investigating",
        "[Service status] Email is unavailable: Identified",
    ]
    first = received[0]
    unsubscribe = LINK.findall(first.body)[0]
    assert first.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert first.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "We are looking into problems with email." in first.body
    assert "Email (Major outage)" in first.body


def test_one_click_unsubscribe_stops_the_messages(
    client: Client, desk: SimpleNamespace
) -> None:
    _confirm(client, "pat@example.com")
    entry = publish(desk, major(desk))
    _fan_out_and_deliver()
    path = urlsplit(LINK.findall(_mail_to("pat@example.com")[-1].body)[0]).path
    # Opening the link only shows the button.
    assert "Unsubscribe" in client.get(path).content.decode()
    assert StatusSubscriber.objects.exists()
    # What a mail client sends for List-Unsubscribe-Post (RFC 8058): no CSRF token.
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not StatusSubscriber.objects.exists()
    assert mail_client.post(path).status_code == 200  # twice: the same
    mail.outbox.clear()
    say(desk, entry, "identified", "A relay is full.")
    _fan_out_and_deliver()
    assert mail.outbox == []


def test_subscribers_of_some_components_hear_only_of_those(
    client: Client, desk: SimpleNamespace
) -> None:
    _confirm(client, "all@example.com")
    _confirm(client, "web@example.com", components=[desk.web.pk])
    mail.outbox.clear()
    publish(desk, major(desk))  # on Email
    publish(
        desk,
        major(desk, title="Web"),
        title="Website slow",
        states={desk.web: ComponentState.DEGRADED},
    )
    _fan_out_and_deliver()
    assert len(_mail_to("all@example.com")) == 2
    assert [m.subject for m in _mail_to("web@example.com")] == [
        "[Service status] Website slow: Investigating"
    ]


def test_publishing_writes_no_outbox_rows_whatever_the_number_of_subscribers(
    desk: SimpleNamespace,
) -> None:
    """The fan-out is background work: the publishing request costs the same
    with 1 or 60 subscribers (checked by counting its queries)."""
    counts = []
    # The manager's permissions, read once into the shared cache before either.
    type(desk.manager).objects.get(pk=desk.manager.pk).get_all_permissions()
    for n, subscribers in enumerate([1, 60]):
        StatusSubscriber.objects.bulk_create(
            StatusSubscriber(
                kind="email", email=f"s{n}-{i}@example.com", confirmed_at=timezone.now()
            )
            for i in range(subscribers)
        )
        incident = major(desk, title=f"Case {n}")
        desk.manager = type(desk.manager).objects.get(
            pk=desk.manager.pk
        )  # no perms cached
        with CaptureQueriesContext(connection) as queries:
            publish(desk, incident)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert not Notification.objects.filter(event="status_message").exists()


def test_once_per_subscriber_and_message_through_a_killed_worker_and_time_travel(
    client: Client,
    desk: SimpleNamespace,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five subscribers, batches of two. The first fan-out worker is killed in
    its second batch (that batch's transaction never commits); a delivering
    worker is killed after claiming a row, before sending it. Later (time
    travel) the sweeps finish the work: every subscriber has exactly one email
    of the message."""
    settings.STATUS_FANOUT_BATCH = 2
    addresses = [f"s{n}@example.com" for n in range(5)]
    for address in addresses:
        _confirm(client, address)
    mail.outbox.clear()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        entry = publish(desk, major(desk))
        [message] = entry.messages.all()

        class Killed(BaseException):
            """The worker process dies here."""

        calls = {"n": 0}
        real_rows = status._rows

        def dies_in_the_second_batch(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:
                raise Killed
            return real_rows(*args, **kwargs)

        monkeypatch.setattr(status, "_rows", dies_in_the_second_batch)
        with pytest.raises(Killed):
            status_message_fanout_task(message.pk)
        monkeypatch.undo()
        written = Notification.objects.filter(event="status_message")
        assert written.count() == 2  # the first batch committed, the second not
        message.refresh_from_db()
        assert message.fanout_done_at is None

        # A worker claims the first row and dies before it sends.
        first = written.order_by("pk").first()
        monkeypatch.setattr(
            "incidents.services.notifications._send",
            lambda notification: (_ for _ in ()).throw(Killed()),
        )
        with pytest.raises(Killed):
            notification_deliver(pk=first.pk)
        monkeypatch.undo()
        first.refresh_from_db()
        assert first.status == Notification.Status.SENDING

        traveller.shift(STALE_CLAIM + timedelta(minutes=1))
        assert status.status_fanout_sweep() == 1  # beat's fan-out sweep
        assert status.status_fanout_sweep() == 0
        notification_sweep()  # beat's outbox sweep: the stale claim too
        notification_sweep()
        status_message_fanout_task(message.pk)  # a late duplicate task: nothing
    assert written.count() == 5
    for address in addresses:
        assert [m.subject for m in _mail_to(address)] == [
            "[Service status] Email is unavailable: Investigating"
        ], address
    assert set(written.values_list("status", flat=True)) == {"sent"}


# ---------------------------------------------------------------- webhooks
def test_a_webhook_subscriber_gets_signed_statuspage_payloads(
    client: Client,
    desk: SimpleNamespace,
    webhook_server: Any,  # noqa: F811
) -> None:
    url = f"http://127.0.0.1:{webhook_server.server_address[1]}/hook"
    assert _subscribe(client, "ops@example.com", webhook_url=url).status_code == 200
    notification_sweep()
    response = client.post(_link(mail.outbox[0]))
    secret = re.search(
        r'<code class="secret">([^<]+)</code>', response.content.decode()
    )
    assert secret, response.content.decode()
    subscriber = StatusSubscriber.objects.get()
    assert (subscriber.kind, subscriber.webhook_url) == ("webhook", url)
    mail.outbox.clear()
    entry = publish(desk, major(desk))
    _fan_out_and_deliver()
    [(headers, body)] = _Hook.received
    expected = hmac.new(secret.group(1).encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-itsm-signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["incident"]["id"] == entry.public_id
    assert payload["incident"]["incident_updates"][0]["status"] == "investigating"
    assert payload["page"]["status_indicator"] == "critical"
    assert "/status/unsubscribe/" in payload["meta"]["unsubscribe"]
    # A webhook subscriber's address only confirmed it: no emails of messages.
    assert _mail_to("ops@example.com") == []


def test_webhooks_to_this_machine_or_private_networks_are_refused(
    client: Client, desk: SimpleNamespace, settings: Any
) -> None:
    settings.STATUS_WEBHOOKS_ALLOW_PRIVATE = False
    for url in ["http://127.0.0.1:6379/", "http://10.0.0.5/hook", "http://[::1]/x"]:
        response = _subscribe(client, "ops@example.com", webhook_url=url)
        assert response.status_code == 400, url
        assert "public internet addresses" in response.content.decode()
    assert not Notification.objects.exists()


def test_a_webhook_turned_private_is_not_called(
    desk: SimpleNamespace,
    settings: Any,
    webhook_server: Any,  # noqa: F811
) -> None:
    url = f"http://127.0.0.1:{webhook_server.server_address[1]}/hook"
    StatusSubscriber.objects.create(
        kind="webhook",
        email="ops@example.com",
        webhook_url=url,
        confirmed_at=timezone.now(),
    )
    publish(desk, major(desk))
    settings.STATUS_WEBHOOKS_ALLOW_PRIVATE = False
    _fan_out_and_deliver()
    assert _Hook.received == []
    row = Notification.objects.get(event="status_message")
    assert "public internet addresses" in row.last_error

"""Staff notifications people can act on: emails rendered from templates (plain
text and HTML) with the incident's facts, what happened, what to do and a link;
times in each reader's time zone; the same events in an in-app list under the
bell; and per-person choices of which events come by email."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from incidents.models import InAppNotification, Notification, Profile
from incidents.roles import Role
from incidents.services.inbox import profile_update
from incidents.services.notifications import EVENT_LABELS, notification_sweep
from incidents.sla.sweep import sla_sweep
from tests.factories import make_user
from tests.incidents.conftest import T0, log_p1, p1_in_work

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.fixture
def mailbox(settings: Any) -> list[Any]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://itsm.example.com"
    return mail.outbox


def _breach(org: SimpleNamespace) -> Any:
    """A P1 nobody took: at +16 min it has missed its response target and waited
    15 minutes for an assignee."""
    incident = log_p1(org)
    incident.title = "Checkout <b>down</b> & payments"
    incident.save(update_fields=["title"])
    sla_sweep(now=T0 + 16 * MIN)
    notification_sweep(now=T0 + 17 * MIN)
    return incident


def _mail_to(outbox: list[Any], address: str, event_words: str) -> Any:
    [message] = [m for m in outbox if address in m.to and event_words in m.subject]
    return message


def test_a_breach_email_says_what_happened_what_to_do_and_links_the_incident(
    org: SimpleNamespace, mailbox: list[Any]
) -> None:
    incident = _breach(org)
    message = _mail_to(mailbox, org.incident_manager.email, "missed")
    assert message.subject == f"{incident.number} (P1) missed its response target"
    link = f"https://itsm.example.com/console/{incident.number}/"
    text = message.body
    for expected in (
        incident.number,
        "Checkout <b>down</b> & payments",  # plain text: as typed
        "P1",
        "What happened",
        "missed its response target, which was due at Mon 2 Mar 2026, 09:15 UTC",
        "What to do",
        "make sure someone is working on it",
        f"Open the incident: {link}",
    ):
        assert expected in text
    assert "key:" not in text and not ISO.search(text)
    [(html, kind)] = message.alternatives
    assert kind == "text/html"
    assert f'<a href="{link}">' in html
    assert "Checkout &lt;b&gt;down&lt;/b&gt; &amp; payments" in html  # escaped
    assert "<b>down</b>" not in html
    assert "What to do" in html


def test_times_are_in_each_readers_time_zone_in_one_format(
    org: SimpleNamespace, mailbox: list[Any]
) -> None:
    other = make_user(
        role=Role.INCIDENT_MANAGER, username="kai", email="kai@example.com"
    )
    profile_update(user=other, time_zone="Asia/Tokyo", email_events=EVENT_LABELS)
    incident = p1_in_work(org)  # the agent owns it: the warning goes to them
    profile_update(user=org.agent, time_zone="Europe/Berlin", email_events=EVENT_LABELS)
    sla_sweep(now=incident.resolve_warn_at)
    notification_sweep(now=incident.resolve_warn_at)
    warning = _mail_to(mailbox, org.agent.email, "will miss")
    due = incident.resolve_due_at.astimezone(Profile(time_zone="Europe/Berlin").zone)
    assert warning.subject == (
        f"{incident.number} (P1) will miss its resolution target at "
        f"{due:%a} {due.day} {due:%b %Y, %H:%M} CET"
    )
    assert not ISO.search(warning.subject) and "." not in warning.subject.split()[-2]
    # Someone in Tokyo reads the logging time of the same incident in JST.
    sla_sweep(now=incident.resolve_due_at)
    notification_sweep(now=incident.resolve_due_at)
    tokyo = _mail_to(mailbox, "kai@example.com", "missed")
    assert "Times are in Asia/Tokyo." in tokyo.body
    assert "JST" in tokyo.body and "UTC" not in tokyo.body


def test_everyone_concerned_gets_an_in_app_notification_even_without_an_address(
    org: SimpleNamespace, mailbox: list[Any]
) -> None:
    no_mail = make_user(role=Role.INCIDENT_MANAGER, username="nomail", email="")
    incident = _breach(org)
    mine = InAppNotification.objects.filter(user=no_mail)
    assert sorted(mine.values_list("event", flat=True)) == [
        "sla_breached",
        "unassigned_major",
    ]
    assert all(n.incident_id == incident.pk for n in mine)
    assert not [m for m in mailbox if not m.to[0]]
    # The sweep's escalation also tells the tier-2 team that now has it (sam).
    assert set(InAppNotification.objects.values_list("user__username", flat=True)) == {
        "imani",
        "nomail",
        "sam",
    }
    assert set(
        InAppNotification.objects.filter(user__username="sam").values_list(
            "event", flat=True
        )
    ) == {"escalated"}


def test_an_event_turned_off_by_email_still_reaches_the_list(
    org: SimpleNamespace, mailbox: list[Any]
) -> None:
    profile_update(
        user=org.incident_manager, time_zone="", email_events=["sla_breached"]
    )
    _breach(org)
    to_imani = [m.subject for m in mailbox if org.incident_manager.email in m.to]
    assert len(to_imani) == 1 and "missed" in to_imani[0]
    assert not Notification.objects.filter(
        recipient=org.incident_manager.email, event="unassigned_major"
    ).exists()
    assert InAppNotification.objects.filter(
        user=org.incident_manager, event="unassigned_major"
    ).exists()


@pytest.fixture
def imani(org: SimpleNamespace, mailbox: list[Any]) -> Client:
    _breach(org)
    client = Client()
    client.force_login(org.incident_manager)
    return client


def test_the_bell_counts_unread_in_one_query_beyond_the_sign_in(
    imani: Client, django_assert_num_queries: Any
) -> None:
    imani.get("/console/notifications/bell/")  # warm: permissions cached per user
    # The user and one COUNT (the session and the permissions: from the cache).
    with django_assert_num_queries(2):
        response = imani.get("/console/notifications/bell/")
    assert response.status_code == 200
    assert b'<span class="bell-count">2<' in response.content


def test_console_pages_carry_the_bell_without_a_query_for_it(
    imani: Client,
) -> None:
    page = imani.get("/console/").content.decode()
    assert 'hx-get="/console/notifications/bell/"' in page
    assert 'href="/console/notifications/"' in page


def test_the_list_shows_ones_own_and_marks_read(
    imani: Client, org: SimpleNamespace
) -> None:
    theirs = make_user(role=Role.INCIDENT_MANAGER, username="zed")
    foreign = InAppNotification.objects.create(
        user=theirs,
        incident=InAppNotification.objects.first().incident,
        event="sla_breached",
        subject="Someone else's secret",
        created_at=T0,
    )
    page = imani.get("/console/notifications/").content.decode()
    assert "2 unread." in page and "missed its response target" in page
    assert "Someone else&#x27;s secret" not in page and "secret" not in page
    # Another person's notification: 404, and it stays unread.
    assert imani.post(f"/console/notifications/{foreign.pk}/read/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.read_at is None
    first = InAppNotification.objects.filter(user=org.incident_manager).first()
    opened = imani.post(f"/console/notifications/{first.pk}/read/", {"open": "1"})
    assert opened.url == f"/console/{first.incident.number}/"
    assert (
        InAppNotification.objects.filter(
            user=org.incident_manager, read_at=None
        ).count()
        == 1
    )
    imani.post("/console/notifications/read/")
    assert not InAppNotification.objects.filter(user=org.incident_manager, read_at=None)
    assert b"bell-count" not in imani.get("/console/notifications/bell/").content


def test_requesters_get_no_bell_and_a_403_on_the_list(org: SimpleNamespace) -> None:
    client = Client()
    client.force_login(org.requester)
    assert b'class="bell"' not in client.get("/portal/").content
    assert client.get("/console/notifications/").status_code == 403
    assert client.get("/console/notifications/bell/").status_code == 403


def test_the_profile_page_saves_the_time_zone_and_email_choices(
    org: SimpleNamespace,
) -> None:
    client = Client()
    client.force_login(org.agent)
    form = client.get("/profile/").content.decode()
    assert 'name="email_events"' in form and "Europe/Berlin" in form
    response = client.post(
        "/profile/", {"time_zone": "Europe/Berlin", "email_events": ["sla_breached"]}
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=org.agent)
    assert profile.time_zone == "Europe/Berlin"
    assert profile.wants_email("sla_breached")
    assert not profile.wants_email("sla_warning")
    bad = client.post("/profile/", {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 200 and b"form-error" in bad.content
    assert Profile.objects.get(user=org.agent).time_zone == "Europe/Berlin"


def test_requesters_choose_a_time_zone_but_no_staff_events(
    org: SimpleNamespace,
) -> None:
    client = Client()
    client.force_login(org.requester)
    form = client.get("/profile/").content.decode()
    assert "email_events" not in form
    client.post("/profile/", {"time_zone": "America/New_York"})
    assert Profile.objects.get(user=org.requester).time_zone == "America/New_York"


def test_pages_show_times_in_the_readers_time_zone_in_the_one_format(
    org: SimpleNamespace,
) -> None:
    incident = log_p1(org)  # logged at T0, Mon 2 Mar 2026 09:00 UTC
    profile_update(user=org.requester, time_zone="Asia/Tokyo", email_events=[])
    client = Client()
    client.force_login(org.requester)  # the zone is kept in the session at login
    ticket = client.get(f"/portal/tickets/{incident.number}/").content.decode()
    assert "Mon 2 Mar 2026, 18:00 JST" in ticket
    # Someone on the service's default zone reads the same moment in UTC.
    other = Client()
    other.force_login(org.agent)
    page = other.get(f"/console/{incident.number}/").content.decode()
    assert "Mon 2 Mar 2026, 09:00 UTC" in page
    # Changing the zone on the profile page applies at once, in this session.
    other.post("/profile/", {"time_zone": "Europe/Berlin"})
    page = other.get(f"/console/{incident.number}/").content.decode()
    assert "Mon 2 Mar 2026, 10:00 CET" in page

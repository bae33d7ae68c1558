"""The weekly digest: last week's headline figures, once, through the outbox."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied

from dashboards.digest import digest_send
from dashboards.services import digest_subscribe
from dashboards.tasks import digest_send_task
from incidents.models import Notification
from tests.dashboards.conftest import MON

pytestmark = pytest.mark.django_db

NEXT_MONDAY = MON + timedelta(days=7, hours=8)


def test_digest_of_last_week_goes_out_once(
    refreshed: SimpleNamespace, settings
) -> None:
    settings.SITE_URL = "https://itsm.example"
    people = refreshed.people
    digest_subscribe(user=people.manager, subscribe=True)
    digest_subscribe(user=people.outsider, subscribe=True)
    assert digest_send(now=NEXT_MONDAY) == 2
    assert digest_send(now=NEXT_MONDAY + timedelta(hours=1)) == 0
    mails = {
        n.recipient: n for n in Notification.objects.filter(event="dashboard_digest")
    }
    manager = mails[people.manager.email]
    assert manager.subject == "Incidents last week (02 Mar to 08 Mar 2026)"
    assert (
        "- Incidents opened: 6\n    https://itsm.example/dashboards/incidents/?"
        in manager.body
    )
    assert "- Open and past a target now: 2" in manager.body
    assert (
        "https://itsm.example/dashboards/?start=2026-03-02&end=2026-03-08"
        in manager.body
    )
    # An agent's digest covers their teams: nothing in the Network team.
    assert "- Incidents opened: 0" in mails[people.outsider.email].body


def test_the_next_week_goes_out_the_next_monday(refreshed: SimpleNamespace) -> None:
    digest_subscribe(user=refreshed.people.manager, subscribe=True)
    assert digest_send(now=NEXT_MONDAY) == 1
    assert digest_send(now=NEXT_MONDAY + timedelta(days=6)) == 0
    assert digest_send(now=NEXT_MONDAY + timedelta(days=7)) == 1


def test_nobody_without_dashboards_subscribes(people: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied):
        digest_subscribe(user=people.requester, subscribe=True)


def test_the_task_sends_through_the_service(refreshed: SimpleNamespace) -> None:
    digest_subscribe(user=refreshed.people.manager, subscribe=True)
    assert digest_send_task.apply().get() == 1

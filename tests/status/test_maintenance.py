"""Maintenance windows: planned by an admin or an incident manager, on any
service; announced on the status page when they have a public title; and the
one selector alert intake will ask: which services are under maintenance now."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from incidents.models import MaintenanceWindow
from incidents.selectors import services_in_maintenance
from incidents.status import services as status
from incidents.status.selectors import status_page_compute
from tests.status.conftest import major, plan, publish

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def _plan(desk: SimpleNamespace, **fields: Any) -> MaintenanceWindow:
    fields.setdefault("starts_at", timezone.now() + H)
    return plan(desk, **fields)


def test_services_in_maintenance_at_an_instant(desk: SimpleNamespace) -> None:
    window = _plan(desk, public_title="", public_message="")  # internal only
    assert (
        set(services_in_maintenance(at=window.starts_at - timedelta(seconds=1)))
        == set()
    )
    assert set(services_in_maintenance(at=window.starts_at)) == {
        desk.email,
        desk.internal,
    }
    assert set(services_in_maintenance(at=window.ends_at - timedelta(seconds=1))) == {
        desk.email,
        desk.internal,
    }
    assert set(services_in_maintenance(at=window.ends_at)) == set()
    status.maintenance_window_cancel(window=window, by=desk.manager)
    assert set(services_in_maintenance(at=window.starts_at)) == set()


def test_overlapping_windows_count_once(desk: SimpleNamespace) -> None:
    first = _plan(desk, services=[desk.email])
    _plan(desk, services=[desk.email, desk.web], starts_at=first.starts_at)
    at = first.starts_at + timedelta(minutes=5)
    assert sorted(s.name for s in services_in_maintenance(at=at)) == [
        "Email",
        "Website",
    ]


def test_an_agent_may_not_plan_maintenance(desk: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied):
        _plan(desk, by=desk.agent)
    assert not MaintenanceWindow.objects.exists()


def test_an_admin_may(desk: SimpleNamespace, administrator: Any) -> None:
    window = _plan(desk, by=administrator)
    assert window.created_by == administrator


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ends_at": timezone.now() - H}, "ends_at"),
        ({"services": []}, "services"),
        ({"public_message": ""}, "public_message"),
        ({"reason": ""}, "reason"),
    ],
)
def test_a_bad_window_is_refused(
    desk: SimpleNamespace, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _plan(desk, **fields)
    assert field in refused.value.message_dict
    assert not MaintenanceWindow.objects.exists()


def test_the_page_announces_public_windows_on_public_services_only(
    client: Client, desk: SimpleNamespace
) -> None:
    now = timezone.now()
    _plan(desk)
    _plan(desk, public_title="", public_message="", reason="Silent patching")
    _plan(desk, services=[desk.internal], public_title="Backup robot service")
    _plan(desk, starts_at=now - H, ends_at=now + H, public_title="Under way")
    content = status_page_compute(now=now)
    assert [w["title"] for w in content["maintenance_upcoming"]] == ["Database upgrade"]
    [active] = content["maintenance_active"]
    assert active["components"] == [{"id": f"service-{desk.email.pk}", "name": "Email"}]
    states = {c["name"]: c["state"] for c in content["components"]}
    assert states == {"Email": "under_maintenance", "Website": "operational"}
    assert content["state"] == "under_maintenance"
    html = client.get("/status").content.decode()
    assert "Database upgrade" in html and "Under way" in html
    for internal in ["CHG-77", "Silent patching", "Backup robot"]:
        assert internal not in html


def test_an_outage_beats_maintenance(desk: SimpleNamespace) -> None:
    now = timezone.now()
    _plan(desk, starts_at=now - H, ends_at=now + H)
    publish(desk, major(desk))
    content = status_page_compute(now=now)
    email = next(c for c in content["components"] if c["name"] == "Email")
    assert email["state"] == "major_outage"


def test_maintenance_is_not_downtime(desk: SimpleNamespace) -> None:
    now = timezone.now()
    _plan(desk, starts_at=now - 5 * H, ends_at=now - H)
    email = next(
        c for c in status_page_compute(now=now)["components"] if c["name"] == "Email"
    )
    assert email["uptime_label"] == "100.00"

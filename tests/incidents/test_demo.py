"""manage.py seed_demo: the demo organisation, loaded as often as you like."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from incidents.demo import DEMO_USERS
from incidents.models import (
    Category,
    Incident,
    MaintenanceWindow,
    Service,
    StatusEntry,
    StatusMessage,
    Team,
)
from incidents.roles import Role
from incidents.status.selectors import status_cache_clear

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    User = get_user_model()
    return {
        "teams": sorted(
            Team.objects.values_list(
                "name", "tier", "next_tier__name", "lead__username"
            )
        ),
        "categories": sorted(Category.objects.values_list("name", "team__name")),
        "services": sorted(
            Service.objects.values_list("name", "team__name", "is_public")
        ),
        "users": sorted(
            User.objects.values_list("username", "groups__name", "is_staff")
        ),
        "members": sorted(
            Team.members.through.objects.values_list("team__name", "user__username")
        ),
        "incidents": sorted(
            Incident.objects.values_list("title", "status", "priority")
        ),
        "status entries": sorted(
            StatusEntry.objects.values_list("title", "status", "stage")
        ),
        "status messages": StatusMessage.objects.count(),
        "maintenance": sorted(
            MaintenanceWindow.objects.values_list("public_title", "starts_at")
        ),
    }


def test_seed_demo_is_idempotent() -> None:
    first_output = seed()
    first = snapshot()
    password = first_output.strip().splitlines()[-1].rsplit(": ", 1)[1]
    second_output = seed()
    assert snapshot() == first
    assert "keep their passwords" in second_output
    # Existing users keep the password printed the first time.
    for spec in DEMO_USERS:
        assert (
            get_user_model()
            .objects.get(username=spec.username)
            .check_password(password)
        )


def test_seed_demo_creates_one_user_per_role() -> None:
    seed()
    User = get_user_model()
    for username, role in [
        ("requester", Role.REQUESTER),
        ("agent", Role.AGENT),
        ("incident_manager", Role.INCIDENT_MANAGER),
        ("manager", Role.MANAGER),
        ("admin", Role.ADMIN),
    ]:
        user = User.objects.get(username=username)
        also = [Role.AGENT] if role == Role.ADMIN else []
        assert sorted(user.groups.values_list("name", flat=True)) == sorted(
            [role, *also]
        )
        assert user.is_staff == (role == Role.ADMIN)
        assert not user.is_superuser


def test_the_demo_admin_opens_the_console_and_the_admin() -> None:
    seed()
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    assert client.get("/console/").status_code == 200
    assert client.get("/admin/incidents/team/").status_code == 200


def test_seed_demo_routes_the_four_categories_and_escalates_upwards() -> None:
    seed()
    assert set(Category.objects.values_list("name", flat=True)) == {
        "Software",
        "Hardware",
        "Network",
        "Security",
    }
    assert set(Team.objects.values_list("tier", flat=True)) == {1, 2, 3}
    for team in Team.objects.exclude(next_tier=None).select_related("next_tier"):
        assert team.next_tier.tier > team.tier
    assert Service.objects.count() >= 3
    assert get_user_model().objects.get(username="agent").teams.filter(tier=1).exists()


def test_seed_demo_password_option_sets_every_demo_user() -> None:
    seed()
    output = seed("--password", "a-new-demo-password-42")
    assert output.strip().endswith(": a-new-demo-password-42")
    for spec in DEMO_USERS:
        user = get_user_model().objects.get(username=spec.username)
        assert user.check_password("a-new-demo-password-42")


def test_seed_demo_rejects_a_weak_password_and_writes_nothing() -> None:
    with pytest.raises(CommandError, match="Password rejected"):
        seed("--password", "123")
    assert not Team.objects.exists()
    assert not get_user_model().objects.exists()
    assert not Incident.objects.exists()


def test_seed_demo_gives_the_console_something_to_show() -> None:
    seed()
    statuses = dict(Incident.objects.values_list("title", "status"))
    assert statuses["Checkout returns 502 for some customers"] == "investigating"
    assert statuses["VPN drops every hour"] == "new"
    major = Incident.objects.get(title="Checkout returns 502 for some customers")
    assert sorted(major.notes.values_list("kind", flat=True)) == ["reply", "work_note"]


def test_seed_demo_gives_the_status_page_and_the_portal_something_to_show(
    client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        seed()
    status_cache_clear()  # the page of an earlier test may still be cached
    page = client.get("/status.json").json()
    [current] = page["current"]
    assert current["title"] == "Errors at checkout"
    assert [m["stage"] for m in current["messages"]] == ["identified", "investigating"]
    assert [c["name"] for c in current["components"]] == ["Customer portal"]
    [past] = [entry for day in page["history"] for entry in day["entries"]]
    assert past["stage"] == "resolved"
    assert [m["title"] for m in page["maintenance_upcoming"]] == ["VPN upgrade"]
    groups = {g["name"]: g["components"] for g in page["groups"]}
    assert set(groups) == {"Customer-facing", "Office and remote work"}
    email = next(c for c in page["components"] if c["name"] == "Email")
    assert float(email["uptime_label"]) < 100
    assert "Payroll" not in str(page)  # an internal service
    # The P2 is proposed to the incident managers, not published.
    proposed = StatusEntry.objects.get(status=StatusEntry.Status.PROPOSED)
    assert proposed.incident.title == "Email delivery delayed by 20 minutes"
    client.force_login(get_user_model().objects.get(username="requester"))
    assert b"Printer on floor 3 jams" in client.get("/portal/").content

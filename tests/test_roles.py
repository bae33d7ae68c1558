"""What each role can and cannot open, and the navigation it sees."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from incidents.roles import ROLE_PERMISSIONS, Role, _permissions_for, roles_sync
from tests.factories import make_user

pytestmark = pytest.mark.django_db

AREAS = ["/console/", "/console/status/", "/portal/", "/dashboards/", "/admin/"]

# role -> the areas it may open; every other area must be refused.
OPENS = {
    Role.REQUESTER: {"/portal/"},
    Role.AGENT: {
        "/console/",
        "/console/status/",
        "/dashboards/",
    },  # their own teams' dashboards
    Role.INCIDENT_MANAGER: {"/console/", "/console/status/", "/dashboards/"},
    Role.MANAGER: {"/dashboards/"},
    Role.ADMIN: {"/admin/"},
}
NAV_LABELS = {
    "/console/": "Queue",
    "/console/status/": "Status entries",
    "/portal/": "Portal",
    "/dashboards/": "Dashboards",
    "/admin/": "Admin",
}


def _client_for(role: str | None) -> Client:
    client = Client()
    client.force_login(make_user(role=role))
    return client


@pytest.mark.parametrize("role", Role.ALL)
@pytest.mark.parametrize("path", AREAS)
def test_role_opens_only_its_areas(role: str, path: str) -> None:
    response = _client_for(role).get(path)
    if path in OPENS[role]:
        assert response.status_code == 200
    elif path == "/dashboards/":
        # Dashboards are not there for those who may read none.
        assert response.status_code == 404
    elif path == "/admin/":
        # Django's admin sends non-staff users to its own login page.
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("path", [*AREAS, "/"])
def test_anonymous_user_is_sent_to_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "login/?next=" in response["Location"]


@pytest.mark.parametrize("role", Role.ALL)
def test_navigation_lists_exactly_the_areas_of_the_role(role: str) -> None:
    # Any page of ours shows the navigation; the 404 page is one every role can reach
    # (the admin's home is Django's admin, which has a navigation of its own).
    page = _client_for(role).get("/no-such-page/")
    assert page.status_code == 404
    nav = page.content.decode().split('<nav aria-label="Main">')[1].split("</nav>")[0]
    for path, label in NAV_LABELS.items():
        assert (f">{label}</a>" in nav) == (path in OPENS[role]), (role, label)


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.REQUESTER, "/portal/"),
        (Role.AGENT, "/console/"),
        (Role.INCIDENT_MANAGER, "/console/"),
        (Role.MANAGER, "/dashboards/"),
        (Role.ADMIN, "/admin/"),
    ],
)
def test_home_sends_each_role_to_its_area(role: str, home: str) -> None:
    response = _client_for(role).get("/")
    assert response.status_code == 302
    assert response["Location"] == home


def test_home_explains_a_user_without_role() -> None:
    response = _client_for(None).get("/")
    assert response.status_code == 200
    assert b"Your account has no role yet" in response.content


def test_admin_role_can_configure_teams_but_is_not_superuser(
    administrator: Any,
) -> None:
    client = Client()
    client.force_login(administrator)
    assert client.get("/admin/incidents/team/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200
    assert not administrator.is_superuser


def test_login_with_password_then_logout_by_post(agent: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/login/",
        {
            "username": "alex",
            "password": "a-long-test-password-0",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    assert client.get("/console/").status_code == 200

    assert client.get("/logout/").status_code == 405  # a link must not log people out
    token = client.cookies["csrftoken"].value
    assert client.post("/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert client.get("/console/").status_code == 302


def test_login_without_csrf_token_is_refused(agent: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/login/", {"username": "alex", "password": "a-long-test-password-0"}
    )
    assert response.status_code == 403


def test_login_with_wrong_password_shows_form_error(agent: Any, client: Client) -> None:
    response = client.post("/login/", {"username": "alex", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_roles_sync_restores_the_permissions_of_each_role() -> None:
    agent_group = Group.objects.get(name=Role.AGENT)
    agent_group.permissions.clear()
    agent_group.permissions.add(Permission.objects.get(codename="delete_team"))
    roles_sync()
    roles_sync()
    codenames = set(agent_group.permissions.values_list("codename", flat=True))
    assert codenames == {name.split(".")[1] for name in ROLE_PERMISSIONS[Role.AGENT]}
    assert Group.objects.filter(name__in=Role.ALL).count() == len(Role.ALL)


def test_unknown_role_permission_is_an_error() -> None:
    with pytest.raises(LookupError, match="incidents.fly_to_moon"):
        _permissions_for(("incidents.fly_to_moon", "incidents.view_team"))


def test_admin_role_gets_model_permissions_but_no_area(administrator: Any) -> None:
    assert administrator.has_perm("incidents.change_team")
    assert administrator.has_perm("auth.change_user")
    assert not administrator.has_perm("incidents.use_agent_console")
    assert not administrator.has_perm("incidents.view_sla_dashboards")


def test_navigation_marks_the_page_being_shown_and_follows_a_change_of_role() -> None:
    # The bar is kept by what it lists (itsm.fragments): the page it marks and
    # the areas it offers are part of that.
    user = make_user(role=Role.AGENT)
    client = Client()
    client.force_login(user)

    def nav(path: str) -> str:
        html = client.get(path).content.decode()
        return html.split('<nav aria-label="Main">')[1].split("</nav>")[0]

    def current(path: str) -> list[str]:
        return re.findall(r'<a href="([^"]+)" aria-current="page">', nav(path))

    assert current("/console/") == ["/console/"]
    assert current("/console/status/") == ["/console/status/"]
    assert current("/no-such-page/") == []
    assert ">Portal</a>" not in nav("/console/")
    user.groups.add(Group.objects.get(name=Role.REQUESTER))
    assert ">Portal</a>" in nav("/console/")

"""Permissions come from the cache, and a change of role counts at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authcache.permissions import VERSION_KEY, CachedModelBackend
from incidents.roles import Role
from tests.factories import make_user, signed_in

pytestmark = pytest.mark.django_db

PAGE = "/console/"
PERMISSION_TABLES = (
    "auth_permission",
    "auth_user_groups",
    "auth_user_user_permissions",
)


def _permission_queries(client: Any) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(PAGE).status_code
    return status, sum(
        any(table in query["sql"] for table in PERMISSION_TABLES) for query in queries
    )


def _fresh(user: Any) -> Any:
    return get_user_model().objects.get(pk=user.pk)


def test_permissions_are_read_once_then_from_the_cache(agent: Any) -> None:
    client = signed_in(agent)
    status, first = _permission_queries(client)
    assert status == 200 and first >= 1
    assert _permission_queries(client) == (200, 0)
    agent.groups.add(Group.objects.get(name=Role.MANAGER))  # read again, once
    assert _permission_queries(client) == (200, first)
    assert _permission_queries(client) == (200, 0)


def test_a_role_taken_away_ends_at_the_next_request(agent: Any) -> None:
    client = signed_in(agent)
    for _ in range(3):
        assert client.get(PAGE).status_code == 200
    agent.groups.remove(Group.objects.get(name=Role.AGENT))
    assert client.get(PAGE).status_code == 403


def test_a_permission_taken_from_a_group_ends_at_the_next_request(agent: Any) -> None:
    client = signed_in(agent)
    for _ in range(3):
        assert client.get(PAGE).status_code == 200
    console = Permission.objects.get(codename="use_agent_console")
    Group.objects.get(name=Role.AGENT).permissions.remove(console)
    assert client.get(PAGE).status_code == 403


def test_a_granted_permission_counts_at_the_next_request(end_user: Any) -> None:
    backend = CachedModelBackend()
    for _ in range(2):
        assert not backend.has_perm(_fresh(end_user), "incidents.use_agent_console")
    end_user.user_permissions.add(Permission.objects.get(codename="use_agent_console"))
    assert backend.has_perm(_fresh(end_user), "incidents.use_agent_console")


def test_a_superuser_flag_is_part_of_what_is_kept(agent: Any) -> None:
    backend = CachedModelBackend()
    for _ in range(2):
        assert not backend.has_perm(_fresh(agent), "auth.delete_group")
    agent.is_superuser = True
    agent.save()
    assert backend.has_perm(_fresh(agent), "auth.delete_group")


def test_a_set_read_before_a_change_committed_is_never_used(agent: Any) -> None:
    """The version stands before the set is read; a change that commits after
    the read drops it, so the set kept under it is never used again."""
    backend = CachedModelBackend()
    cache.delete(VERSION_KEY)
    assert backend.has_perm(_fresh(agent), "incidents.use_agent_console")
    stale_version = cache.get(VERSION_KEY)
    agent.groups.clear()  # commits after that read: the version goes
    assert cache.get(VERSION_KEY) != stale_version
    assert not backend.has_perm(_fresh(agent), "incidents.use_agent_console")


@pytest.mark.usefixtures("cache_down")
def test_with_the_cache_down_permissions_come_from_the_database(agent: Any) -> None:
    client = signed_in(agent)
    assert client.get(PAGE).status_code == 200
    agent.groups.clear()
    assert client.get(PAGE).status_code == 403
    someone = make_user(role=Role.REQUESTER)
    assert not CachedModelBackend().has_perm(someone, "incidents.use_agent_console")

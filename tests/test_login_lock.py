"""Brute-force protection of the login: a username is locked on an address after
repeated failures, with a page that says so; the lock never reaches other users
or other addresses, also behind a proxy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone

from itsm.proxy import client_address
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def lock_settings(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def alice(db: Any) -> Any:
    return make_user(username="alice")


@pytest.fixture
def bob(db: Any) -> Any:
    return make_user(username="bob")


def login(username: str, password: str, **headers: str) -> Any:
    client = Client(**{"REMOTE_ADDR": "10.0.0.1", **headers})
    response = client.post("/login/", {"username": username, "password": password})
    response.logged_in = "_auth_user_id" in client.session
    return response


def fail(username: str, times: int = LIMIT, **headers: str) -> None:
    """Fail ``times`` logins: the form says so each time, until the one that
    reaches the limit, which is answered with the lock."""
    statuses = [
        login(username, "wrong-password", **headers).status_code for _ in range(times)
    ]
    assert statuses == [200] * min(times, LIMIT - 1) + [429] * (times - LIMIT + 1)


def test_repeated_failures_lock_the_username_on_that_address(alice: Any) -> None:
    fail("alice")
    response = login("alice", PASSWORD)
    assert response.status_code == 429
    assert not response.logged_in
    text = " ".join(response.content.decode().split())
    assert "Login locked for 15 minutes" in text
    assert "3 failed logins for <strong>alice</strong>" in text


def test_fewer_failures_do_not_lock(alice: Any) -> None:
    fail("alice", LIMIT - 1)
    assert login("alice", PASSWORD).logged_in


def test_a_successful_login_starts_the_count_again(alice: Any) -> None:
    fail("alice", LIMIT - 1)
    assert login("alice", PASSWORD).logged_in
    fail("alice", LIMIT - 1)
    assert login("alice", PASSWORD).logged_in


def test_one_address_cannot_lock_out_every_user(alice: Any, bob: Any) -> None:
    # An attacker fails for alice, then for bob, from one address...
    fail("alice")
    fail("bob")
    # ...which locks those two there, and no one else, nowhere else.
    carol = make_user(username="carol")
    assert login(carol.username, PASSWORD).logged_in
    assert login("alice", PASSWORD, REMOTE_ADDR="10.0.0.2").logged_in
    assert login("bob", PASSWORD, REMOTE_ADDR="10.0.0.2").logged_in


def test_the_lock_ends_after_the_cool_off(alice: Any) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail("alice")
        assert login("alice", PASSWORD).status_code == 429
        clock.shift(timedelta(minutes=16))
        assert login("alice", PASSWORD).logged_in


def test_the_admin_login_is_locked_the_same_way(alice: Any) -> None:
    alice.is_staff = True
    alice.save()
    fail("alice")
    client = Client(REMOTE_ADDR="10.0.0.1")
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429


# ---------------------------------------------------------------- behind a proxy
def test_behind_a_proxy_each_client_has_its_own_address(
    alice: Any, settings: Any
) -> None:
    """Every request comes from the proxy's address; the proxy appends the
    client's to X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    fail("alice", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    assert (
        login(
            "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy
        ).status_code
        == 429
    )
    # The same user from another client behind the same proxy still gets in...
    assert login(
        "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy
    ).logged_in
    # ...and the attacker cannot step around the lock by forging the header: the
    # proxy appends the address it really saw, and only that entry is read.
    forged = login(
        "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9", **proxy
    )
    assert forged.status_code == 429


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "127.0.0.1"),  # no proxy trusted: the header is ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client wrote the first
        (2, "6.6.6.6, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        (2, "203.0.113.9", "127.0.0.1"),  # not through both proxies
        (1, "", "127.0.0.1"),
    ],
)
def test_client_address(
    settings: Any, count: int, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert client_address(request) == expected

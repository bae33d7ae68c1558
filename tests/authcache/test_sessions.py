"""Sessions come from the cache, and survive it: down, lost, or back with old
data after a logout."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from authcache.models import PendingCacheDelete
from authcache.pending import pending_cache_drops_apply
from authcache.sessions import KEY_PREFIX, sessions_end
from tests.factories import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

PAGE = "/console/"


def _sign_in(user: Any) -> Client:
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _session_key(client: Client) -> str:
    return client.cookies["sessionid"].value


def _session_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    return sum("django_session" in query["sql"] for query in queries)


def test_a_signed_in_page_reads_its_session_from_the_cache(agent: Any) -> None:
    client = _sign_in(agent)
    assert _session_queries(client) == 0
    # Lost from the cache (a restart): read from the database, and kept again.
    cache.delete(KEY_PREFIX + _session_key(client))
    assert _session_queries(client) == 1
    assert _session_queries(client) == 0


@pytest.mark.usefixtures("cache_down")
def test_with_the_cache_down_people_sign_in_work_and_sign_out(agent: Any) -> None:
    client = _sign_in(agent)
    key = _session_key(client)
    assert _session_queries(client) == 1  # from the database
    assert client.post("/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(PAGE).status_code == 302  # to the login page


def test_a_logout_while_the_cache_is_down_ends_the_session_once_it_is_back(
    agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _sign_in(agent)
    key = _session_key(client)
    assert client.get(PAGE).status_code == 200
    kept = cache.get(KEY_PREFIX + key)
    assert kept is not None

    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache down")

    with monkeypatch.context() as outage:
        for method in ("get", "set", "delete", "delete_many"):
            outage.setattr(cache, method, down)
        assert client.post("/logout/").status_code == 302
        assert PendingCacheDelete.objects.filter(key=KEY_PREFIX + key).exists()
        assert pending_cache_drops_apply() == 0  # still down: it waits

    # The cache is back with the copy it held before the logout; the sweep drops
    # it, and the old cookie opens nothing.
    assert cache.get(KEY_PREFIX + key) == kept
    assert pending_cache_drops_apply() == 1
    assert cache.get(KEY_PREFIX + key) is None
    assert not PendingCacheDelete.objects.exists()
    stolen = Client()
    stolen.cookies["sessionid"] = key
    assert stolen.get(PAGE).status_code == 302


def test_a_session_changed_while_the_cache_was_down_never_reads_older(
    agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(agent)
    session = client.session
    session["marker"] = "before"
    session.save()
    key = session.session_key
    assert cache.get(KEY_PREFIX + key)["marker"] == "before"

    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache down")

    with monkeypatch.context() as outage:
        outage.setattr(cache, "set", down)
        outage.setattr(cache, "delete", down)
        session["marker"] = "after"
        session.save()  # the database has it; the cache kept the old copy

    pending_cache_drops_apply()
    assert cache.get(KEY_PREFIX + key) is None
    assert client.session["marker"] == "after"


def test_the_cached_copy_is_kept_no_longer_than_the_setting(
    agent: Any, settings: Any
) -> None:
    settings.SESSION_CACHE_SECONDS = 1
    client = signed_in(agent)
    assert client.session._cache_seconds() == 1
    settings.SESSION_CACHE_SECONDS = 10**9
    assert client.session._cache_seconds() == settings.SESSION_COOKIE_AGE


def test_ending_sessions_signs_them_out_though_their_copies_were_cached(
    agent: Any,
) -> None:
    client = _sign_in(agent)
    assert client.get(PAGE).status_code == 200  # cached now
    sessions_end(Session.objects.values_list("session_key", flat=True))
    assert not Session.objects.exists()
    assert client.get(PAGE).status_code == 302

"""The Redis cache keeps its client between calls, and the kept client carries on
after Redis went away and came back."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
import redis

from itsm.redis_cache import KeptClientRedisCache
from tests.faults.tcp_proxy import CuttableProxy

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not REDIS_URL.startswith("redis://"), reason="needs REDIS_URL (make test sets it)"
)


def _cache(url: str) -> KeptClientRedisCache:
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}
    return KeptClientRedisCache(url, {"KEY_PREFIX": "test-kept", "OPTIONS": options})


def test_one_client_serves_every_call() -> None:
    cache = _cache(REDIS_URL)
    first = cache._cache.get_client()
    cache.set("k", "v", 30)
    assert cache.get("k") == "v"
    assert cache._cache.get_client() is first
    assert cache._cache.get_client(write=True) is first  # one server: one pool


def test_the_kept_client_carries_on_after_redis_comes_back() -> None:
    parts = urlsplit(REDIS_URL)
    with CuttableProxy((parts.hostname, parts.port or 6379)) as proxy:
        cache = _cache(f"redis://127.0.0.1:{proxy.port}{parts.path}")
        cache.set("k", "before", 30)
        proxy.cut()
        with pytest.raises(redis.exceptions.ConnectionError):
            cache.get("k")
        proxy.restore()
        assert cache.get("k") == "before"
        cache.set("k", "after", 30)
        assert cache.get("k") == "after"

"""Django's Redis cache, keeping its client.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache call,
and each one copies redis-py's table of response callbacks (a few hundred
entries) into a fresh dict: about 0.1 ms of one core per call, three to five
calls per signed-in page (the session, the permissions, the queue's options).
A ``redis.Redis`` holds nothing but its connection pool and is safe to share
between threads, so one is kept per pool. Everything else is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class KeptClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # id of a pool -> its client

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # kept by Django for good
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class KeptClientRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with one client per pool."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

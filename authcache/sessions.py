"""Sessions read from the cache and kept in the database.

Django's ``cached_db`` store, made to survive its cache: a read that fails goes
to the database, a write that fails is logged, and a session that ends (a logout,
a key cycled at login) is deleted from the database first, the source of truth,
and then dropped from the cache, now or, when the cache is down, by the sweep as
soon as it is back (``authcache.pending``). A session changed while the cache
was down has its cached copy dropped the same way, so a cache that returns with
old data never serves an older session. Entries are kept at most
``SESSION_CACHE_SECONDS``, which bounds everything else.

Set with ``SESSION_ENGINE = "authcache.sessions"``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.cache import caches

from authcache.pending import cache_drop

logger = logging.getLogger(__name__)

KEY_PREFIX = "authcache.session:"


class SessionStore(DBStore):
    """A database session with a cached copy that may be missing at any time."""

    cache_key_prefix = KEY_PREFIX

    def __init__(self, session_key: str | None = None) -> None:
        self._cache = caches[settings.SESSION_CACHE_ALIAS]
        super().__init__(session_key)

    @property
    def cache_key(self) -> str:
        return self.cache_key_prefix + self._get_or_create_session_key()

    def _cache_seconds(self, **kwargs: Any) -> int:
        return min(self.get_expiry_age(**kwargs), settings.SESSION_CACHE_SECONDS)

    def _cache_put(self, data: dict[str, Any], seconds: int) -> bool:
        try:
            self._cache.set(self.cache_key, data, seconds)
        except Exception:  # noqa: BLE001 - the database has it
            logger.warning("cache unreachable; session kept in the database only")
            return False
        return True

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
            reachable = True
        except Exception:  # noqa: BLE001 - the database has it
            data, reachable = None, False
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        if reachable:
            self._cache_put(data, self._cache_seconds(expiry=stored.expire_date))
        return data

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        if not self._cache_put(self._session, self._cache_seconds()):
            # An older copy may still be in the cache when it comes back.
            cache_drop(self.cache_key, alias=settings.SESSION_CACHE_ALIAS)

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        super().delete(session_key)
        cache_drop(
            self.cache_key_prefix + session_key, alias=settings.SESSION_CACHE_ALIAS
        )


def sessions_end(session_keys: Iterable[str]) -> None:
    """End these sessions everywhere: their rows, then their cached copies (as
    a logout does). Deleting rows alone would leave the copies signed in until
    they run out."""
    for key in list(session_keys):
        SessionStore(key).delete()

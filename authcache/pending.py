"""Dropping a cache key even when the cache is down.

A delete that fails is written to the database (``PendingCacheDelete``) and done
again by a beat sweep until the cache takes it. Reads in between fall back to the
database already (the cache is down), so the only window is between the cache's
return and the next sweep; the cached entries' own timeouts bound it too.
"""

from __future__ import annotations

import logging

from django.core.cache import caches

from authcache.models import PendingCacheDelete

logger = logging.getLogger(__name__)


def cache_drop(key: str, *, alias: str = "default") -> None:
    """Delete ``key`` from the cache now, or as soon as the cache answers."""
    try:
        caches[alias].delete(key)
    except Exception:  # noqa: BLE001 - remembered in the database instead
        logger.warning("cache unreachable; %s will be dropped when it is back", key)
        PendingCacheDelete.objects.get_or_create(key=key)


def pending_cache_drops_apply(*, alias: str = "default") -> int:
    """Drop every key that could not be dropped before; returns how many. Keys
    stay pending while the cache is still down."""
    keys = list(PendingCacheDelete.objects.values_list("key", flat=True)[:1000])
    if not keys:
        return 0
    try:
        caches[alias].delete_many(keys)
    except Exception:  # noqa: BLE001 - still down: the next sweep tries again
        logger.warning("cache still unreachable; %d keys wait", len(keys))
        return 0
    PendingCacheDelete.objects.filter(key__in=keys).delete()
    return len(keys)

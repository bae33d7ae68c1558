"""Reading through the shared cache without depending on it.

What the service caches (the status page, the queue's select options, the SLA
policies) can always be computed from the database, so a cache that is down costs
a recomputation, never an error: the pages that read it are needed most when
something else is broken.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

logger = logging.getLogger(__name__)
T = TypeVar("T")


def cached(key: str, compute: Callable[[], T], timeout: float) -> T:
    """The value under ``key``, or ``compute()`` kept there for ``timeout``
    seconds. ``None`` is never cached (it reads as a miss)."""
    try:
        value = cache.get(key)
    except Exception:  # noqa: BLE001 - any cache failure: compute instead
        logger.warning("cache unreachable; computing %s", key, exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, timeout)
        except Exception:  # noqa: BLE001 - computed again next time
            logger.warning("cache unreachable; %s not kept", key, exc_info=True)
    return value


def forget(key: str) -> None:
    """Drop ``key``; if the cache is down, the entry runs out by its timeout."""
    try:
        cache.delete(key)
    except Exception:  # noqa: BLE001 - see the docstring
        logger.warning("cache unreachable; %s not forgotten", key, exc_info=True)


def peek(key: str) -> object | None:
    """The value under ``key`` if the cache holds it; None on a miss, and when
    the cache is down (the caller then takes its slower path)."""
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - see the module
        return None

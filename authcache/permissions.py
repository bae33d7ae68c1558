"""Permissions read from the cache, exact to the last change of role.

``CachedModelBackend`` is Django's ``ModelBackend`` whose set of a person's
permissions (their own and their groups') is kept in the cache beside a version.
Any change that can alter anyone's permissions (a person added to or removed from
a group, a group's or a person's permissions changed, a group or a permission
deleted, see ``signals``) replaces the version, and a set kept under another
version is never used: a revoked role ends on the next request, as with no
cache. A replacement the cache could not take (it was down) is made by the sweep
when it is back (``authcache.pending``); until then every read fails over to the
database anyway. Superuser and active status are part of the key, since
``ModelBackend`` reads them from the user's own row, which every request loads.

Reads take one round trip (the version and the set together), and none of the two
queries they replace.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from authcache.pending import cache_drop

logger = logging.getLogger(__name__)

VERSION_KEY = "authcache.permissions:version"


def _key(user: Any) -> str:
    return f"authcache.permissions:{user.pk}:{int(user.is_superuser)}"


def permissions_changed() -> None:
    """Every cached set of permissions is stale: the next read of each goes to
    the database. Called by the signals, after the change commits."""
    cache_drop(VERSION_KEY)


class CachedModelBackend(ModelBackend):
    """``ModelBackend`` with ``get_all_permissions`` read from the cache."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = self._cached_permissions(user_obj)
        return user_obj._perm_cache

    def _cached_permissions(self, user: Any) -> set[str]:
        key = _key(user)
        try:
            kept = cache.get_many([VERSION_KEY, key])
        except Exception:  # noqa: BLE001 - the database has them
            logger.warning("cache unreachable; permissions read from the database")
            return super().get_all_permissions(user)
        version = kept.get(VERSION_KEY)
        entry = kept.get(key)
        if version is not None and entry is not None and entry[0] == version:
            return entry[1]
        try:
            if version is None:
                fresh = uuid.uuid4().hex
                # Another request may stand one up first: then keep nothing now.
                version = fresh if cache.add(VERSION_KEY, fresh, timeout=None) else None
        except Exception:  # noqa: BLE001 - read from the database, keep nothing
            version = None
        # Read after the version stood: a change that commits after this read
        # drops the version, so what is kept below can never outlive it.
        permissions = super().get_all_permissions(user)
        if version is not None:
            try:
                cache.set(
                    key, (version, permissions), settings.PERMISSION_CACHE_SECONDS
                )
            except Exception:  # noqa: BLE001 - read again next time
                logger.warning("cache unreachable; permissions not kept")
        return permissions

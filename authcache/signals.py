"""Cache glue: any change that can alter a person's permissions makes every
cached set stale (``permissions.permissions_changed``): at once, and again once
it commits, since a request between the two may have kept what it read from
the database before the change was visible."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete
from django.dispatch import receiver

from authcache.permissions import permissions_changed

User = get_user_model()
_CHANGES = {"post_add", "post_remove", "post_clear"}


def _stale() -> None:
    permissions_changed()
    transaction.on_commit(permissions_changed)


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
@receiver(m2m_changed, sender=Group.permissions.through)
def _memberships_changed(action: str, **kwargs: Any) -> None:
    if action in _CHANGES:
        _stale()


@receiver(post_delete, sender=Group)
@receiver(post_delete, sender=Permission)
def _grant_deleted(**kwargs: Any) -> None:
    _stale()

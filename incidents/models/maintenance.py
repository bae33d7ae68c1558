"""Planned maintenance: services under planned work for a while.

One model for two readers: the status page announces a window that has a public
title, and alert intake (later) records alerts for services under maintenance
without paging anyone. Any service may be under maintenance, public or not; only
the public ones are ever named on the status page.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from incidents.models.organisation import Service

PUBLIC_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def public_id() -> str:
    """An opaque id for what the status page shows (12 characters, like
    Statuspage's): it says nothing about internal numbers or how many rows exist."""
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(12))


def public_id_field() -> models.CharField:
    """The ``public_id`` column of what the status page shows, by which pages
    and the Statuspage-shaped JSON name it."""
    return models.CharField(
        max_length=12, unique=True, default=public_id, editable=False
    )


class MaintenanceWindowQuerySet(models.QuerySet):
    def live(self) -> MaintenanceWindowQuerySet:
        """Not cancelled."""
        return self.filter(cancelled_at__isnull=True)

    def in_progress(self, *, at: datetime) -> MaintenanceWindowQuerySet:
        """The windows that cover the instant ``at`` (start included, end not)."""
        return self.live().filter(starts_at__lte=at, ends_at__gt=at)

    def announced(self) -> MaintenanceWindowQuerySet:
        """The windows the status page shows: live, with a public title."""
        return self.live().exclude(public_title="")


class MaintenanceWindow(models.Model):
    """Planned work on ``services`` from ``starts_at`` until ``ends_at``.

    ``reason`` is internal (a change record, a host name). With a
    ``public_title`` the window is announced on the status page, with its public
    message, for the public services among ``services``; without one it stays
    internal. A cancelled window is kept (``cancelled_at``) but covers nothing.
    Created by an admin (Django admin) or an incident manager (the console), both
    through ``incidents.status.services.maintenance_window_create``.
    """

    public_id = public_id_field()
    services = models.ManyToManyField(Service, related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.TextField(help_text="Internal: why, and what is done.")
    public_title = models.CharField(
        max_length=200,
        blank=True,
        help_text="Shown on the status page; empty: the window stays internal.",
    )
    public_message = models.TextField(
        blank=True, help_text="What the public reads about it on the status page."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            # "Which windows cover now": ends after now, started before it.
            models.Index(
                fields=["ends_at", "starts_at"],
                name="maintenance_live_span",
                condition=models.Q(cancelled_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.public_title or self.reason[:60]

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})

    def stage(self, at: datetime) -> str:
        """Statuspage's words for where the window stands at ``at``."""
        if at < self.starts_at:
            return "scheduled"
        return "in_progress" if at < self.ends_at else "completed"

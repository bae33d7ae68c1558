"""The notification outbox: every message is a row written in the transaction of
the event that causes it, and delivered after commit by a worker."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """An outgoing webhook: incident events are POSTed to ``url`` as JSON, signed
    with HMAC-SHA256 of the body under ``secret`` (header ``X-ITSM-Signature``)."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=webhook_secret)
    events = models.JSONField(
        default=list, blank=True, help_text="Event kinds to send; empty: all of them."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        return self.is_active and (not self.events or kind in self.events)


class Notification(models.Model):
    """One message to one recipient: an email address or a webhook."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    channel = models.CharField(max_length=7, choices=Channel.choices)
    recipient = models.CharField(max_length=500, help_text="Address or webhook URL.")
    webhook = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    # A status page subscriber's message: its webhook secret signs the payload,
    # and the row goes with the subscriber when it unsubscribes.
    status_subscriber = models.ForeignKey(
        "incidents.StatusSubscriber",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set by writers that must never write the same message twice (one per
    # status message and subscriber); unique, so a second write fails.
    dedup_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    event = models.CharField(max_length=32)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    # The same message as HTML (staff emails send both parts); blank: plain text only.
    html_body = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=7, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="notification_claimed",
                condition=models.Q(status="sending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient}: {self.subject}"


class InAppNotification(models.Model):
    """A notification in one person's list in the console (the bell): the same
    staff events as the emails, for everyone they concern, whether or not they
    have an address or want the email."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="+"
    )
    event = models.CharField(max_length=32)
    subject = models.CharField(max_length=255)
    # What to do, in a sentence (the list shows it under the subject).
    action = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="inapp_user_recent"),
            # The bell's count: one index-only scan over a person's unread rows.
            models.Index(
                fields=["user"],
                name="inapp_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.subject}"


def validate_time_zone_name(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class Profile(models.Model):
    """A person's settings: the time zone the console, the portal and their
    emails show times in (blank: the service's ``TIME_ZONE``), and which staff
    events they do not want by email (they still reach the in-app list)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone_name]
    )
    # Kept as the events turned off, so a new kind of event is emailed by default.
    email_muted = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)

    def wants_email(self, event: str) -> bool:
        return event not in self.email_muted

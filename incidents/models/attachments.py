"""Files a requester attaches to a report or a reply. They are stored outside the
web root under names of our own; only people who may see the incident download them,
through a view that checks."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models


class AttachmentStorage(FileSystemStorage):
    """Files under ``ATTACHMENTS_DIR``, read at each use (so a deployment, or a
    test, may move it). There is no URL: the files have no public address, and
    are served only by the view that checks who asks."""

    @property
    def base_location(self) -> str:
        return str(settings.ATTACHMENTS_DIR)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("attachments have no public URL")


def attachment_storage() -> FileSystemStorage:
    """A callable, so migrations name it instead of freezing a path."""
    return AttachmentStorage()


def attachment_path(attachment: Attachment, filename: str) -> str:
    """A name of our own: the uploaded filename never reaches the filesystem. Only
    the extension we checked is kept, so the file is recognisable on disk."""
    suffix = Path(filename).suffix.lower()
    return f"{attachment.created_at:%Y/%m}/{attachment.pk}{suffix}"


class Attachment(models.Model):
    """One uploaded file of an incident. ``name`` is for display only (cleaned of
    paths and control characters); the file itself lives at ``file`` under a name
    made from the id. Attachments are visible to whoever may see the incident."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="attachments"
    )
    note = models.ForeignKey(
        "incidents.IncidentNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        help_text="The reply it came with; empty for the first report.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(storage=attachment_storage, upload_to=attachment_path)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "name"]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="attachment_incident")
        ]

    def __str__(self) -> str:
        return self.name

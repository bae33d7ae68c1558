"""Checking and storing uploaded files.

A file is accepted by what its first bytes say it is, never by the name or type
the browser claims: images (PNG, JPEG, GIF, WebP), PDF, and plain text (UTF-8
without NUL bytes, such as a log). Each is at most ``ATTACHMENT_MAX_BYTES``, at
most ``ATTACHMENT_MAX_FILES`` at a time. Files are stored under names of our own
(see ``incidents.models.attachments``); the given name is kept for display only.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from incidents.models import Attachment, Incident, IncidentEvent, IncidentNote
from incidents.services._base import User, record

T = TypeVar("T")

# Types recognised from the content, with the extension the stored file gets.
BINARY_TYPES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
TEXT_SUFFIXES = {".txt", ".log", ".csv"}
SNIFF_BYTES = 8192
ACCEPT = ",".join([*BINARY_TYPES, *TEXT_SUFFIXES, "image/*"])


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks, with what we found it to be."""

    upload: UploadedFile
    name: str
    content_type: str
    suffix: str


def display_name(name: str) -> str:
    """The last path part of a client's filename, without control characters:
    it is shown to people and in headers, and never used as a path."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return cleaned.strip(". ")[:200] or "attachment"


def _is_text(upload: UploadedFile) -> bool:
    """UTF-8 all the way through and no NUL byte: a text file, not a disguised
    binary."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in upload.chunks():
            if b"\0" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        upload.seek(0)
    return True


def attachment_check(upload: UploadedFile) -> CheckedUpload:
    """Accept ``upload`` or raise a ``ValidationError`` saying why not."""
    name = display_name(upload.name or "")
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            f"{name} is larger than {filesizeformat(limit)}.", code="too_large"
        )
    if upload.size == 0:
        raise ValidationError(f"{name} is empty.", code="empty")
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None and kind.mime in BINARY_TYPES:
        return CheckedUpload(upload, name, kind.mime, BINARY_TYPES[kind.mime])
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind is None and _is_text(upload):
        if suffix not in TEXT_SUFFIXES:
            suffix = ".txt"
        return CheckedUpload(upload, name, "text/plain", suffix)
    raise ValidationError(
        f"{name}: this type of file is not accepted. Send an image (PNG, JPEG, "
        "GIF, WebP), a PDF or a text file.",
        code="type",
    )


def attachments_check(uploads: Sequence[UploadedFile]) -> list[CheckedUpload]:
    """Check every upload, reporting all the refused ones at once."""
    limit = settings.ATTACHMENT_MAX_FILES
    if len(uploads) > limit:
        raise ValidationError(f"Attach at most {limit} files at a time.", code="count")
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(attachment_check(upload))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return checked


def files_store(
    files: Sequence[CheckedUpload],
    row: Callable[[CheckedUpload], T],
    *,
    then: Callable[[T], object] | None = None,
) -> list[T]:
    """Store checked files, each on the unsaved row ``row`` makes for it (a model
    with a ``file`` field in the attachment storage), calling ``then`` after each
    is saved. If anything fails, the files already written are removed, so a
    rolled-back transaction leaves none behind."""
    stored: list[T] = []
    try:
        for checked in files:
            attachment = row(checked)
            attachment.file.save(f"upload{checked.suffix}", checked.upload, save=False)
            stored.append(attachment)
            attachment.save(force_insert=True)
            if then is not None:
                then(attachment)
    except BaseException:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored


def attachments_store(
    incident: Incident,
    files: Sequence[CheckedUpload],
    *,
    by: User,
    at: datetime,
    note: IncidentNote | None = None,
) -> list[Attachment]:
    """Store checked files on ``incident`` (callers hold its lock, inside their
    transaction) and put each on the timeline."""
    return files_store(
        files,
        lambda checked: Attachment(
            incident=incident,
            note=note,
            uploaded_by=by,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.upload.size,
            created_at=at,
        ),
        then=lambda attachment: record(
            incident,
            IncidentEvent.Kind.ATTACHMENT_ADDED,
            by=by,
            at=at,
            attachment=str(attachment.pk),
            name=attachment.name,
        ),
    )


# A file younger than this may belong to a transaction still running.
ORPHAN_AGE = timedelta(hours=1)


def attachments_prune_orphans(*, now: datetime | None = None) -> list[str]:
    """Delete stored files that no attachment row names: what a report rolled back
    after its files were written leaves behind. Files younger than ``ORPHAN_AGE``
    are left alone, since their transaction may still commit. Only the incident
    attachments' own folders (``YYYY/MM/``) are looked at: other files kept in the
    same storage (the knowledge base's, under ``kb/``) are not theirs to prune.
    Returns the names removed (relative to ``ATTACHMENTS_DIR``). Safe to run
    twice."""
    root = Path(settings.ATTACHMENTS_DIR)
    if not root.is_dir():
        return []
    cutoff = (now or timezone.now()).timestamp() - ORPHAN_AGE.total_seconds()
    candidates = {
        path.relative_to(root).as_posix(): path
        for path in root.glob("[0-9][0-9][0-9][0-9]/**/*")
        if path.is_file() and path.stat().st_mtime < cutoff
    }
    known = set(
        Attachment.objects.filter(file__in=list(candidates)).values_list(
            "file", flat=True
        )
    )
    removed = sorted(set(candidates) - known)
    for name in removed:
        candidates[name].unlink(missing_ok=True)
    return removed

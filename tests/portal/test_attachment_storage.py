"""Stored files: a report that rolls back leaves no file behind for long."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from incidents import services
from incidents.models import Attachment, Incident
from incidents.services.attachments import attachments_check, attachments_prune_orphans
from tests.portal.conftest import png

pytestmark = pytest.mark.django_db


def _age(path: Path, hours: float) -> None:
    then = (timezone.now() - timedelta(hours=hours)).timestamp()
    os.utime(path, (then, then))


def test_files_of_a_rolled_back_report_are_pruned_once_old(
    org: SimpleNamespace, attachments_dir: Path
) -> None:
    kept = services.incident_report(
        by=org.requester,
        title="Kept",
        description="d",
        impact="low",
        urgency="low",
        files=attachments_check([png("kept.png")]),
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        services.incident_report(
            by=org.requester,
            title="Rolled back",
            description="d",
            impact="low",
            urgency="low",
            files=attachments_check([png("lost.png")]),
        )
        raise RuntimeError("the request failed after the report")
    assert list(Incident.objects.all()) == [kept]
    files = sorted(attachments_dir.rglob("*.png"))
    assert len(files) == 2  # the rolled-back one is still on disk

    assert attachments_prune_orphans() == []  # too young: may still commit
    for path in files:
        _age(path, hours=2)
    removed = attachments_prune_orphans()
    assert len(removed) == 1
    survivor = Attachment.objects.get()
    assert [p.name for p in attachments_dir.rglob("*.png")] == [
        Path(survivor.file.name).name
    ]
    assert attachments_prune_orphans() == []

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.incidents.conftest import org  # noqa: F401 - shared fixture

# The smallest valid PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def png(name: str = "screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def text_file(name: str = "error.log", body: str = "ERROR disk full\n") -> Any:
    return SimpleUploadedFile(name, body.encode(), content_type="text/plain")


@pytest.fixture
def report_data(org: SimpleNamespace) -> dict[str, Any]:  # noqa: F811
    return {
        "title": "Cannot send email",
        "service": str(org.service.pk),
        "description": "Outlook says the server is unreachable since 9:00.",
        "impact": "medium",
        "urgency": "high",
        "contact": "ext. 4411",
    }

"""Reviews reach the incidents only through the resolution hook named in settings
(``INCIDENT_RESOLVED_HOOKS``) and the incident page's htmx panel URL; which app may
import which is in tests/test_boundaries.py."""

from __future__ import annotations

from django.conf import settings


def test_the_hook_is_named_in_settings() -> None:
    assert settings.INCIDENT_RESOLVED_HOOKS == ["reviews.hooks.incident_resolved"]

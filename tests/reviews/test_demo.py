"""The demo data holds a published review of a demo major incident with two
action items, loaded by seed_demo through its hook; loading twice adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from reviews.models import Review

pytestmark = pytest.mark.django_db


def test_seed_demo_publishes_one_review_with_two_action_items() -> None:
    out = StringIO()
    call_command("seed_demo", password="a-long-demo-password", stdout=out)
    assert "published." in out.getvalue()
    call_command("seed_demo", stdout=StringIO())
    review = Review.objects.get(status=Review.Status.PUBLISHED)
    assert review.incident.priority == 1
    assert review.action_items.count() == 2
    assert len(review.five_whys) == 5
    # The demo history's other majors have their reviews opened, as drafts.
    assert Review.objects.filter(status=Review.Status.DRAFT).exists()

"""The reviews API: reads, writes, transitions as their own endpoints, and the
error shapes (400, 403, 404, 409)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from reviews.models import ActionItem, Review
from tests.reviews.conftest import resolved

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(org: SimpleNamespace) -> Review:
    return Review.objects.get(incident=resolved(org, 1))


def api(user: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_review_lifecycle_through_the_api(org: SimpleNamespace, review: Review) -> None:
    agent, lead = api(org.agent), api(org.lead)
    got = agent.get(f"/api/v1/reviews/{review.pk}/").json()
    assert got["status"] == "draft" and got["incidents"] == [review.incident.number]
    edited = agent.patch(
        f"/api/v1/reviews/{review.pk}/",
        {"five_whys": ["Relay stopped", "Disk full"], "version": got["version"]},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    stale = agent.patch(
        f"/api/v1/reviews/{review.pk}/",
        {"summary": "Late", "version": got["version"]},
        format="json",
    )
    assert stale.status_code == 409
    assert agent.post(f"/api/v1/reviews/{review.pk}/submit/").status_code == 200
    assert agent.post(f"/api/v1/reviews/{review.pk}/approve/").status_code == 403
    assert lead.post(f"/api/v1/reviews/{review.pk}/approve/").status_code == 200
    assert lead.post(f"/api/v1/reviews/{review.pk}/approve/").status_code == 409
    assert (
        agent.patch(
            f"/api/v1/reviews/{review.pk}/", {"summary": "x"}, format="json"
        ).status_code
        == 409
    )
    done = lead.post(f"/api/v1/reviews/{review.pk}/publish/")
    assert done.json()["status"] == "published"
    listed = api(org.outsider).get("/api/v1/reviews/").json()
    assert [r["id"] for r in listed["results"]] == [review.pk]


def test_milestone_put(org: SimpleNamespace, review: Review) -> None:
    at = (review.incident.logged_at - timedelta(minutes=20)).isoformat()
    response = api(org.agent).put(
        f"/api/v1/reviews/{review.pk}/milestones/started/",
        {"incident": review.incident.number, "at": at},
        format="json",
    )
    assert response.status_code == 200
    started = [m for m in response.json() if m["name"] == "started"]
    assert started[0]["edited"] is True


def test_action_items_through_the_api(org: SimpleNamespace, review: Review) -> None:
    client = api(org.agent)
    bad = client.post(
        "/api/v1/action-items/",
        {
            "title": "Rotate",
            "review": review.pk,
            "owner_user": org.requester.pk,
            "due_on": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert bad.status_code == 400 and "owner" in str(bad.json())
    past = client.post(
        "/api/v1/action-items/",
        {
            "title": "Rotate",
            "review": review.pk,
            "owner_team": org.team.pk,
            "due_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    assert past.status_code == 400
    assert not ActionItem.objects.exists()
    made = client.post(
        "/api/v1/action-items/",
        {
            "title": "Rotate",
            "review": review.pk,
            "owner_team": org.team.pk,
            "due_on": timezone.localdate().isoformat(),
            "external_url": "https://tracker.example.com/OPS-1",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    assert (
        client.post(
            f"/api/v1/action-items/{pk}/decline/", {}, format="json"
        ).status_code
        == 400
    )
    assert (
        client.post(f"/api/v1/action-items/{pk}/complete/").json()["status"] == "done"
    )
    assert client.post(f"/api/v1/action-items/{pk}/complete/").status_code == 409
    mine = client.get("/api/v1/action-items/?mine=true").json()["results"]
    assert mine == []  # done items leave "mine"


def test_requesters_get_404_from_the_api(org: SimpleNamespace, review: Review) -> None:
    client = api(org.requester)
    assert client.get("/api/v1/reviews/").status_code == 404
    assert client.get(f"/api/v1/reviews/{review.pk}/").status_code == 404
    assert client.get("/api/v1/action-items/").status_code == 404
    assert (
        client.post(
            "/api/v1/reviews/", {"incident": review.incident.number, "note": "x"}
        ).status_code
        == 404
    )
